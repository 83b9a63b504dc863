// Package quietstart turns the garbage collector off while a process's
// packages are initialised, for a command to turn it back on when it
// chooses (see memlimit.StartQuiet). Import it for its effect, from main
// only:
//
//	import _ "github.com/ilo-pledge/pledgestat/internal/quietstart"
//
// Why: package initialisation allocates about 3 MiB (excelize's tables,
// Arrow's compute kernels, compiled expressions) that lives as long as
// the process, and the runtime's first heap goal is 4 MiB, so every
// command began with a collection that freed nothing, and a short one
// (validate of a 50-row workbook, 5 MiB in all) had a second. The two
// took about a tenth of its time.
//
// Since Go 1.21 packages are initialised in the order of their import
// paths as soon as their own imports are; this one needs only os,
// runtime and runtime/debug, so it is initialised early: before excelize
// and Arrow's compute kernels (TestShortCommandCollectsNothing watches
// those two), not before every package.
//
// Nothing can leave the collector off: until Resume is called, the
// memory limit is backstop, and the first collection it brings calls
// Resume (a test binary of package main never runs main). With
// GOMEMLIMIT set the package does nothing: a first collection at the
// user's limit could come far too late.
package quietstart

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// backstop is the memory limit while the collector is off.
const backstop = 32 << 20

// state is what the package changed at initialisation, and restores.
type state struct {
	quiet   bool  // the collector was turned off
	percent int   // GOGC's setting before: 100 by default, -1 for off
	limit   int64 // the memory limit before
	resume  sync.Once
}

var st = start()

func start() *state {
	s := &state{}
	if os.Getenv("GOMEMLIMIT") != "" {
		// Nothing changes; Percent still tells GOGC's setting.
		s.percent = collectorPercent()
		return s
	}
	s.quiet = true
	s.percent = debug.SetGCPercent(-1)
	s.limit = debug.SetMemoryLimit(backstop)
	s.arm()
	return s
}

// collectorPercent reads the collector's percent without setting it: -1
// for off.
func collectorPercent() int {
	gogc := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(gogc)
	// The metric is unsigned: off (-1) reads as the largest value, which
	// the conversion turns back into -1.
	return int(int64(gogc[0].Value.Uint64()))
}

// sentinel is garbage the moment it is made: its cleanup runs after the
// first collection. It holds a pointer so that it is not a tiny
// allocation, whose cleanups may never run.
type sentinel struct {
	_ *int
	_ [8]byte
}

func (s *state) arm() {
	runtime.AddCleanup(&sentinel{}, func(s *state) { s.restore() }, s)
}

func (s *state) restore() {
	s.resume.Do(func() {
		if s.quiet {
			debug.SetGCPercent(s.percent)
			debug.SetMemoryLimit(s.limit)
		}
	})
}

// Percent is the collector's setting before this package turned it off:
// GOGC's value, 100 by default, -1 for off.
func Percent() int { return st.percent }

// Resume turns the collector back on as GOGC asked and puts back the
// memory limit it found. Only the first call acts; the first collection
// makes it if nothing did before.
func Resume() { st.restore() }
