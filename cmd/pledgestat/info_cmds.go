package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/internal/termsafe"
	"github.com/ilo-pledge/pledgestat/publish"
	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/schedules"
	"github.com/ilo-pledge/pledgestat/service"
	"github.com/ilo-pledge/pledgestat/store"
	"github.com/ilo-pledge/pledgestat/workspace"
)

func (a *app) catalogCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "catalog",
		Short: "print the indicator catalog: id, pledge, name, unit, definition",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			ref, err := refdata.Load()
			if err != nil {
				return withCode(exitFailure, err)
			}
			cat := ref.Catalog()
			if asJSON {
				return a.printJSON(cat)
			}
			for _, p := range cat.Pledges {
				fmt.Fprintf(a.stdout, "%s  %s\n", p.Code, p.Name)
				for _, ind := range cat.Indicators {
					if ind.Pledge != p.Code {
						continue
					}
					fmt.Fprintf(a.stdout, "  %-5s %s [%s, %s]\n", ind.ID, ind.Name, ind.Unit, ind.Type)
					fmt.Fprintf(a.stdout, "%s\n", wrap(ind.Definition, 8, 88))
				}
			}
			fmt.Fprintf(a.stdout, "\ncatalog version %s\n", cat.Version)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the catalog with definitions as JSON")
	return c
}

// wrap breaks text into lines of at most width characters, indented.
func wrap(text string, indent, width int) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width-indent {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	pad := strings.Repeat(" ", indent)
	return pad + strings.Join(lines, "\n"+pad)
}

// statusReport is what `status --json` prints.
type statusReport struct {
	Workspace   string                 `json:"workspace"`
	Latest      string                 `json:"latest_run"`
	Runs        []workspace.RunRecord  `json:"runs"`
	Waiting     []waitingFile          `json:"inbox"`
	Ignored     []workspace.InboxEntry `json:"inbox_ignored"`
	Rejected    []rejectedFile         `json:"rejected"`
	StoreTotals map[string]int         `json:"store_totals"`
	Submissions int                    `json:"submissions"`
	// Problems: what status could not read or found damaged. It shows
	// everything else regardless.
	Problems  []string        `json:"problems"`
	Scheduler schedulerStatus `json:"scheduler"`
}

// schedulerStatus tells whether a `schedule` process serves the workspace
// and when each job runs next.
type schedulerStatus struct {
	Running bool        `json:"running"`
	PID     int         `json:"pid,omitempty"`
	Since   *time.Time  `json:"since,omitempty"`
	Watch   bool        `json:"watch"`
	Jobs    []jobStatus `json:"jobs"`
}

type jobStatus struct {
	Name     string     `json:"name"`
	Command  string     `json:"command"`
	Cron     string     `json:"cron"`
	Timezone string     `json:"timezone"`
	Next     time.Time  `json:"next"`
	LastRun  *time.Time `json:"last_run,omitempty"`
	LastOK   *bool      `json:"last_ok,omitempty"`
}

