package records

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Every descriptor is complete and its parts agree: the table it builds
// has its schema, reads back into the same records, slices and counts
// what the set holds; no two domains share a name or a template name.
func TestDescriptorsAreComplete(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	name := func(c string) string { return "Name of " + c }
	flags := make([]string, len(provisionFlags))
	for i := range flags {
		flags[i] = FlagUnknown
	}
	set := Set{
		Ratifications: []Ratification{{Country: "FRA", Instrument: "C097", Source: sampleProvenance("A2"), DateCell: "C2"}, {Country: "KEN", Instrument: "C143", Source: sampleProvenance("A3"), DateCell: "C3"}},
		Coverage:      []CoverageObservation{{Area: "FRA", Year: 2020, Series: "S", Sex: "T", Population: "total", Source: sampleProvenance("A2"), ValueCell: "C2"}},
		Agreements:    []Agreement{{Title: "T", Type: "BLA", Parties: []string{"FRA", "MAR"}, Provisions: flags, Source: sampleProvenance("A2")}},
	}
	seen := map[string]bool{}
	total := 0
	for _, d := range Descriptors() {
		for _, n := range []string{"domain " + string(d.Domain), "template " + d.TemplateName} {
			if seen[n] {
				t.Errorf("two domains have the %s", n)
			}
			seen[n] = true
		}
		if d.Domain == "" || d.Noun == "" || d.TemplateName == "" || d.Schema == nil || d.Keys == nil {
			t.Fatalf("descriptor %q is incomplete: %+v", d.Domain, d)
		}
		n := d.Count(set)
		total += n
		if n == 0 {
			t.Fatalf("%s: the sample set has none of its records", d.Domain)
		}
		b := d.Batch(mem, set, name)
		if !b.Schema().Equal(d.Schema) || b.NumRows() != int64(n) {
			t.Errorf("%s: Batch gives %d rows of %v, want %d of its schema", d.Domain, b.NumRows(), b.Schema(), n)
		}
		var back Set
		if err := d.Append(&back, b); err != nil {
			t.Fatal(err)
		}
		b.Release()
		if !reflect.DeepEqual(d.Slice(back, 0, n), d.Slice(set, 0, n)) || back.Len() != n {
			t.Errorf("%s: the table does not read back into its records", d.Domain)
		}
		if d.Count(d.Slice(set, 1, n)) != n-1 {
			t.Errorf("%s: Slice(1, n) does not hold n-1 records", d.Domain)
		}
	}
	if total != set.Len() {
		t.Errorf("the descriptors count %d records, the set holds %d", total, set.Len())
	}
}

func TestUnknownDomainIsAnError(t *testing.T) {
	if _, err := Describe("ilo_offices"); err == nil || !strings.Contains(err.Error(), `unknown domain "ilo_offices"`) || !strings.Contains(err.Error(), "ratification, social_protection, blma") {
		t.Errorf("Describe of an unknown domain: %v", err)
	}
	if _, err := SchemaOf("ilo_offices"); err == nil {
		t.Error("SchemaOf of an unknown domain gives a schema")
	}
}

// A set's records of an added domain are counted and cloned like the
// pledge's.
func TestSetCountsAndClonesOtherDomains(t *testing.T) {
	s := Set{Ratifications: []Ratification{{Country: "FRA"}}, Others: map[Domain]any{"toy": []int{1, 2, 3}}}
	if s.Len() != 4 || s.Rows()["toy"] != 3 || s.Rows()[DomainRatification] != 1 {
		t.Errorf("len %d, rows %v", s.Len(), s.Rows())
	}
	c := s.Clone()
	c.Others["toy"].([]int)[0] = 9
	if s.Others["toy"].([]int)[0] != 1 {
		t.Error("a clone shares an added domain's records")
	}
}

// TestAppendAllGrowsOnce: the records of several sets are appended in
// order into one slice made at its size.
func TestAppendAllGrowsOnce(t *testing.T) {
	obs := func(area string, n int) Set {
		var s Set
		for i := range n {
			s.Coverage = append(s.Coverage, CoverageObservation{Area: area, Year: 2000 + i})
		}
		return s
	}
	desc := Descriptors()[slices.IndexFunc(Descriptors(), func(d Descriptor) bool { return d.Domain == DomainSocialProtection })]
	var all Set
	desc.AppendAll(&all, obs("FRA", 5), obs("DEU", 0), obs("ITA", 1), obs("ESP", 1))
	if len(all.Coverage) != 7 || cap(all.Coverage) != 7 {
		t.Fatalf("%d records in room for %d, want 7 in 7", len(all.Coverage), cap(all.Coverage))
	}
	for i, want := range []string{"FRA", "FRA", "FRA", "FRA", "FRA", "ITA", "ESP"} {
		if all.Coverage[i].Area != want {
			t.Errorf("record %d is of %s, want %s", i, all.Coverage[i].Area, want)
		}
	}
}
