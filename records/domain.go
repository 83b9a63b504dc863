package records

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Descriptor is one input domain, described once: its names, its table's
// schema, its record key and how its records sit in a Set. The store,
// the build, status and the CLI derive what they do per domain from the
// descriptors, so a domain they do not know is an error where it is
// named, never a fall-through into another domain's code.
//
// Adding a domain (see the package documentation's checklist in doc.go)
// starts here.
type Descriptor struct {
	Domain Domain
	// Noun names the domain's records in messages ("ratifications").
	Noun string
	// TemplateName is the name `pledgestat template` takes for the
	// domain's blank workbook.
	TemplateName string
	// Columns are the domain's input columns with the headers that name
	// them (inputs.md).
	Columns []Column
	// Schema is the Arrow schema of the domain's table (outputs.md).
	Schema *arrow.Schema
	// Keys returns the record key of every row of a table of the domain,
	// in row order: a later record with the same key supersedes an
	// earlier one.
	Keys func(b arrow.RecordBatch) ([]string, error)
	// Required names the columns a table of a NewDescriptor domain must
	// have for ingest to recognise its header (the pledge domains have
	// their own rules in ingest).
	Required []string

	// How the domain's records sit in a Set, and what the store and the
	// history read of one record (made by describe from typed functions).
	count       func(s Set) int
	batch       func(mem memory.Allocator, s Set, name NameFunc) arrow.RecordBatch
	slice       func(s Set, from, to int) Set
	appendBatch func(s *Set, b arrow.RecordBatch) error
	key         func(s Set, i int) string
	put         func(dst *Set, i int, src Set, j int)
	appendOne   func(dst *Set, src Set, j int)
	appendAll   func(dst *Set, src Set)
	grow        func(dst *Set, n int)
	revision    func(s Set, i int) Revision
	clone       func(dst *Set, src Set)
	areas       func(s Set, i int) []string
	fromRow     func(s *Set, r Row) []Problem
}

// Row is one data row of a domain's table as ingest hands it to a Kind's
// FromRow: the cleaned text of each of the domain's columns the table has
// and fills, by column name, and where the row came from.
type Row struct {
	Texts  map[string]string
	Source Provenance
}

// Problem is what is wrong with one value of a row: the column, a code of
// ingest/report's vocabulary (missing_value, bad_number, out_of_range…)
// and a message that says what was expected.
type Problem struct {
	Column  string
	Code    string
	Message string
}

// Revision is what the history shows of one version of a record: the
// cell of its main value and its values by column.
type Revision struct {
	Cell   string
	Values map[string]string
}

// Descriptors returns the input domains' descriptors in their canonical
// order (the order of the published tables and of every listing).
func Descriptors() []Descriptor {
	return []Descriptor{
		describe(Descriptor{Domain: DomainRatification, Noun: "ratifications", TemplateName: "ratification", Columns: ratificationColumns,
			Schema: RatificationSchema, Keys: ratificationKeys},
			Kind[Ratification]{Batch: NewRatificationBatch, Read: RatificationsOf,
				Key: Ratification.Key, Areas: func(r Ratification) []string { return []string{r.Country} }, Revision: ratificationRevision},
			func(s Set) []Ratification { return s.Ratifications }, func(s *Set, v []Ratification) { s.Ratifications = v }),
		describe(Descriptor{Domain: DomainSocialProtection, Noun: "social-protection observations", TemplateName: "social-protection", Columns: socialProtectionColumns,
			Schema: SocialProtectionSchema, Keys: coverageKeys},
			Kind[CoverageObservation]{Batch: NewCoverageBatch, Read: CoverageOf,
				Key: CoverageObservation.Key, Areas: func(o CoverageObservation) []string { return []string{o.Area} }, Revision: coverageRevision},
			func(s Set) []CoverageObservation { return s.Coverage }, func(s *Set, v []CoverageObservation) { s.Coverage = v }),
		describe(Descriptor{Domain: DomainBLMA, Noun: "agreements", TemplateName: "blma", Columns: blmaColumns,
			Schema: BLMASchema, Keys: agreementKeys},
			Kind[Agreement]{Batch: NewAgreementBatch, Read: AgreementsOf,
				Key: Agreement.Key, Areas: func(a Agreement) []string { return a.Parties }, Revision: agreementRevision},
			func(s Set) []Agreement { return s.Agreements }, func(s *Set, v []Agreement) { s.Agreements = v }),
	}
}

