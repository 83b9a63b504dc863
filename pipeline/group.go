package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/store"
)

// Filing in groups: consecutive accepted files that are read already are
// filed together, so that they share their fsyncs (see store.Prepare for
// the steps and what a crash leaves). A group ends at maxGroup files, at
// a file that is not accepted, spilled to disk, a duplicate or has an
// archive name the group holds, and before a file that could not be read
// while the group holds its share of the read-ahead budget (a large
// file, one read alone). The groups depend on the files only, never on
// timing, so that a crash test's steps are the same in every run.
const maxGroup = 64

// group is the files waiting to be filed together.
type group struct {
	files []*member
	dests map[string]bool // archive paths the group will take
	shas  map[string]bool // the bytes of its files
	units int             // of the read-ahead budget its files hold
}

// member is one accepted file of a group.
type member struct {
	r       *readResult
	out     FileOutcome
	dest    string
	base    store.Entry // the submission, before the store numbers it
	abandon bool        // replaced after it was read: left for a later run
}

func (g *group) add(m *member) {
	g.files = append(g.files, m)
	g.dests[m.dest] = true
	g.shas[m.r.sub.SHA256] = true
	g.units += m.r.tokens
}

func (g *group) reset() {
	g.files = g.files[:0]
	clear(g.dests)
	clear(g.shas)
	g.units = 0
}

// member decides whether a file that was read joins the group: nil for a
// file filed alone. retry is true when only the group's own files keep
// it out (the same bytes, the same archive name): filed after them, it
// may join the next group or be found a duplicate.
func (p *Pipeline) member(st *store.Store, runID string, g *group, r *readResult) (m *member, retry bool, err error) {
	if r.err != nil || r.outcome != nil || r.settling != "" || !r.sub.Accepted() || !r.spill.InMemory() {
		return nil, false, nil
	}
	if changed, err := stillWritten(r.fd, r.info, r.f); err != nil || changed {
		return nil, false, nil // filed alone, which says why
	}
	sha := r.sub.SHA256
	if _, dup := st.FindAccepted(sha); dup {
		return nil, false, nil
	}
	if g.shas[sha] {
		return nil, true, nil
	}
	dest, err := p.WS.ArchivePath(runID, r.f.Name)
	if err != nil {
		return nil, false, err
	}
	if g.dests[dest] {
		return nil, true, nil
	}
	m = &member{r: r, dest: dest}
	m.out = FileOutcome{Name: r.f.Name, SHA256: sha, Warnings: r.sub.Report.Count(report.Warning), StoredAs: p.WS.Rel(dest)}
	m.out.Notices = warningNotices(r.sub.Report)
	m.base = store.Entry{RunID: runID, File: r.f.Name, SHA256: sha, Size: r.sub.Size, StoredAs: m.out.StoredAs, Warnings: m.out.Warnings}
	return m, false, nil
}

