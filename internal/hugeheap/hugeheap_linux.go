//go:build linux

package hugeheap

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Advise advises the heap for huge pages over at least reserve bytes, when
// the system leaves huge pages to programs and nothing here forbids them.
// It reports whether it did, and why not when it did not try. It needs
// reserve bytes of address space (not memory) and collects garbage once,
// which ends package quietstart's quiet start: call it at the start of a
// short batch process, not in a daemon (see the package's doc).
func Advise(reserve int) (advised bool, why string, err error) {
	return advise(reserve, linuxSystem())
}

// linuxSystem is the system Advise reads and advises.
func linuxSystem() system {
	return system{
		readFile: os.ReadFile,
		getenv:   os.Getenv,
		addressLimit: func() (bool, error) {
			var l unix.Rlimit
			if err := unix.Getrlimit(unix.RLIMIT_AS, &l); err != nil {
				return false, err
			}
			return l.Cur != unix.RLIM_INFINITY, nil
		},
		maps: func() (string, error) {
			b, err := os.ReadFile("/proc/self/maps")
			return string(b), err
		},
		madvise: func(lo, n uint64) error {
			if _, _, errno := unix.Syscall(unix.SYS_MADVISE, uintptr(lo), uintptr(n), unix.MADV_HUGEPAGE); errno != 0 {
				return errno
			}
			return nil
		},
		smallFaultCost: smallFaultCost,
	}
}

// smallFaultCost times the first touch of 128 fresh 4 KiB pages, in a
// mapping of their own outside the heap, given back after: a fraction of
// a millisecond where faults are cheap, 1.5 ms where they are dear.
func smallFaultCost() (time.Duration, error) {
	const size = 128 * 4096
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return 0, err
	}
	defer unix.Munmap(b)
	if err := unix.Madvise(b, unix.MADV_NOHUGEPAGE); err != nil {
		return 0, err
	}
	start := time.Now()
	for i := 0; i < size; i += 4096 {
		b[i] = 1
	}
	return time.Since(start) * (1 << 20) / size, nil
}
