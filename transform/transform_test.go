package transform

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
)

var testRef = func() *refdata.Reference {
	r, err := refdata.Load()
	if err != nil {
		panic(err)
	}
	return r
}()

func nameOf(code string) string { return code }

func prov(row int) records.Provenance {
	return records.Provenance{File: "f.xlsx", Sheet: "S", Cell: fmt.Sprintf("A%d", row), SHA256: "x"}
}

func rat(country, inst string, y, m, d int, denounced ...int) records.Ratification {
	r := records.Ratification{Country: country, Instrument: inst, RatificationDate: records.DateOf(y, time.Month(m), d), Source: prov(2), DateCell: "C2"}
	if len(denounced) == 3 {
		r.Denunciation = records.OptionalDate{Date: records.DateOf(denounced[0], time.Month(denounced[1]), denounced[2]), Valid: true}
		r.DenunciationCell = "E2"
	}
	return r
}

// compute runs Compute on records through real Arrow tables, checking that
// every buffer is released.
func compute(t *testing.T, set records.Set, opts Options) map[string]Observation {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	in := Inputs{
		Ratification:     records.NewRatificationBatch(mem, set.Ratifications, nameOf),
		SocialProtection: records.NewCoverageBatch(mem, set.Coverage, nameOf),
		BLMA:             records.NewAgreementBatch(mem, set.Agreements, nameOf),
	}
	defer in.Ratification.Release()
	defer in.SocialProtection.Release()
	defer in.BLMA.Release()
	res, err := Compute(context.Background(), testRef, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Tables of the columns Columns names give the same result: a build
	// reads no more of the tables it publishes as they are.
	cols := Columns()
	projected := Inputs{
		Ratification:     project(t, in.Ratification, cols[records.DomainRatification]),
		SocialProtection: project(t, in.SocialProtection, cols[records.DomainSocialProtection]),
		BLMA:             project(t, in.BLMA, cols[records.DomainBLMA]),
	}
	defer projected.Ratification.Release()
	defer projected.SocialProtection.Release()
	defer projected.BLMA.Release()
	again, err := Compute(context.Background(), testRef, projected, opts)
	if err != nil {
		t.Fatalf("compute from the columns Columns names: %v", err)
	}
	if !reflect.DeepEqual(again.Observations, res.Observations) {
		t.Fatalf("compute from the columns Columns names differs: %d observations, want %d", len(again.Observations), len(res.Observations))
	}
	// Each domain skipped, its table holding only YearColumns: the others'
	// observations, in the same order, over the same window.
	for _, d := range records.Domains() {
		in := projected
		skipped := project(t, map[records.Domain]arrow.RecordBatch{
			records.DomainRatification: in.Ratification, records.DomainSocialProtection: in.SocialProtection, records.DomainBLMA: in.BLMA,
		}[d], YearColumns(d))
		switch d {
		case records.DomainRatification:
			in.Ratification = skipped
		case records.DomainSocialProtection:
			in.SocialProtection = skipped
		case records.DomainBLMA:
			in.BLMA = skipped
		}
		part, err := Compute(context.Background(), testRef, in, Options{FirstYear: opts.FirstYear, LastYear: opts.LastYear, MaxYear: opts.MaxYear, Skip: []records.Domain{d}})
		skipped.Release()
		if err != nil {
			t.Fatalf("compute skipping %s: %v", d, err)
		}
		var want []Observation
		for _, o := range res.Observations {
			ind, _ := testRef.Catalog().Indicator(o.IndicatorID)
			if IndicatorDomain(ind) != d {
				want = append(want, o)
			}
		}
		same := len(part.Observations) == 0 && len(want) == 0 || reflect.DeepEqual(part.Observations, want)
		if !same || part.FirstYear != res.FirstYear || part.LastYear != res.LastYear {
			t.Fatalf("compute skipping %s: %d observations over %d-%d, want the %d of the other domains over %d-%d",
				d, len(part.Observations), part.FirstYear, part.LastYear, len(want), res.FirstYear, res.LastYear)
		}
	}
	b := res.RecordBatch(mem, map[string]string{"k": "v"})
	if int(b.NumRows()) != len(res.Observations) {
		t.Errorf("batch has %d rows, want %d", b.NumRows(), len(res.Observations))
	}
	b.Release()
	out := map[string]Observation{}
	for _, o := range res.Observations {
		k := fmt.Sprintf("%s %s %d %s %s", o.IndicatorID, o.RefArea, o.TimePeriod, o.Sex, o.Instrument)
		if _, dup := out[k]; dup {
			t.Fatalf("duplicate observation %s", k)
		}
		out[k] = o
	}
	return out
}

// project is b with the named columns only.
func project(t *testing.T, b arrow.RecordBatch, names []string) arrow.RecordBatch {
	t.Helper()
	var fields []arrow.Field
	var cols []arrow.Array
	for _, n := range names {
		idx := b.Schema().FieldIndices(n)
		if len(idx) != 1 {
			t.Fatalf("Columns names %q, which the table does not have", n)
		}
		fields = append(fields, b.Schema().Field(idx[0]))
		cols = append(cols, b.Column(idx[0]))
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, b.NumRows())
}

// expect checks one observation: present with value want, or absent. It
// returns the observation when it is there and expected.
func expect(t *testing.T, obs map[string]Observation, key string, want float64, absent bool) (Observation, bool) {
	t.Helper()
	o, ok := obs[key]
	switch {
	case absent && ok:
		t.Errorf("%s present: %+v", key, o)
		return o, false
	case absent:
		return o, false
	case !ok:
		t.Errorf("%s missing", key)
		return o, false
	case o.Value != want:
		t.Errorf("%s = %v, want %v", key, o.Value, want)
	}
	return o, true
}

func value(t *testing.T, obs map[string]Observation, key string) (float64, bool) {
	t.Helper()
	o, ok := obs[key]
	return o.Value, ok
}

// A denunciation that takes effect on 31 December Y counts at the end of
// Y: the State has not ratified at the end of Y (indicators.md); a
// ratification registered on 31 December Y counts for Y.
func TestLastDayOfTheYear(t *testing.T) {
	obs := compute(t, records.Set{Ratifications: []records.Ratification{
		rat("ITA", "C097", 1960, 1, 1, 2019, 12, 31),
		rat("ESP", "C097", 2019, 12, 31),
	}}, Options{FirstYear: 2018, LastYear: 2020})
	expect(t, obs, "C1.1 ITA 2018 T C097", 1, false)
	expect(t, obs, "C1.1 ITA 2019 T C097", 0, false)
	expect(t, obs, "C1.1 ESP 2018 T C097", 0, false)
	expect(t, obs, "C1.1 ESP 2019 T C097", 1, false)
	expect(t, obs, "C1.1 X01 2019 T C097", 1, false)
}

func TestRatificationIndicators(t *testing.T) {
	set := records.Set{Ratifications: []records.Ratification{
		rat("FRA", "C097", 1954, 3, 29),
		rat("PHL", "C097", 2009, 4, 21),
		rat("KEN", "C097", 1965, 1, 30, 2019, 6, 30), // denounced in 2019
		rat("DZA", "C097", 2020, 12, 31),             // counts at end of 2020
		rat("FRA", "C087", 1951, 6, 28), rat("FRA", "C098", 1951, 10, 26),
		rat("DEU", "C087", 1957, 3, 20), // C098 missing for DEU
		rat("URY", "C189", 2012, 6, 14),
	}}
	obs := compute(t, set, Options{FirstYear: 2018, LastYear: 2020})
	tests := []struct {
		key        string
		want       float64
		num, den   float64 // 0 den: numerator and denominator must be empty
		wantAbsent bool
	}{
		{key: "C1.1 X01 2018 T C097", want: 3, num: 3, den: 187},
		{key: "C1.1 X01 2019 T C097", want: 2, num: 2, den: 187}, // KEN denounced
		{key: "C1.1 X01 2020 T C097", want: 3, num: 3, den: 187}, // DZA on 31 Dec
		{key: "C1.1 X06 2018 T C097", want: 1, num: 1, den: 54},
		{key: "C1.1 X06 2020 T C097", want: 1, num: 1, den: 54}, // DZA in, KEN out
		{key: "C1.1 X60 2020 T C097", want: 1, num: 1, den: 51},
		{key: "C1.1 X36 2020 T C097", want: 0, num: 0, den: 11},
		{key: "C1.1 KEN 2018 T C097", want: 1},
		{key: "C1.1 KEN 2019 T C097", want: 0},
		{key: "C1.1 DZA 2019 T C097", want: 0},
		{key: "C1.1 USA 2020 T C097", want: 0},          // member State without a row
		{key: "C1.1 XKX 2020 T C097", wantAbsent: true}, // Kosovo is not a member
		{key: "C1.1 X01 2020 T C143", wantAbsent: true}, // instrument absent from the store
		{key: "C2.2 X01 2020 T ", want: 1, num: 1, den: 187},
		{key: "C2.2 FRA 2020 T ", want: 1},
		{key: "C2.2 DEU 2020 T ", want: 0},
		{key: "P5.1 URY 2020 T C189", want: 1},
		{key: "P5.1 X21 2020 T C189", want: 1, num: 1, den: 35},
		{key: "P1.1 X01 2020 T C181", wantAbsent: true},
		{key: "C1.1 X01 2021 T C097", wantAbsent: true}, // outside the window
	}
	for _, tt := range tests {
		o, ok := expect(t, obs, tt.key, tt.want, tt.wantAbsent)
		if !ok {
			continue
		}
		if tt.den == 0 && (o.Numerator != nil || o.Denominator != nil) {
			t.Errorf("%s: country rows have no numerator/denominator", tt.key)
		}
		if tt.den != 0 && (o.Numerator == nil || *o.Numerator != tt.num || o.Denominator == nil || *o.Denominator != tt.den) {
			t.Errorf("%s: numerator/denominator = %v/%v, want %v/%v", tt.key, o.Numerator, o.Denominator, tt.num, tt.den)
		}
	}
	// Every member State has a row per year and instrument, the world and
	// five regions too: (187 + 6) × 3 years.
	n := 0
	for k := range obs {
		if strings.HasPrefix(k, "C1.1 ") {
			n++
		}
	}
	if n != 193*3 {
		t.Errorf("C1.1 has %d rows, want %d", n, 193*3)
	}
	if o := obs["C1.1 KEN 2019 T C097"]; o.Sources != "f.xlsx!S!C2;f.xlsx!S!E2" || o.Unit != "count" || o.Pledge != "C1" {
		t.Errorf("KEN row = %+v", o)
	}
}

func agreement(id, typ string, parties []string, signed, end int, status string, flags map[string]string) records.Agreement {
	a := records.Agreement{AgreementID: id, Title: id, Type: typ, Parties: parties, Status: status, Source: prov(3),
		Signed: records.PartialDate{Year: signed}, End: records.PartialDate{Year: end}}
	for _, f := range records.ProvisionFlags() {
		v := flags[f]
		if v == "" {
			v = records.FlagUnknown
		}
		a.Provisions = append(a.Provisions, v)
	}
	return a
}

func TestAgreementIndicators(t *testing.T) {
	set := records.Set{Agreements: []records.Agreement{
		agreement("a", "BLA", []string{"DEU", "PHL"}, 2013, 0, "in_force", map[string]string{"fair_recruitment": "yes", "gender": "no"}),
		agreement("b", "MOU", []string{"PHL", "SAU"}, 2018, 2020, "expired", map[string]string{"fair_recruitment": "partial", "gender": "unknown"}),
		agreement("c", "OTHER", []string{"DEU", "XKX"}, 2019, 0, "", map[string]string{"fair_recruitment": "no"}),
		agreement("d", "BLA", []string{"NPL", "QAT"}, 0, 0, "negotiating", map[string]string{"fair_recruitment": "yes"}),
		agreement("e", "SSA", []string{"FRA", "MAR"}, 2007, 0, "in_force", nil),
		agreement("f", "REGIONAL_FRAMEWORK", []string{"KEN", "TZA", "UGA"}, 2020, 0, "signed", nil),
	}}
	obs := compute(t, set, Options{FirstYear: 2019, LastYear: 2021})
	tests := []struct {
		key    string
		want   float64
		absent bool
	}{
		{key: "P4.2 X01 2019 T ", want: 3}, // a, b, c
		{key: "P4.2 X01 2020 T ", want: 2}, // b ended in 2020
		{key: "P4.2 X40 2020 T ", want: 1}, // a (PHL)
		{key: "P4.2 X36 2019 T ", want: 1}, // b (SAU)
		{key: "P4.2 X36 2020 T ", want: 0},
		{key: "P4.2 X60 2019 T ", want: 2},      // a (DEU), c (DEU, XKX)
		{key: "P4.2 XKX 2019 T ", want: 1},      // Kosovo is a party, not a member
		{key: "P4.2 SAU 2021 T ", want: 0},      // party once: a row every year
		{key: "P4.2 NPL 2019 T ", absent: true}, // only negotiating
		{key: "P4.1 X01 2019 T ", want: 1},
		{key: "P4.1 X01 2020 T ", want: 0},
		{key: "P3.5 X01 2021 T ", want: 1},
		{key: "P3.5 MAR 2021 T ", want: 1},
		{key: "P3.5 PHL 2021 T ", absent: true},
		{key: "P7.1 X06 2020 T ", want: 1},
		{key: "P7.1 X06 2019 T ", want: 0},
		// fair_recruitment: 2019 world a yes, b partial, c no → 1/3.
		{key: "P1.3 X01 2019 T ", want: 100.0 / 3},
		{key: "P1.3 X01 2020 T ", want: 50},     // a yes, c no
		{key: "P1.3 X36 2019 T ", want: 0},      // b partial: 0/1
		{key: "P1.3 X36 2020 T ", absent: true}, // no active agreement: no row
		// gender: a no, b unknown (left out), c unknown → 0/1.
		{key: "P5.3 X01 2019 T ", want: 0},
		{key: "P5.3 X06 2019 T ", absent: true},
		{key: "P1.3 PHL 2019 T ", absent: true}, // shares are for world and regions only
	}
	for _, tt := range tests {
		expect(t, obs, tt.key, tt.want, tt.absent)
	}
	if o := obs["P1.3 X01 2019 T "]; *o.Numerator != 1 || *o.Denominator != 3 || o.Unit != "percent" {
		t.Errorf("P1.3 world 2019 = %+v", o)
	}
	if o := obs["P4.2 XKX 2019 T "]; o.Note != refdata.KosovoFootnote || o.Sources != "f.xlsx!S!A3" {
		t.Errorf("Kosovo row = %+v", o)
	}
	if o := obs["P4.2 X01 2019 T "]; o.Numerator != nil || o.Sources != "" {
		t.Errorf("world count row = %+v", o)
	}
}

func cov(area string, year int, series, sex, pop string, v float64) records.CoverageObservation {
	return records.CoverageObservation{Area: area, Year: year, Series: series, Sex: sex, Population: pop, Value: v, Source: prov(4), ValueCell: "C4"}
}

func TestCoverageIndicators(t *testing.T) {
	set := records.Set{Coverage: []records.CoverageObservation{
		cov("FRA", 2020, "SOC_CONTIG_TOTAL", "T", "total", 70.1),
		cov("FRA", 2020, "SOC_CONTIG_TOTAL", "F", "migrants", 55.2),
		cov("FRA", 2020, "SOC_CONTIG_TOTAL", "F", "non_migrants", 70.1),
		cov("FRA", 2020, "SOC_CONTIG_TOTAL", "T", "non_migrants", 71),
		cov("X01", 2020, "SOC_CONTIG_TOTAL", "T", "total", 46.9),
		cov("X06", 2020, "SOC_CONTIG_MAT", "T", "total", 14.9),
		cov("DEU", 2020, "SOC_CONTIG_UNE", "T", "total", 80),
		cov("DEU", 2010, "SOC_CONTIG_UNE", "T", "total", 75), // before first_year
		cov("XKX", 2020, "SOC_CONTIG_TOTAL", "T", "total", 30),
	}}
	obs := compute(t, set, Options{})
	tests := []struct {
		key  string
		want float64
	}{
		{"P3.1 FRA 2020 T ", 70.1}, {"P3.1 X01 2020 T ", 46.9}, {"P3.1 XKX 2020 T ", 30},
		{"P3.2 FRA 2020 F ", 55.2}, {"P3.3 FRA 2020 F ", 14.9},
		{"P5.5 X06 2020 T ", 14.9}, {"P8.3 DEU 2020 T ", 80},
	}
	for _, tt := range tests {
		if v, ok := value(t, obs, tt.key); !ok || v != tt.want {
			t.Errorf("%s = %v (%v), want %v", tt.key, v, ok, tt.want)
		}
	}
	for _, absent := range []string{"P3.3 FRA 2020 T ", "P8.3 DEU 2010 T ", "P3.2 FRA 2020 T "} {
		if _, ok := obs[absent]; ok {
			t.Errorf("%s present", absent)
		}
	}
	if o := obs["P3.1 X01 2020 T "]; o.RefAreaType != refdata.AreaWorld || o.RefAreaName != "World" {
		t.Errorf("world row = %+v", o)
	}
	if o := obs["P5.5 X06 2020 T "]; o.RefAreaType != refdata.AreaRegion || o.Unit != "percent" || o.Sources != "f.xlsx!S!C4" {
		t.Errorf("region row = %+v", o)
	}
	if o := obs["P3.3 FRA 2020 F "]; o.Unit != "percentage_points" || o.Sources != "f.xlsx!S!C4;f.xlsx!S!C4" {
		t.Errorf("gap row = %+v", o)
	}
}

func TestYearsDefaultAndEmpty(t *testing.T) {
	obs := compute(t, records.Set{}, Options{})
	if len(obs) != 0 {
		t.Errorf("an empty store gives %d observations", len(obs))
	}
	set := records.Set{Ratifications: []records.Ratification{rat("FRA", "C189", 2017, 1, 1, 2023, 1, 1)}}
	obs = compute(t, set, Options{})
	if _, ok := obs["P5.1 X01 2023 T C189"]; !ok {
		t.Error("last year should default to the latest year in the records (the denunciation, 2023)")
	}
	if _, ok := obs["P5.1 X01 2015 T C189"]; !ok {
		t.Error("first year should default to 2015")
	}
	if _, ok := obs["P5.1 X01 2024 T C189"]; ok {
		t.Error("no year after the latest in the records")
	}
}

func TestSortOrder(t *testing.T) {
	mem := memory.NewGoAllocator()
	set := records.Set{Ratifications: []records.Ratification{rat("FRA", "C097", 2000, 1, 1), rat("FRA", "C143", 2000, 1, 1)}}
	res, err := Compute(context.Background(), testRef, Inputs{Ratification: records.NewRatificationBatch(mem, set.Ratifications, nameOf)}, Options{FirstYear: 2020, LastYear: 2021})
	if err != nil {
		t.Fatal(err)
	}
	o := res.Observations
	if o[0].RefArea != "X01" || o[0].Instrument != "C097" || o[1].Instrument != "C143" || o[2].TimePeriod != 2021 {
		t.Errorf("first rows: %+v %+v %+v", o[0], o[1], o[2])
	}
	if o[4].RefArea != "X06" || o[4].RefAreaType != refdata.AreaRegion {
		t.Errorf("regions must follow the world: %+v", o[4])
	}
}

// Property: the agreement counts and shares computed in one pass over the
// agreements equal the definition applied naively (every agreement for
// every area and year, with belongs and active), on random agreements.
func TestAgreementIndicatorsMatchTheDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	countries := []string{"FRA", "DEU", "PHL", "KEN", "BRA", "SAU", "IND", "NPL", "QAT", "MEX"}
	types := []string{"BLA", "MOU", "OTHER", "SSA", "MULTILATERAL_SSA", "REGIONAL_FRAMEWORK"}
	flags := []string{records.FlagYes, records.FlagNo, records.FlagPartial, records.FlagUnknown}
	for round := 0; round < 20; round++ {
		var set records.Set
		for i := 0; i < 40; i++ {
			p1, p2 := countries[rng.IntN(len(countries))], countries[rng.IntN(len(countries))]
			if p1 == p2 {
				continue
			}
			signed, end := 2010+rng.IntN(14), 0
			if rng.IntN(3) == 0 {
				end = signed + rng.IntN(6)
			}
			status := ""
			if rng.IntN(8) == 0 {
				status, signed = records.StatusNegotiating, 0
			}
			fl := map[string]string{}
			for _, f := range records.ProvisionFlags() {
				fl[f] = flags[rng.IntN(len(flags))]
			}
			set.Agreements = append(set.Agreements, agreement(fmt.Sprintf("A%d", i), types[rng.IntN(len(types))], []string{p1, p2}, signed, end, status, fl))
		}
		opts := Options{FirstYear: 2012, LastYear: 2022}
		obs := compute(t, set, opts)
		// The definition, applied naively.
		c := &computation{ref: testRef, areas: newAreas(testRef), first: 2012, last: 2022}
		mem := memory.NewGoAllocator()
		b := records.NewAgreementBatch(mem, set.Agreements, nameOf)
		defer b.Release() // the agreements read keep using its columns
		agr, err := readAgreements(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, ind := range testRef.Catalog().Indicators {
			if ind.Method != refdata.AgreementActive && ind.Method != refdata.AgreementSigned && ind.Method != refdata.AgreementShare {
				continue
			}
			for y := 2012; y <= 2022; y++ {
				for _, ar := range c.areas.aggregates() {
					n, num, den := 0, 0, 0
					for _, a := range agr.list {
						if !c.belongs(a, ar) {
							continue
						}
						switch ind.Method {
						case refdata.AgreementActive:
							if typeGroups[ind.AgreementTypes][a.typ] && a.active(y) {
								n++
							}
						case refdata.AgreementSigned:
							if typeGroups[ind.AgreementTypes][a.typ] && !a.negotiating && a.signedYear == y {
								n++
							}
						case refdata.AgreementShare:
							flag := agr.flag(a, slices.Index(records.ProvisionFlags(), ind.Flag))
							if typeGroups["L"][a.typ] && a.active(y) {
								if flag == records.FlagYes {
									num++
									den++
								} else if flag == records.FlagNo || flag == records.FlagPartial {
									den++
								}
							}
						}
					}
					key := fmt.Sprintf("%s %s %d T ", ind.ID, ar.code, y)
					got, ok := obs[key]
					switch {
					case ind.Method == refdata.AgreementShare && den == 0:
						if ok {
							t.Fatalf("round %d: %s published with an empty denominator", round, key)
						}
					case ind.Method == refdata.AgreementShare:
						if !ok || *got.Numerator != float64(num) || *got.Denominator != float64(den) {
							t.Fatalf("round %d: %s = %+v, want %d/%d", round, key, got, num, den)
						}
					default:
						if !ok || got.Value != float64(n) {
							t.Fatalf("round %d: %s = %v (present %v), want %d", round, key, got.Value, ok, n)
						}
					}
				}
			}
		}
	}
}

// A country party to more agreements than MaxInlineSources lists the
// first ones and says how many more, so that a row's size does not grow
// with the archive; up to the limit every one is listed.
func TestAgreementSourcesAreBounded(t *testing.T) {
	for _, n := range []int{MaxInlineSources, MaxInlineSources + 7} {
		var set records.Set
		for i := range n {
			a := agreement(fmt.Sprintf("a%d", i), "BLA", []string{"PHL", "SAU"}, 2015, 0, "in_force", nil)
			a.Source.Cell = fmt.Sprintf("A%d", i+2)
			set.Agreements = append(set.Agreements, a)
		}
		obs := compute(t, set, Options{FirstYear: 2019, LastYear: 2019})
		o := obs["P4.2 PHL 2019 T "]
		if o.Value != float64(n) {
			t.Fatalf("%d agreements: value %v", n, o.Value)
		}
		refs := strings.Split(o.Sources, ";")
		if n <= MaxInlineSources {
			if len(refs) != n || refs[n-1] != fmt.Sprintf("f.xlsx!S!A%d", n+1) {
				t.Errorf("%d agreements: sources %q", n, o.Sources)
			}
			continue
		}
		if len(refs) != MaxInlineSources+1 || refs[MaxInlineSources] != fmt.Sprintf("+%d more in blma.parquet", n-MaxInlineSources) {
			t.Errorf("%d agreements: sources end %q (%d entries)", n, refs[len(refs)-1], len(refs))
		}
	}
}