// fileGroup files the group's files: intakes, moves, submissions and
// outcomes, each step once for all of them.
func (p *Pipeline) fileGroup(ctx context.Context, log *slog.Logger, st *store.Store, res *Result, g *group) (err error) {
	if len(g.files) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err // a stopped run files nothing more: the files stay in the inbox
	}
	// Each step's time, for the debug log: where a slow filing waits.
	start := time.Now()
	var steps []any
	lap := func(step string) {
		now := time.Now()
		steps = append(steps, step, now.Sub(start).Round(time.Microsecond).String())
		start = now
	}
	defer func() { log.Debug("filed a group", append([]any{"files", len(g.files)}, steps...)...) }()
	prepared := false
	defer func() {
		if err != nil && prepared {
			st.Abort()
		}
	}()
	// Checked again now: the group may have waited for other files to be
	// read since the file joined it.
	var files []*member
	for _, m := range g.files {
		if changed, cerr := stillWritten(m.r.fd, m.r.info, m.r.f); cerr != nil || changed {
			log.Info("settling: the file changed while it was read; it will be taken by a later run", "file", m.r.f.Name)
			res.Settling = append(res.Settling, m.r.f.Name)
			continue
		}
		files = append(files, m)
	}
	if len(files) == 0 {
		return nil
	}
	intakes := make([]store.Entry, len(files))
	for i, m := range files {
		intakes[i] = m.base
		intakes[i].Event, intakes[i].Outcome = store.EventIntake, "accepted"
	}
	if err := st.RecordAll(intakes); err != nil {
		return err
	}
	lap("intakes")

	// The moves, then one sync of each folder they left and entered.
	var abandoned []store.Entry
	dirs := map[string]bool{}
	var order []string
	syncLater := func(m *member) {
		for _, d := range []string{filepath.Dir(m.dest), filepath.Dir(m.r.f.Path)} {
			if !dirs[d] {
				dirs[d] = true
				order = append(order, d)
			}
		}
	}
	for i, m := range files {
		synced, err := fsx.MoveUnsynced(p.WS.FS, m.r.f.Path, m.dest, m.r.info)
		if errors.As(err, new(*fsx.ChangedError)) {
			m.abandon = true
			e := intakes[i]
			e.Event, e.Outcome, e.Time = store.EventAbandoned, "", p.Now().UTC()
			abandoned = append(abandoned, e)
			syncLater(m) // what replaced it may have been moved and put back
			continue
		}
		if err != nil {
			return err
		}
		if !synced {
			syncLater(m)
		}
	}
	for _, d := range order {
		if err := p.WS.FS.SyncDir(d); err != nil {
			return fmt.Errorf("sync %s: %w", d, err)
		}
	}

	lap("moves")

	// Numbered and counted in inbox order, each after the ones before.
	var pending []*store.Pending
	var kept []*member
	for _, m := range files {
		if m.abandon {
			continue
		}
		if err := p.similarNotices(ctx, st, m.r.sub.Agreements, &m.out); err != nil {
			return err
		}
		set := m.r.sub.Set
		if cov, _ := m.r.spill.Take(); len(cov) > 0 {
			set.Coverage = cov
		}
		pd, err := st.Prepare(ctx, m.base, set, areaName(p.Ref))
		if err != nil {
			return fmt.Errorf("store %s: %w", m.r.f.Name, err)
		}
		prepared = true
		pending = append(pending, pd)
		kept = append(kept, m)
	}
	lap("prepared")
	if err := st.WriteAll(ctx, pending); err != nil {
		return err
	}
	lap("written")
	if err := st.Commit(pending, abandoned...); err != nil {
		return err
	}
	lap("committed")

	for _, m := range files {
		if m.abandon {
			log.Warn("settling: the file was replaced after it was read; nothing was moved and it will be taken by a later run", "file", m.r.f.Name)
			res.Settling = append(res.Settling, m.r.f.Name)
		}
	}
	for i, m := range kept {
		res.Files = append(res.Files, p.accepted(ctx, log, m.out, pending[i].Entry(), m.dest, m.r.sub))
	}
	lap("reported")
	return nil
}

// warningNotices are the warnings of an accepted file as the run's
// summary lists them: "Sheet!C4 code: message".
func warningNotices(r *report.Report) []string {
	var out []string
	for _, e := range r.Entries {
		if e.Severity == report.Warning {
			loc := e.Sheet
			if e.Cell != "" {
				loc = strings.TrimPrefix(e.Sheet+"!"+e.Cell, "!")
			}
			out = append(out, strings.TrimPrefix(loc+" ", " ")+string(e.Code)+": "+e.Message)
		}
	}
	return out
}

// similarNotices adds to out a notice for each agreement without an id
// that the store holds with another signature year.
func (p *Pipeline) similarNotices(ctx context.Context, st *store.Store, agreements []records.Agreement, out *FileOutcome) error {
	for _, a := range agreements {
		similar, err := st.SimilarAgreements(ctx, a)
		if err != nil {
			return err
		}
		for _, b := range similar {
			out.Notices = append(out.Notices, fmt.Sprintf("%s: agreement %s between %s signed in %d has no agreement_id and the store already has one signed in %d (from %s); if this corrects the year, withdraw the old submission or give both an agreement_id, or both are counted",
				a.Source.Cell, a.Type, strings.Join(a.Parties, ", "), a.Signed.Year, b.Signed.Year, b.Source.File))
		}
	}
	return nil
}