// Kind is what a domain's record type brings to its descriptor: how its
// table is made from records and read back, its record key (a later
// record with the same key supersedes an earlier one), the areas a record
// concerns (a history filter matches any) and what the history shows of
// it.
type Kind[T any] struct {
	Batch    func(memory.Allocator, []T, NameFunc) arrow.RecordBatch
	Read     func(arrow.RecordBatch) ([]T, error)
	Key      func(T) string
	Areas    func(T) []string
	Revision func(T) Revision
	// FromRow makes a record from a row of the domain's table, or says
	// what is wrong with it; nil for the pledge domains, which ingest
	// reads with rules of their own.
	FromRow func(Row) (T, []Problem)
}

// NewDescriptor describes a domain beyond the three of the pledge, whose
// records a Set holds in Others: what the store and the build need of
// it comes from d (its name, schema and table keys) and k. Keys, when
// nil, is made from k.Read and k.Key.
func NewDescriptor[T any](d Descriptor, k Kind[T]) Descriptor {
	domain := d.Domain
	get := func(s Set) []T {
		v, _ := s.Others[domain].([]T)
		return v
	}
	set := func(s *Set, v []T) {
		// A Set is a value: copies share Others, so it is copied when
		// written rather than changed under another copy.
		m := make(map[Domain]any, len(s.Others)+1)
		for k, x := range s.Others {
			m[k] = x
		}
		m[domain] = v
		s.Others = m
	}
	if d.Keys == nil {
		d.Keys = func(b arrow.RecordBatch) ([]string, error) {
			rs, err := k.Read(b)
			if err != nil {
				return nil, err
			}
			keys := make([]string, len(rs))
			for i, r := range rs {
				keys[i] = k.Key(r)
			}
			return keys, nil
		}
	}
	return describe(d, k, get, set)
}

// describe completes a descriptor with the typed functions of its kind
// and the way its records sit in a Set (get and set).
func describe[T any](d Descriptor, k Kind[T], get func(Set) []T, set func(*Set, []T)) Descriptor {
	d.count = func(s Set) int { return len(get(s)) }
	d.batch = func(mem memory.Allocator, s Set, name NameFunc) arrow.RecordBatch {
		return k.Batch(mem, get(s), name)
	}
	d.slice = func(s Set, from, to int) Set {
		var out Set
		set(&out, get(s)[from:to])
		return out
	}
	d.appendBatch = func(s *Set, b arrow.RecordBatch) error {
		rs, err := k.Read(b)
		set(s, append(get(*s), rs...))
		return err
	}
	d.key = func(s Set, i int) string { return k.Key(get(s)[i]) }
	d.put = func(dst *Set, i int, src Set, j int) { get(*dst)[i] = get(src)[j] }
	d.appendOne = func(dst *Set, src Set, j int) { set(dst, append(get(*dst), get(src)[j])) }
	d.appendAll = func(dst *Set, src Set) { set(dst, append(get(*dst), get(src)...)) }
	d.grow = func(dst *Set, n int) { set(dst, slices.Grow(get(*dst), n)) }
	d.revision = func(s Set, i int) Revision { return k.Revision(get(s)[i]) }
	d.clone = func(dst *Set, src Set) { set(dst, slices.Clone(get(src))) }
	d.areas = func(s Set, i int) []string { return k.Areas(get(s)[i]) }
	if k.FromRow != nil {
		d.fromRow = func(s *Set, r Row) []Problem {
			rec, problems := k.FromRow(r)
			if len(problems) == 0 {
				set(s, append(get(*s), rec))
			}
			return problems
		}
	}
	return d
}

