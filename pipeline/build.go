package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/export"
	"github.com/ilo-pledge/pledgestat/gates"
	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/internal/parquetio"
	"github.com/ilo-pledge/pledgestat/internal/safego"
	"github.com/ilo-pledge/pledgestat/internal/version"
	"github.com/ilo-pledge/pledgestat/publish"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/store"
	"github.com/ilo-pledge/pledgestat/transform"
)

// Output file names (outputs.md).
const (
	IndicatorsParquet = "indicators.parquet"
	IndicatorsCSV     = "indicators.csv"
	IndicatorsXLSX    = "indicators.xlsx"
	ChangesCSV        = "changes.csv"
	ManifestJSON      = "manifest.json"
)

// outputWorkers is how many outputs are written at once: they are
// independent, and compressing them is most of a build's time.
const outputWorkers = 2

// build computes the indicators from the store (never from archived
// files), taking from the latest run those of the domains whose records
// it computed them from (reuse.go), and publishes a new run.
func (p *Pipeline) build(ctx context.Context, log *slog.Logger, st *store.Store, previous *previousRun, opts Options, res *Result) error {
	p.progress(0, 3, "computing indicators")
	log.Debug("building")
	mem := p.mem()
	names := areaName(p.Ref)
	namesID := p.namesID()
	phase := time.Now()
	// The domains whose indicators the latest run computed from the same
	// records (reuse.go): their rows are read from it while the others
	// are computed, and of their tables only the years are read.
	states := p.domainStates(st)
	latest := previous.summary()
	var skip []records.Domain
	var earlier *reusable
	if !opts.Recompute && latest.id != "" {
		if skip = unchangedDomains(states, latest.manifest); len(skip) > 0 {
			earlier = p.readReusable(ctx, mem, latest.id, latest.manifest)
		}
	}
	defer earlier.release()
	// Of a table the snapshot gives as it is (published by copying its
	// file), only what the indicators and the gates read.
	needed := func(skip []records.Domain) map[records.Domain][]string {
		needed := transform.Columns()
		for _, d := range skip {
			needed[d] = transform.YearColumns(d)
		}
		needed[records.DomainRatification] = withColumns(needed[records.DomainRatification], gates.DenunciationColumns)
		return needed
	}
	tables, err := st.Tables(ctx, mem, names, namesID, needed(skip))
	if err != nil {
		return err
	}
	defer tables.Release()
	log.Debug("store read", "took", time.Since(phase).Round(time.Millisecond).String())
	phase = time.Now()
	stage, err := publish.Stage(p.WS.FS, p.WS.Out(), res.RunID)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			stage.Abort()
		}
	}()
	// The store's snapshot, then the domain tables, are written on the
	// other core while the indicators are computed: they do not depend on
	// them. The next builds read the current state from the snapshot
	// instead of every submission; a failure to write it costs them
	// speed, nothing else. A table the snapshot holds is published by
	// copying its file, so that each table is encoded once.
	domainCtx, cancelDomains := context.WithCancel(ctx)
	domainsDone := make(chan error, 1)
	go func() {
		var err error
		defer func() { domainsDone <- err }()
		defer safego.Catch(&err)
		if err := st.Compact(domainCtx, tables, namesID); err != nil && domainCtx.Err() == nil {
			log.Warn("the store's snapshot could not be written; the next build reads every submission", "err", err)
		}
		err = stage.WriteAll(domainCtx, domainOutputs(tables), 1)
	}()
	waitDomains := sync.OnceValue(func() error { return <-domainsDone })
	defer func() {
		cancelDomains()
		waitDomains()
	}()
	cfg := p.WS.Config.Report
	compute := func(tables *store.Tables, skip []records.Domain) (*transform.Result, error) {
		result, err := transform.Compute(ctx, p.Ref, transform.Inputs{
			Ratification: tables.Table(records.DomainRatification), SocialProtection: tables.Table(records.DomainSocialProtection), BLMA: tables.Table(records.DomainBLMA),
		}, transform.Options{FirstYear: cfg.FirstYear, LastYear: cfg.LastYear, MaxYear: p.Now().UTC().Year(), Skip: skip})
		if err != nil {
			return nil, fmt.Errorf("compute indicators: %w", err)
		}
		return result, nil
	}
	result, err := compute(tables, skip)
	if err != nil {
		return err
	}
	var earlierRows map[string][]arrowcol.Rows
	if len(skip) > 0 {
		// The earlier rows stand for this build's only over the same
		// years, and from a table that checks out.
		err := earlier.wait()
		if err == nil && !sameWindow(latest.manifest, result.FirstYear, result.LastYear) {
			err = errors.New("the years published change")
		}
		if err == nil {
			earlierRows, err = indicatorRows(earlier.batches)
		}
		if err != nil {
			log.Info("the latest run's indicators are not taken; every indicator is computed", "latest", latest.id, "why", err.Error())
			// The store is read again once the snapshot's writer is done
			// with it (it is not for use by two at once).
			if err := waitDomains(); err != nil {
				return err
			}
			whole, err := st.Tables(ctx, mem, names, namesID, needed(nil))
			if err != nil {
				return err
			}
			result, err = compute(whole, nil)
			whole.Release()
			if err != nil {
				return err
			}
			skip = nil
			earlier.release()
		} else {
			log.Debug("indicators taken from the latest run, whose records of their domains are the same", "latest", latest.id, "domains", fmt.Sprint(skip))
		}
	}
	log.Debug("indicators computed", "took", time.Since(phase).Round(time.Millisecond).String())
	phase = time.Now()
	if err := waitDomains(); err != nil {
		return err
	}
	denunciations, err := gates.ReadDenunciations(tables.Table(records.DomainRatification))
	if err != nil {
		return err
	}
	// The store's records are not held while the outputs are made and
	// written.
	tables.Release()
	log.Debug("domain tables written, snapshot kept", "took", time.Since(phase).Round(time.Millisecond).String())
	phase = time.Now()
	indicators := result.RecordBatch(mem, map[string]string{
		export.MetaRunID: res.RunID, export.MetaCatalogVersion: p.Ref.Catalog().Version,
	})
	// From here on the indicators are the batch: the observations the
	// result holds are not kept alive while the outputs are written.
	firstYear, lastYear := result.FirstYear, result.LastYear
	result = nil
	if len(skip) > 0 {
		var ids []string
		taken := map[string]bool{}
		for _, ind := range p.Ref.Catalog().Indicators {
			ids = append(ids, ind.ID)
			taken[ind.ID] = slices.Contains(skip, transform.IndicatorDomain(ind))
		}
		spliced, err := spliceIndicators(mem, indicators, earlierRows, ids, func(id string) bool { return taken[id] })
		indicators.Release()
		if err != nil {
			return fmt.Errorf("indicators taken from run %s: %w", latest.id, err)
		}
		indicators = spliced
		earlier.release()
		res.TakenFrom, res.Taken = latest.id, skip
	}
	defer indicators.Release()
	res.Indicators = int(indicators.NumRows())

	prev := previous.wait()
	if prev.err != nil {
		log.Warn("the previous run's indicators could not be read; changes.csv lists every observation as added", "err", prev.err)
		previous.release()
	}
	changes, err := export.Diff(prev.indicators, indicators)
	if err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	report, err := p.checkGates(st, prev, indicators, changes, denunciations, opts.NoGates)
	previous.release()
	if err != nil {
		return fmt.Errorf("publish gates: %w", err)
	}
	res.Gates, res.Held = &report, report.Held
	res.Changes = export.Summary(changes)
	log.Debug("changes and gates checked", "took", time.Since(phase).Round(time.Millisecond).String())
	phase = time.Now()

	p.progress(1, 3, "writing outputs")
	inputs := manifestInputs(st.Accepted())
	// The workbook takes longest: it goes first, so that the other worker
	// writes the rest meanwhile.
	writes := []publish.Output{
		{Name: IndicatorsXLSX, Rows: res.Indicators, Write: func(w io.Writer) error {
			return export.WriteWorkbook(ctx, w, indicators, export.WorkbookInfo{
				RunID: res.RunID, StartedAt: res.StartedAt, ToolVersion: version.String(),
				FirstYear: firstYear, LastYear: lastYear, Inputs: inputs,
				Catalog: p.Ref.Catalog(), ReferenceFiles: p.Ref.Sources(),
			})
		}},
		{Name: IndicatorsParquet, Rows: res.Indicators, Write: func(w io.Writer) error { return export.WriteParquet(w, indicators) }},
		{Name: IndicatorsCSV, Rows: res.Indicators, Write: func(w io.Writer) error { return export.WriteCSV(w, indicators) }},
		{Name: ChangesCSV, Rows: len(changes), Write: func(w io.Writer) error { return export.WriteChanges(w, changes) }},
		{Name: gates.FileName, Write: report.Write},
	}
	if err := stage.WriteAll(ctx, writes, outputWorkers); err != nil {
		return err
	}
	manifest := export.Manifest{
		RunID: res.RunID, StartedAt: res.StartedAt, FinishedAt: p.Now().UTC(), ToolVersion: version.String(),
		CatalogVersion: p.Ref.Catalog().Version, Inputs: inputs, InputState: p.inputState(st),
		DomainStates: manifestStates(states),
	}
	if lastYear >= firstYear {
		manifest.FirstYear, manifest.LastYear = &firstYear, &lastYear
	}
	// The manifest lists the outputs in the order of outputs.md, whatever
	// order they were written in.
	written := map[string]publish.File{}
	for _, f := range stage.Files() {
		written[f.Name] = f
	}
	order := []string{IndicatorsParquet, IndicatorsCSV, IndicatorsXLSX}
	for _, d := range records.Domains() {
		order = append(order, string(d)+".parquet")
	}
	for _, name := range append(order, ChangesCSV, gates.FileName) {
		f := written[name]
		manifest.Outputs = append(manifest.Outputs, export.ManifestFile{Name: f.Name, SHA256: f.SHA256, Bytes: f.Bytes, Rows: f.Rows})
	}
	if _, err := stage.Write(ctx, ManifestJSON, 0, func(w io.Writer) error { return export.WriteManifest(w, manifest) }); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	log.Debug("outputs written", "took", time.Since(phase).Round(time.Millisecond).String())
	phase = time.Now()
	p.progress(2, 3, "publishing")
	commit := stage.Commit
	if report.Held {
		commit = stage.CommitHeld
	}
	if err := commit(); err != nil {
		return err
	}
	committed = true
	res.Published = true
	res.RunDir = p.WS.Rel(filepath.Join(p.WS.Runs(), res.RunID))
	years := "none (the store holds no dated record yet)"
	if lastYear >= firstYear {
		years = fmt.Sprintf("%d-%d", firstYear, lastYear)
	}
	if report.Held {
		var broken []string
		for _, c := range report.Broken() {
			broken = append(broken, c.Rule)
		}
		log.Warn("held by a publish gate: the run is complete under out/runs but out/latest still points to the previous run; see pledgestat gates, then pledgestat release",
			"run_dir", res.RunDir, "broken", strings.Join(broken, ", "), "changes", res.Changes)
	} else {
		log.Info("published", "run_dir", res.RunDir, "indicators", res.Indicators, "years", years, "changes", res.Changes)
	}
	log.Debug("published", "took", time.Since(phase).Round(time.Millisecond).String())
	if err := p.prune(log); err != nil {
		log.Warn("retention: old runs could not be pruned", "err", err)
	}
	p.progress(3, 3, "done")
	return nil
}

