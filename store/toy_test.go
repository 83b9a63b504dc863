package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/records/toydomain"
)

type toyScore = toydomain.Score

const toyDomain = toydomain.Domain

func toyDescriptor() records.Descriptor { return toydomain.Descriptor() }

func toySet(rs ...toyScore) records.Set { return toydomain.Set(rs...) }

func toys(s records.Set) []toyScore { return toydomain.Of(s) }

// toy is a score read from file's cell.
func toy(area string, year int32, score float64, file, cell string) toyScore {
	return toyScore{Area: area, Year: year, Score: score, Source: records.Provenance{File: file, Cell: cell}}
}

// TestToyDomainThroughItsDescriptorAlone adds a fourth domain to the
// store by its descriptor alone (records.NewDescriptor, WithDomains):
// its records are stored, counted, superseded (alone and in a group),
// read back, compacted into the snapshot, applied on top of it,
// listed by the history and brought back by a withdrawal, beside a
// pledge domain's, with no code of the store's own for it.
func TestToyDomainThroughItsDescriptorAlone(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	domains := append(records.Descriptors(), toyDescriptor())
	open := func() *Store {
		s, err := Open(fsx.OS{}, dir, quiet, WithDomains(domains))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	first := toySet(toy("FRA", 2020, 1, "a.csv", "C2"), toy("DEU", 2020, 2, "a.csv", "C3"))
	first.Ratifications = []records.Ratification{ratification("FRA", "C097", 1954, "a.csv")}
	e1, err := s.Accept(ctx, Entry{File: "a.csv", SHA256: sha('a')}, first, nil, names)
	if err != nil {
		t.Fatal(err)
	}
	if e1.Rows[string(toyDomain)] != 2 || e1.Rows["ratification"] != 1 {
		t.Errorf("first submission's rows = %v", e1.Rows)
	}

	// A group: the second supersedes FRA, the third DEU of the second.
	p2, err := s.Prepare(ctx, Entry{File: "b.csv", SHA256: sha('b')}, toySet(toy("FRA", 2020, 5, "b.csv", "C2"), toy("ITA", 2021, 7, "b.csv", "C3")), names)
	if err != nil {
		t.Fatal(err)
	}
	p3, err := s.Prepare(ctx, Entry{File: "c.csv", SHA256: sha('c')}, toySet(toy("ITA", 2021, 8, "c.csv", "C2")), names)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteAll(ctx, []*Pending{p2, p3}); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit([]*Pending{p2, p3}); err != nil {
		t.Fatal(err)
	}
	if got := p2.Entry().Superseded[string(toyDomain)]; got != 1 {
		t.Errorf("the second submission supersedes %d toy records, want 1", got)
	}
	if got := p3.Entry().Superseded[string(toyDomain)]; got != 1 {
		t.Errorf("the third submission supersedes %d toy records (one of the same group), want 1", got)
	}
	want := []toyScore{toy("FRA", 2020, 5, "b.csv", "C2"), toy("DEU", 2020, 2, "a.csv", "C3"), toy("ITA", 2021, 8, "c.csv", "C2")}

	check := func(s *Store, want []toyScore, when string) {
		t.Helper()
		fresh, err := OpenReadOnly(dir, quiet, WithDomains(domains))
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range []*Store{s, fresh} {
			cur, err := st.Current(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := toys(cur); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: current toy records\n%v\nwant\n%v", when, got, want)
			}
			if len(cur.Ratifications) != 1 {
				t.Errorf("%s: the pledge domain's records beside it: %v", when, cur.Ratifications)
			}
			totals, err := st.Totals(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if totals[toyDomain] != len(want) {
				t.Errorf("%s: totals %v, want %d toy records", when, totals, len(want))
			}
			tables, err := st.Tables(ctx, memory.NewGoAllocator(), names, "toy-names", nil)
			if err != nil {
				t.Fatal(err)
			}
			table := tables.Table(toyDomain)
			if table == nil {
				t.Fatalf("%s: no toy table", when)
			}
			got, err := toyDescriptorRead(table)
			tables.Release()
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: toy table %v (%v), want %v", when, got, err, want)
			}
		}
	}
	check(s, want, "after a group")

	// Compacted, reopened, one more submission on top of the snapshot.
	if err := compactNamed(s, "toy-names"); err != nil {
		t.Fatal(err)
	}
	s = open()
	tables, err := s.Tables(ctx, memory.NewGoAllocator(), names, "toy-names", nil)
	if err != nil {
		t.Fatal(err)
	}
	tables.Release()
	if n := s.submissionsRead.Load(); n != 0 {
		t.Errorf("the snapshot holds every domain, yet the build read %d submissions", n)
	}
	check(s, want, "from the snapshot")
	if _, err := s.Accept(ctx, Entry{File: "d.csv", SHA256: sha('d')}, toySet(toy("DEU", 2020, 9, "d.csv", "C2")), nil, names); err != nil {
		t.Fatal(err)
	}
	want[1] = toy("DEU", 2020, 9, "d.csv", "C2")
	check(s, want, "a submission after the snapshot")

	revs, err := s.History(ctx, Filter{Area: "DEU"})
	if err != nil {
		t.Fatal(err)
	}
	var scores []string
	for _, r := range revs {
		if r.Domain == toyDomain {
			scores = append(scores, fmt.Sprintf("%s %s %v %v", r.Key, r.Cell, r.Values["score"], r.Current))
		}
	}
	if want := []string{"DEU|2020 !C3 2 false", "DEU|2020 !C2 9 true"}; !reflect.DeepEqual(scores, want) {
		t.Errorf("history of DEU's toy score = %v, want %v", scores, want)
	}

	// Withdrawing the group's first submission brings FRA's first score
	// back, and ITA's stays the third's.
	if err := s.Record(Entry{Event: EventWithdrawn, Seq: p2.Entry().Seq}); err != nil {
		t.Fatal(err)
	}
	want[0] = toy("FRA", 2020, 1, "a.csv", "C2")
	check(s, want, "after a withdrawal")

	// A set without toy records, and one whose Others was copied, are
	// values: writing one does not change the other.
	a := toySet(toyScore{Area: "X"})
	b := a
	toyDescriptor().AppendOne(&b, toySet(toyScore{Area: "Y"}), 0)
	if len(toys(a)) != 1 || len(toys(b)) != 2 {
		t.Errorf("a copy of a set changed the original: %v, %v", toys(a), toys(b))
	}
}

func toyDescriptorRead(b arrow.RecordBatch) ([]toyScore, error) {
	var s records.Set
	if err := toyDescriptor().Append(&s, b); err != nil {
		return nil, err
	}
	return toys(s), nil
}

// compactNamed compacts the store from its current tables, as a build
// does.
func compactNamed(s *Store, namesID string) error {
	ctx := context.Background()
	tables, err := s.Tables(ctx, s.mem, names, namesID, nil)
	if err != nil {
		return err
	}
	defer tables.Release()
	return s.Compact(ctx, tables, namesID)
}
