package refdata

import (
	"strings"
	"testing"
)

func mustLoad(t testing.TB) *Reference {
	t.Helper()
	ref, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return ref
}

// The ILO has 187 member States; ILOSTAT's regions hold 54 of them in
// Africa, 35 in the Americas, 11 in the Arab States, 36 in Asia and the
// Pacific and 51 in Europe and Central Asia (ILO "Alphabetical list of ILO
// member countries", ILOSTAT regional classification; see countries.csv).
func TestMemberCounts(t *testing.T) {
	c := mustLoad(t).Countries()
	if got := len(c.Members()); got != 187 {
		t.Errorf("ILO member States = %d, want 187", got)
	}
	want := map[string]int{"X01": 187, "X06": 54, "X21": 35, "X36": 11, "X40": 36, "X60": 51}
	for area, n := range want {
		if got := c.MemberCount(area); got != n {
			t.Errorf("members in %s = %d, want %d", area, got, n)
		}
	}
	un := 0
	for _, ct := range c.All() {
		if ct.UNMember {
			un++
		}
	}
	if un != 193 {
		t.Errorf("UN Member States = %d, want 193", un)
	}
}

func TestMembershipEdgeCases(t *testing.T) {
	c := mustLoad(t).Countries()
	tests := []struct {
		iso3   string
		member bool
		region string
	}{
		{"XKX", false, "X60"},
		{"PSE", false, "X36"},
		{"COK", true, "X40"},
		{"AND", false, "X60"},
		{"PRK", false, "X40"},
		{"EGY", true, "X06"},
		{"MAR", true, "X06"},
		{"SDN", true, "X06"},
		{"SAU", true, "X36"},
		{"CYP", true, "X60"},
		{"ISR", true, "X60"},
		{"TUR", true, "X60"},
		{"KAZ", true, "X60"},
		{"TON", true, "X40"},
		{"USA", true, "X21"},
	}
	for _, tt := range tests {
		ct, ok := c.ByISO3(tt.iso3)
		if !ok {
			t.Errorf("%s missing", tt.iso3)
			continue
		}
		if ct.ILOMember != tt.member || ct.Region != tt.region {
			t.Errorf("%s: member=%v region=%s, want member=%v region=%s", tt.iso3, ct.ILOMember, ct.Region, tt.member, tt.region)
		}
	}
}

func TestCountryLookup(t *testing.T) {
	c := mustLoad(t).Countries()
	tests := []struct{ in, want string }{
		{"CIV", "CIV"}, {"Côte d’Ivoire", "CIV"}, {"Cote d'Ivoire", "CIV"}, {"Ivory Coast", "CIV"},
		{"Türkiye", "TUR"}, {"Turkey", "TUR"}, {"Viet Nam", "VNM"}, {"Vietnam", "VNM"},
		{"Bolivia (Plurinational State of)", "BOL"}, {"Bolivia", "BOL"},
		{"Korea, Republic of", "KOR"}, {"Republic of Korea", "KOR"}, {"South Korea", "KOR"},
		{"XKX", "XKX"}, {"XK", "XKX"}, {"KOS", "XKX"}, {"XKS", "XKX"}, {"Kosovo", "XKX"},
		{"NA", "NAM"}, {"na", "NAM"}, {"Namibia", "NAM"},
		{"Allemagne", "DEU"}, {"Alemania", "DEU"}, {"  FRANCE ", "FRA"},
		{"Congo", "COG"}, {"DRC", "COD"},
		{"République de Corée", "KOR"}, {"Estados Unidos", "USA"},
	}
	for _, tt := range tests {
		got, ok := c.Lookup(tt.in)
		if !ok || got.ISO3 != tt.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tt.in, got.ISO3, ok, tt.want)
		}
	}
	for _, bad := range []string{"", "Atlantis", "Korea, Democratic", "X06"} {
		if got, ok := c.Lookup(bad); ok {
			t.Errorf("Lookup(%q) = %s, want no match", bad, got.ISO3)
		}
	}
}

func TestRegionLookup(t *testing.T) {
	c := mustLoad(t).Countries()
	for in, want := range map[string]string{"X01": "X01", "World": "X01", "x06": "X06", "Arab States": "X36", "Europe and Central Asia": "X60"} {
		got, ok := c.LookupRegion(in)
		if !ok || got.Code != want {
			t.Errorf("LookupRegion(%q) = %q, %v; want %q", in, got.Code, ok, want)
		}
	}
}