// domainOutputs are the domain tables as outputs: a table a file of the
// store holds as it is (the snapshot's) is copied rather than encoded
// and compressed again.
func domainOutputs(tables *store.Tables) []publish.Output {
	var outs []publish.Output
	for _, d := range records.Domains() {
		t, file := tables.Table(d), tables.File(d)
		write := func(w io.Writer) error { return export.WriteParquet(w, t) }
		if file != "" {
			write = func(w io.Writer) error { return fsx.CopyTo(w, file) }
		}
		outs = append(outs, publish.Output{Name: string(d) + ".parquet", Rows: int(t.NumRows()), Write: write})
	}
	return outs
}

// withColumns appends to columns those of more it does not have.
func withColumns(columns, more []string) []string {
	for _, c := range more {
		if !slices.Contains(columns, c) {
			columns = append(columns, c)
		}
	}
	return columns
}

// previousRun is the latest published run as a build compares with it,
// read on a goroutine of its own while the files are ingested: it depends
// on nothing the run does before it publishes, and ingesting a few files
// leaves the other core idle.
type previousRun struct {
	summarised chan struct{} // closed once id and manifest are set
	done       chan struct{} // closed once everything is read
	cancel     context.CancelFunc
	id         string // its run ID, "" when none is published
	// manifest is what a run reads of its manifest (readManifestSummary),
	// empty when it cannot be read.
	manifest manifestSummary
	// indicators are the columns of its indicators that the changes and
	// the gates read: nil when none is published or err says why not.
	indicators []arrow.RecordBatch
	err        error
}

