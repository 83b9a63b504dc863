package quietstart

import (
	"runtime/debug"
	"testing"
)

func TestInitTurnsTheCollectorOffAndResumeRestoresIt(t *testing.T) {
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("the collector was at %d after init, want off (-1)", got)
	}
	if Percent() == -1 {
		t.Skip("GOGC=off: nothing to restore")
	}
	Resume()
	if got := debug.SetGCPercent(Percent()); got != Percent() {
		t.Errorf("after Resume the collector is at %d, want %d", got, Percent())
	}
	debug.SetGCPercent(-1)
	Resume() // a second call does nothing
	if got := debug.SetGCPercent(Percent()); got != -1 {
		t.Errorf("a second Resume acted: collector at %d", got)
	}
}
