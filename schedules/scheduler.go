package schedules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Runs is what the scheduler needs from the pipeline: run a command, read
// the run history, and record a run that died in a panic (the pipeline,
// having died, could not). The pipeline implements it; the package knows
// time and locks, not what a run does.
type Runs interface {
	// Run runs command (run, ingest or build) under the workspace lock,
	// waiting for a run of another process to finish, and records it in
	// the run history with trigger.
	Run(ctx context.Context, command, trigger string) error
	// History returns the recorded runs, oldest first.
	History() ([]RunInfo, error)
	// RecordPanic records a run that panicked as failed.
	RecordPanic(command, trigger string, started time.Time, cause string) error
}

// RunInfo is what the scheduler reads of a recorded run.
type RunInfo struct {
	Command   string
	Trigger   string
	StartedAt time.Time
}

// Trigger is how a scheduled job's runs are recorded.
func Trigger(job string) string { return "schedule " + job }

// Scheduler runs jobs on their cron schedules and on demand (the inbox
// watcher), one run at a time in this process; the workspace lock keeps
// runs of other processes apart. It is built on robfig/cron, wrapped as
// that library needs: jobs recover their own panics (recorded as failed
// runs), overlapping fires are skipped here rather than by cron's chain,
// each job has its own time zone, and runs missed while the process was
// down are caught up from the run history.
type Scheduler struct {
	runs Runs
	log  *slog.Logger
	now  func() time.Time

	mu       sync.Mutex
	cron     *cron.Cron
	jobs     []Spec
	grace    time.Duration
	busy     string // the trigger of the run in progress, "" when idle
	stopping bool
	inflight sync.WaitGroup
	runCtx   context.Context
	abort    context.CancelFunc
}

// New returns a scheduler; now gives the time (time.Now in production, a
// fixed clock in tests of catch-up).
func New(runs Runs, log *slog.Logger, now func() time.Time) *Scheduler {
	ctx, abort := context.WithCancel(context.Background())
	return &Scheduler{runs: runs, log: log, now: now, runCtx: ctx, abort: abort}
}

// Start makes the runs missed while the process was down, once per job,
// then starts firing the jobs on schedule. grace is how long Stop lets a
// running job finish.
func (s *Scheduler) Start(jobs []Spec, grace time.Duration) error {
	missed, err := s.Missed(jobs)
	if err != nil {
		return fmt.Errorf("catch up: %w", err)
	}
	s.Reload(jobs, grace)
	go func() {
		for _, job := range missed {
			s.log.Info("catching up: this job's last fire time passed while pledgestat was not running", "job", job.Name, "command", job.Command)
			s.RunNow(job.Command, Trigger(job.Name))
		}
	}()
	return nil
}

// Missed returns the jobs whose last fire time before now passed without a
// run: decided from the run history, so a restart never repeats a catch-up
// (the catch-up run is recorded) and a run made by hand since then counts.
// A job that never ran is not caught up: nothing says it was missed.
func (s *Scheduler) Missed(jobs []Spec) ([]Spec, error) {
	history, err := s.runs.History()
	if err != nil {
		return nil, err
	}
	now := s.now()
	var missed []Spec
	for _, job := range jobs {
		var last time.Time
		for _, r := range history {
			if r.Trigger == Trigger(job.Name) && r.StartedAt.After(last) {
				last = r.StartedAt
			}
		}
		if last.IsZero() {
			continue
		}
		due := job.Next(last)
		if due.After(now) {
			continue
		}
		if coveredSince(history, job.Command, due) {
			s.log.Info("not catching up: a run since the missed time did the same work", "job", job.Name, "missed", due.UTC().Format(time.RFC3339))
			continue
		}
		missed = append(missed, job)
	}
	return missed, nil
}

// coveredSince reports whether a run started at or after t did what
// command does (a "run" covers ingest and build).
func coveredSince(history []RunInfo, command string, t time.Time) bool {
	for _, r := range history {
		if !r.StartedAt.Before(t) && (r.Command == command || r.Command == "run") {
			return true
		}
	}
	return false
}

