package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/publish"
	"github.com/ilo-pledge/pledgestat/schedules"
	"github.com/ilo-pledge/pledgestat/store"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// Status is the state of a workspace an operator checks: what `status`
// prints (its JSON is `status --json`) and what the portal can show. It
// is read without the workspace lock and without changing anything.
type Status struct {
	Workspace   string                 `json:"workspace"`
	Latest      string                 `json:"latest_run"`
	Runs        []workspace.RunRecord  `json:"runs"` // the last ten, newest first
	Waiting     []WaitingFile          `json:"inbox"`
	Ignored     []workspace.InboxEntry `json:"inbox_ignored"`
	Rejected    []RejectedFile         `json:"rejected"`
	StoreTotals map[string]int         `json:"store_totals"`
	Submissions int                    `json:"submissions"`
	// Problems: what status could not read or found damaged. It shows
	// everything else regardless.
	Problems  []string        `json:"problems"`
	Scheduler SchedulerStatus `json:"scheduler"`
	// Held lists the runs held by a publish gate, newer than out/latest,
	// with the rules they broke: each waits for `pledgestat release`.
	Held []HeldRun `json:"held"`
}

// SchedulerStatus tells whether a `schedule` process serves the workspace
// and when each job runs next.
type SchedulerStatus struct {
	Running bool        `json:"running"`
	PID     int         `json:"pid,omitempty"`
	Since   *time.Time  `json:"since,omitempty"`
	Watch   bool        `json:"watch"`
	Jobs    []JobStatus `json:"jobs"`
}

// JobStatus is one [[schedule]] job: when it runs next and how its last
// run went.
type JobStatus struct {
	Name     string     `json:"name"`
	Command  string     `json:"command"`
	Cron     string     `json:"cron"`
	Timezone string     `json:"timezone"`
	Next     time.Time  `json:"next"`
	LastRun  *time.Time `json:"last_run,omitempty"`
	LastOK   *bool      `json:"last_ok,omitempty"`
}

// WaitingFile is a file in the inbox that the next run takes.
type WaitingFile struct {
	Name     string    `json:"name"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
	Settling bool      `json:"settling"` // changed less than settle_seconds ago: the next run leaves it
	// Unreadable says why the file cannot be read (permission denied...):
	// runs leave it in the inbox until someone fixes it.
	Unreadable string `json:"unreadable,omitempty"`
}

// RejectedFile is a rejected file still in rejected/, with why.
type RejectedFile struct {
	File       string    `json:"file"`
	RunID      string    `json:"run_id"`
	StoredAs   string    `json:"stored_as"`
	Errors     int       `json:"errors"`
	FirstError string    `json:"first_error"`
	Time       time.Time `json:"time"`
}

// recentRuns is how many runs a status lists.
const recentRuns = 10

// ReadStatus gathers the status of ws as of now. Each part that cannot be
// read becomes a problem in the status instead of hiding the rest.
func ReadStatus(ctx context.Context, ws *workspace.Workspace, log *slog.Logger, now time.Time) *Status {
	st := &Status{Workspace: ws.Root, Runs: []workspace.RunRecord{}, Waiting: []WaitingFile{}, Ignored: []workspace.InboxEntry{},
		Rejected: []RejectedFile{}, StoreTotals: map[string]int{}, Problems: []string{}, Held: []HeldRun{}}
	problem := func(err error) { st.Problems = append(st.Problems, err.Error()) }
	var err error
	if st.Latest, err = publish.Latest(ws.Out()); err != nil {
		var nl *publish.NotLinkError
		if errors.As(err, &nl) {
			err = fmt.Errorf("%w; the next build moves it aside and recreates the link", err)
		}
		problem(err)
	}
	if held, err := heldRuns(ws); err != nil {
		problem(err)
	} else if held != nil {
		st.Held = held
	}
	history, err := ws.RunHistory()
	if err != nil {
		problem(err)
	}
	for i := len(history) - 1; i >= 0 && len(st.Runs) < recentRuns; i-- {
		st.Runs = append(st.Runs, history[i])
	}
	inbox, err := ws.ListInbox(ctx)
	if err != nil {
		problem(err)
	}
	st.Ignored = append(st.Ignored, inbox.Ignored...)
	settle := ws.Config.Ingest.SettleDuration()
	for _, f := range inbox.Files {
		wf := WaitingFile{Name: f.Name, Size: f.Size, Modified: f.ModTime.UTC(), Settling: settle > 0 && now.Sub(f.ModTime) < settle}
		if fd, _, err := fsx.OpenRegular(f.Path, true); err != nil {
			wf.Unreadable = fsx.Reason(err)
		} else {
			fd.Close()
		}
		st.Waiting = append(st.Waiting, wf)
	}
	if _, err := os.Stat(ws.StoreDir()); err == nil {
		st.readStore(ctx, ws, log, problem)
	}
	st.Scheduler = schedulerStatus(ws, history, now, problem)
	return st
}

func (st *Status) readStore(ctx context.Context, ws *workspace.Workspace, log *slog.Logger, problem func(error)) {
	s, err := store.OpenReadOnly(ws.StoreDir(), log)
	if err != nil {
		problem(err)
		return
	}
	for _, d := range s.Damage() {
		problem(errors.New(d))
	}
	for e := range s.All() {
		if e.Event != store.EventRejected {
			continue
		}
		if _, err := os.Stat(filepath.Join(ws.Root, filepath.FromSlash(e.StoredAs))); err != nil {
			continue // moved away by an operator
		}
		st.Rejected = append(st.Rejected, RejectedFile{File: e.File, RunID: e.RunID, StoredAs: e.StoredAs, Errors: e.Errors, FirstError: e.FirstError, Time: e.Time})
	}
	totals, err := s.Totals(ctx)
	if err != nil {
		problem(fmt.Errorf("store totals: %w", err))
	}
	for d, n := range totals {
		st.StoreTotals[string(d)] = n
	}
	st.Submissions = len(s.Accepted())
}

func schedulerStatus(ws *workspace.Workspace, history []workspace.RunRecord, now time.Time, problem func(error)) SchedulerStatus {
	st := SchedulerStatus{Watch: ws.Config.Watch.Enabled, Jobs: []JobStatus{}}
	if h, ok := ws.Scheduler(); ok {
		st.Running, st.PID = true, h.PID
		if !h.StartedAt.IsZero() {
			since := h.StartedAt.UTC()
			st.Since = &since
		}
	}
	jobs, err := Jobs(ws.Config)
	if err != nil {
		problem(err)
		return st
	}
	for _, j := range jobs {
		js := JobStatus{Name: j.Name, Command: j.Command, Cron: j.Cron, Timezone: j.Location.String(), Next: j.Next(now).UTC()}
		for i := len(history) - 1; i >= 0; i-- {
			if r := history[i]; r.Trigger == schedules.Trigger(j.Name) {
				last, ok := r.StartedAt.UTC(), r.Outcome != "failed"
				js.LastRun, js.LastOK = &last, &ok
				break
			}
		}
		st.Jobs = append(st.Jobs, js)
	}
	return st
}

// Jobs turns the [[schedule]] tables of a configuration into scheduler
// jobs.
func Jobs(cfg workspace.Config) ([]schedules.Spec, error) {
	var out []schedules.Spec
	for _, s := range cfg.Schedules {
		spec, err := schedules.Parse(s.Name, s.Cron, s.Command, s.Timezone)
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %w", s.Name, err)
		}
		out = append(out, spec)
	}
	return out, nil
}