func TestSuggest(t *testing.T) {
	c := mustLoad(t).Countries()
	got := c.Suggest("Frnace", 3)
	if len(got) == 0 || !strings.Contains(got[0], "FRA") {
		t.Errorf("Suggest(Frnace) = %q, want France first", got)
	}
	if got := c.Suggest("qqqqqqqqqqqqqqqqqqqq", 3); len(got) != 0 {
		t.Errorf("Suggest(nonsense) = %q, want nothing", got)
	}
}

func TestInstrumentLookup(t *testing.T) {
	in := mustLoad(t).Instruments()
	tests := []struct {
		text string
		want string
	}{
		{"C097", "C097"}, {"C97", "C097"}, {"C 97", "C097"}, {"C.97", "C097"}, {"No. 97", "C097"},
		{"97", "C097"}, {"97.0", "C097"}, {"Convention 97", "C097"}, {"Convenio 97", "C097"},
		{"Migration for Employment Convention (Revised), 1949 (No. 97)", "C097"},
		{"Some retyped title (No. 189)", "C189"},
		{"Convention sur les travailleuses et travailleurs domestiques, 2011 (n° 189)", "C189"},
		{"Convenio sobre las trabajadoras y los trabajadores domésticos, 2011 (núm. 189)", "C189"},
		{"P029", "P029"}, {"P29", "P029"}, {"Protocol of 2014 to the Forced Labour Convention", "P029"},
		{"Protocol of 2014 to the Forced Labour Convention, 1930", "P029"},
		{"c144", "C144"},
	}
	for _, tt := range tests {
		q := in.Lookup(tt.text)
		if !q.Found || q.Instrument.Code != tt.want {
			t.Errorf("Lookup(%q) = %+v, want %s", tt.text, q, tt.want)
		}
	}
	for _, text := range []string{"C999", "No. 500", "P030"} {
		q := in.Lookup(text)
		if q.Found || q.Number == 0 {
			t.Errorf("Lookup(%q) = %+v, want an unknown number", text, q)
		}
	}
	if q := in.Lookup("banana"); q.Found || q.Number != 0 {
		t.Errorf("Lookup(banana) = %+v, want nothing", q)
	}
}

func TestCatalog(t *testing.T) {
	cat := mustLoad(t).Catalog()
	if len(cat.Indicators) != 31 {
		t.Errorf("catalog has %d indicators, want 31", len(cat.Indicators))
	}
	if cat.Version != "1" {
		t.Errorf("catalog version = %q, want 1", cat.Version)
	}
	ind, ok := cat.Indicator("P5.1")
	if !ok || ind.Instruments[0] != "C189" || ind.Unit != UnitCount {
		t.Errorf("P5.1 = %+v", ind)
	}
	for _, code := range cat.InstrumentsUsed() {
		if _, ok := mustLoad(t).Instruments().ByCode(code); !ok {
			t.Errorf("catalog names unknown instrument %s", code)
		}
	}
}

func TestSources(t *testing.T) {
	for _, s := range mustLoad(t).Sources() {
		if s.Source == "" || s.AsOf == "" {
			t.Errorf("%s has no source or as-of date", s.File)
		}
	}
}

func TestLookupAmpersand(t *testing.T) {
	c := mustLoad(t).Countries()
	for in, want := range map[string]string{"Saint Vincent & the Grenadines": "VCT", "Trinidad & Tobago": "TTO", "Bosnia & Herzegovina": "BIH"} {
		if got, ok := c.Lookup(in); !ok || got.ISO3 != want {
			t.Errorf("Lookup(%q) = %s, %v; want %s", in, got.ISO3, ok, want)
		}
	}
}

func TestSuggestionsAreClose(t *testing.T) {
	c := mustLoad(t).Countries()
	for _, in := range []string{"=1+2", "Republic of", "Atlantis"} {
		for _, s := range c.Suggest(in, 3) {
			t.Logf("Suggest(%q) gives %s", in, s)
		}
	}
	if got := c.Suggest("=1+2", 3); len(got) != 0 {
		t.Errorf("Suggest(=1+2) = %v, want none", got)
	}
	if got := c.Suggest("Germny", 3); len(got) == 0 || !strings.Contains(got[0], "DEU") {
		t.Errorf("Suggest(Germny) = %v", got)
	}
	if got := c.Suggest("Philipines", 3); len(got) == 0 || !strings.Contains(got[0], "PHL") {
		t.Errorf("Suggest(Philipines) = %v", got)
	}
}
