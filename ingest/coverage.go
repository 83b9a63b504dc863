package ingest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/ingest/values"
	"github.com/ilo-pledge/pledgestat/ingest/workbook"
	"github.com/ilo-pledge/pledgestat/internal/textnorm"
	"github.com/ilo-pledge/pledgestat/records"
)

// coverageReader reads a social-protection table: long (year and value
// columns), wide (one column per year) or with the year in the sheet name.
type coverageReader struct {
	// areas remembers the area (a region's code, a country's ISO3 code)
	// each text found so far names: a row's country is then one lookup,
	// not three and a copy of the country's record.
	areas memo[string]
	// scale tracks, per value column, whether every value is within 0..1
	// (suspect_scale).
	scale map[int]*scaleCheck
	// cols are the columns of the table read (a reader reads one), found
	// on its first row.
	cols *coverageColumns
}

// coverageColumns are the columns of a social-protection table.
type coverageColumns struct {
	country, series, sex, population, obsStatus, source, note, year, value fieldColumn
	wide                                                                   bool  // a column a year
	yearCols                                                               []int // a wide table's year columns, in order
}

// columns are t's columns.
func (cr *coverageReader) columns(t *table) *coverageColumns {
	if cr.cols == nil {
		cr.cols = &coverageColumns{
			country: t.column("country"), series: t.column("series"), sex: t.column("sex"), population: t.column("population"),
			obsStatus: t.column("obs_status"), source: t.column("source"), note: t.column("note"),
			year: t.column("year"), value: t.column("value"), wide: t.h.wide(),
			yearCols: slices.Sorted(maps.Keys(t.h.years)),
		}
	}
	return cr.cols
}

type scaleCheck struct {
	count      int
	allUnitary bool
	anyNonZero bool
}

func newCoverageReader() *coverageReader {
	return &coverageReader{scale: map[int]*scaleCheck{}}
}

// ilostatAggregate reports whether s has the form of an ILOSTAT aggregate
// code: X and two digits. It is asked of every row's area, where matching
// a regular expression was a tenth of finding the area.
func ilostatAggregate(s string) bool {
	return len(s) == 3 && (s[0] == 'X' || s[0] == 'x') && '0' <= s[1] && s[1] <= '9' && '0' <= s[2] && s[2] <= '9'
}

func (cr *coverageReader) read(t *table, row workbook.Row) {
	ok := true
	fail := func(f field, p *values.Problem) {
		t.errorAt(row.Num, f, p)
		ok = false
	}
	cols := cr.columns(t)
	var base records.CoverageObservation
	first := max(t.h.firstCol, 1)
	if cols.wide {
		base.Source = t.sourceAt(cellRef(first, row.Num))
	} else {
		var cell string
		cell, base.ValueCell = rowCellRefs(first, cols.value.col, row.Num)
		base.Source = t.sourceAt(cell)
	}
	countryF := t.fieldAt(row, cols.country)
	area, areaOK := cr.area(t, row.Num, countryF)
	if !areaOK {
		if area == "skip" {
			return
		}
		ok = false
	}
	base.Area = area
	var err *values.Problem
	if f := t.fieldAt(row, cols.series); true {
		if base.Series, err = t.code("series", f.text, values.Series); err != nil {
			fail(f, err)
		}
	}
	if f := t.fieldAt(row, cols.sex); true {
		if base.Sex, err = t.code("sex", f.text, values.Sex); err != nil {
			fail(f, err)
		}
	}
	if f := t.fieldAt(row, cols.population); true {
		if base.Population, err = t.code("population", f.text, values.Population); err != nil {
			fail(f, err)
		}
	}
	base.ObsStatus = t.fieldAt(row, cols.obsStatus).raw
	base.SourceNote = t.fieldAt(row, cols.source).raw
	base.Note = t.fieldAt(row, cols.note).raw

	if cols.wide {
		for _, col := range cols.yearCols {
			c := row.Cell(col)
			f := field{cell: c, text: textnorm.Clean(c.Text), col: col, header: strconv.Itoa(t.h.years[col])}
			if f.text == "" {
				continue
			}
			if values.Missing(f.text) {
				t.rep.Infof(report.RowSkipped, t.sheet, col, row.Num, "%s: %s means no observation; skipped", f.header, report.Quote(f.text))
				continue
			}
			o := base
			o.Year = t.h.years[col]
			o.ValueCell = cellRef(col, row.Num)
			if cr.value(t, row.Num, f, &o) && ok {
				cr.add(t, o, row.Num)
			}
		}
		return
	}
	yearF := t.fieldAt(row, cols.year)
	switch {
	case yearF.present():
		if values.Missing(yearF.text) {
			fail(yearF, &values.Problem{Code: report.MissingValue, Message: "the year is missing; expected a year such as 2021"})
		} else if y, p := values.Year(yearF.text, 1990, 2100); p != nil {
			if yearF.cell.Numeric && yearF.cell.DateFormat {
				// A date typed in the year column: say what Excel shows,
				// not the serial behind it.
				if v, ok := values.Decimal(yearF.cell.Text); ok {
					if d, sp := values.Serial(v, t.date1904); sp == nil {
						p = &values.Problem{Code: report.BadNumber, Message: fmt.Sprintf("the cell is the date %s, not a year; type the year as a number, such as %d", d, d.Year())}
					}
				}
			}
			fail(yearF, p)
		} else {
			base.Year = y
		}
	default:
		base.Year = t.h.sheetYear
	}
	valueF := t.fieldAt(row, cols.value)
	if values.Missing(valueF.text) {
		t.rep.Infof(report.RowSkipped, t.sheet, valueF.col, row.Num, "value %s means no observation; row %d skipped", report.Quote(valueF.text), row.Num)
		return
	}
	if cr.value(t, row.Num, valueF, &base) && ok {
		cr.add(t, base, row.Num)
	}
}

