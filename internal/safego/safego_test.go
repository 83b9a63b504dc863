package safego

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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

func TestForEachCallsEachIndexOnceOnBoundedWorkers(t *testing.T) {
	for _, workers := range []int{0, 1, 3, 50} {
		var (
			calls         [20]atomic.Int32
			running, most atomic.Int32
		)
		err := ForEach(len(calls), workers, func(i int) error {
			now := running.Add(1)
			for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
			}
			time.Sleep(time.Millisecond)
			running.Add(-1)
			calls[i].Add(1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range calls {
			if n := calls[i].Load(); n != 1 {
				t.Errorf("workers %d: index %d called %d times", workers, i, n)
			}
		}
		if limit := int32(min(max(workers, 1), len(calls))); most.Load() > limit {
			t.Errorf("workers %d: %d calls at once, want at most %d", workers, most.Load(), limit)
		}
	}
	if err := ForEach(0, 2, func(int) error { t.Error("called for no index"); return nil }); err != nil {
		t.Error(err)
	}
}

func TestForEachStopsAfterAFailureAndReportsPanics(t *testing.T) {
	var started atomic.Int32
	boom := errors.New("boom")
	err := ForEach(1000, 2, func(i int) error {
		started.Add(1)
		switch i {
		case 3:
			return boom
		case 4:
			panic("worker panic")
		}
		time.Sleep(100 * time.Microsecond)
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the failure", err)
	}
	if n := started.Load(); n > 20 {
		t.Errorf("%d of 1000 calls started after a failure at the fourth", n)
	}
	err = ForEach(3, 3, func(i int) error {
		if i == 1 {
			panic("worker panic")
		}
		return nil
	})
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "worker panic" {
		t.Errorf("err = %v, want the worker's panic", err)
	}
}

func TestGoWaitsAndGivesTheErrorEachTime(t *testing.T) {
	want := errors.New("failed")
	release := make(chan struct{})
	var finished atomic.Bool
	wait := Go(func() error {
		<-release
		finished.Store(true)
		return want
	})
	close(release)
	for range 2 {
		if err := wait(); err != want {
			t.Fatalf("wait() = %v, want %v", err, want)
		}
		if !finished.Load() {
			t.Fatal("wait returned before the function finished")
		}
	}
	wait = Go(func() error { panic("boom") })
	var pe *PanicError
	if err := wait(); !errors.As(err, &pe) || pe.Value != "boom" {
		t.Errorf("wait() = %v, want the panic as a *PanicError", err)
	}
}
