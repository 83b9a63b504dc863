// Package memlimit keeps a process's memory near what its work holds.
//
// Go's collector lets the heap grow to twice what was live at the last
// collection before it collects again, and keeps freed pages until it is
// short of memory. For pledgestat that slack is most of the peak: a build
// over 10,000 submissions holds 143 MiB of records and peaked at 300 MiB.
// A fixed memory limit trims it, but a limit below what a larger store
// holds makes the collector run without pause (a 640 MiB limit once made
// such a build 70% slower). So the limit follows the work: after each
// collection it is set to Factor times the live heap plus what the
// runtime holds and cannot hand back (the unused room in partly used
// spans, stacks, its own metadata), and never below Floor. Small work runs
// as before; large work keeps half its live heap as headroom (as GOGC=50
// would) instead of all of it, and free pages beyond the limit are
// returned to the system. Counting only the live heap was not enough: a
// live heap scattered over spans (200 MiB over 850) left the limit below
// what the runtime held, and the collector ran back to back.
package memlimit

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// Governor moves the runtime's soft memory limit after each collection.
type Governor struct {
	floor   int64
	factor  float64
	stopped atomic.Bool
	sample  []metrics.Sample
	limit   atomic.Int64
	// resume turns the collector on at the first collection (StartQuiet);
	// only the cleanup goroutine reads and clears it after the start.
	resume func()
	// minGoal is the least heap goal KeepGoalAbove asked for (0: none),
	// basePercent the collector's percent it raises.
	minGoal     atomic.Int64
	basePercent atomic.Int64
}

// Start sets the limit to floor and moves it after every collection to
// Target: max(floor, factor × live heap + the runtime's overhead). A
// factor below 1.25 is taken as 1.25: a limit at or near the live heap
// would make the collector run without end.
func Start(floor int64, factor float64) *Governor {
	g := newGovernor(floor, factor)
	g.set(floor)
	g.arm()
	return g
}

// StartQuiet is Start for a process whose collector is off (package
// quietstart): the limit stays as it finds it (quietstart's backstop), so
// that the first collection comes only when the process holds that much
// memory, and right after it resume turns the collector back on and the
// limit follows the work as Start's does. A command that never holds that
// much never collects.
func StartQuiet(floor int64, factor float64, resume func()) *Governor {
	g := newGovernor(floor, factor)
	g.resume = resume
	g.limit.Store(debug.SetMemoryLimit(-1))
	g.arm()
	return g
}

func newGovernor(floor int64, factor float64) *Governor {
	return &Governor{floor: floor, factor: max(factor, 1.25), sample: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}}
}

// Stop leaves the limit, and the collector's percent, where they are and
// stops moving them.
func (g *Governor) Stop() { g.stopped.Store(true) }

// Limit is the limit last set, in bytes.
func (g *Governor) Limit() int64 { return g.limit.Load() }

// sentinel is garbage the moment it is made: its cleanup runs once the
// next collection has found it unreachable, which is how the governor
// learns that a collection ended. It holds a pointer so that it is not a
// tiny allocation, whose cleanups may never run.
type sentinel struct {
	_ *int
	_ [8]byte
}

func (g *Governor) arm() {
	s := &sentinel{}
	runtime.AddCleanup(s, func(g *Governor) { g.collected() }, g)
}

func (g *Governor) collected() {
	if g.resume != nil {
		// Even for a stopped governor: a collector left off would let
		// the heap grow to the last limit before every collection.
		g.resume()
		g.resume = nil
	}
	if g.stopped.Load() {
		return
	}
	metrics.Read(g.sample)
	var v [5]uint64
	known := true
	for i, s := range g.sample {
		if s.Value.Kind() != metrics.KindUint64 {
			known = false
			break
		}
		v[i] = s.Value.Uint64()
	}
	if known {
		live, total, objects, free, released := v[0], v[1], v[2], v[3], v[4]
		// What the runtime holds beyond its objects and cannot return:
		// the total less objects and free or released pages.
		var overhead uint64
		if held := objects + free + released; total > held {
			overhead = total - held
		}
		g.set(Target(g.floor, g.factor, live, overhead))
		if goal := g.minGoal.Load(); goal > 0 {
			// Set at every collection, not only on a change: whatever
			// else set the percent since (hugeheap's pause, a second
			// call) does not outlast the next collection.
			debug.SetGCPercent(PercentFor(goal, live, int(g.basePercent.Load())))
		}
	}
	g.arm()
}

// KeepGoalAbove raises the collector's percent after each collection, from
// the first whose governor run follows this call, so that the heap may
// grow to goal bytes before the next one: to at most 4 times the live heap
// (maxPercent), and never below base, GOGC's setting. As the live heap
// grows the percent falls back to base. The memory limit still bounds the
// heap. It does nothing, and reports false, for a base below 0 (the
// collector off).
//
// Why: a run that starts with a few MiB live collected every few MiB,
// 67 collections for 600 small files, each with its stop and its marking,
// where the memory that would save is a few tens of MiB.
func (g *Governor) KeepGoalAbove(goal int64, base int) bool {
	if base < 0 {
		return false
	}
	g.basePercent.Store(int64(base))
	g.minGoal.Store(goal)
	return true
}

// maxPercent bounds the percent PercentFor gives (a goal of 4 times the
// live heap). The percent set after a collection is the collector's until
// the next one has ended and the governor has run again, and the live
// heap may be far larger by then: unbounded, a percent made for 1 MiB
// live let a 200k-row ingest grow to 194 MiB where it held 87.
const maxPercent = 300

// PercentFor is the collector's percent that lets a live heap grow to
// goal bytes before the next collection, and at least base.
func PercentFor(goal int64, live uint64, base int) int {
	if goal <= 0 {
		return base
	}
	if live == 0 {
		return max(base, maxPercent)
	}
	// goal = live × (1 + p/100), rounded up.
	p := (uint64(goal)*100 + live - 1) / live
	if p <= 100 {
		return base
	}
	return max(base, int(min(p-100, maxPercent)))
}

func (g *Governor) set(limit int64) {
	if g.limit.Swap(limit) != limit {
		debug.SetMemoryLimit(limit)
	}
}

// Target is the limit for a live heap: factor times it, plus the
// runtime's overhead, at least floor.
func Target(floor int64, factor float64, live, overhead uint64) int64 {
	want := factor*float64(live) + float64(overhead)
	if want >= math.MaxInt64 {
		return math.MaxInt64
	}
	return max(floor, int64(want))
}