func ratificationRevision(r Ratification) Revision {
	v := map[string]string{"ratification_date": r.RatificationDate.String(), "status": r.Status}
	if r.Denunciation.Valid {
		v["denunciation_date"] = r.Denunciation.Date.String()
	}
	return Revision{Cell: r.Source.Sheet + "!" + r.DateCell, Values: v}
}

func coverageRevision(o CoverageObservation) Revision {
	return Revision{Cell: o.Source.Sheet + "!" + o.ValueCell,
		Values: map[string]string{"value": strconv.FormatFloat(o.Value, 'f', -1, 64), "obs_status": o.ObsStatus}}
}

func agreementRevision(a Agreement) Revision {
	v := map[string]string{"title": a.Title, "type": a.Type, "status": a.Status, "signed": a.Signed.String(),
		"end": a.End.String(), "parties": strings.Join(a.Parties, ";")}
	for _, fl := range ProvisionFlags() {
		v[fl] = a.Provision(fl)
	}
	return Revision{Cell: a.Source.Sheet + "!" + a.Source.Cell, Values: v}
}

// Describe returns the descriptor of a domain; a domain pledgestat does
// not know is an error naming the ones it does.
func Describe(d Domain) (Descriptor, error) {
	var known []string
	for _, desc := range Descriptors() {
		if desc.Domain == d {
			return desc, nil
		}
		known = append(known, string(desc.Domain))
	}
	return Descriptor{}, fmt.Errorf("unknown domain %q (the domains are %s)", d, strings.Join(known, ", "))
}

// Count returns how many records of the domain s holds.
func (d Descriptor) Count(s Set) int { return d.count(s) }

// Batch builds the domain's table from the records of s. The caller
// releases the batch.
func (d Descriptor) Batch(mem memory.Allocator, s Set, name NameFunc) arrow.RecordBatch {
	return d.batch(mem, s, name)
}

// Slice returns the set holding only the domain's records of s from
// index from to to (exclusive).
func (d Descriptor) Slice(s Set, from, to int) Set { return d.slice(s, from, to) }

// Append reads a table of the domain into s.
func (d Descriptor) Append(s *Set, b arrow.RecordBatch) error { return d.appendBatch(s, b) }

// Key returns the record key of the domain's record i of s.
func (d Descriptor) Key(s Set, i int) string { return d.key(s, i) }

// Put replaces the domain's record i of dst with record j of src.
func (d Descriptor) Put(dst *Set, i int, src Set, j int) { d.put(dst, i, src, j) }

// AppendOne appends the domain's record j of src to dst.
func (d Descriptor) AppendOne(dst *Set, src Set, j int) { d.appendOne(dst, src, j) }

// AppendAll appends the domain's records of each of srcs to dst, in
// order, growing dst once: a pack's members appended a record at a time
// made each domain's slice double its way up, 50 MB of copies for 600
// small files.
func (d Descriptor) AppendAll(dst *Set, srcs ...Set) {
	n := 0
	for _, s := range srcs {
		n += d.count(s)
	}
	d.grow(dst, n)
	for _, s := range srcs {
		d.appendAll(dst, s)
	}
}

// Revision returns what the history shows of the domain's record i of s.
func (d Descriptor) Revision(s Set, i int) Revision { return d.revision(s, i) }

// Areas returns the areas the domain's record i of s concerns.
func (d Descriptor) Areas(s Set, i int) []string { return d.areas(s, i) }

// Clone copies the domain's records of src into dst, sharing no slice.
func (d Descriptor) Clone(dst *Set, src Set) { d.clone(dst, src) }

// ReadsRows reports whether the domain's Kind makes records from rows
// (FromRow): ingest reads such a domain's tables with no code of its own.
func (d Descriptor) ReadsRows() bool { return d.fromRow != nil }

// FromRow makes a record of the domain from a row and appends it to s,
// or returns what is wrong with the row (and appends nothing).
func (d Descriptor) FromRow(s *Set, r Row) []Problem { return d.fromRow(s, r) }
