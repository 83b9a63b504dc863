package transform

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
	"github.com/ilo-pledge/pledgestat/internal/decimal"
	"github.com/ilo-pledge/pledgestat/refdata"
)

// coverageTable is the social-protection table.
type coverageTable struct {
	list   []coverageRow
	latest int
	// the provenance columns: a row's reference is built only when it is
	// published (most rows of a large extract are outside the catalog).
	file, sheet, cell arrowcol.TextColumn
}

type coverageRow struct {
	area, series, sex, population string
	year                          int
	value                         float64
	row                           int
}

// ref is the input cell of a row: FILE!SHEET!CELL.
func (t *coverageTable) ref(r coverageRow) string {
	return ref(t.file.Value(r.row), t.sheet.Value(r.row), t.cell.Value(r.row))
}

// readCoverage reads the table's rows, checking ctx every few thousand
// (a large store's table is read in a fraction of a second, but a stop
// signal must not wait for it).
func readCoverage(ctx context.Context, b arrow.RecordBatch) (*coverageTable, error) {
	t := &coverageTable{}
	if b == nil {
		return t, nil
	}
	cols, err := arrowcol.TextColumns(b, "country", "series", "sex", "population", "value_cell", "source_file", "source_sheet")
	if err != nil {
		return nil, fmt.Errorf("social-protection table: %w", err)
	}
	year, err1 := arrowcol.Get[*array.Int32](b, "year")
	value, err2 := arrowcol.Get[*array.Float64](b, "value")
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("social-protection table: %w", err)
	}
	t.file, t.sheet, t.cell = cols[5], cols[6], cols[4]
	t.list = make([]coverageRow, 0, b.NumRows())
	str := arrowcol.NewStrings()
	for i := 0; i < int(b.NumRows()); i++ {
		if i&0x3fff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		r := coverageRow{area: str.Of(cols[0], i), series: str.Of(cols[1], i), sex: str.Of(cols[2], i), population: str.Of(cols[3], i),
			year: int(year.Value(i)), value: value.Value(i), row: i}
		t.latest = max(t.latest, r.year)
		t.list = append(t.list, r)
	}
	return t, nil
}

func (t *coverageTable) latestYear() int { return t.latest }

func (c *computation) inWindow(y int) bool { return y >= c.first && y <= c.last }

// coverage passes observations of one series and population through as
// given: no imputation, no re-weighting.
func (c *computation) coverage(ind refdata.Indicator) {
	for _, r := range c.cov.list {
		if r.series != ind.Series || r.population != ind.Population || !c.inWindow(r.year) {
			continue
		}
		ar, ok := c.areas.byCode[r.area]
		if !ok {
			continue
		}
		c.emit(ind, ar, r.year, r.sex, "", r.value, nil, nil, []string{c.cov.ref(r)})
	}
}

// coverageGap is non-migrants' coverage minus migrants', for the same area,
// year and sex, where both are present.
func (c *computation) coverageGap(ind refdata.Indicator) {
	type key struct {
		area, sex string
		year      int
	}
	migrants := map[key]coverageRow{}
	for _, r := range c.cov.list {
		if r.series == ind.Series && r.population == "migrants" {
			migrants[key{r.area, r.sex, r.year}] = r
		}
	}
	for _, r := range c.cov.list {
		if r.series != ind.Series || r.population != "non_migrants" || !c.inWindow(r.year) {
			continue
		}
		m, ok := migrants[key{r.area, r.sex, r.year}]
		if !ok {
			continue
		}
		ar, ok := c.areas.byCode[r.area]
		if !ok {
			continue
		}
		c.emit(ind, ar, r.year, r.sex, "", decimal.Round15(r.value-m.value), nil, nil, []string{c.cov.ref(r), c.cov.ref(m)})
	}
}
