// Package hugeheap asks Linux to back the Go heap with transparent huge
// pages, where the system leaves that to each program (THP "madvise").
//
// Why: on the machines pledgestat is measured on (virtual machines), the
// first touch of a 4 KiB page costs about 12 µs, because the hypervisor
// must back it: 3 ms for each MiB of heap. A 200,000-row CSV ingest took
// 16,000 such faults, a third of its time, and validate of a 50-row
// workbook 1,300 of its 1,900. A huge page is one fault for 2 MiB. With
// the heap advised, the same ingest takes about 1,500.
//
// The Go runtime maps its heap a few MiB at a time and each mapping
// starts without the advice, so Advise has the runtime map a large block
// at once (it is never touched, so it costs no memory), advises the whole
// mapping that holds it, then gives the block back: later allocations
// reuse that range, advised. Memory beyond the block is mapped without
// advice, as before. When the system gives huge pages to every program
// ("always") or to none ("never"), Advise does nothing.
package hugeheap
