package records

import (
	"fmt"
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

	// How the domain's records sit in a Set.
	count       func(s Set) int
	batch       func(mem memory.Allocator, s Set, name NameFunc) arrow.RecordBatch
	slice       func(s Set, from, to int) Set
	appendBatch func(s *Set, b arrow.RecordBatch) error
}

// Descriptors returns the input domains' descriptors in their canonical
// order (the order of the published tables and of every listing).
func Descriptors() []Descriptor {
	return []Descriptor{
		describe(Descriptor{Domain: DomainRatification, Noun: "ratifications", TemplateName: "ratification", Columns: ratificationColumns,
			Schema: RatificationSchema, Keys: ratificationKeys},
			func(s *Set) *[]Ratification { return &s.Ratifications }, NewRatificationBatch, RatificationsOf),
		describe(Descriptor{Domain: DomainSocialProtection, Noun: "social-protection observations", TemplateName: "social-protection", Columns: socialProtectionColumns,
			Schema: SocialProtectionSchema, Keys: coverageKeys},
			func(s *Set) *[]CoverageObservation { return &s.Coverage }, NewCoverageBatch, CoverageOf),
		describe(Descriptor{Domain: DomainBLMA, Noun: "agreements", TemplateName: "blma", Columns: blmaColumns,
			Schema: BLMASchema, Keys: agreementKeys},
			func(s *Set) *[]Agreement { return &s.Agreements }, NewAgreementBatch, AgreementsOf),
	}
}

// describe completes a descriptor with the way into a Set: the field that
// holds the domain's records, and the functions that make its table and
// read it back.
func describe[T any](d Descriptor, field func(*Set) *[]T, batch func(memory.Allocator, []T, NameFunc) arrow.RecordBatch, read func(arrow.RecordBatch) ([]T, error)) Descriptor {
	d.count = func(s Set) int { return len(*field(&s)) }
	d.batch = func(mem memory.Allocator, s Set, name NameFunc) arrow.RecordBatch {
		return batch(mem, *field(&s), name)
	}
	d.slice = func(s Set, from, to int) Set {
		var out Set
		*field(&out) = (*field(&s))[from:to]
		return out
	}
	d.appendBatch = func(s *Set, b arrow.RecordBatch) error {
		rs, err := read(b)
		*field(s) = append(*field(s), rs...)
		return err
	}
	return d
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