// readPrevious starts reading the latest published run. The caller
// releases it, which stops the read if it is still going.
func (p *Pipeline) readPrevious(ctx context.Context, mem memory.Allocator) *previousRun {
	ctx, cancel := context.WithCancel(ctx)
	r := &previousRun{summarised: make(chan struct{}), done: make(chan struct{}), cancel: cancel}
	summarise := sync.OnceFunc(func() { close(r.summarised) })
	go func() {
		defer close(r.done)
		defer summarise()
		defer safego.Catch(&r.err)
		r.id, _ = publish.Latest(p.WS.Out())
		if r.id != "" {
			r.manifest = p.readManifestSummary(r.id)
		}
		summarise()
		r.indicators, r.err = p.previousIndicators(ctx, mem)
	}()
	return r
}

// summary returns the run once its ID and manifest are read.
func (r *previousRun) summary() *previousRun {
	<-r.summarised
	return r
}

// wait returns the run once it is read.
func (r *previousRun) wait() *previousRun {
	<-r.done
	return r
}

// release stops the read, waits for it and lets the indicators go; it
// may be called more than once.
func (r *previousRun) release() {
	r.cancel()
	<-r.done
	for _, b := range r.indicators {
		b.Release()
	}
	r.indicators = nil
}

// previousIndicators reads out/latest/indicators.parquet, if there is one.
func (p *Pipeline) previousIndicators(ctx context.Context, mem memory.Allocator) ([]arrow.RecordBatch, error) {
	path := filepath.Join(p.WS.Latest(), IndicatorsParquet)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	// Only the columns the changes and the gates read: the names, notes
	// and sources are most of the file and were decoded for nothing.
	columns := withColumns(slices.Clone(export.DiffColumns), gates.ObservationColumns)
	var out []arrow.RecordBatch
	err := parquetio.ReadFileColumns(ctx, path, mem, columns, func(b arrow.RecordBatch) error {
		b.Retain()
		out = append(out, b)
		return nil
	})
	return out, err
}

