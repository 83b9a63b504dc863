package transform

import (
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
}

type coverageRow struct {
	area, series, sex, population string
	year                          int
	value                         float64
	ref                           string
}

func readCoverage(b arrow.RecordBatch) (*coverageTable, error) {
	t := &coverageTable{}
	if b == nil {
		return t, nil
	}
	cols, err := stringColumns(b, "country", "series", "sex", "population", "value_cell", "source_file", "source_sheet")
	if err != nil {
		return nil, fmt.Errorf("social-protection table: %w", err)
	}
	year, err1 := arrowcol.Get[*array.Int32](b, "year")
	value, err2 := arrowcol.Get[*array.Float64](b, "value")
	if err := firstErr(err1, err2); err != nil {
		return nil, fmt.Errorf("social-protection table: %w", err)
	}
	for i := 0; i < int(b.NumRows()); i++ {
		r := coverageRow{area: cols[0].Value(i), series: cols[1].Value(i), sex: cols[2].Value(i), population: cols[3].Value(i),
			year: int(year.Value(i)), value: value.Value(i), ref: ref(cols[5].Value(i), cols[6].Value(i), cols[4].Value(i))}
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
		c.emit(ind, ar, r.year, r.sex, "", r.value, nil, nil, []string{r.ref})
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
		c.emit(ind, ar, r.year, r.sex, "", decimal.Round15(r.value-m.value), nil, nil, []string{r.ref, m.ref})
	}
}
