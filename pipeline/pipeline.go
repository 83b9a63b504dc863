// Package pipeline is the one run function every entry point calls (the
// CLI, the scheduler, the download service): it takes the workspace lock,
// ingests the inbox into the store, builds and publishes the indicators,
// and records the run in the workspace's history.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/ilo-pledge/pledgestat/gates"
	"github.com/ilo-pledge/pledgestat/ingest"
	"github.com/ilo-pledge/pledgestat/ingest/workbook"
	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/publish"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/store"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// Command is what a run does.
type Command string

// Commands of a run (cli.md).
const (
	CommandRun    Command = "run"
	CommandIngest Command = "ingest"
	CommandBuild  Command = "build"
)

// Pipeline runs commands on one workspace.
type Pipeline struct {
	WS  *workspace.Workspace
	Ref *refdata.Reference
	Log *slog.Logger
	// Now gives the time; tests may fix it.
	Now func() time.Time
	// Progress, when set, is told about long work (a terminal shows it).
	Progress func(done, total int, what string)
	// Allocator, when set, allocates every Arrow buffer of a run (Go's
	// allocator otherwise); tests give a checked one and assert that a
	// run leaves nothing allocated.
	Allocator memory.Allocator
	// Domains are input domains beyond the pledge's three, each described
	// by its descriptor alone (records.NewDescriptor with a FromRow): the
	// inbox's tables of them are read and their records stored, kept and
	// listed by history; no indicator reads them. The toy-domain test
	// sets it.
	Domains []records.Descriptor
	// openInbox opens an inbox file without following links; tests
	// replace it to make a file unreadable (as root, permissions cannot).
	openInbox func(path string) (*os.File, fs.FileInfo, error)
	// buildID names the executable's code (version.BuildID when nil);
	// tests replace it to be another binary.
	buildID func() string
}

func (p *Pipeline) openInboxFile(path string) (*os.File, fs.FileInfo, error) {
	if p.openInbox != nil {
		return p.openInbox(path)
	}
	return fsx.OpenRegular(path, true)
}

// mem is the allocator of the run's Arrow buffers.
func (p *Pipeline) mem() memory.Allocator {
	if p.Allocator != nil {
		return p.Allocator
	}
	return memory.DefaultAllocator
}

// New returns a pipeline for a workspace.
func New(ws *workspace.Workspace, ref *refdata.Reference, log *slog.Logger) *Pipeline {
	return &Pipeline{WS: ws, Ref: ref, Log: log, Now: time.Now}
}

// Options tune Execute.
type Options struct {
	Wait    bool   // wait for another run to finish instead of failing
	Trigger string // who asked: cli, schedule NAME, ...
	// NoGates publishes the build whatever the publish gates say
	// (build --no-gates): an operator who has checked it.
	NoGates bool
	// Recompute computes every indicator from the store, taking none from
	// the latest run even where its records are the same (build
	// --recompute).
	Recompute bool
}

// Outcomes of an inbox file.
const (
	OutcomeAccepted  = "accepted"
	OutcomeDuplicate = "duplicate"
	OutcomeRejected  = "rejected"
	// OutcomeLeft: the file could not be opened or read (permission
	// denied, an I/O error, replaced by a link); it stays in the inbox and
	// is reported until someone fixes it.
	OutcomeLeft = "left"
	// OutcomeVanished: the file was taken out of the inbox before it was
	// read.
	OutcomeVanished = "vanished"
)

// FileOutcome is what happened to one inbox file.
type FileOutcome struct {
	Name       string         `json:"name"`
	Outcome    string         `json:"outcome"` // accepted, duplicate, rejected, left, vanished
	SHA256     string         `json:"sha256"`
	StoredAs   string         `json:"stored_as"`
	Rows       map[string]int `json:"rows,omitempty"`
	Superseded map[string]int `json:"superseded,omitempty"`
	Errors     int            `json:"errors"`
	Warnings   int            `json:"warnings"`
	FirstError string         `json:"first_error,omitempty"`
	Report     string         `json:"report,omitempty"`        // errors.csv of a rejected file, report.csv of an accepted one with warnings
	Annotated  string         `json:"annotated,omitempty"`     // annotated copy, for rejected workbooks
	Notices    []string       `json:"warnings_list,omitempty"` // the warnings, for accepted files
}

