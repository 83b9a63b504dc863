package memlimit

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"
)

func TestTarget(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		floor          int64
		factor         float64
		live, overhead uint64
		want           int64
	}{
		{256 * mib, 1.5, 0, 0, 256 * mib},
		{256 * mib, 1.5, 100 * mib, 20 * mib, 256 * mib},
		{256 * mib, 1.5, 160 * mib, 10 * mib, 256 * mib},
		{256 * mib, 1.5, 200 * mib, 0, 300 * mib},
		{256 * mib, 1.5, 200 * mib, 650 * mib, 950 * mib},
		{0, 2, 10, 5, 25},
		{0, 1.5, math.MaxUint64, 0, math.MaxInt64},
	} {
		if got := Target(c.floor, c.factor, c.live, c.overhead); got != c.want {
			t.Errorf("Target(%d, %v, %d, %d) = %d, want %d", c.floor, c.factor, c.live, c.overhead, got, c.want)
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

// TestLimitStaysAboveWhatTheRuntimeHolds scatters a live heap over many
// spans (one small object in four kept): the runtime then holds far more
// than the live heap, none of which it can return, and a limit of 1.5 ×
// the live heap alone would sit below it, making the collector run back
// to back. The limit must stay above what is held.
func TestLimitStaysAboveWhatTheRuntimeHolds(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	g := Start(8<<20, 1.5)
	defer g.Stop()
	all := make([][]byte, 1<<17) // 64 MiB of 512-byte objects
	for i := range all {
		all[i] = make([]byte, 512)
	}
	var kept [][]byte
	for i := 0; i < len(all); i += 4 {
		kept = append(kept, all[i])
	}
	all = nil
	held := func() int64 {
		s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/free:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
		metrics.Read(s)
		return int64(s[0].Value.Uint64() - s[1].Value.Uint64() - s[2].Value.Uint64())
	}
	// Collections after the release, so that the limit is the one set
	// for the scattered heap, not for the whole 64 MiB.
	for range 3 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	var h int64
	waitFor(t, "a limit above what the runtime holds", func() bool {
		h = held()
		return g.Limit() > h && h > 40<<20
	})
	runtime.KeepAlive(kept)
}

// TestFactorHasAFloor: a factor at or below 1 would put the limit at the
// live heap; it is taken as 1.25.
func TestFactorHasAFloor(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	g := Start(1<<20, 0.5)
	defer g.Stop()
	held := make([]byte, 32<<20)
	for i := range held {
		held[i] = byte(i)
	}
	waitFor(t, "a limit of at least 1.25 × 32 MiB", func() bool { return g.Limit() >= 40<<20 })
	runtime.KeepAlive(held)
}

// TestStartQuietCollectsOnlyAtFirst turns the collector off and sets a
// limit as package quietstart does: the governor leaves that limit, so
// garbage well below it brings no collection; the first collection turns
// the collector back on, once, and moves the limit to the floor.
func TestStartQuietCollectsOnlyAtFirst(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.GC()
	const first, floor = 512 << 20, 16 << 20
	debug.SetMemoryLimit(first) // as package quietstart sets it
	var resumed atomic.Int32
	g := StartQuiet(floor, 1.5, func() {
		resumed.Add(1)
		debug.SetGCPercent(100)
	})
	defer g.Stop()
	if got := debug.SetMemoryLimit(-1); got != first {
		t.Fatalf("limit at start = %d, want the one found, %d", got, first)
	}
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	before := stats.NumGC
	var sink []byte
	for range 64 { // 64 MiB of garbage, 16 times the runtime's first heap goal
		sink = make([]byte, 1<<20)
		sink[0] = 1
	}
	runtime.KeepAlive(sink)
	runtime.ReadMemStats(&stats)
	if stats.NumGC != before {
		t.Errorf("%d collections below first", stats.NumGC-before)
	}
	waitFor(t, "the limit at the floor after a collection", func() bool { return g.Limit() == floor })
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("collector at %d after the first collection, want resumed (100)", got)
	}
	runtime.GC()
	runtime.GC()
	time.Sleep(20 * time.Millisecond)
	if n := resumed.Load(); n != 1 {
		t.Errorf("resume called %d times, want once", n)
	}
}

func TestPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		goal int64
		live uint64
		base int
		want int
	}{
		{48 * mib, 16 * mib, 100, 200},       // 16 × 3 = 48
		{48 * mib, 24 * mib, 100, 100},       // 2 × 24 = 48: GOGC's own
		{48 * mib, 40 * mib, 100, 100},       // GOGC's is above the goal
		{48 * mib, 14 * mib, 100, 243},       // rounded up: 14 × 3.43
		{48 * mib, 4 * mib, 100, maxPercent}, // bounded: 4 × 12 would be 48
		{48 * mib, 4 * mib, 2000, 2000},      // never below GOGC's
		{48 * mib, 1, 100, maxPercent},       // bounded
		{48 * mib, 0, 100, maxPercent},       // nothing live
		{0, 4 * mib, 100, 100},               // no goal
		{48 * mib, 48 * mib, 50, 50},         // at the goal
		{48 * mib, 47 * mib, 50, 50},         // 47 × 1.5 is above it
	} {
		if got := PercentFor(c.goal, c.live, c.base); got != c.want {
			t.Errorf("PercentFor(%d, %d, %d) = %d, want %d", c.goal, c.live, c.base, got, c.want)
		}
	}
}

// collectorPercent reads the collector's percent without setting it.
func collectorPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(int64(s[0].Value.Uint64()))
}

// TestKeepGoalAbove: after a collection with a small live heap, the
// collector's percent lets the heap grow to 4 times it, above GOGC's; with
// a live heap above the goal it is GOGC's again; the collector off is
// left off.
func TestKeepGoalAbove(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	g := Start(256<<20, 1.5)
	defer g.Stop()
	if !g.KeepGoalAbove(1<<30, 150) {
		t.Fatal("KeepGoalAbove did nothing with the collector on")
	}
	waitFor(t, "the percent at its bound", func() bool { return collectorPercent() == maxPercent })
	heap := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/gc/heap/live:bytes"}}
	runtime.GC()
	time.Sleep(20 * time.Millisecond)
	metrics.Read(heap)
	if goal, live := heap[0].Value.Uint64(), heap[1].Value.Uint64(); goal < live*(100+maxPercent)/100*9/10 {
		t.Errorf("heap goal %d KiB for %d KiB live, want about %d times it", goal>>10, live>>10, (100+maxPercent)/100)
	}

	// A live heap above the goal: GOGC's percent (150, not 100), not the
	// bound, else the heap would grow to 4 times what the work holds.
	g.KeepGoalAbove(8<<20, 150)
	held := make([]byte, 64<<20)
	for i := range held {
		held[i] = 1
	}
	waitFor(t, "GOGC's percent back", func() bool { return collectorPercent() == 150 })
	runtime.KeepAlive(held)

	// A stopped governor leaves the percent alone.
	g.KeepGoalAbove(1<<30, 150)
	g.Stop()
	debug.SetGCPercent(77)
	for range 3 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if got := collectorPercent(); got != 77 {
		t.Errorf("a stopped governor set the percent to %d", got)
	}

	off := newGovernor(256<<20, 1.5)
	if off.KeepGoalAbove(1<<30, -1) || off.minGoal.Load() != 0 {
		t.Error("a goal was kept with the collector off")
	}
}
