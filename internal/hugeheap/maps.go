package hugeheap

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxMaps bounds the lines read from a process's map: a Go process has a
// few dozen.
const maxMaps = 1 << 16

// findMapping reads a process's map (the format of /proc/PID/maps) and
// returns the range of the mapping that holds addr.
func findMapping(r io.Reader, addr uintptr) (lo, hi uintptr, err error) {
	sc := bufio.NewScanner(r)
	for n := 0; sc.Scan(); n++ {
		if n == maxMaps {
			return 0, 0, fmt.Errorf("process map: more than %d mappings", maxMaps)
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
		if uint64(addr) >= a && uint64(addr) < b {
			return uintptr(a), uintptr(b), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("process map: %w", err)
	}
	return 0, 0, errors.New("process map: no mapping holds the block")
}
