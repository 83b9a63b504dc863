package hugeheap

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxMaps bounds the lines read from a process's map: a Go process has a
// few dozen, and Linux allows 65,530 unless raised.
const maxMaps = 1 << 20

// findMapping reads a process's map (the format of /proc/PID/maps), at
// most maxLines lines of it, and returns the range of the mapping that
// holds addr.
func findMapping(r io.Reader, addr uint64, maxLines int) (lo, hi uint64, err error) {
	sc := bufio.NewScanner(r)
	for n := 0; sc.Scan(); n++ {
		if n == maxLines {
			return 0, 0, fmt.Errorf("process map: more than %d mappings", maxLines)
		}
		span, _, _ := strings.Cut(sc.Text(), " ")
		from, to, ok := strings.Cut(span, "-")
		if !ok {
			return 0, 0, fmt.Errorf("process map: line %d has no range: %q", n+1, sc.Text())
		}
		a, err := strconv.ParseUint(from, 16, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("process map: line %d: %w", n+1, err)
		}
		b, err := strconv.ParseUint(to, 16, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("process map: line %d: %w", n+1, err)
		}
		if addr >= a && addr < b {
			return a, b, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("process map: %w", err)
	}
	return 0, 0, fmt.Errorf("process map: no mapping holds %#x", addr)
}
