package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
	"github.com/ilo-pledge/pledgestat/internal/safego"
)

// Change is one observation added, removed or changed between two runs.
type Change struct {
	Kind        string // added, removed, changed
	IndicatorID string
	RefArea     string
	TimePeriod  string
	Sex         string
	Instrument  string
	OldValue    string
	NewValue    string
}

// ChangesHeader is the header of changes.csv (outputs.md).
var ChangesHeader = []string{"change", "indicator_id", "ref_area", "time_period", "sex", "instrument", "old_value", "new_value"}

type obsKey struct {
	indicator, area, period, sex, instrument string
}

func observationValues(batches []arrow.RecordBatch) (map[obsKey]string, []obsKey, error) {
	n := 0
	for _, b := range batches {
		n += int(b.NumRows())
	}
	out := make(map[obsKey]string, n)
	order := make([]obsKey, 0, n)
	for _, b := range batches {
		var err error
		if order, err = addObservations(b, out, order); err != nil {
			return nil, nil, err
		}
	}
	return out, order, nil
}

// DiffColumns are the columns of the indicators tables Diff reads: a
// previous run's may be read with these alone.
var DiffColumns = []string{"indicator_id", "ref_area", "time_period", "sex", "instrument", "value"}

func addObservations(b arrow.RecordBatch, out map[obsKey]string, order []obsKey) ([]obsKey, error) {
	cols, err := arrowcol.All(b, DiffColumns...)
	if err != nil {
		return nil, fmt.Errorf("indicators table: %w", err)
	}
	for r := 0; r < int(b.NumRows()); r++ {
		k := obsKey{CellText(cols[0], r), CellText(cols[1], r), CellText(cols[2], r), CellText(cols[3], r), CellText(cols[4], r)}
		if _, dup := out[k]; !dup {
			order = append(order, k)
		}
		out[k] = CellText(cols[5], r)
	}
	return order, nil
}

// Diff compares the previous run's indicators (its batches; none for a
// first run, where everything is added) with the new ones. Changes come in
// the new table's order, removed observations last in the old table's order.
func Diff(prev []arrow.RecordBatch, cur arrow.RecordBatch) ([]Change, error) {
	// The two tables are read side by side.
	tables := [2][]arrow.RecordBatch{prev, {cur}}
	var (
		values [2]map[obsKey]string
		orders [2][]obsKey
	)
	err := safego.ForEach(2, 2, func(i int) (err error) {
		values[i], orders[i], err = observationValues(tables[i])
		if err != nil && i == 0 {
			err = fmt.Errorf("previous run: %w", err)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	old, oldOrder, now, nowOrder := values[0], orders[0], values[1], orders[1]
	var out []Change
	mk := func(kind string, k obsKey, o, n string) Change {
		return Change{Kind: kind, IndicatorID: k.indicator, RefArea: k.area, TimePeriod: k.period, Sex: k.sex, Instrument: k.instrument, OldValue: o, NewValue: n}
	}
	for _, k := range nowOrder {
		o, existed := old[k]
		switch {
		case !existed:
			out = append(out, mk("added", k, "", now[k]))
		case o != now[k]:
			out = append(out, mk("changed", k, o, now[k]))
		}
	}
	var removed []Change
	for _, k := range oldOrder {
		if _, still := now[k]; !still {
			removed = append(removed, mk("removed", k, old[k], ""))
		}
	}
	sort.SliceStable(removed, func(i, j int) bool { return removed[i].IndicatorID < removed[j].IndicatorID })
	return append(out, removed...), nil
}

// WriteChanges writes changes.csv.
func WriteChanges(w io.Writer, changes []Change) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(ChangesHeader); err != nil {
		return fmt.Errorf("write changes: %w", err)
	}
	for _, c := range changes {
		if err := cw.Write([]string{c.Kind, c.IndicatorID, c.RefArea, c.TimePeriod, c.Sex, c.Instrument, c.OldValue, c.NewValue}); err != nil {
			return fmt.Errorf("write changes: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}

// Summary counts changes by kind, for logs: "12 added, 3 changed".
func Summary(changes []Change) string {
	n := map[string]int{}
	for _, c := range changes {
		n[c.Kind]++
	}
	var parts []string
	for _, k := range []string{"added", "changed", "removed"} {
		parts = append(parts, fmt.Sprintf("%d %s", n[k], k))
	}
	return strings.Join(parts, ", ")
}