// area reads the country column of a social-protection row, which may also
// hold an ILOSTAT aggregate code. Aggregates other than the world and the
// ILO regions (income groups, sub-regions of an ILOSTAT download) are skipped
// with a note: pledgestat does not publish them.
func (cr *coverageReader) area(t *table, row int, f field) (string, bool) {
	if area, known := cr.areas.get(f.text); known {
		return area, true
	}
	if reg, ok := t.r.ref.Countries().LookupRegion(f.text); ok && f.text != "" {
		cr.areas.put(f.text, reg.Code)
		return reg.Code, true
	}
	if ilostatAggregate(f.text) {
		t.rep.Infof(report.RowSkipped, t.sheet, f.col, row, "%s is an ILOSTAT aggregate that is neither the world nor an ILO region (X01, X06, X21, X36, X40, X60); row skipped", report.Quote(f.text))
		return "skip", false
	}
	c, ok := t.country(row, f)
	if !ok {
		return "", false // not remembered: each row's error is reported
	}
	cr.areas.put(f.text, c.ISO3)
	return c.ISO3, true
}

// value reads a percentage into o, recording scale evidence.
func (cr *coverageReader) value(t *table, row int, f field, o *records.CoverageObservation) bool {
	v, p := values.Percent(f.text, f.cell.PercentFormat)
	if p != nil {
		t.errorAt(row, f, p)
		return false
	}
	o.Value = v
	key := f.col
	if cr.columns(t).wide {
		key = 0 // the year columns of a wide sheet are one value column
	}
	sc := cr.scale[key]
	if sc == nil {
		sc = &scaleCheck{allUnitary: true}
		cr.scale[key] = sc
	}
	sc.count++
	if f.cell.PercentFormat || v > 1 {
		sc.allUnitary = false
	}
	if v > 0 {
		sc.anyNonZero = true
	}
	return true
}

func (cr *coverageReader) finish(t *table) {
	for key, sc := range cr.scale {
		if sc.count > 0 && sc.allUnitary && sc.anyNonZero {
			what := "every value of this column"
			if key == 0 {
				what = "every value of the year columns"
			}
			t.rep.Warnf(report.SuspectScale, t.sheet, key, t.h.row, "%s is between 0 and 1: if these are fractions (0.45 for 45%%), multiply them by 100 or format the cells as percentages; values are read as percentages from 0 to 100", what)
		}
	}
}

// add passes on an observation read from a row: the file's stream drops
// repeats and hands it to the sink.
func (cr *coverageReader) add(t *table, o records.CoverageObservation, row int) {
	t.sub.cov.add(t, o, row)
}
