package records

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol/arrowcoltest"
)

func sampleProvenance(cell string) Provenance {
	return Provenance{File: "in.xlsx", Sheet: "Data", Cell: cell, SHA256: "abc"}
}

func nameOf(code string) string { return "Name of " + code }

func TestRatificationRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	poison := arrowcoltest.Poisoning(mem)
	in := []Ratification{
		{Country: "FRA", Instrument: "C097", RatificationDate: DateOf(1954, time.March, 29), Status: "in_force", Source: sampleProvenance("A2"), DateCell: "C2"},
		{Country: "KEN", Instrument: "C097", RatificationDate: DateOf(1965, time.January, 30), Status: "denounced",
			Denunciation: OptionalDate{Date: DateOf(1980, time.May, 1), Valid: true}, Note: "n", Source: sampleProvenance("A3"), DateCell: "C3", DenunciationCell: "E3"},
	}
	b := NewRatificationBatch(poison, in, nameOf)
	if b.NumRows() != 2 || !b.Schema().Equal(RatificationSchema) {
		t.Fatalf("batch = %v", b)
	}
	out, err := RatificationsOf(b)
	b.Release() // poisoned: the records must hold copies
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n%+v\n%+v", in, out)
	}
}

func TestCoverageRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	poison := arrowcoltest.Poisoning(mem)
	in := []CoverageObservation{
		{Area: "FRA", Year: 2020, Series: "SOC_CONTIG_TOTAL", Sex: "T", Population: "total", Value: 45.5, Source: sampleProvenance("A2"), ValueCell: "C2"},
		{Area: "X01", Year: 2021, Series: "SOC_CONTIG_MAT", Sex: "F", Population: "migrants", Value: 0, ObsStatus: "B", SourceNote: "s", Note: "n", Source: sampleProvenance("A3"), ValueCell: "C3"},
	}
	b := NewCoverageBatch(poison, in, nameOf)
	out, err := CoverageOf(b)
	b.Release() // poisoned: the records must hold copies
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n%+v\n%+v", in, out)
	}
}

// The batch of several slices is the batch of their join, however they
// are cut (empty slices included).
func TestCoverageBatchOfParts(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var all []CoverageObservation
	for i := range 10 {
		all = append(all, CoverageObservation{Area: "A" + strconv.Itoa(i), Year: 2000 + i, Series: "S", Sex: "T", Population: "total", Value: float64(i), Source: sampleProvenance("A" + strconv.Itoa(i+2)), ValueCell: "C2"})
	}
	want := NewCoverageBatch(mem, all, nameOf)
	defer want.Release()
	for _, cuts := range [][]int{{}, {0}, {10}, {3}, {3, 3}, {0, 4, 9}, {1, 2, 3, 4, 5, 6, 7, 8, 9}} {
		var parts [][]CoverageObservation
		from := 0
		for _, c := range append(cuts, 10) {
			parts = append(parts, all[from:c])
			from = c
		}
		got := NewCoverageBatchOf(mem, parts, nameOf)
		if !array.RecordEqual(got, want) {
			t.Errorf("cut at %v: %v, want %v", cuts, got, want)
		}
		got.Release()
	}
}

func TestAgreementRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	poison := arrowcoltest.Poisoning(mem)
	flags := make([]string, len(provisionFlags))
	for i := range flags {
		flags[i] = []string{FlagYes, FlagNo, FlagPartial, FlagUnknown}[i%4]
	}
	in := []Agreement{
		{AgreementID: "A1", Title: "T", Type: "BLA", Origin: "PHL", Destination: "DEU", Parties: []string{"DEU", "PHL"},
			Signed: PartialDate{Year: 2013, Date: DateOf(2013, time.March, 19), HasDay: true}, End: PartialDate{Year: 2020},
			Status: "in_force", Sectors: "health", Provisions: flags, Source: sampleProvenance("A2")},
		{Title: "U", Type: "REGIONAL_FRAMEWORK", Parties: []string{"KOR", "LKA", "NPL"}, Status: StatusNegotiating,
			Provisions: flags, Source: sampleProvenance("A3")},
	}
	b := NewAgreementBatch(poison, in, nameOf)
	out, err := AgreementsOf(b)
	b.Release() // poisoned: the records must hold copies
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n%+v\n%+v", in, out)
	}
}

func TestRatifiedAt(t *testing.T) {
	r := Ratification{RatificationDate: DateOf(2015, time.December, 31), Denunciation: OptionalDate{Date: DateOf(2019, time.January, 1), Valid: true}}
	for y, want := range map[int]bool{2014: false, 2015: true, 2018: true, 2019: false, 2020: false} {
		if got := r.RatifiedAt(y); got != want {
			t.Errorf("RatifiedAt(%d) = %v, want %v", y, got, want)
		}
	}
}

func TestAgreementKey(t *testing.T) {
	a := Agreement{Type: "BLA", Parties: []string{"PHL", "DEU"}, Signed: PartialDate{Year: 2013}}
	b := Agreement{Type: "BLA", Parties: []string{"DEU", "PHL"}, Signed: PartialDate{Year: 2013, HasDay: true}}
	if a.Key() != b.Key() {
		t.Errorf("keys differ: %s %s", a.Key(), b.Key())
	}
	if (Agreement{AgreementID: " bla-1 "}).Key() != (Agreement{AgreementID: "BLA-1"}).Key() {
		t.Error("agreement ids must match regardless of case and spaces")
	}
}

