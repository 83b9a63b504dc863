package pipeline

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/internal/parquetio"
	"github.com/ilo-pledge/pledgestat/internal/safego"
	"github.com/ilo-pledge/pledgestat/internal/version"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/store"
	"github.com/ilo-pledge/pledgestat/transform"
)

// A domain's indicators are computed from its table alone, over the
// build's window. When a domain's records are those the latest run
// computed from (the same submissions, catalog, reference data and tool:
// its domain state) and the window is the same, its indicators are that
// run's rows: a nightly run with one new coverage file does not read the
// 170,000 agreements of a large store and count them again. The rows are
// taken only from a file whose SHA-256 is the one its manifest gives; any
// doubt (another window, a file that does not check out, a table out of
// order) and the build computes every indicator, as --recompute does.

// domainStates fingerprints, per domain, what its indicators depend on
// besides the window: the tool (its release, and its executable's build
// ID, which changes with any change to its code or embedded data, whatever
// the release says), the catalog, the reference data and the accepted
// submissions holding records of the domain (a submission without any
// cannot change them). Without a build ID the states are this process's
// own, and no later build takes anything from the run that records them.
func (p *Pipeline) domainStates(st *store.Store) map[records.Domain]string {
	build := p.executableBuild()
	if build == "" {
		build = "unknown " + rand.Text()
	}
	accepted := st.Accepted()
	out := map[records.Domain]string{}
	for _, d := range records.Domains() {
		h := sha256.New()
		fmt.Fprintf(h, "tool %s\nbuild %s\ncatalog %s\ndomain %s\n", version.String(), build, p.Ref.Catalog().Version, d)
		p.writeReferences(h)
		for _, e := range accepted {
			if e.Rows[string(d)] > 0 {
				fmt.Fprintf(h, "submission %d %s\n", e.Seq, e.SHA256)
			}
		}
		out[d] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

// executableBuild is the running executable's build ID ("" when it cannot
// be read).
func (p *Pipeline) executableBuild() string {
	if p.buildID != nil {
		return p.buildID()
	}
	return version.BuildID()
}

// manifestStates is domainStates as a manifest records them.
func manifestStates(states map[records.Domain]string) map[string]string {
	out := make(map[string]string, len(states))
	for d, s := range states {
		out[string(d)] = s
	}
	return out
}

// unchangedDomains are the domains whose state is the one a run's
// manifest records.
func unchangedDomains(states map[records.Domain]string, m manifestSummary) []records.Domain {
	var out []records.Domain
	for _, d := range records.Domains() {
		if s := m.DomainStates[string(d)]; s != "" && s == states[d] {
			out = append(out, d)
		}
	}
	return out
}

// sameWindow reports whether a run's manifest gives the window first-last
// (none: last < first).
func sameWindow(m manifestSummary, first, last int) bool {
	if last < first {
		return m.FirstYear == nil && m.LastYear == nil
	}
	return m.FirstYear != nil && m.LastYear != nil && *m.FirstYear == first && *m.LastYear == last
}

// reusable is a run's indicators table, whole, read on a goroutine of its
// own for the rows a build takes from it.
type reusable struct {
	wait    func() error
	batches []arrow.RecordBatch
}

// readReusable starts reading run runID's indicators, once their SHA-256
// is the one its manifest gives.
func (p *Pipeline) readReusable(ctx context.Context, mem memory.Allocator, runID string, m manifestSummary) *reusable {
	r := &reusable{}
	r.wait = safego.Go(func() error {
		want := ""
		for _, o := range m.Outputs {
			if o.Name == IndicatorsParquet {
				want = o.SHA256
			}
		}
		data, err := fsx.ReadRegular(filepath.Join(p.WS.Runs(), runID, IndicatorsParquet), 1<<30)
		if err != nil {
			return err
		}
		if sum := sha256.Sum256(data); want == "" || hex.EncodeToString(sum[:]) != want {
			return fmt.Errorf("%s of run %s is not the file its manifest lists", IndicatorsParquet, runID)
		}
		return parquetio.Read(ctx, bytes.NewReader(data), mem, false, func(b arrow.RecordBatch) error {
			if !parquetio.SameColumns(b.Schema(), transform.Schema) {
				return fmt.Errorf("%s of run %s has the columns %s", IndicatorsParquet, runID, b.Schema())
			}
			b.Retain()
			r.batches = append(r.batches, b)
			return nil
		})
	})
	return r
}

// release waits for the read and lets the table go.
func (r *reusable) release() {
	if r == nil {
		return
	}
	r.wait()
	for _, b := range r.batches {
		b.Release()
	}
	r.batches = nil
}

// indicatorRows finds each indicator's rows in a table ordered by
// indicator, as the indicators tables are: an indicator whose rows are
// not together, or out of order, is an error.
func indicatorRows(batches []arrow.RecordBatch) (map[string][]arrowcol.Rows, error) {
	out := map[string][]arrowcol.Rows{}
	last := ""
	for _, b := range batches {
		ids, err := arrowcol.Get[*array.String](b, "indicator_id")
		if err != nil {
			return nil, err
		}
		for i := 0; i < ids.Len(); {
			id := ids.Value(i)
			j := i + 1
			for j < ids.Len() && ids.Value(j) == id {
				j++
			}
			// The indicator before continues only across batches (within
			// one, its rows are one block); an indicator seen before any
			// other is out of order.
			if id < last {
				return nil, fmt.Errorf("indicator %s comes after %s: the table is not in indicator order", id, last)
			}
			out[id] = append(out[id], arrowcol.RowsOf(b, i, j))
			last = id
			i = j
		}
	}
	return out, nil
}

// spliceIndicators is the indicators table of a build that took the
// indicators of some domains from an earlier run: for each indicator, in
// order of id, the earlier run's rows when taken is true of it, else the
// rows computed (fresh). Both tables are in the order of outputs.md, by
// indicator first, so each indicator's rows are in one place of each.
// earlierRows are the earlier run's rows by indicator (indicatorRows).
func spliceIndicators(mem memory.Allocator, fresh arrow.RecordBatch, earlierRows map[string][]arrowcol.Rows, ids []string, taken func(id string) bool) (arrow.RecordBatch, error) {
	freshRows, err := indicatorRows([]arrow.RecordBatch{fresh})
	if err != nil {
		return nil, fmt.Errorf("the indicators computed: %w", err)
	}
	var rows []arrowcol.Rows
	for _, id := range slices.Sorted(slices.Values(ids)) {
		if taken(id) {
			rows = append(rows, earlierRows[id]...)
		} else {
			rows = append(rows, freshRows[id]...)
		}
	}
	return arrowcol.Join(mem, fresh.Schema(), rows)
}
