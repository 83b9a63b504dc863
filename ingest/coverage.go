package ingest

import (
	"fmt"
	"hash/maphash"
	"maps"
	"regexp"
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
	// chunks hold the observations as rows are read, in blocks that are
	// never copied to grow (a slice of a million records doubling its way
	// up copies and clears gigabytes); they are checked for repeats and
	// joined once when the table ends.
	chunks [][]records.CoverageObservation
	count  int
	// regions remembers which texts name a region ("" for none).
	regions memo[string]
	// scale tracks, per value column, whether every value is within 0..1
	// (suspect_scale).
	scale map[int]*scaleCheck
}

type scaleCheck struct {
	count      int
	allUnitary bool
	anyNonZero bool
}

func newCoverageReader() *coverageReader {
	return &coverageReader{scale: map[int]*scaleCheck{}}
}

var ilostatAggregate = regexp.MustCompile(`^[Xx]\d{2}$`)

func (cr *coverageReader) read(t *table, row workbook.Row) {
	ok := true
	fail := func(f field, p *values.Problem) {
		t.errorAt(row.Num, f, p)
		ok = false
	}
	base := records.CoverageObservation{Source: t.provenance(row.Num)}
	countryF := t.field(row, "country")
	area, areaOK := cr.area(t, row.Num, countryF)
	if !areaOK {
		if area == "skip" {
			return
		}
		ok = false
	}
	base.Area = area
	var err *values.Problem
	if f := t.field(row, "series"); true {
		if base.Series, err = t.code("series", f.text, values.Series); err != nil {
			fail(f, err)
		}
	}
	if f := t.field(row, "sex"); true {
		if base.Sex, err = t.code("sex", f.text, values.Sex); err != nil {
			fail(f, err)
		}
	}
	if f := t.field(row, "population"); true {
		if base.Population, err = t.code("population", f.text, values.Population); err != nil {
			fail(f, err)
		}
	}
	base.ObsStatus = t.field(row, "obs_status").raw
	base.SourceNote = t.field(row, "source").raw
	base.Note = t.field(row, "note").raw

	if t.h.wide() {
		for _, col := range slices.Sorted(maps.Keys(t.h.years)) {
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
			if cr.value(t, row.Num, f, &o) && ok {
				cr.add(t, o)
			}
		}
		return
	}
	yearF := t.field(row, "year")
	switch {
	case yearF.present():
		if values.Missing(yearF.text) {
			fail(yearF, &values.Problem{Code: report.MissingValue, Message: "the year is missing; expected a year such as 2021"})
		} else if y, p := values.Year(yearF.text, 1990, 2100); p != nil {
			fail(yearF, p)
		} else {
			base.Year = y
		}
	default:
		base.Year = t.h.sheetYear
	}
	valueF := t.field(row, "value")
	if values.Missing(valueF.text) {
		t.rep.Infof(report.RowSkipped, t.sheet, valueF.col, row.Num, "value %s means no observation; row %d skipped", report.Quote(valueF.text), row.Num)
		return
	}
	if cr.value(t, row.Num, valueF, &base) && ok {
		cr.add(t, base)
	}
}

// area reads the country column of a social-protection row, which may also
// hold an ILOSTAT aggregate code. Aggregates other than the world and the
// ILO regions (income groups, sub-regions of an ILOSTAT download) are skipped
// with a note: pledgestat does not publish them.
func (cr *coverageReader) area(t *table, row int, f field) (string, bool) {
	region, known := cr.regions.get(f.text)
	if !known {
		if reg, ok := t.r.ref.Countries().LookupRegion(f.text); ok && f.text != "" {
			region = reg.Code
		}
		cr.regions.put(f.text, region) // "" too: most texts are countries
	}
	if region != "" {
		return region, true
	}
	if ilostatAggregate.MatchString(f.text) {
		t.rep.Infof(report.RowSkipped, t.sheet, f.col, row, "%s is an ILOSTAT aggregate that is neither the world nor an ILO region (X01, X06, X21, X36, X40, X60); row skipped", report.Quote(f.text))
		return "skip", false
	}
	c, ok := t.country(row, f)
	if !ok {
		return "", false
	}
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
	o.ValueCell = cellRef(f.col, row)
	key := f.col
	if t.h.wide() {
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
	if cr.count == 0 {
		return
	}
	// Repeats are found by a 64-bit hash of the key (a tenth of the memory
	// of a map of keys); a hash shared by two different keys is told apart
	// by comparing the keys, so no repeat is ever invented.
	type observationKey struct {
		area               string
		year               int
		series, sex, popul string
	}
	seed := maphash.MakeSeed()
	byHash := make(map[uint64]int32, cr.count)
	var collided map[observationKey]int
	out := t.sub.Coverage
	if out == nil {
		out = make([]records.CoverageObservation, 0, cr.count)
	}
	start := len(out)
	for ci, chunk := range cr.chunks {
		for _, o := range chunk {
			k := observationKey{o.Area, o.Year, o.Series, o.Sex, o.Population}
			h := maphash.Comparable(seed, k)
			row := rowNum(o.Source.Cell)
			j, dup := int(byHash[h]), false
			if _, seen := byHash[h]; seen {
				first := out[j]
				if dup = first.Key() == o.Key(); !dup {
					j, dup = collided[k]
				}
			}
			if dup {
				first := out[j]
				what := fmt.Sprintf("%s %d %s sex %s %s", o.Area, o.Year, o.Series, o.Sex, o.Population)
				if first.Value == o.Value {
					t.rep.Warnf(report.DuplicateRow, t.sheet, t.h.firstCol, row, "row %d repeats the observation of row %d (%s); the repeat was ignored", row, rowNum(first.Source.Cell), what)
					continue
				}
				t.duplicate(rowNum(first.Source.Cell), row, what, differences(
					[3]string{"value", strconv.FormatFloat(first.Value, 'f', -1, 64), strconv.FormatFloat(o.Value, 'f', -1, 64)}))
				continue
			}
			if _, seen := byHash[h]; seen {
				if collided == nil {
					collided = map[observationKey]int{}
				}
				collided[k] = len(out)
			} else {
				byHash[h] = int32(len(out))
			}
			out = append(out, o)
		}
		cr.chunks[ci] = nil // freed as it is copied
	}
	cr.chunks = nil
	t.sub.Coverage = out
	t.records += len(out) - start
}

// chunkSize is how many observations a chunk holds at most; the first
// holds firstChunk and each next one twice the previous, so that a 50-row
// file does not allocate (and zero) 4 MB for its observations.
const (
	chunkSize  = 16 << 10
	firstChunk = 64
)

// add keeps an observation read from a row.
func (cr *coverageReader) add(t *table, o records.CoverageObservation) {
	if n := len(cr.chunks); n == 0 || len(cr.chunks[n-1]) == cap(cr.chunks[n-1]) {
		size := firstChunk
		if n > 0 {
			size = min(chunkSize, 2*cap(cr.chunks[n-1]))
		}
		cr.chunks = append(cr.chunks, make([]records.CoverageObservation, 0, size))
	}
	last := &cr.chunks[len(cr.chunks)-1]
	*last = append(*last, o)
	cr.count++
}