// Result is the outcome of one run.
type Result struct {
	RunID      string        `json:"run_id"`
	Command    Command       `json:"command"`
	StartedAt  time.Time     `json:"started_at"`
	FinishedAt time.Time     `json:"finished_at"`
	Files      []FileOutcome `json:"files"`
	Settling   []string      `json:"settling,omitempty"` // files left for a later run: still being written
	// Ignored: what the inbox holds that is never read (symbolic links,
	// named pipes, folders that cannot be listed), with why.
	Ignored    []workspace.InboxEntry `json:"ignored,omitempty"`
	Published  bool                   `json:"published"`
	RunDir     string                 `json:"run_dir,omitempty"`
	Indicators int                    `json:"indicators"`
	Changes    string                 `json:"changes,omitempty"`
	// UpToDate names the latest run when a run had nothing new to build
	// (or the held run built from the same inputs, still waiting).
	UpToDate string `json:"up_to_date,omitempty"`
	// Held: the build broke a publish gate; it is under out/runs/ but
	// out/latest was not switched to it (exit 4). Gates is its report.
	Held  bool          `json:"held"`
	Gates *gates.Report `json:"gates,omitempty"`
	// TakenFrom names the run whose indicators of the domains Taken a
	// build published rather than computing them again: their records
	// were the same (reuse.go).
	TakenFrom string           `json:"taken_from,omitempty"`
	Taken     []records.Domain `json:"taken,omitempty"`
	// BuildDuration is how long computing and publishing took.
	BuildDuration time.Duration `json:"-"`
}

// NeedsAttention reports whether some inbox file was rejected, left
// unread or ignored: the run finished, but someone has to act (exit 3).
func (r *Result) NeedsAttention() bool {
	return r.Count(OutcomeRejected) > 0 || r.Count(OutcomeLeft) > 0 || len(r.Ignored) > 0
}

// Count returns the number of files with an outcome.
func (r *Result) Count(outcome string) int {
	n := 0
	for _, f := range r.Files {
		if f.Outcome == outcome {
			n++
		}
	}
	return n
}

// Execute runs a command under the workspace lock and records it in the
// run history. A returned error means the run failed (exit status 1); files
// rejected are in the result (exit status 3).
func (p *Pipeline) Execute(ctx context.Context, cmd Command, opts Options) (*Result, error) {
	lock, err := p.lock(ctx, string(cmd), opts)
	if err != nil {
		return nil, err
	}
	defer lock.Release()

	started := p.Now().UTC()
	runID, err := p.WS.NewRunID(started)
	if err != nil {
		return nil, err
	}
	res := &Result{RunID: runID, Command: cmd, StartedAt: started}
	log := p.Log.With("run", runID)
	log.Info("run started", "command", cmd, "workspace", p.WS.Root)
	runErr := p.execute(ctx, log, cmd, opts, res)
	res.FinishedAt = p.Now().UTC()
	rec := workspace.RunRecord{
		RunID: runID, Command: string(cmd), StartedAt: started, FinishedAt: res.FinishedAt,
		Outcome: "ok", Accepted: res.Count("accepted"), Rejected: res.Count("rejected"),
		Duplicates: res.Count("duplicate"), Published: res.Published, Trigger: opts.Trigger,
		BuildSeconds: res.BuildDuration.Seconds(),
	}
	switch {
	case runErr != nil:
		rec.Outcome, rec.Error = "failed", runErr.Error()
	case res.Held:
		rec.Outcome, rec.Held = "held", true
	case rec.Rejected > 0:
		rec.Outcome = "rejected"
	}
	if err := p.WS.RecordRun(rec); err != nil {
		// The run has done its work (files filed, perhaps a run
		// published): failing it now would say nothing changed when
		// something did. The history is what status and the scheduler's
		// catch-up read; they will not know this run.
		log.Error("the run is not recorded in the run history; status and the scheduler's catch-up will not show it", "err", err)
	}
	if runErr != nil {
		log.Error("run failed", "err", runErr, "duration", res.FinishedAt.Sub(started).Round(time.Millisecond))
		return res, runErr
	}
	log.Info("run finished", "accepted", rec.Accepted, "rejected", rec.Rejected, "duplicates", rec.Duplicates,
		"published", res.Published, "duration", res.FinishedAt.Sub(started).Round(time.Millisecond))
	return res, nil
}

