package hugeheap

import (
	"strings"
	"testing"
)

const sampleMaps = `00400000-004ac000 r-xp 00000000 fe:00 10379894                           /tmp/mc3/mc3
0059a000-005d0000 rw-p 00000000 00:00 0
48d2c000000-48d2cc00000 ---p 00000000 00:00 0
48d2cc00000-48d3d000000 rw-p 00000000 00:00 0                          [anon: Go: heap]
7ffe262db000-7ffe262fc000 rw-p 00000000 00:00 0                          [stack]
`

func TestFindMapping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		maps   string
		addr   uint64
		lo, hi uint64
		err    string
	}{
		{name: "first byte of a mapping", maps: sampleMaps, addr: 0x48d2cc00000, lo: 0x48d2cc00000, hi: 0x48d3d000000},
		{name: "inside a mapping", maps: sampleMaps, addr: 0x48d2ce80000, lo: 0x48d2cc00000, hi: 0x48d3d000000},
		{name: "last byte of a mapping", maps: sampleMaps, addr: 0x48d3cffffff, lo: 0x48d2cc00000, hi: 0x48d3d000000},
		{name: "end is not in the mapping", maps: sampleMaps, addr: 0x5d0000, err: "no mapping holds"},
		{name: "below every mapping", maps: sampleMaps, addr: 0x1000, err: "no mapping holds"},
		{name: "empty map", maps: "", addr: 0x1000, err: "no mapping holds"},
		{name: "no range", maps: "garbage\n", addr: 0x1000, err: "line 1 has no range"},
		{name: "bad number", maps: "0040000g-004ac000 r-xp\n", addr: 0x1000, err: "line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi, err := findMapping(strings.NewReader(tc.maps), tc.addr, maxMaps)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil || lo != tc.lo || hi != tc.hi {
				t.Fatalf("findMapping = %#x-%#x, %v; want %#x-%#x", lo, hi, err, tc.lo, tc.hi)
			}
		})
	}
}

func TestFindMappingIsBounded(t *testing.T) {
	lines := strings.Repeat("1000-2000 r--p\n", 101)
	if _, _, err := findMapping(strings.NewReader(lines), 0x3000, 100); err == nil || !strings.Contains(err.Error(), "more than 100") {
		t.Fatalf("error %v, want the bound", err)
	}
}

func FuzzFindMapping(f *testing.F) {
	f.Add(sampleMaps, uint64(0x48d2ce80000))
	f.Add("1-2\n", uint64(1))
	f.Fuzz(func(t *testing.T, maps string, addr uint64) {
		lo, hi, err := findMapping(strings.NewReader(maps), addr, maxMaps)
		if err == nil && (addr < lo || addr >= hi) {
			t.Fatalf("%#x is not in the mapping found, %#x-%#x", addr, lo, hi)
		}
	})
}
