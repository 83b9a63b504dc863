//go:build linux

package hugeheap

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"syscall"
	"unsafe"
)

// modeFile is where Linux says which programs get transparent huge pages.
const modeFile = "/sys/kernel/mm/transparent_hugepage/enabled"

// Advise advises the heap for huge pages over at least reserve bytes, when
// the system asks programs to advise. It reports whether it did. It
// collects garbage once, to give the block back; call it at process start,
// when the heap is small.
func Advise(reserve int) (bool, error) {
	mode, err := os.ReadFile(modeFile)
	if err != nil || !bytes.Contains(mode, []byte("[madvise]")) {
		return false, nil
	}
	block := make([]byte, reserve)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(block)))
	lo, hi, err := mappingOf(start)
	runtime.KeepAlive(block)
	if err != nil {
		return false, err
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, lo, hi-lo, madvHugePage); errno != 0 {
		return false, fmt.Errorf("madvise the heap %#x-%#x: %w", lo, hi, errno)
	}
	block = nil
	// The block is garbage now; the collection frees it and gives its
	// pages (never touched) back to the system, so that it counts for
	// nothing against a memory limit and is reused from the start.
	debug.FreeOSMemory()
	return true, nil
}

// madvHugePage is MADV_HUGEPAGE, which package syscall does not name.
const madvHugePage = 14

// mappingOf finds, in /proc/self/maps, the mapping that holds addr.
func mappingOf(addr uintptr) (lo, hi uintptr, err error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	return findMapping(f, addr)
}
