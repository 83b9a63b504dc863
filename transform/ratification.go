package transform

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
)

// ratificationTable is the ratification table indexed by instrument and
// country.
type ratificationTable struct {
	// byInstrument[instrument][country] is the ratification of a State.
	byInstrument map[string]map[string]ratificationRow
	latest       int
}

type ratificationRow struct {
	ratified     arrow.Date32
	denounced    arrow.Date32
	hasDenounced bool
	refs         []string // FILE!SHEET!CELL of the date cells
}

// ratifiedAt applies records.RatifiedAtEndOf to the row.
func (r ratificationRow) ratifiedAt(y int) bool {
	return records.RatifiedAtEndOf(records.Date(r.ratified), records.OptionalDate{Date: records.Date(r.denounced), Valid: r.hasDenounced}, y)
}

func readRatifications(b arrow.RecordBatch) (*ratificationTable, error) {
	t := &ratificationTable{byInstrument: map[string]map[string]ratificationRow{}}
	if b == nil {
		return t, nil
	}
	cols, err := arrowcol.TextColumns(b, "country", "instrument", "ratification_date_cell", "denunciation_date_cell", "source_file", "source_sheet")
	if err != nil {
		return nil, fmt.Errorf("ratification table: %w", err)
	}
	rdate, err1 := arrowcol.Get[*array.Date32](b, "ratification_date")
	ddate, err2 := arrowcol.Get[*array.Date32](b, "denunciation_date")
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("ratification table: %w", err)
	}
	country, inst, dcell, dncell, file, sheet := cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]
	str := arrowcol.NewStrings()
	for i := 0; i < int(b.NumRows()); i++ {
		row := ratificationRow{ratified: rdate.Value(i)}
		row.refs = append(row.refs, ref(file.Value(i), sheet.Value(i), dcell.Value(i)))
		t.latest = max(t.latest, records.Date(rdate.Value(i)).Year())
		if ddate.IsValid(i) {
			row.denounced, row.hasDenounced = ddate.Value(i), true
			t.latest = max(t.latest, records.Date(ddate.Value(i)).Year())
			if dncell.IsValid(i) {
				row.refs = append(row.refs, ref(file.Value(i), sheet.Value(i), dncell.Value(i)))
			}
		}
		m := t.byInstrument[inst.Value(i)]
		if m == nil {
			m = map[string]ratificationRow{}
			t.byInstrument[str.Of(inst, i)] = m
		}
		m[str.Of(country, i)] = row
	}
	return t, nil
}

func (t *ratificationTable) latestYear() int { return t.latest }

func ref(file, sheet, cell string) string { return file + "!" + sheet + "!" + cell }

// ratification computes a ratification indicator: per instrument, one
// instrument, or "both" (every instrument ratified). The store is complete
// per instrument it holds: a member State without a row has not ratified;
// an instrument with no row yields no observations.
func (c *computation) ratification(ind refdata.Indicator) {
	switch ind.Method {
	case refdata.RatificationBoth:
		for _, code := range ind.Instruments {
			if c.rat.byInstrument[code] == nil {
				return
			}
		}
		c.ratificationSeries(ind, "", ind.Instruments)
	default:
		for _, code := range ind.Instruments {
			if c.rat.byInstrument[code] != nil {
				c.ratificationSeries(ind, code, []string{code})
			}
		}
	}
}

func (c *computation) ratificationSeries(ind refdata.Indicator, instrument string, codes []string) {
	for _, y := range c.years() {
		counts := map[string]int{}
		for _, m := range c.areas.members {
			all := true
			var refs []string
			for _, code := range codes {
				row, ok := c.rat.byInstrument[code][m.code]
				if ok {
					refs = append(refs, row.refs...)
				}
				if !ok || !row.ratifiedAt(y) {
					all = false
				}
			}
			v := 0.0
			if all {
				v = 1
				counts[m.region]++
				counts[refdata.WorldCode]++
			}
			c.emit(ind, m, y, "T", instrument, v, nil, nil, refs)
		}
		for _, agg := range c.areas.aggregates() {
			n := float64(counts[agg.code])
			den := float64(c.ref.Countries().MemberCount(agg.code))
			c.emit(ind, agg, y, "T", instrument, n, ptr(n), ptr(den), nil)
		}
	}
}