// Record keys are kept as hashes beside the store's snapshot, so their
// text must not change from one version to the next.
func TestKeysAreStable(t *testing.T) {
	tests := []struct{ got, want string }{
		{Ratification{Country: "FRA", Instrument: "C097"}.Key(), "FRA|C097"},
		{CoverageObservation{Area: "FRA", Year: 2020, Series: "SOC_CONTIG_TOTAL", Sex: "T", Population: "total"}.Key(), "FRA|2020|SOC_CONTIG_TOTAL|T|total"},
		{Agreement{AgreementID: " BLA  1 "}.Key(), "id|bla 1"},
		{Agreement{Type: "MOU", Parties: []string{"PHL", "DEU"}, Signed: PartialDate{Year: 2013}}.Key(), "auto|MOU|DEU;PHL|2013"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("key %q, want %q", tt.got, tt.want)
		}
	}
}

// KeysOf reads from a table the key of the record each row was built from.
func TestKeysOfTables(t *testing.T) {
	mem := memory.NewGoAllocator()
	name := func(c string) string { return c }
	set := Set{
		Ratifications: []Ratification{{Country: "FRA", Instrument: "C097"}, {Country: "KEN", Instrument: "C143"}},
		Coverage:      []CoverageObservation{{Area: "FRA", Year: 2020, Series: "S", Sex: "T", Population: "total"}, {Area: "X01", Year: 2019, Series: "S", Sex: "F", Population: "migrants"}},
		Agreements: []Agreement{{AgreementID: "Id-1", Type: "BLA", Parties: []string{"FRA", "MAR"}},
			{Type: "MOU", Parties: []string{"PHL", "DEU"}, Signed: PartialDate{Year: 2013}}, {Type: "MOU", Parties: []string{"PHL", "DEU"}}},
	}
	for i := range set.Agreements {
		set.Agreements[i].Provisions = make([]string, len(provisionFlags))
		for j := range set.Agreements[i].Provisions {
			set.Agreements[i].Provisions[j] = FlagUnknown
		}
	}
	for _, desc := range Descriptors() {
		d := desc.Domain
		b := desc.Batch(mem, set, name)
		keys, err := KeysOf(d, b)
		b.Release()
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		switch d {
		case DomainRatification:
			for _, r := range set.Ratifications {
				want = append(want, r.Key())
			}
		case DomainSocialProtection:
			for _, o := range set.Coverage {
				want = append(want, o.Key())
			}
		default:
			for _, a := range set.Agreements {
				want = append(want, a.Key())
			}
		}
		if !slices.Equal(keys, want) {
			t.Errorf("%s: KeysOf %q, want %q", d, keys, want)
		}
	}
	b := Descriptors()[0].Batch(mem, set, name)
	defer b.Release()
	if _, err := KeysOf("other", b); err == nil || !strings.Contains(err.Error(), `unknown domain "other"`) {
		t.Errorf("an unknown domain gives keys, or an error not naming it: %v", err)
	}
}

// BenchmarkCoverageBatch builds the Arrow batch of a spill chunk (16k
// observations): the cost every large social-protection file pays per
// row before Parquet encoding.
func BenchmarkCoverageBatch(b *testing.B) {
	obs := make([]CoverageObservation, 16<<10)
	for i := range obs {
		obs[i] = CoverageObservation{Area: "FRA", Year: 2000 + i%25, Series: "SP_COV", Sex: "F", Population: "total",
			Value: 0.5, Source: sampleProvenance("C" + strconv.Itoa(i+2)), ValueCell: "D" + strconv.Itoa(i+2)}
	}
	// Names are looked up as the pipeline does (a map), not made.
	names := map[string]string{"FRA": nameOf("FRA")}
	name := func(code string) string { return names[code] }
	mem := memory.NewGoAllocator()
	b.ReportAllocs()
	for b.Loop() {
		NewCoverageBatch(mem, obs, name).Release()
	}
}

// TestCoverageBatchLooksNamesUpOnce: an area's name is asked once a batch,
// however its rows alternate, and each row gets its own area's name.
func TestCoverageBatchLooksNamesUpOnce(t *testing.T) {
	areas := []string{"FRA", "DEU", "X01"}
	var obs []CoverageObservation
	for i := range 300 {
		obs = append(obs, CoverageObservation{Area: areas[i%3], Year: 2000 + i, Series: "S", Sex: "T", Population: "total"})
	}
	asked := map[string]int{}
	name := func(code string) string { asked[code]++; return "name of " + code }
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := NewCoverageBatchOf(mem, [][]CoverageObservation{obs[:100], obs[100:]}, name)
	defer b.Release()
	names := b.Column(1).(*array.String)
	for i := range obs {
		if got, want := names.Value(i), "name of "+areas[i%3]; got != want {
			t.Fatalf("row %d: area name %q, want %q", i, got, want)
		}
	}
	for _, a := range areas {
		if asked[a] != 1 {
			t.Errorf("the name of %s was asked %d times, want once", a, asked[a])
		}
	}
}
