package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ilo-pledge/pledgestat/export"
	"github.com/ilo-pledge/pledgestat/internal/parquetio"
	"github.com/ilo-pledge/pledgestat/internal/textnorm"
	"github.com/ilo-pledge/pledgestat/publish"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/store"
	"github.com/ilo-pledge/pledgestat/transform"
)

// Explained is `explain --json` (cli.md): a published observation, its
// formula with this row's numbers, and every member of its computation
// with the input facts behind it.
type Explained struct {
	RunID       string          `json:"run_id"`
	IndicatorID string          `json:"indicator_id"`
	RefArea     string          `json:"ref_area"`
	RefAreaName string          `json:"ref_area_name"`
	TimePeriod  int             `json:"time_period"`
	Sex         string          `json:"sex"`
	Instrument  *string         `json:"instrument"`
	Value       float64         `json:"value"`
	Unit        string          `json:"unit"`
	Numerator   *float64        `json:"numerator"`
	Denominator *float64        `json:"denominator"`
	Definition  string          `json:"definition"`
	Formula     string          `json:"formula"`
	Note        *string         `json:"note"`
	Items       []ExplainedItem `json:"items"`
	Excluded    []ExplainedItem `json:"excluded"`
	// Notes say what the explanation could not include (earlier versions
	// without the workspace's store).
	Notes []string `json:"notes,omitempty"`
	// Sources is the row's sources column (FILE!SHEET!CELL), for the
	// text view.
	Sources []string `json:"-"`
}

// ExplainedItem is a member of the computation (cli.md's items).
type ExplainedItem struct {
	Kind    string          `json:"kind"`
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	Counted bool            `json:"counted"`
	Reason  string          `json:"reason"`
	Facts   []ExplainedFact `json:"facts"`
}

// ExplainedFact is an input value and where it was read: file, sheet,
// cell, the submission that brought it and when it was accepted, and the
// earlier values it superseded.
type ExplainedFact struct {
	What       string       `json:"what"`
	Value      string       `json:"value"`
	File       string       `json:"file"`
	Sheet      string       `json:"sheet"`
	Cell       string       `json:"cell"`
	Submission int          `json:"submission"`
	AcceptedAt *time.Time   `json:"accepted_at"`
	Superseded []Superseded `json:"superseded"`
}

// Superseded is an earlier version of a fact, from an earlier submission
// the run still had.
type Superseded struct {
	Value      string `json:"value"`
	File       string `json:"file"`
	Sheet      string `json:"sheet"`
	Cell       string `json:"cell"`
	Submission int    `json:"submission"`
}

// NoSuchRowError is an explain of a row the run did not publish, with
// what is close (exit 2).
type NoSuchRowError struct {
	Msg     string
	Matches []string
}

func (e *NoSuchRowError) Error() string {
	if len(e.Matches) == 0 {
		return e.Msg
	}
	return e.Msg + "; did you mean: " + strings.Join(e.Matches, ", ")
}

// RunExplainer explains the observations of one published run, from what
// that run published: its indicators, its domain tables (the records
// with their cells) and its manifest (the submissions and when they were
// accepted). Earlier versions of a fact come from the store's
// submissions that run used, so that explaining an old run gives that
// run's reasons whatever was submitted since.
type RunExplainer struct {
	runID    string
	ref      *refdata.Reference
	manifest export.Manifest
	rows     map[rowKey]export.IndicatorRow
	ex       *transform.Explainer
	bySHA    map[string]export.ManifestInput
	st       *store.Store // nil: no readable store, so no earlier versions
}

type rowKey struct {
	indicator, area, sex, instrument string
	year                             int
}

// Explainer prepares explanations of a published run ("" or "latest" for
// out/latest).
func (p *Pipeline) Explainer(ctx context.Context, runID string) (*RunExplainer, error) {
	if runID == "" || runID == "latest" {
		latest, err := publish.Latest(p.WS.Out())
		if err != nil {
			return nil, err
		}
		if latest == "" {
			return nil, &NoSuchRowError{Msg: "no run has been published yet"}
		}
		runID = latest
	}
	// Only a run of the list: the id may come from a URL, and must name
	// a run folder, nothing else.
	runs, err := publish.Runs(p.WS.Out())
	if err != nil {
		return nil, err
	}
	if !slices.Contains(runs, runID) {
		return nil, &NoSuchRowError{Msg: "no published run " + strconv.Quote(runID), Matches: runs[:min(len(runs), 5)]}
	}
	dir := filepath.Join(p.WS.Runs(), runID)
	m, err := p.manifest(runID)
	if err != nil {
		return nil, fmt.Errorf("run %s: manifest: %w", runID, err)
	}
	e := &RunExplainer{runID: runID, ref: p.Ref, manifest: m, rows: map[rowKey]export.IndicatorRow{}, bySHA: map[string]export.ManifestInput{}}
	for _, in := range m.Inputs {
		e.bySHA[in.SHA256] = in
	}
	mem := p.mem()
	err = parquetio.ReadFile(ctx, filepath.Join(dir, IndicatorsParquet), mem, func(b arrow.RecordBatch) error { return e.addRows(b) })
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", runID, err)
	}
	var set records.Set
	for _, desc := range records.Descriptors() {
		path := filepath.Join(dir, string(desc.Domain)+".parquet")
		if err := parquetio.ReadFile(ctx, path, mem, func(b arrow.RecordBatch) error { return desc.Append(&set, b) }); err != nil {
			return nil, fmt.Errorf("run %s: %w", runID, err)
		}
	}
	first, last := 0, -1
	if m.FirstYear != nil && m.LastYear != nil {
		first, last = *m.FirstYear, *m.LastYear
	}
	e.ex = transform.NewExplainer(p.Ref, set, first, last)
	if _, err := os.Stat(p.WS.StoreDir()); err == nil {
		if st, err := store.OpenReadOnly(p.WS.StoreDir(), p.Log, p.storeOptions()...); err == nil {
			e.st = st
		}
	}
	return e, nil
}

