package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ilo-pledge/pledgestat/export"
	"github.com/ilo-pledge/pledgestat/gates"
	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/publish"
	"github.com/ilo-pledge/pledgestat/store"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// checkGates checks a build's indicators against the published run's
// (previous) under the workspace's [gates]. A first run, gates turned
// off, or --no-gates is never held; the report says which.
func (p *Pipeline) checkGates(st *store.Store, previous *previousRun, indicators arrow.RecordBatch, changes []export.Change, denunciations gates.Denunciations, noGates bool) (gates.Report, error) {
	cfg := p.WS.Config.Gates
	switch {
	case previous.indicators == nil:
		return gates.Skip(previous.id, "no published run to compare with (a first run, or its indicators could not be read)"), nil
	case !cfg.Enabled:
		return gates.Skip(previous.id, "the gates are turned off in pledgestat.toml ([gates] enabled = false)"), nil
	case noGates:
		return gates.Skip(previous.id, "built with --no-gates"), nil
	}
	return gates.Evaluate(previous.indicators, indicators, changes, cfg, p.Ref, gates.Build{
		PreviousRun: previous.id, CurrentYear: p.Now().UTC().Year(),
		Withdrawn: withdrawnSince(previous.manifest.submissions(), st), Denunciations: denunciations,
	})
}

// withdrawnSince lists the submissions a run used (its manifest's) that
// the store no longer counts (withdrawn since).
func withdrawnSince(used []int, st *store.Store) []int {
	now := map[int]bool{}
	for _, e := range st.Accepted() {
		now[e.Seq] = true
	}
	var out []int
	for _, seq := range used {
		if seq > 0 && !now[seq] {
			out = append(out, seq)
		}
	}
	return out
}

// manifest reads a published run's manifest.
func (p *Pipeline) manifest(runID string) (export.Manifest, error) {
	var m export.Manifest
	data, err := fsx.ReadRegular(filepath.Join(p.WS.Runs(), runID, ManifestJSON), 64<<20)
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(data, &m)
}

// RunGates reads the gates report of a published run.
func (p *Pipeline) RunGates(runID string) (gates.Report, error) { return readGates(p.WS, runID) }

func readGates(ws *workspace.Workspace, runID string) (gates.Report, error) {
	data, err := fsx.ReadRegular(filepath.Join(ws.Runs(), runID, gates.FileName), 64<<20)
	if err != nil {
		return gates.Report{}, err
	}
	return gates.Read(data)
}

// heldUpToDate reports whether the newest run is held and was built from
// the same inputs a build would use now.
func (p *Pipeline) heldUpToDate(st *store.Store) (string, *gates.Report, bool) {
	runs, err := publish.Runs(p.WS.Out())
	if err != nil || len(runs) == 0 {
		return "", nil, false
	}
	newest := runs[0]
	if latest, _ := publish.Latest(p.WS.Out()); latest == newest {
		return "", nil, false
	}
	report, err := p.RunGates(newest)
	if err != nil || !report.Held {
		return "", nil, false
	}
	if state := p.readManifestSummary(newest).InputState; state == "" || state != p.inputState(st) {
		return "", nil, false
	}
	return newest, &report, true
}

// HeldRun is a run held by a publish gate and not released: newer than
// out/latest, with the rules it broke.
type HeldRun struct {
	RunID  string        `json:"run_id"`
	Broken []gates.Check `json:"broken"`
}

// HeldRuns lists the held runs newer than out/latest, newest first.
func (p *Pipeline) HeldRuns() ([]HeldRun, error) { return heldRuns(p.WS) }

func heldRuns(ws *workspace.Workspace) ([]HeldRun, error) {
	runs, err := publish.Runs(ws.Out())
	if err != nil {
		return nil, err
	}
	latest, _ := publish.Latest(ws.Out())
	var held []HeldRun
	for _, id := range runs {
		if id == latest || (latest != "" && publish.CompareRunIDs(id, latest) < 0) {
			break
		}
		if r, err := readGates(ws, id); err == nil && r.Held {
			held = append(held, HeldRun{RunID: id, Broken: r.Broken()})
		}
	}
	return held, nil
}

// ReleaseError is a release refused: the run is not one a release may
// switch to. The command-line gives it exit status 2.
type ReleaseError struct{ Msg string }

func (e *ReleaseError) Error() string { return e.Msg }

// Release switches out/latest to a run held by a publish gate, and
// records who released it and why in the run history. Only a held run
// newer than out/latest may be released: releasing an older one would
// take the published data back in time.
func (p *Pipeline) Release(ctx context.Context, runID, note, by string, opts Options) (workspace.RunRecord, error) {
	lock, err := p.lock(ctx, "release", opts)
	if err != nil {
		return workspace.RunRecord{}, err
	}
	defer lock.Release()
	held, err := p.HeldRuns()
	if err != nil {
		return workspace.RunRecord{}, err
	}
	found := false
	var ids []string
	for _, h := range held {
		found = found || h.RunID == runID
		ids = append(ids, h.RunID)
	}
	if !found {
		msg := fmt.Sprintf("run %s is not held by a publish gate, or is older than out/latest: nothing to release", runID)
		if len(ids) > 0 {
			msg += " (held: " + strings.Join(ids, ", ") + ")"
		}
		return workspace.RunRecord{}, &ReleaseError{Msg: msg}
	}
	started := p.Now().UTC()
	if err := publish.SwitchLatest(p.WS.FS, p.WS.Out(), runID); err != nil {
		return workspace.RunRecord{}, err
	}
	id, err := p.WS.NewRunID(started)
	if err != nil {
		id = started.Format(workspace.RunIDFormat) + "-release"
	}
	rec := workspace.RunRecord{RunID: id, Command: "release", StartedAt: started, FinishedAt: p.Now().UTC(), Outcome: "ok",
		Published: true, Released: runID, By: by, Note: note, Trigger: opts.Trigger}
	if err := p.WS.RecordRun(rec); err != nil {
		p.Log.Error("the release is not recorded in the run history", "run", runID, "err", err)
	}
	p.Log.Info("released: out/latest points to the held run", "run", runID, "by", by, "note", note)
	return rec, nil
}
