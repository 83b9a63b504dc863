package quietstart

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// atTestStart is the collector's setting as package initialisation left
// it (test files are initialised after the package's own).
var atTestStart = debug.SetGCPercent(debug.SetGCPercent(-1))

func TestInitTurnsTheCollectorOff(t *testing.T) {
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT is set: the package does nothing")
	}
	if !st.quiet || atTestStart != -1 {
		t.Errorf("after init: quiet %v, collector at %d, want off (-1)", st.quiet, atTestStart)
	}
}

// quietly runs a test on a fresh quiet state, as start leaves it, and
// restores the process's collector after it.
func quietly(t *testing.T, test func(s *state)) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	s := &state{quiet: true, percent: 100, limit: math.MaxInt64}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(backstop)
	test(s)
}

func TestResumeRestoresTheCollectorOnce(t *testing.T) {
	quietly(t, func(s *state) {
		s.restore()
		if got := debug.SetGCPercent(100); got != 100 {
			t.Errorf("after Resume the collector is at %d, want 100", got)
		}
		if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
			t.Errorf("after Resume the memory limit is %d, want it back at %d", got, int64(math.MaxInt64))
		}
		debug.SetGCPercent(-1)
		s.restore() // a second call does nothing
		if got := debug.SetGCPercent(100); got != -1 {
			t.Errorf("a second Resume acted: collector at %d", got)
		}
	})
}

// TestFirstCollectionResumes: a process that never calls Resume (a test
// binary of package main) gets its collector back at the first
// collection.
func TestFirstCollectionResumes(t *testing.T) {
	quietly(t, func(s *state) {
		s.arm()
		deadline := time.Now().Add(5 * time.Second)
		for {
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
			if got := debug.SetGCPercent(-1); got == 100 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the collector is still off 5 s after collections")
			}
		}
		if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
			t.Errorf("memory limit %d after the first collection, want it back at %d", got, int64(math.MaxInt64))
		}
	})
}

func TestCollectorPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(70))
	if got := collectorPercent(); got != 70 {
		t.Errorf("collectorPercent() = %d, want 70", got)
	}
	debug.SetGCPercent(-1)
	if got := collectorPercent(); got != -1 {
		t.Errorf("collectorPercent() with the collector off = %d, want -1", got)
	}
}