func (e *RunExplainer) addRows(b arrow.RecordBatch) error {
	rows, err := export.IndicatorRows(b)
	if err != nil {
		return err
	}
	for _, r := range rows {
		e.rows[rowKey{r.IndicatorID, r.RefArea, r.Sex, r.InstrumentCode(), r.TimePeriod}] = r
	}
	return nil
}

// RunID is the run explained.
func (e *RunExplainer) RunID() string { return e.runID }

// Explain explains one published observation. A row the run did not
// publish is a *NoSuchRowError naming what is close.
func (e *RunExplainer) Explain(ctx context.Context, q transform.Query) (*Explained, error) {
	if q.Sex == "" {
		q.Sex = "T"
	}
	q.RefArea = e.areaCode(q.RefArea)
	q.Instrument = strings.ToUpper(q.Instrument)
	q.IndicatorID = strings.ToUpper(q.IndicatorID)
	row, ok := e.rows[rowKey{q.IndicatorID, q.RefArea, q.Sex, q.Instrument, q.Year}]
	if !ok {
		return nil, e.noSuchRow(q)
	}
	x, err := e.ex.Explain(q)
	if err != nil {
		return nil, err
	}
	ind, _ := e.ref.Catalog().Indicator(q.IndicatorID)
	out := &Explained{RunID: e.runID, IndicatorID: q.IndicatorID, RefArea: q.RefArea, RefAreaName: row.RefAreaName, TimePeriod: q.Year, Sex: q.Sex,
		Value: row.Value, Unit: row.Unit, Numerator: row.Numerator, Denominator: row.Denominator, Note: row.Note, Definition: ind.Definition, Formula: x.Formula,
		Items: []ExplainedItem{}, Excluded: []ExplainedItem{}}
	if q.Instrument != "" {
		out.Instrument = &q.Instrument
	}
	if row.Sources != nil {
		out.Sources = strings.Split(*row.Sources, ";")
	}
	history, err := e.history(ctx, x)
	if err != nil {
		return nil, err
	}
	if e.st == nil {
		out.Notes = append(out.Notes, "the earlier values each fact superseded are read from the workspace's store, which is not there: they are not listed")
	}
	// Those counted first ("which four?"), each group in code order.
	slices.SortStableFunc(x.Items, func(a, b transform.Item) int {
		switch {
		case a.Counted && !b.Counted:
			return -1
		case !a.Counted && b.Counted:
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, it := range x.Items {
		out.Items = append(out.Items, e.item(it, history))
	}
	for _, it := range x.Excluded {
		out.Excluded = append(out.Excluded, e.item(it, history))
	}
	return out, nil
}

func (e *RunExplainer) item(it transform.Item, history map[string][]store.Revision) ExplainedItem {
	out := ExplainedItem{Kind: it.Kind, ID: it.ID, Name: it.Name, Counted: it.Counted, Reason: it.Reason, Facts: []ExplainedFact{}}
	for _, f := range it.Facts {
		ef := ExplainedFact{What: f.What, Value: f.Value, File: f.Source.File, Sheet: f.Source.Sheet, Cell: f.Cell, Superseded: []Superseded{}}
		if in, ok := e.bySHA[f.Source.SHA256]; ok {
			at := in.AcceptedAt.UTC()
			ef.Submission, ef.AcceptedAt = in.Submission, &at
		}
		for _, rev := range history[string(f.Domain)+"|"+f.Key] {
			if rev.Seq >= ef.Submission && ef.Submission != 0 {
				continue // the fact's own version, or a later one
			}
			sheet, cell, _ := strings.Cut(rev.Cell, "!")
			value := rev.Values[f.What]
			if value == "" {
				value = revisionText(rev.Values)
			}
			ef.Superseded = append(ef.Superseded, Superseded{Value: value, File: rev.File, Sheet: sheet, Cell: cell, Submission: rev.Seq})
		}
		out.Facts = append(out.Facts, ef)
	}
	return out
}

func revisionText(values map[string]string) string {
	var keys []string
	for k, v := range values {
		if v != "" {
			keys = append(keys, k+"="+v)
		}
	}
	slices.Sort(keys)
	return strings.Join(keys, " ")
}

// history returns the versions of the explained facts' records from the
// submissions the run used (by domain and key), oldest first; none
// without a store.
func (e *RunExplainer) history(ctx context.Context, x *transform.Explanation) (map[string][]store.Revision, error) {
	out := map[string][]store.Revision{}
	if e.st == nil {
		return out, nil
	}
	keys, domains := map[string]bool{}, map[records.Domain]bool{}
	for _, items := range [][]transform.Item{x.Items, x.Excluded} {
		for _, it := range items {
			for _, f := range it.Facts {
				keys[f.Key], domains[f.Domain] = true, true
			}
		}
	}
	if len(keys) == 0 {
		return out, nil
	}
	used := map[int]bool{}
	for _, in := range e.manifest.Inputs {
		used[in.Submission] = true
	}
	revs, err := e.st.History(ctx, store.Filter{Keys: keys, Submissions: used, Domains: domains})
	if err != nil {
		return nil, err
	}
	for _, r := range revs {
		k := string(r.Domain) + "|" + r.Key
		out[k] = append(out[k], r)
	}
	return out, nil
}

// areaCode reads an area as people type it: a code, a name in English,
// French or Spanish, or a region's name.
func (e *RunExplainer) areaCode(text string) string {
	if r, ok := e.ref.Countries().Region(strings.ToUpper(text)); ok {
		return r.Code
	}
	if r, ok := e.ref.Countries().LookupRegion(text); ok {
		return r.Code
	}
	if c, ok := e.ref.Countries().Lookup(text); ok {
		return c.ISO3
	}
	return strings.ToUpper(text)
}

// noSuchRow names what is wrong with a query and what is close to it.
func (e *RunExplainer) noSuchRow(q transform.Query) error {
	ind, ok := e.ref.Catalog().Indicator(q.IndicatorID)
	if !ok {
		var ids []string
		for _, i := range e.ref.Catalog().Indicators {
			if textnorm.EditDistance(strings.ToLower(i.ID), strings.ToLower(q.IndicatorID), 2) <= 1 || strings.HasPrefix(i.ID, q.IndicatorID) {
				ids = append(ids, i.ID)
			}
		}
		return &NoSuchRowError{Msg: "no indicator " + q.IndicatorID + " (pledgestat catalog lists them)", Matches: ids}
	}
	var areas, years, instruments, sexes []string
	seen := map[string]bool{}
	add := func(list *[]string, v string) {
		if !seen[v] {
			seen[v] = true
			*list = append(*list, v)
		}
	}
	for k := range e.rows {
		if k.indicator != q.IndicatorID {
			continue
		}
		if k.area == q.RefArea {
			add(&years, "year "+strconv.Itoa(k.year))
			if k.year == q.Year {
				add(&instruments, "instrument "+k.instrument)
				add(&sexes, "sex "+k.sex)
			}
		}
	}
	if len(years) == 0 {
		for k := range e.rows {
			if k.indicator == q.IndicatorID && k.year == q.Year {
				if textnorm.EditDistance(strings.ToLower(k.area), strings.ToLower(q.RefArea), 1) <= 1 {
					add(&areas, k.area)
				}
			}
		}
		if c, ok := e.ref.Countries().ByISO3(q.RefArea); ok {
			msg := fmt.Sprintf("run %s has no %s row for %s (%s)", e.runID, ind.ID, c.NameEN, c.ISO3)
			switch {
			case !c.ILOMember && (ind.Method == refdata.RatificationEach || ind.Method == refdata.RatificationOne || ind.Method == refdata.RatificationBoth):
				msg += ": it is not an ILO member State, and ratification indicators count member States"
			case ind.Method == refdata.AgreementShare:
				msg += ": agreement shares are published for the world and the ILO regions"
			default:
				msg += ": the data the run used has none for it"
			}
			return &NoSuchRowError{Msg: msg}
		}
		for _, s := range e.ref.Countries().Suggest(q.RefArea, 3) {
			add(&areas, s)
		}
		slices.Sort(areas)
		return &NoSuchRowError{Msg: fmt.Sprintf("run %s has no %s row for area %q", e.runID, ind.ID, q.RefArea), Matches: areas}
	}
	var matches []string
	switch {
	case !slices.Contains(years, "year "+strconv.Itoa(q.Year)):
		slices.Sort(years)
		matches = []string{years[0] + " to " + strings.TrimPrefix(years[len(years)-1], "year ")}
	case len(instruments) > 0 && !slices.Contains(instruments, "instrument "+q.Instrument):
		matches = instruments
	default:
		matches = sexes
	}
	slices.Sort(matches)
	return &NoSuchRowError{Msg: fmt.Sprintf("run %s has no %s row for %s %d sex %s%s", e.runID, ind.ID, q.RefArea, q.Year, q.Sex, instrumentText(q.Instrument)), Matches: matches}
}

func instrumentText(code string) string {
	if code == "" {
		return ""
	}
	return " instrument " + code
}
