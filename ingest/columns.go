package ingest

import (
	"fmt"
	"strings"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/ingest/values"
	"github.com/ilo-pledge/pledgestat/ingest/workbook"
	"github.com/ilo-pledge/pledgestat/internal/textnorm"
	"github.com/ilo-pledge/pledgestat/records"
)

// column is one canonical column of a domain with the headers that name it
// (inputs.md), best first: when two header cells name the same column, the
// one earlier in this list wins.
type column struct {
	name    string
	headers []string
}

// domainSpec says how to recognise and read one domain's table.
type domainSpec struct {
	domain  records.Domain
	columns []column
	byKey   map[string]headerMatch
	// required names the columns whose headers rank a partial header.
	required []string
	// missing lists the required columns a header lacks.
	missing func(h header, need func(names ...string) []string) []string
	// isRecord reports whether a row has what a record needs: filled
	// tells whether any of the named columns has a value in it,
	// yearFilled whether a year column of a wide sheet has one.
	isRecord func(h header, filled func(names ...string) bool, yearFilled bool) bool
	// newReader reads the domain's rows.
	newReader func() rowReader
}

type headerMatch struct {
	column string
	rank   int
}

// newSpec makes the spec of a domain from its descriptor's columns.
func newSpec(domain records.Domain, required []string, missing func(header, func(...string) []string) []string,
	isRecord func(header, func(...string) bool, bool) bool, newReader func() rowReader) domainSpec {
	desc, err := records.Describe(domain)
	if err != nil {
		panic(err) // the specs below name described domains only
	}
	return specOf(desc, required, missing, isRecord, newReader)
}

// descriptorSpec is the spec of a domain that reads its rows itself
// (records.Descriptor.ReadsRows): its header needs its required columns,
// a row with all of them filled is a record, and the descriptor makes it.
func descriptorSpec(desc records.Descriptor) (domainSpec, error) {
	if !desc.ReadsRows() || len(desc.Required) == 0 {
		return domainSpec{}, fmt.Errorf("domain %s: ingest reads a domain whose descriptor makes records from rows (Kind.FromRow) and names its required columns", desc.Domain)
	}
	var err error
	spec := func() (s domainSpec) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("domain %s: %v", desc.Domain, r)
			}
		}()
		return specOf(desc, desc.Required,
			func(h header, need func(...string) []string) []string { return need(desc.Required...) },
			func(h header, filled func(...string) bool, _ bool) bool {
				for _, c := range desc.Required {
					if !filled(c) {
						return false
					}
				}
				return true
			},
			func() rowReader { return &descriptorReader{desc: desc} })
	}()
	return spec, err
}

// specOf makes a spec from a descriptor's columns and the domain's rules.
func specOf(desc records.Descriptor, required []string, missing func(header, func(...string) []string) []string,
	isRecord func(header, func(...string) bool, bool) bool, newReader func() rowReader) domainSpec {
	domain := desc.Domain
	var cols []column
	for _, c := range desc.Columns {
		cols = append(cols, column{name: c.Name, headers: c.Headers})
	}
	s := domainSpec{domain: domain, columns: cols, byKey: map[string]headerMatch{}, required: required, missing: missing, isRecord: isRecord, newReader: newReader}
	for _, c := range cols {
		for rank, h := range append([]string{c.name}, c.headers...) {
			k := textnorm.Key(h)
			if prev, ok := s.byKey[k]; ok && prev.column != c.name {
				panic(fmt.Sprintf("header %q names both %s and %s", h, prev.column, c.name))
			}
			if _, ok := s.byKey[k]; !ok {
				s.byKey[k] = headerMatch{column: c.name, rank: rank}
			}
		}
	}
	return s
}

var specs = []domainSpec{
	newSpec(records.DomainRatification,
		[]string{"country", "instrument", "ratification_date"},
		func(h header, need func(...string) []string) []string {
			return need("country", "instrument", "ratification_date")
		},
		func(h header, filled func(...string) bool, _ bool) bool {
			return filled("country") && filled("instrument") && filled("ratification_date")
		},
		func() rowReader { return newRatificationReader() }),
	newSpec(records.DomainSocialProtection,
		[]string{"country", "year", "value"},
		func(h header, need func(...string) []string) []string {
			missing := need("country")
			if h.wide() {
				return missing // year columns stand for year and value
			}
			if h.sheetYear == 0 {
				missing = append(missing, need("year")...)
			}
			return append(missing, need("value")...)
		},
		func(h header, filled func(...string) bool, yearFilled bool) bool {
			return filled("country") && (yearFilled || filled("value") && (filled("year") || h.sheetYear != 0))
		},
		func() rowReader { return newCoverageReader() }),
	newSpec(records.DomainBLMA,
		[]string{"title", "type", "origin", "destination", "parties"},
		func(h header, need func(...string) []string) []string {
			missing := need("title", "type")
			_, hasParties := h.columns["parties"]
			_, hasOrigin := h.columns["origin"]
			_, hasDest := h.columns["destination"]
			switch {
			case hasParties || (hasOrigin && hasDest):
			case hasOrigin:
				missing = append(missing, "destination")
			case hasDest:
				missing = append(missing, "origin")
			default:
				missing = append(missing, "origin and destination, or parties")
			}
			return missing
		},
		func(h header, filled func(...string) bool, _ bool) bool {
			return filled("title") && filled("type") && filled("origin", "destination", "parties")
		},
		func() rowReader { return newAgreementReader() }),
}