type waitingFile struct {
	Name     string    `json:"name"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
	Settling bool      `json:"settling"` // changed less than settle_seconds ago: the next run leaves it
	// Unreadable says why the file cannot be read (permission denied...):
	// runs leave it in the inbox until someone fixes it.
	Unreadable string `json:"unreadable,omitempty"`
}

type rejectedFile struct {
	File       string    `json:"file"`
	RunID      string    `json:"run_id"`
	StoredAs   string    `json:"stored_as"`
	Errors     int       `json:"errors"`
	FirstError string    `json:"first_error"`
	Time       time.Time `json:"time"`
}

func (a *app) statusCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "status",
		Short: "show the last runs, files waiting in the inbox, files rejected and why, and store totals",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			ws, err := a.openWorkspace()
			if err != nil {
				return err
			}
			rep := a.status(c, ws)
			if asJSON {
				return a.printJSON(rep)
			}
			a.printStatus(rep)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return c
}

// status gathers what it can; each part that cannot be read becomes a
// problem in the report instead of hiding the rest.
func (a *app) status(c *cobra.Command, ws *workspace.Workspace) *statusReport {
	rep := &statusReport{Workspace: ws.Root, Runs: []workspace.RunRecord{}, Waiting: []waitingFile{}, Ignored: []workspace.InboxEntry{},
		Rejected: []rejectedFile{}, StoreTotals: map[string]int{}, Problems: []string{}}
	problem := func(err error) { rep.Problems = append(rep.Problems, err.Error()) }
	var err error
	if rep.Latest, err = publish.Latest(ws.Out()); err != nil {
		var nl *publish.NotLinkError
		if errors.As(err, &nl) {
			err = fmt.Errorf("%w; the next build moves it aside and recreates the link", err)
		}
		problem(err)
	}
	if history, err := ws.RunHistory(); err != nil {
		problem(err)
	} else {
		for i := len(history) - 1; i >= 0 && len(rep.Runs) < 10; i-- {
			rep.Runs = append(rep.Runs, history[i])
		}
	}
	inbox, err := ws.ListInbox(c.Context())
	if err != nil {
		problem(err)
	}
	rep.Ignored = append(rep.Ignored, inbox.Ignored...)
	settle := ws.Config.Ingest.SettleDuration()
	for _, f := range inbox.Files {
		wf := waitingFile{Name: f.Name, Size: f.Size, Modified: f.ModTime.UTC(), Settling: settle > 0 && time.Since(f.ModTime) < settle}
		if fd, _, err := fsx.OpenRegular(f.Path, true); err != nil {
			wf.Unreadable = errText(err)
		} else {
			fd.Close()
		}
		rep.Waiting = append(rep.Waiting, wf)
	}
	if _, err := os.Stat(ws.StoreDir()); err == nil {
		a.storeStatus(c, ws, rep, problem)
	}
	rep.Scheduler = scheduleStatus(ws, problem)
	return rep
}

func scheduleStatus(ws *workspace.Workspace, problem func(error)) schedulerStatus {
	st := schedulerStatus{Watch: ws.Config.Watch.Enabled, Jobs: []jobStatus{}}
	if h, ok := ws.Scheduler(); ok {
		st.Running, st.PID = true, h.PID
		if !h.StartedAt.IsZero() {
			since := h.StartedAt.UTC()
			st.Since = &since
		}
	}
	jobs, err := service.Jobs(ws.Config)
	if err != nil {
		problem(err)
		return st
	}
	history, _ := ws.RunHistory()
	now := time.Now()
	for _, j := range jobs {
		js := jobStatus{Name: j.Name, Command: j.Command, Cron: j.Cron, Timezone: j.Location.String(), Next: j.Next(now).UTC()}
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

func (a *app) storeStatus(c *cobra.Command, ws *workspace.Workspace, rep *statusReport, problem func(error)) {
	st, err := store.OpenReadOnly(ws.StoreDir(), a.log)
	if err != nil {
		problem(err)
		return
	}
	for _, d := range st.Damage() {
		problem(errors.New(d))
	}
	for _, e := range st.Entries() {
		if e.Event != store.EventRejected {
			continue
		}
		if _, err := os.Stat(filepath.Join(ws.Root, filepath.FromSlash(e.StoredAs))); err != nil {
			continue // moved away by an operator
		}
		rep.Rejected = append(rep.Rejected, rejectedFile{File: e.File, RunID: e.RunID, StoredAs: e.StoredAs, Errors: e.Errors, FirstError: e.FirstError, Time: e.Time})
	}
	totals, err := st.Totals(c.Context())
	if err != nil {
		problem(fmt.Errorf("store totals: %w", err))
	}
	for d, n := range totals {
		rep.StoreTotals[string(d)] = n
	}
	rep.Submissions = len(st.Accepted())
}

// errText is an error's message without the path it names.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func (a *app) printStatus(rep *statusReport) {
	w := a.stdout
	t := termsafe.Text
	fmt.Fprintf(w, "workspace  %s\n", t(rep.Workspace))
	latest := rep.Latest
	if latest == "" {
		latest = "(nothing published yet)"
	}
	fmt.Fprintf(w, "latest     %s\n", t(latest))
	fmt.Fprintf(w, "store      %d submissions: %d ratification, %d social_protection, %d blma records\n", rep.Submissions,
		rep.StoreTotals["ratification"], rep.StoreTotals["social_protection"], rep.StoreTotals["blma"])
	if len(rep.Problems) > 0 {
		fmt.Fprintf(w, "\nPROBLEMS: %d\n", len(rep.Problems))
		for _, p := range rep.Problems {
			fmt.Fprintf(w, "  %s\n", t(p))
		}
	}
	s := rep.Scheduler
	switch {
	case s.Running && s.Since != nil:
		fmt.Fprintf(w, "scheduler  running (PID %d, since %s)", s.PID, s.Since.Format(time.RFC3339))
	case s.Running:
		fmt.Fprintf(w, "scheduler  running (PID %d)", s.PID)
	default:
		fmt.Fprint(w, "scheduler  not running (start it with: pledgestat schedule)")
	}
	if s.Watch {
		fmt.Fprint(w, "; watching the inbox")
	}
	fmt.Fprintln(w)
	for _, j := range s.Jobs {
		last := "never run"
		if j.LastRun != nil {
			last = "last " + j.LastRun.Format(time.RFC3339)
			if !*j.LastOK {
				last += " (failed)"
			}
		}
		fmt.Fprintf(w, "  job %s: %s at %q (%s), next %s, %s\n", t(j.Name), j.Command, t(j.Cron), j.Timezone, j.Next.Format(time.RFC3339), last)
	}
	fmt.Fprintln(w, "\nlast runs:")
	if len(rep.Runs) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range rep.Runs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\taccepted %d, rejected %d, duplicates %d\t%s\n", t(r.RunID), t(r.Command), t(r.Outcome),
			r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond), r.Accepted, r.Rejected, r.Duplicates, t(r.Error))
	}
	tw.Flush()
	fmt.Fprintf(w, "\ninbox: %d waiting\n", len(rep.Waiting))
	for _, f := range rep.Waiting {
		note := ""
		if f.Settling {
			note = ", settling: changed less than settle_seconds ago"
		}
		if f.Unreadable != "" {
			note += ", CANNOT BE READ: " + f.Unreadable + "; runs leave it in the inbox"
		}
		fmt.Fprintf(w, "  %s (%d bytes%s)\n", t(f.Name), f.Size, t(note))
	}
	if len(rep.Ignored) > 0 {
		fmt.Fprintf(w, "\ninbox, not read: %d\n", len(rep.Ignored))
		for _, e := range rep.Ignored {
			fmt.Fprintf(w, "  %s (%s): %s\n", t(e.Name), e.Kind, t(e.Reason))
		}
	}
	fmt.Fprintf(w, "\nrejected: %d\n", len(rep.Rejected))
	for _, r := range rep.Rejected {
		fmt.Fprintf(w, "  %s (run %s, %s): %s\n", t(r.File), t(r.RunID), plural(r.Errors, "error"), t(r.FirstError))
	}
}
