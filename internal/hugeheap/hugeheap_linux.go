//go:build linux

package hugeheap

import (
	"os"

	"golang.org/x/sys/unix"
)

// Advise advises the heap for huge pages over at least reserve bytes, when
// the system leaves huge pages to programs and nothing here forbids them.
// It reports whether it did, and why not when it did not try. It needs
// reserve bytes of address space (not memory) and collects garbage once,
// which ends package quietstart's quiet start: call it at the start of a
// short batch process, not in a daemon (see the package's doc).
func Advise(reserve int) (advised bool, why string, err error) {
	return advise(reserve, system{
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
	})
}
