package export

import (
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

// observations are a table's keys and values, row by row.
type observations struct {
	keys   []obsKey
	values []string
}

func readObservations(batches []arrow.RecordBatch) (observations, error) {
	n := 0
	for _, b := range batches {
		n += int(b.NumRows())
	}
	o := observations{keys: make([]obsKey, 0, n), values: make([]string, 0, n)}
	for _, b := range batches {
		cols, err := arrowcol.All(b, DiffColumns...)
		if err != nil {
			return o, fmt.Errorf("indicators table: %w", err)
		}
		for r := 0; r < int(b.NumRows()); r++ {
			o.keys = append(o.keys, obsKey{CellText(cols[0], r), CellText(cols[1], r), CellText(cols[2], r), CellText(cols[3], r), CellText(cols[4], r)})
			o.values = append(o.values, CellText(cols[5], r))
		}
	}
	return o, nil
}

// DiffColumns are the columns of the indicators tables Diff reads: a
// previous run's may be read with these alone.
var DiffColumns = []string{"indicator_id", "ref_area", "time_period", "sex", "instrument", "value"}

// Diff compares the previous run's indicators (its batches; none for a
// first run, where everything is added) with the new ones. Changes come in
// the new table's order, removed observations last in the old table's order.
//
// Two runs' tables are mostly the same keys in the same order (both are
// in the order of outputs.md): they are compared row by row while their
// keys agree, which needs no hashing, and the rest, from the first row
// where they part, by key. Keys are unique in an indicators table (one
// observation each, as transform makes them), so the rows compared side by
// side have no other rows of their keys.
func Diff(prev []arrow.RecordBatch, cur arrow.RecordBatch) ([]Change, error) {
	// The two tables are read side by side.
	tables := [2][]arrow.RecordBatch{prev, {cur}}
	var read [2]observations
	err := safego.ForEach(2, 2, func(i int) (err error) {
		read[i], err = readObservations(tables[i])
		if err != nil && i == 0 {
			err = fmt.Errorf("previous run: %w", err)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	old, now := read[0], read[1]
	if len(old.keys) == 0 {
		// A first run: every observation is added, in the table's order
		// (its keys are unique), with no key looked up.
		out := make([]Change, len(now.keys))
		for i, k := range now.keys {
			out[i] = change("added", k, "", now.values[i])
		}
		return out, nil
	}
	var out []Change
	same := 0
	for same < len(old.keys) && same < len(now.keys) && old.keys[same] == now.keys[same] {
		if o, n := old.values[same], now.values[same]; o != n {
			out = append(out, change("changed", now.keys[same], o, n))
		}
		same++
	}
	return append(out, diffByKey(old, now, same)...), nil
}

// diffByKey compares the two tables' rows from row from on by key: the
// observations added and changed in the new table's order, then those
// removed in the old table's order, grouped by indicator.
func diffByKey(old, now observations, from int) []Change {
	oldValues, oldOrder := byKey(old, from)
	nowValues, nowOrder := byKey(now, from)
	var out []Change
	for _, k := range nowOrder {
		o, existed := oldValues[k]
		switch {
		case !existed:
			out = append(out, change("added", k, "", nowValues[k]))
		case o != nowValues[k]:
			out = append(out, change("changed", k, o, nowValues[k]))
		}
	}
	var removed []Change
	for _, k := range oldOrder {
		if _, still := nowValues[k]; !still {
			removed = append(removed, change("removed", k, oldValues[k], ""))
		}
	}
	sort.SliceStable(removed, func(i, j int) bool { return removed[i].IndicatorID < removed[j].IndicatorID })
	return append(out, removed...)
}

// change is one change of an observation's value.
func change(kind string, k obsKey, oldValue, newValue string) Change {
	return Change{Kind: kind, IndicatorID: k.indicator, RefArea: k.area, TimePeriod: k.period, Sex: k.sex, Instrument: k.instrument, OldValue: oldValue, NewValue: newValue}
}

// byKey maps the keys of the rows from row from on to their values (the
// last, for a key given twice) and lists them in order of first
// appearance.
func byKey(o observations, from int) (map[obsKey]string, []obsKey) {
	values := make(map[obsKey]string, len(o.keys)-from)
	order := make([]obsKey, 0, len(o.keys)-from)
	for i := from; i < len(o.keys); i++ {
		k := o.keys[i]
		if _, dup := values[k]; !dup {
			order = append(order, k)
		}
		values[k] = o.values[i]
	}
	return values, order
}

// WriteChanges writes changes.csv.
func WriteChanges(w io.Writer, changes []Change) error {
	buf := appendCSVRecord(nil, ChangesHeader...)
	for _, c := range changes {
		buf = appendCSVRecord(buf, c.Kind, c.IndicatorID, c.RefArea, c.TimePeriod, c.Sex, c.Instrument, c.OldValue, c.NewValue)
		var err error
		if buf, err = flushFull(w, buf); err != nil {
			return fmt.Errorf("write changes: %w", err)
		}
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("write changes: %w", err)
	}
	return nil
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
