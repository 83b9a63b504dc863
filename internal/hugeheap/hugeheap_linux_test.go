//go:build linux

package hugeheap

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestAdviseBacksTheHeapWithHugePages: after Advise, memory the heap
// hands out and the program fills is in huge pages, when the system
// leaves the choice to programs.
func TestAdviseBacksTheHeapWithHugePages(t *testing.T) {
	mode, err := os.ReadFile(modeFile)
	if err != nil {
		t.Skipf("no transparent huge pages here: %v", err)
	}
	advised, err := Advise(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(mode, []byte("[madvise]")) {
		if advised {
			t.Fatalf("advised under %q: only the madvise mode asks programs", mode)
		}
		t.Skipf("huge pages are %q here, not left to programs", bytes.TrimSpace(mode))
	}
	if !advised {
		t.Fatal("the system asks programs to advise, and Advise did not")
	}
	// Several objects, as the heap's users make them, filled.
	var held [][]byte
	for range 16 {
		b := make([]byte, 1<<20)
		for i := range b {
			b[i] = 1
		}
		held = append(held, b)
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(held[8])))
	if kb := anonHugePagesKB(t, start); kb == 0 {
		t.Fatalf("the mapping holding the heap's new objects has no huge pages")
	}
}

// anonHugePagesKB reads /proc/self/smaps for the AnonHugePages of the
// mapping that holds addr.
func anonHugePagesKB(t *testing.T, addr uintptr) int {
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
			lo, hi, err := findMapping(strings.NewReader(line+"\n"), addr)
			inside = err == nil && lo <= addr && addr < hi
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
