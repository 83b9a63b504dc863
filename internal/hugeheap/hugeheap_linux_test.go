//go:build linux

package hugeheap

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestAdviseBacksTheHeapWithHugePages: after Advise, memory the heap
// hands out and the program fills is in huge pages, where the system
// leaves the choice to programs. Small page faults are taken as dear,
// whatever they cost on this machine: the advice itself is under test.
func TestAdviseBacksTheHeapWithHugePages(t *testing.T) {
	s := linuxSystem()
	s.smallFaultCost = func() (time.Duration, error) { return minSmallFaultCost, nil }
	advised, why, err := advise(64<<20, s)
	if err != nil {
		t.Fatal(err)
	}
	if !advised {
		t.Skipf("not advised here: %s", why)
	}
	// Objects as the heap's users make them, filled; the mapping's huge
	// pages must grow by most of what they fill (an earlier run of the
	// test, or khugepaged, may have left some).
	const objects, size = 16, 1 << 20
	probe := make([]byte, 64)
	before := anonHugePagesKB(t, uint64(uintptr(unsafe.Pointer(unsafe.SliceData(probe)))))
	var held [][]byte
	for range objects {
		b := make([]byte, size)
		for i := range b {
			b[i] = 1
		}
		held = append(held, b)
	}
	after := anonHugePagesKB(t, uint64(uintptr(unsafe.Pointer(unsafe.SliceData(held[objects/2])))))
	if grown := after - before; grown < objects*size/1024/2 {
		if !systemGivesHugePages(t) {
			t.Skip("the system gives no huge pages now, even to a mapping advised by hand (fragmented memory, a cgroup at its limit)")
		}
		t.Fatalf("the heap's mapping gained %d KiB of huge pages for %d KiB filled", grown, objects*size/1024)
	}
}

// systemGivesHugePages is the control: a mapping of our own, advised and
// filled, gets huge pages.
func systemGivesHugePages(t *testing.T) bool {
	t.Helper()
	const n = 8 << 20
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	defer unix.Munmap(b)
	if err := unix.Madvise(b, unix.MADV_HUGEPAGE); err != nil {
		t.Fatalf("madvise: %v", err)
	}
	for i := 0; i < n; i += 4096 {
		b[i] = 1
	}
	return anonHugePagesKB(t, uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))) > 0
}

// anonHugePagesKB reads /proc/self/smaps for the AnonHugePages of the
// mapping that holds addr.
func anonHugePagesKB(t *testing.T, addr uint64) int {
	t.Helper()
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	inside := false
	for sc.Scan() {
		line := sc.Text()
		if span, _, ok := strings.Cut(line, " "); ok && strings.Contains(span, "-") && !strings.HasSuffix(span, ":") {
			_, _, err := findMapping(strings.NewReader(line+"\n"), addr, 1)
			inside = err == nil
			continue
		}
		if inside && strings.HasPrefix(line, "AnonHugePages:") {
			kb, err := strconv.Atoi(strings.Fields(line)[1])
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatalf("no mapping in /proc/self/smaps holds %#x", addr)
	return 0
}

// TestFaultCostsAreMeasured: the probe touches its pages and times them.
func TestFaultCostsAreMeasured(t *testing.T) {
	cost, err := smallFaultCost()
	if err != nil {
		t.Fatal(err)
	}
	if cost <= 0 || cost > time.Second {
		t.Fatalf("4 KiB page faults cost %v a MiB", cost)
	}
}