// header is a recognised header row.
type header struct {
	spec     domainSpec
	row      int
	columns  map[string]int // canonical column -> 1-based sheet column
	texts    map[int]string // sheet column -> header as written
	years    map[int]int    // wide social-protection sheets: sheet column -> year
	ignored  map[int]string // header cells that matched nothing or lost to a better header
	shadowed map[int]string // header cells naming a column another cell already took
	missing  []string       // required columns absent (partial headers only)
	firstCol int            // leftmost column of the table
	// sheetYear is the year a sheet named "2021" gives its rows.
	sheetYear int
}

// lastCol is the rightmost column of the header row that has text.
func (h header) lastCol() int {
	last := 0
	for col := range h.texts {
		last = max(last, col)
	}
	return last
}

// matchHeader reads a candidate header row for one domain.
func matchHeader(spec domainSpec, row workbook.Row, sheetYear int) header {
	h := header{spec: spec, row: row.Num, columns: map[string]int{}, years: map[int]int{}, texts: map[int]string{},
		ignored: map[int]string{}, shadowed: map[int]string{}, sheetYear: sheetYear}
	best := map[string]int{} // column -> rank of the header that holds it
	for i, c := range row.Cells {
		col := i + 1
		text := textnorm.Clean(c.Text)
		if text == "" {
			continue
		}
		h.texts[col] = text
		if spec.domain == records.DomainSocialProtection {
			if y, ok := values.IsYearHeader(text); ok {
				h.years[col] = y
				continue
			}
		}
		k := textnorm.Key(text)
		m, ok := spec.byKey[k]
		if !ok {
			if !strings.HasPrefix(k, "note") || spec.domain != records.DomainSocialProtection {
				h.ignored[col] = text
			}
			continue
		}
		if prevRank, taken := best[m.column]; taken {
			if m.rank >= prevRank {
				h.shadowed[col] = text
				continue
			}
			h.shadowed[h.columns[m.column]] = textnorm.Clean(row.Cell(h.columns[m.column]).Text)
		}
		best[m.column] = m.rank
		h.columns[m.column] = col
	}
	h.missing = h.requiredMissing()
	h.firstCol = 0
	for _, col := range h.columns {
		if h.firstCol == 0 || col < h.firstCol {
			h.firstCol = col
		}
	}
	for col := range h.years {
		if h.firstCol == 0 || col < h.firstCol {
			h.firstCol = col
		}
	}
	return h
}

// wide reports whether a social-protection table has year columns instead
// of year and value.
func (h header) wide() bool {
	_, hasValue := h.columns["value"]
	return len(h.years) > 0 && !hasValue
}

// requiredMissing lists the required columns the header lacks, in the
// words a statistician reads in the spec.
func (h header) requiredMissing() []string {
	need := func(names ...string) []string {
		var missing []string
		for _, n := range names {
			if _, ok := h.columns[n]; !ok {
				missing = append(missing, n)
			}
		}
		return missing
	}
	return h.spec.missing(h, need)
}

// requiredFound counts the header cells that name required columns (or,
// for agreements, origin, destination or parties), to rank partial headers.
func (h header) requiredFound() int {
	n := 0
	for _, name := range h.spec.required {
		if _, ok := h.columns[name]; ok {
			n++
		}
	}
	return n
}

// descriptorReader reads the rows of a domain whose descriptor makes its
// records (Kind.FromRow): each problem it names is an error at its cell.
type descriptorReader struct{ desc records.Descriptor }

func (d *descriptorReader) read(t *table, row workbook.Row) {
	r := records.Row{Texts: map[string]string{}, Source: t.provenance(row.Num)}
	for _, c := range d.desc.Columns {
		if f := t.field(row, c.Name); f.present() && !values.Missing(f.text) {
			r.Texts[c.Name] = f.text
		}
	}
	problems := d.desc.FromRow(&t.sub.Set, r)
	for _, p := range problems {
		f := t.field(row, p.Column)
		if !f.present() {
			t.rep.Errorf(report.Code(p.Code), t.sheet, 0, row.Num, "%s: %s", p.Column, p.Message)
			continue
		}
		t.errorAt(row.Num, f, &values.Problem{Code: report.Code(p.Code), Message: p.Message})
	}
	if len(problems) == 0 {
		t.records++
	}
}

func (d *descriptorReader) finish(*table) {}
