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
// took about a tenth of its time. The package sorts early among main's
// imports and needs only runtime/debug, so it is initialised before the
// large packages are (checked with GODEBUG=inittrace=1).
package quietstart

import (
	"runtime/debug"
	"sync"
)

// percent is what GOGC asked for, read as the collector is turned off.
var percent = debug.SetGCPercent(-1)

var resume sync.Once

// Percent is the collector's setting before this package turned it off:
// GOGC's value, 100 by default, -1 for off.
func Percent() int { return percent }

// Resume turns the collector back on as GOGC asked. It may be called more
// than once; only the first call acts.
func Resume() { resume.Do(func() { debug.SetGCPercent(percent) }) }