func (p *Pipeline) execute(ctx context.Context, log *slog.Logger, cmd Command, opts Options, res *Result) error {
	if removed, err := publish.CleanStaging(p.WS.FS, p.WS.Out()); err != nil {
		return err
	} else if len(removed) > 0 {
		log.Warn("repaired: removed unfinished outputs of an interrupted run", "paths", removed)
	}
	if cmd == CommandRun || cmd == CommandBuild {
		// Before ingesting, so that a run never fails after taking files.
		if aside, err := publish.RepairLatest(p.WS.FS, p.WS.Out()); err != nil {
			return err
		} else if aside != "" {
			log.Warn("repaired: out/latest was not the link pledgestat maintains; what was there is moved aside, nothing deleted", "moved_to", p.WS.Rel(aside))
		}
	}
	st, err := store.Open(p.WS.FS, p.WS.StoreDir(), log, p.storeOptions()...)
	if st != nil {
		st.SetAllocator(p.mem())
	}
	if err != nil {
		return err
	}
	var previous *previousRun
	if cmd == CommandRun || cmd == CommandBuild {
		// The latest run, which the changes and the gates compare with and
		// a nightly run with nothing new matches, is read while the files
		// are ingested (after the ledger: read side by side, both took
		// longer).
		previous = p.readPrevious(ctx, p.mem())
		defer previous.release()
	}
	if cmd == CommandRun || cmd == CommandIngest {
		if err := p.ingest(ctx, log, st, res); err != nil {
			return err
		}
	}
	// A submission this run accepted is in no earlier build's inputs: the
	// check is skipped then, as it reads the latest manifest, which lists
	// every input (megabytes at 10,000 submissions).
	if cmd == CommandRun && res.Count(OutcomeAccepted) == 0 {
		// A nightly run that took nothing new does no work: the latest run
		// was built from the same inputs. `build` always builds.
		if latest, same := p.upToDate(st, previous); same {
			res.UpToDate = latest
			log.Info("nothing new: the latest run was built from the same inputs; nothing published", "latest", latest)
			return nil
		}
		if held, report, same := p.heldUpToDate(st); same {
			// Building again would hold the same run again, one more
			// folder a night: the run waiting for release stands.
			res.UpToDate, res.Held, res.Gates = held, true, report
			log.Warn("nothing new: the newest run, built from the same inputs, is held by a publish gate and waits for release", "held", held)
			return nil
		}
	}
	if cmd == CommandRun || cmd == CommandBuild {
		start := p.Now()
		err := p.build(ctx, log, st, previous, opts, res)
		res.BuildDuration = p.Now().Sub(start)
		if err != nil {
			return err
		}
	}
	return nil
}

// Reader returns the ingest reader with the workspace's limits.
func (p *Pipeline) Reader() *ingest.Reader {
	l := p.WS.Config.Limits
	r := ingest.NewReader(p.Ref, workbook.Limits{
		MaxFileBytes: l.MaxFileMB << 20, MaxUnpackedBytes: l.MaxUnpackedMB << 20, MaxRows: l.MaxRows,
	})
	if len(p.Domains) > 0 {
		more, err := r.WithDomains(p.Domains...)
		if err != nil {
			p.Log.Error("the added domains are not read", "err", err)
			return r
		}
		r = more
	}
	return r
}

// storeOptions open the store with the added domains, if any.
func (p *Pipeline) storeOptions() []store.Option {
	if len(p.Domains) == 0 {
		return nil
	}
	return []store.Option{store.WithDomains(append(records.Descriptors(), p.Domains...))}
}

// Validate reads files exactly as ingest would, changing nothing. A file
// that cannot be read at all (missing, permission denied) is reported in
// the returned error after the others have been read.
func (p *Pipeline) Validate(ctx context.Context, paths []string) ([]*ingest.Submission, error) {
	r := p.Reader()
	var out []*ingest.Submission
	var errs []error
	for _, path := range paths {
		sub, err := r.ReadFile(ctx, path, displayName(path))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, sub)
	}
	return out, errors.Join(errs...)
}

func areaName(ref *refdata.Reference) func(string) string {
	return func(code string) string {
		if c, ok := ref.Countries().ByISO3(code); ok {
			return c.NameEN
		}
		if r, ok := ref.Countries().Region(code); ok {
			return r.NameEN
		}
		return code
	}
}

func (p *Pipeline) progress(done, total int, what string) {
	if p.Progress != nil {
		p.Progress(done, total, what)
	}
}

// Withdraw removes a submission's records from the next builds; its file
// stays in the archive. ref is its number, a SHA-256 prefix or its name.
func (p *Pipeline) Withdraw(ctx context.Context, ref string, opts Options) (store.Entry, error) {
	lock, err := p.lock(ctx, "withdraw", opts)
	if err != nil {
		return store.Entry{}, err
	}
	defer lock.Release()
	st, err := store.Open(p.WS.FS, p.WS.StoreDir(), p.Log, p.storeOptions()...)
	if st != nil {
		st.SetAllocator(p.mem())
	}
	if err != nil {
		return store.Entry{}, err
	}
	e, err := st.FindSubmission(ref)
	if err != nil {
		return store.Entry{}, err
	}
	if st.IsWithdrawn(e.Seq) {
		return e, fmt.Errorf("submission %d (%s) is already withdrawn", e.Seq, e.File)
	}
	if err := st.Record(store.Entry{Event: store.EventWithdrawn, Seq: e.Seq, File: e.File, SHA256: e.SHA256, StoredAs: e.StoredAs}); err != nil {
		return e, err
	}
	p.Log.Info("withdrawn: its records leave the next build; the file stays archived", "submission", e.Seq, "file", e.File, "archived", e.StoredAs)
	return e, nil
}

func (p *Pipeline) lock(ctx context.Context, command string, opts Options) (*workspace.Lock, error) {
	if err := p.WS.Ensure(); err != nil {
		return nil, err
	}
	if opts.Wait {
		return p.WS.WaitLock(ctx, command)
	}
	return p.WS.TryLock(command)
}
