package schedules

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fakeRuns records runs in memory; run decides what a run does.
type fakeRuns struct {
	mu      sync.Mutex
	history []RunInfo
	panics  []string
	run     func(ctx context.Context, command, trigger string) error
	active  atomic.Int32
	most    atomic.Int32
}

func (f *fakeRuns) Run(ctx context.Context, command, trigger string) error {
	n := f.active.Add(1)
	defer f.active.Add(-1)
	for {
		m := f.most.Load()
		if n <= m || f.most.CompareAndSwap(m, n) {
			break
		}
	}
	f.mu.Lock()
	f.history = append(f.history, RunInfo{Command: command, Trigger: trigger, StartedAt: time.Now()})
	f.mu.Unlock()
	if f.run != nil {
		return f.run(ctx, command, trigger)
	}
	return nil
}

func (f *fakeRuns) History() ([]RunInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]RunInfo(nil), f.history...), nil
}

func (f *fakeRuns) RecordPanic(command, trigger string, started time.Time, cause string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.panics = append(f.panics, cause)
	return nil
}

func (f *fakeRuns) count(trigger string) int {
	h, _ := f.History()
	n := 0
	for _, r := range h {
		if r.Trigger == trigger {
			n++
		}
	}
	return n
}

func mustParse(t *testing.T, name, cron, command, tz string) Spec {
	t.Helper()
	s, err := Parse(name, cron, command, tz)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Catch-up is decided from the history with the clock given: once per
// job, only for a fire time that passed, not for a job that never ran,
// not when a run since did the same work.
func TestMissedFromHistory(t *testing.T) {
	nightly := mustParse(t, "nightly", "0 2 * * *", "run", "Europe/Zurich")
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) // 13:00 in Zurich
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name    string
		history []RunInfo
		want    bool
	}{
		{"never ran", nil, false},
		{"ran at last night's fire", []RunInfo{{"run", "schedule nightly", at("2026-11-28T01:00:01Z")}}, false},
		{"down for three nights: one catch-up", []RunInfo{{"run", "schedule nightly", at("2026-11-25T01:00:00Z")}}, true},
		{"last fire missed by a few minutes", []RunInfo{{"run", "schedule nightly", at("2026-11-27T01:00:00Z")}}, true},
		{"a run by hand since did the work", []RunInfo{{"run", "schedule nightly", at("2026-11-25T01:00:00Z")}, {"run", "cli", at("2026-11-28T08:00:00Z")}}, false},
		{"an ingest by hand does not build", []RunInfo{{"run", "schedule nightly", at("2026-11-25T01:00:00Z")}, {"ingest", "cli", at("2026-11-28T08:00:00Z")}}, true},
		{"the catch-up itself was recorded", []RunInfo{{"run", "schedule nightly", at("2026-11-25T01:00:00Z")}, {"run", "schedule nightly", at("2026-11-28T11:59:00Z")}}, false},
		{"another job's runs do not count", []RunInfo{{"run", "schedule other", at("2026-11-28T01:00:00Z")}, {"run", "schedule nightly", at("2026-11-20T01:00:00Z")}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(&fakeRuns{history: tt.history}, quiet(), func() time.Time { return now })
			missed, err := s.Missed([]Spec{nightly})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(missed) == 1; got != tt.want {
				t.Errorf("missed = %v, want %v", got, tt.want)
			}
		})
	}
}

// Jobs fire on a fast real schedule; a fire while a run is in progress is
// skipped, so runs never overlap.
func TestRunsFireAndNeverOverlap(t *testing.T) {
	runs := &fakeRuns{run: func(ctx context.Context, _, _ string) error {
		time.Sleep(1500 * time.Millisecond)
		return nil
	}}
	s := New(runs, quiet(), time.Now)
	every := mustParse(t, "fast", "@every 1s", "run", "UTC")
	other := mustParse(t, "other", "@every 1s", "build", "UTC")
	if err := s.Start([]Spec{every, other}, time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4500 * time.Millisecond)
	s.Stop()
	if n := runs.count("schedule fast") + runs.count("schedule other"); n < 2 {
		t.Errorf("%d runs in 4.5 s", n)
	}
	if m := runs.most.Load(); m != 1 {
		t.Errorf("%d runs at once", m)
	}
}

// A panicking job is recorded as failed and the scheduler goes on to the
// next fire.
func TestPanicIsRecordedAndTheSchedulerGoesOn(t *testing.T) {
	var calls atomic.Int32
	runs := &fakeRuns{run: func(ctx context.Context, _, _ string) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return nil
	}}
	s := New(runs, quiet(), time.Now)
	if err := s.Start([]Spec{mustParse(t, "p", "@every 1s", "run", "UTC")}, time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	s.Stop()
	if calls.Load() < 2 || len(runs.panics) != 1 || runs.panics[0] != "panic: boom" {
		t.Errorf("calls %d, recorded panics %v", calls.Load(), runs.panics)
	}
}

// Stop lets a run finish within the grace period, and aborts it after:
// its context is cancelled and Stop returns once it has returned.
func TestStopGraceThenAbort(t *testing.T) {
	for _, tt := range []struct {
		name      string
		runTakes  time.Duration
		grace     time.Duration
		cancelled bool
	}{
		{"finishes within the grace", 200 * time.Millisecond, 2 * time.Second, false},
		{"aborted after the grace", 30 * time.Second, 300 * time.Millisecond, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var cancelled atomic.Bool
			started := make(chan struct{})
			runs := &fakeRuns{run: func(ctx context.Context, _, _ string) error {
				close(started)
				select {
				case <-time.After(tt.runTakes):
					return nil
				case <-ctx.Done():
					cancelled.Store(true)
					return ctx.Err()
				}
			}}
			s := New(runs, quiet(), time.Now)
			s.Reload(nil, tt.grace)
			go s.RunNow("run", "test")
			<-started
			begin := time.Now()
			s.Stop()
			if cancelled.Load() != tt.cancelled {
				t.Errorf("cancelled = %v", cancelled.Load())
			}
			if took := time.Since(begin); took > tt.grace+time.Second {
				t.Errorf("Stop took %v", took)
			}
			if err := s.RunNow("run", "after"); !errors.Is(err, ErrBusy) {
				t.Errorf("a run after Stop: %v", err)
			}
		})
	}
}

// Reload replaces the jobs: the old job stops firing.
func TestReloadReplacesJobs(t *testing.T) {
	runs := &fakeRuns{}
	s := New(runs, quiet(), time.Now)
	s.Reload([]Spec{mustParse(t, "old", "@every 1s", "run", "UTC")}, time.Second)
	time.Sleep(1200 * time.Millisecond)
	s.Reload([]Spec{mustParse(t, "new", "@every 1s", "run", "UTC")}, time.Second)
	before := runs.count("schedule old")
	time.Sleep(2200 * time.Millisecond)
	s.Stop()
	if runs.count("schedule old") != before || runs.count("schedule new") == 0 {
		t.Errorf("old %d→%d, new %d", before, runs.count("schedule old"), runs.count("schedule new"))
	}
	if got := s.Jobs(); len(got) != 1 || got[0].Name != "new" {
		t.Errorf("jobs = %v", got)
	}
}
