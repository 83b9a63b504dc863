// Package memlimit keeps a process's memory near what its work holds.
//
// Go's collector lets the heap grow to twice what was live at the last
// collection before it collects again, and keeps freed pages until it is
// short of memory. For pledgestat that slack is most of the peak: a build
// over 10,000 submissions holds 143 MiB of records and peaked at 300 MiB.
// A fixed memory limit trims it, but a limit below what a larger store
// holds makes the collector run without pause (a 640 MiB limit once made
// such a build 70% slower). So the limit follows the work: after each
// collection it is set to Factor times the live heap, and never below
// Floor. Small work runs as before; large work keeps half its live heap as
// headroom (as GOGC=50 would) instead of all of it, and the pages beyond
// the limit are returned to the system.
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
}

// Start sets the limit to floor and moves it after every collection to
// max(floor, factor × live heap). factor must be above 1: a limit at or
// below the live heap would make the collector run without end.
func Start(floor int64, factor float64) *Governor {
	g := &Governor{floor: floor, factor: max(factor, 1.25),
		sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	g.set(floor)
	g.arm()
	return g
}

// Stop leaves the limit where it is and stops moving it.
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
	if g.stopped.Load() {
		return
	}
	metrics.Read(g.sample)
	if g.sample[0].Value.Kind() == metrics.KindUint64 {
		g.set(Target(g.floor, g.factor, g.sample[0].Value.Uint64()))
	}
	g.arm()
}

func (g *Governor) set(limit int64) {
	if g.limit.Swap(limit) != limit {
		debug.SetMemoryLimit(limit)
	}
}

// Target is the limit for a live heap: factor times it, at least floor.
func Target(floor int64, factor float64, live uint64) int64 {
	want := factor * float64(live)
	if want >= math.MaxInt64 {
		return math.MaxInt64
	}
	return max(floor, int64(want))
}