// Reload replaces the jobs (SIGHUP): the fires of the old ones stop, a run
// in progress finishes.
func (s *Scheduler) Reload(jobs []Spec, grace time.Duration) {
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(cron.DiscardLogger))
	for _, job := range jobs {
		c.Schedule(zoned{job}, cron.FuncJob(func() { s.RunNow(job.Command, Trigger(job.Name)) }))
	}
	s.mu.Lock()
	old := s.cron
	if s.stopping {
		s.mu.Unlock()
		return
	}
	s.cron, s.jobs, s.grace = c, jobs, grace
	s.mu.Unlock()
	if old != nil {
		old.Stop()
	}
	c.Start()
	for _, job := range jobs {
		s.log.Info("scheduled", "job", job.Name, "command", job.Command, "cron", job.Cron, "timezone", job.Location.String(), "next", job.Next(s.now()).UTC().Format(time.RFC3339))
	}
}

// Jobs returns the jobs in force.
func (s *Scheduler) Jobs() []Spec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Spec(nil), s.jobs...)
}

// zoned makes a cron schedule fire in its job's time zone.
type zoned struct{ job Spec }

func (z zoned) Next(t time.Time) time.Time { return z.job.Next(t) }

// ErrBusy is returned by RunNow when a run is in progress.
var ErrBusy = errors.New("a run is in progress")

// RunNow runs a command now, unless a run is in progress in this process
// or the scheduler is stopping (ErrBusy). A panic in the run is recovered
// and recorded as a failed run. It returns the run's error.
func (s *Scheduler) RunNow(command, trigger string) error {
	ctx, err := s.reserve(trigger)
	if err != nil {
		return err
	}
	defer s.release()
	return s.runGuarded(ctx, command, trigger)
}

// Go starts a run in the background, unless a run is in progress or the
// scheduler is stopping (ErrBusy): the watcher uses it, so that it never
// blocks a reload or a stop.
func (s *Scheduler) Go(command, trigger string) error {
	ctx, err := s.reserve(trigger)
	if err != nil {
		return err
	}
	go func() {
		defer s.release()
		s.runGuarded(ctx, command, trigger)
	}()
	return nil
}

// reserve takes the one run slot of the process.
func (s *Scheduler) reserve(trigger string) (context.Context, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping || s.busy != "" {
		if s.busy != "" && trigger != WatchTrigger { // the watcher simply tries again
			s.log.Warn("skipped: another run is in progress", "trigger", trigger, "running", s.busy)
		}
		return nil, ErrBusy
	}
	s.busy = trigger
	s.inflight.Add(1)
	return s.runCtx, nil
}

func (s *Scheduler) release() {
	s.mu.Lock()
	s.busy = ""
	s.mu.Unlock()
	s.inflight.Done()
}

func (s *Scheduler) runGuarded(ctx context.Context, command, trigger string) (err error) {
	started := s.now().UTC()
	defer func() {
		if p := recover(); p != nil {
			cause := fmt.Sprintf("panic: %v", p)
			s.log.Error("the run panicked; recorded as failed, the scheduler goes on", "trigger", trigger, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if rerr := s.runs.RecordPanic(command, trigger, started, cause); rerr != nil {
				s.log.Error("the panicked run could not be recorded", "err", rerr)
			}
			err = errors.New(cause)
		}
	}()
	err = s.runs.Run(ctx, command, trigger)
	if err != nil {
		s.log.Error("scheduled run failed", "trigger", trigger, "command", command, "err", err)
	}
	return err
}

// Busy reports the trigger of the run in progress, or "".
func (s *Scheduler) Busy() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy
}

// Stop takes no new runs, lets the current one finish within the grace
// period, and otherwise aborts it (its context is cancelled: the pipeline
// stops cleanly, publishing nothing half and releasing the lock); it
// returns once no run is left.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	s.stopping = true
	c, grace, busy := s.cron, s.grace, s.busy
	s.mu.Unlock()
	if c != nil {
		c.Stop()
	}
	done := make(chan struct{})
	go func() {
		s.inflight.Wait()
		close(done)
	}()
	if busy != "" {
		s.log.Info("stopping: waiting for the run in progress", "trigger", busy, "grace", grace)
	}
	select {
	case <-done:
	case <-time.After(grace):
		s.log.Warn("stopping: the grace period is over; aborting the run in progress", "trigger", busy, "grace", grace)
		s.abort()
		<-done
	}
	s.abort()
}
