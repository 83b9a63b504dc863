package safego

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestCatchTurnsAWorkerPanicIntoAnError(t *testing.T) {
	var err error
	var wg sync.WaitGroup
	wg.Go(func() {
		defer Catch(&err)
		var m map[string]int
		m["x"] = 1 // panics: assignment to a nil map
	})
	wg.Wait()
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *PanicError", err)
	}
	if !strings.Contains(err.Error(), "nil map") || !strings.Contains(err.Error(), "safego_test.go") {
		t.Errorf("the error lacks the panic or its stack: %v", err)
	}
}

func TestCatchLeavesAnErrorAloneWithoutAPanic(t *testing.T) {
	want := errors.New("plain failure")
	err := want
	func() { defer Catch(&err) }()
	if err != want {
		t.Errorf("err = %v, want it untouched", err)
	}
}
