package memlimit

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestTarget(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		floor  int64
		factor float64
		live   uint64
		want   int64
	}{
		{256 * mib, 1.5, 0, 256 * mib},
		{256 * mib, 1.5, 100 * mib, 256 * mib},
		{256 * mib, 1.5, 170 * mib, 256 * mib},
		{256 * mib, 1.5, 200 * mib, 300 * mib},
		{0, 2, 10, 20},
		{0, 1.5, math.MaxUint64, math.MaxInt64},
	} {
		if got := Target(c.floor, c.factor, c.live); got != c.want {
			t.Errorf("Target(%d, %v, %d) = %d, want %d", c.floor, c.factor, c.live, got, c.want)
		}
	}
}

// TestLimitFollowsTheLiveHeap holds a large live heap and watches the
// limit rise above it after a collection, then fall back to the floor
// once it is let go.
func TestLimitFollowsTheLiveHeap(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	const floor = 16 << 20
	g := Start(floor, 1.5)
	defer g.Stop()
	if got := debug.SetMemoryLimit(-1); got != floor {
		t.Fatalf("limit at start = %d, want the floor %d", got, floor)
	}
	held := make([]byte, 64<<20)
	for i := range held {
		held[i] = byte(i)
	}
	waitFor(t, "a limit above 1.5 × 64 MiB", func() bool { return g.Limit() >= 96<<20 })
	if got := debug.SetMemoryLimit(-1); got != g.Limit() {
		t.Errorf("runtime limit %d, governor says %d", got, g.Limit())
	}
	runtime.KeepAlive(held)
	held = nil
	waitFor(t, "the limit back at the floor", func() bool { return g.Limit() == floor })

	g.Stop()
	runtime.GC()
	stopped := g.Limit()
	big := make([]byte, 64<<20)
	runtime.GC()
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	if g.Limit() != stopped {
		t.Errorf("a stopped governor moved the limit to %d", g.Limit())
	}
	runtime.KeepAlive(big)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 5 s", what)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