// inputState fingerprints what a build's outputs depend on, from the
// ledger and the configuration alone (no record is read): the accepted,
// not withdrawn submissions, the report window, the catalog and reference
// data, the tool's version and its executable's build ID (another build of
// the same release may compute otherwise: the first run after it builds),
// and the current year (the default last year stops at it).
func (p *Pipeline) inputState(st *store.Store) string {
	h := sha256.New()
	fmt.Fprintf(h, "tool %s\nbuild %s\ncatalog %s\nyear %d\nwindow %d-%d\n", version.String(), p.executableBuild(), p.Ref.Catalog().Version, p.Now().UTC().Year(),
		p.WS.Config.Report.FirstYear, p.WS.Config.Report.LastYear)
	p.writeReferences(h)
	for _, e := range st.Accepted() {
		fmt.Fprintf(h, "submission %d %s\n", e.Seq, e.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// namesID identifies what the name columns of the domain tables are built
// from: the reference data and the tool's version. A snapshot of the
// store built with other names is rebuilt, not published as it is.
func (p *Pipeline) namesID() string {
	h := sha256.New()
	fmt.Fprintf(h, "tool %s\n", version.String())
	p.writeReferences(h)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// writeReferences writes the reference data's files and as-of dates, for
// the fingerprints above.
func (p *Pipeline) writeReferences(w io.Writer) {
	for _, s := range p.Ref.Sources() {
		fmt.Fprintf(w, "reference %s %s\n", s.File, s.AsOf)
	}
}

// upToDate reports whether the latest run was built from the same inputs:
// then a nightly run that took no new file has nothing to publish.
func (p *Pipeline) upToDate(st *store.Store, previous *previousRun) (string, bool) {
	latest := previous.summary()
	if latest.id == "" {
		return "", false
	}
	state := latest.manifest.InputState
	return latest.id, state != "" && state == p.inputState(st)
}

// manifestSummary is what a run reads of a published run's manifest: its
// input state and the submissions it used.
type manifestSummary struct {
	InputState string `json:"input_state"`
	Inputs     []struct {
		Submission int `json:"submission"`
	} `json:"inputs"`
	DomainStates map[string]string `json:"domain_states"`
	FirstYear    *int              `json:"first_year"`
	LastYear     *int              `json:"last_year"`
	Outputs      []struct {
		Name   string `json:"name"`
		SHA256 string `json:"sha256"`
	} `json:"outputs"`
}

// readManifestSummary reads a published run's manifest summary, empty when
// the manifest cannot be read (a damaged one has no state, so that the
// next run rebuilds it). Only these fields are decoded: the manifest of a
// large store lists thousands of inputs, and decoding them whole was a
// twentieth of a run that added one file to 10,000.
func (p *Pipeline) readManifestSummary(runID string) manifestSummary {
	var m manifestSummary
	data, err := fsx.ReadRegular(filepath.Join(p.WS.Runs(), runID, ManifestJSON), 64<<20)
	if err != nil || json.Unmarshal(data, &m) != nil {
		return manifestSummary{}
	}
	return m
}

// submissions are the submission numbers the manifest lists.
func (m manifestSummary) submissions() []int {
	out := make([]int, len(m.Inputs))
	for i, in := range m.Inputs {
		out[i] = in.Submission
	}
	return out
}

func manifestInputs(accepted []store.Entry) []export.ManifestInput {
	out := []export.ManifestInput{}
	for _, e := range accepted {
		total := 0
		for _, n := range e.Rows {
			total += n
		}
		out = append(out, export.ManifestInput{Name: e.File, SHA256: e.SHA256, Rows: total, RowsByDomain: e.Rows,
			Submission: e.Seq, AcceptedAt: e.Time.UTC().Truncate(time.Second), RunID: e.RunID})
	}
	return out
}

// prune keeps the newest keep_runs runs (never the one latest points to);
// archive/ and rejected/ are never pruned.
func (p *Pipeline) prune(log *slog.Logger) error {
	keep := p.WS.Config.Retention.KeepRuns
	if keep <= 0 {
		return nil
	}
	runs, err := publish.Runs(p.WS.Out())
	if err != nil {
		return err
	}
	latest, err := publish.Latest(p.WS.Out())
	if err != nil {
		return err
	}
	for i, id := range runs {
		if i < keep || id == latest {
			continue
		}
		if err := p.WS.FS.RemoveAll(filepath.Join(p.WS.Runs(), id)); err != nil {
			return err
		}
		log.Info("retention: removed an old run", "run", id)
	}
	return nil
}
