package transform

import (
	"math"
	"testing"

	"github.com/ilo-pledge/pledgestat/records"
)

// TestEveryIndicator computes the whole catalog on one small store where
// each indicator's world value for 2020 was worked out by hand and differs
// from its neighbours', so that a mix-up of instruments, flags or series
// shows.
func TestEveryIndicator(t *testing.T) {
	var rats []records.Ratification
	add := func(inst string, countries ...string) {
		for _, c := range countries {
			rats = append(rats, rat(c, inst, 2010, 5, 1))
		}
	}
	add("C097", "FRA", "DEU")
	add("C143", "FRA")
	add("C144", "FRA", "DEU", "ITA")
	add("C087", "FRA", "DEU", "ITA", "ESP")
	add("C098", "FRA", "DEU", "PRT")
	add("C181", "FRA", "DEU", "ITA", "ESP", "PRT")
	add("P029", "FRA", "NOR", "SWE", "FIN", "DNK", "ISL")
	add("C142", "FRA", "NOR", "SWE", "FIN", "DNK", "ISL", "EST")
	add("C102", "FRA")
	add("C118", "FRA", "DEU")
	add("C157", "FRA", "DEU", "ITA")
	add("C189", "URY", "PHL", "ZAF", "ITA")
	add("C190", "URY", "PHL", "ZAF", "ITA", "FRA", "ARG", "ECU", "NAM")
	add("C155", "FRA", "DEU", "ITA")
	add("C187", "DEU", "ITA", "ESP")
	flags := func(v map[string]string) map[string]string { return v }
	agrs := []records.Agreement{
		agreement("a1", "BLA", []string{"PHL", "DEU"}, 2015, 0, "in_force", flags(map[string]string{
			"social_dialogue": "yes", "monitoring": "yes", "fair_recruitment": "yes", "skills": "yes", "social_protection": "no",
			"ilo_standards": "yes", "gender": "yes", "domestic_care": "partial", "un_support": "no", "crisis": "yes", "return_reintegration": "yes"})),
		agreement("a2", "MOU", []string{"NPL", "QAT"}, 2015, 0, "in_force", flags(map[string]string{
			"social_dialogue": "no", "monitoring": "yes", "fair_recruitment": "partial", "skills": "yes", "social_protection": "no",
			"gender": "yes", "domestic_care": "partial", "un_support": "yes", "crisis": "no", "return_reintegration": "yes"})),
		agreement("a3", "OTHER", []string{"MEX", "CAN"}, 2015, 0, "", flags(map[string]string{
			"social_dialogue": "no", "monitoring": "no", "skills": "yes", "social_protection": "no",
			"gender": "yes", "domestic_care": "yes", "crisis": "no", "return_reintegration": "no"})),
		agreement("a4", "BLA", []string{"ETH", "SAU"}, 2020, 0, "signed", flags(map[string]string{
			"social_dialogue": "no", "skills": "yes", "social_protection": "no",
			"gender": "no", "crisis": "no", "return_reintegration": "partial"})),
		agreement("s1", "SSA", []string{"FRA", "MAR"}, 2007, 0, "in_force", nil),
		agreement("s2", "MULTILATERAL_SSA", []string{"ARG", "BRA", "PRY", "URY"}, 2005, 0, "in_force", nil),
		agreement("f1", "REGIONAL_FRAMEWORK", []string{"KEN", "TZA", "UGA"}, 2019, 0, "in_force", nil),
	}
	covs := []records.CoverageObservation{
		cov("X01", 2020, "SOC_CONTIG_TOTAL", "T", "total", 50),
		cov("X01", 2020, "SOC_CONTIG_TOTAL", "T", "migrants", 40),
		cov("X01", 2020, "SOC_CONTIG_TOTAL", "T", "non_migrants", 55),
		cov("X01", 2020, "SOC_CONTIG_MAT", "T", "total", 30),
		cov("X01", 2020, "SOC_CONTIG_UNE", "T", "total", 20),
	}
	obs := compute(t, records.Set{Ratifications: rats, Agreements: agrs, Coverage: covs}, Options{FirstYear: 2020, LastYear: 2020})
	want := map[string]float64{
		"C1.1 C097": 2, "C1.1 C143": 1, "C2.1 C144": 3, "C2.2 ": 2,
		"C2.3 ": 25, "C2.4 ": 200.0 / 3,
		"P1.1 C181": 5, "P1.2 P029": 6, "P1.3 ": 50,
		"P2.1 ": 100, "P2.2 C142": 7,
		"P3.1 ": 50, "P3.2 ": 40, "P3.3 ": 15,
		"P3.4 C102": 1, "P3.4 C118": 2, "P3.4 C157": 3,
		"P3.5 ": 2, "P3.6 ": 0,
		"P4.1 ": 1, "P4.2 ": 4, "P4.3 ": 100,
		"P5.1 C189": 4, "P5.2 C190": 8, "P5.3 ": 75, "P5.4 ": 100.0 / 3, "P5.5 ": 30,
		"P6.2 ": 2,
		"P7.1 ": 1, "P7.2 ": 50,
		"P8.1 ": 25, "P8.2 ": 50, "P8.3 ": 20,
	}
	covered := map[string]bool{}
	for key, v := range want {
		id, inst, _ := cut(key)
		covered[id] = true
		o, ok := obs[id+" X01 2020 T "+inst]
		if !ok {
			t.Errorf("%s: no world observation for 2020", key)
			continue
		}
		if math.Abs(o.Value-v) > 1e-9 {
			t.Errorf("%s = %v, want %v", key, o.Value, v)
		}
	}
	// P6.1: every climate flag is unknown, so no row at all.
	for k := range obs {
		if len(k) > 5 && k[:5] == "P6.1 " {
			t.Errorf("P6.1 has a row although no agreement has a known climate flag: %s", k)
		}
	}
	covered["P6.1"] = true
	for _, ind := range testRef.Catalog().Indicators {
		if !covered[ind.ID] {
			t.Errorf("indicator %s has no hand-computed case here", ind.ID)
		}
	}
}

func cut(key string) (id, inst string, ok bool) {
	for i := 0; i < len(key); i++ {
		if key[i] == ' ' {
			return key[:i], key[i+1:], true
		}
	}
	return key, "", false
}
