// Package hugeheap asks Linux to back the Go heap with transparent huge
// pages, where the system leaves that to each program (THP "madvise").
//
// Why: on the machines pledgestat is measured on (virtual machines), the
// first touch of a 4 KiB page costs about 12 µs, because the hypervisor
// must back it: 3 ms for each MiB of heap. A 200,000-row CSV ingest took
// 14,000–16,000 such faults, a fifth of its time. A huge page is one fault
// for 2 MiB; with the heap advised, the same ingest takes about 3,000.
//
// The Go runtime maps its heap a few MiB at a time and each mapping
// starts without the advice, so Advise has the runtime map a large block
// at once (it is never touched, so it costs no memory), gives the block
// back, and advises the whole mapping that held it: later allocations
// reuse that range, advised. Memory beyond the block is mapped without
// advice, as before.
//
// It is for short batch processes. Go's runtime stopped advising its heap
// itself (Go 1.21.4, golang/go#64332) because in a long-lived process the
// kernel's khugepaged fills in again the huge pages the runtime gives
// back, so an idle process holds several times the memory; and where the
// kernel compacts memory to make a huge page (defrag "madvise"), a fault
// can wait for it on a host short of memory (golang/go#61718).
package hugeheap

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// hugePage is the size of an x86-64 and arm64 transparent huge page.
const hugePage = 2 << 20

// system is what Advise reads and does: the real one on Linux, another in
// tests.
type system struct {
	readFile     func(name string) ([]byte, error)
	getenv       func(key string) string
	addressLimit func() (limited bool, err error) // RLIMIT_AS is set
	maps         func() (lines string, err error) // /proc/self/maps
	madvise      func(lo, n uint64) error
	// smallFaultCost is what the first touch of fresh memory in 4 KiB
	// pages costs a MiB, here and now.
	smallFaultCost func() (time.Duration, error)
}

// minSmallFaultCost is the cost a MiB of 4 KiB page faults above which
// huge pages pay. Where the hypervisor backs each 4 KiB page at its first
// touch (12 µs, 3 ms a MiB, on the host stop 20 measured), a huge page is
// one fault for 512 of them. Where 4 KiB faults are cheap (0.4–0.7 ms a
// MiB on this session's host), huge pages save little when the last
// process's were just freed (0.1 ms a MiB) and cost four times as much
// when the guest has handed its free huge pages back to the host (free
// page reporting, after a pause such as a night's: 2 ms a MiB): a run
// with one new file on the 10,000-submission store took 0.98 s advised
// against 0.69 s not, a few seconds after the run before. One huge page
// cannot tell which case the heap will meet; the cost of 4 KiB faults
// can be measured in a fraction of a millisecond.
const minSmallFaultCost = 1500 * time.Microsecond

// Files Advise reads.
const (
	modeFile       = "/sys/kernel/mm/transparent_hugepage/enabled"
	pmdModeFile    = "/sys/kernel/mm/transparent_hugepage/hugepages-2048kB/enabled"
	overcommitFile = "/proc/sys/vm/overcommit_memory"
	statusFile     = "/proc/self/status"
)

// unsuitable says why the heap should not be advised here, or "".
func (s system) unsuitable() string {
	if strconv.IntSize < 64 {
		return "a 32-bit address space"
	}
	if godebugHas(s.getenv("GODEBUG"), "disablethp", "1") {
		return "GODEBUG=disablethp=1 asks for no huge pages"
	}
	mode := bracketed(s.readFile(modeFile))
	if mode != "madvise" {
		// "always": the kernel gives them without advice; "never": not at all.
		return fmt.Sprintf("transparent huge pages are %q, not left to programs", mode)
	}
	if pmd := bracketed(s.readFile(pmdModeFile)); pmd == "never" {
		return "2 MiB transparent huge pages are off"
	}
	if status, err := s.readFile(statusFile); err == nil && strings.Contains(string(status), "\nTHP_enabled:\t0") {
		return "huge pages are disabled for this process (PR_SET_THP_DISABLE)"
	}
	// The block is address space the runtime maps read-write: where that
	// is counted, it could be refused, and the runtime's refusal is fatal.
	if limited, err := s.addressLimit(); err != nil || limited {
		return "the address space is limited (ulimit -v)"
	}
	if b, err := s.readFile(overcommitFile); err != nil || strings.TrimSpace(string(b)) == "2" {
		return "memory overcommit is strict or unknown"
	}
	// Whether huge pages pay depends on the host (minSmallFaultCost).
	cost, err := s.smallFaultCost()
	if err != nil {
		return fmt.Sprintf("the cost of a page fault is unknown (%v)", err)
	}
	if cost < minSmallFaultCost {
		return fmt.Sprintf("4 KiB page faults are cheap here (%v a MiB at first touch, under %v): huge pages would not pay", cost.Round(time.Microsecond), minSmallFaultCost)
	}
	return ""
}

// bracketed reads the choice Linux marks in a setting's file: "madvise"
// from "always [madvise] never". It is "" when the file cannot be read.
func bracketed(b []byte, err error) string {
	if err != nil {
		return ""
	}
	_, rest, ok := strings.Cut(string(b), "[")
	choice, _, ok2 := strings.Cut(rest, "]")
	if !ok || !ok2 {
		return ""
	}
	return choice
}

// godebugHas reports whether a GODEBUG value sets key to value (the last
// setting of a key wins, as in the runtime).
func godebugHas(godebug, key, value string) bool {
	found := false
	for _, kv := range strings.Split(godebug, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if k == key {
			found = v == value
		}
	}
	return found
}

// advise is Advise on the system s: it reports whether it advised the
// heap, why not when it did not try, and the error when it failed.
func advise(reserve int, s system) (bool, string, error) {
	if reserve < 2*hugePage {
		return false, "", fmt.Errorf("reserve %d bytes: less than two huge pages", reserve)
	}
	if why := s.unsuitable(); why != "" {
		return false, why, nil
	}
	lo, hi, err := reserveAndFind(reserve, s)
	if err != nil {
		return false, "", err
	}
	if err := s.madvise(lo, hi-lo); err != nil {
		return false, "", fmt.Errorf("madvise the heap %#x-%#x: %w", lo, hi, err)
	}
	return true, "", nil
}

// reserveAndFind has the runtime map a block of reserve bytes, finds the
// mapping that holds it, and gives the block back whatever happens: a
// block kept would raise the heap's goal to its size for the whole run.
// The advice can come after: the runtime keeps its mappings, and pages
// given back keep the advice of their mapping.
func reserveAndFind(reserve int, s system) (lo, hi uint64, err error) {
	// No collection while the block is alive: it would count the block as
	// live, and a memory limit (quietstart's backstop, the governor's)
	// would follow it up to the block's size.
	limit := debug.SetMemoryLimit(math.MaxInt64)
	percent := debug.SetGCPercent(-1)
	block := make([]byte, reserve)
	start := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(block))))
	maps, err := s.maps()
	runtime.KeepAlive(block)
	// The settings go back before the one collection, which frees the
	// block and returns its pages (never touched) so that they count for
	// nothing against a limit: what a collection sets off (quietstart's
	// resume, the memory governor) must find the settings as they were.
	debug.SetGCPercent(percent)
	debug.SetMemoryLimit(limit)
	debug.FreeOSMemory()
	if err != nil {
		return 0, 0, fmt.Errorf("read the process's mappings: %w", err)
	}
	return findMapping(strings.NewReader(maps), start, maxMaps)
}
