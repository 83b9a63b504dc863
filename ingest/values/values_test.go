package values

import (
	"math"
	"testing"

	"github.com/ilo-pledge/pledgestat/ingest/report"
)

func TestMissing(t *testing.T) {
	for _, s := range []string{"", " ", "..", "...", "-", "–", "—", "n/a", "N/A", "na", "NA", "nd", "s.o.", "S.O."} {
		if !Missing(s) {
			t.Errorf("Missing(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"0", "none", "45", "x"} {
		if Missing(s) {
			t.Errorf("Missing(%q) = true, want false", s)
		}
	}
	// Missing takes a text that starts with a digit for a value without
	// looking it up: no marker may start with one.
	for m := range missingMarkers {
		if m != "" && '0' <= m[0] && m[0] <= '9' {
			t.Errorf("the marker %q starts with a digit, which Missing reads as a value", m)
		}
	}
}

func TestPercent(t *testing.T) {
	tests := []struct {
		in        string
		formatted bool
		want      float64
		code      report.Code
	}{
		{"45", false, 45, ""},
		{"45%", false, 45, ""},
		{"45 %", false, 45, ""},
		{"45,5", false, 45.5, ""},
		{"45,5 %", false, 45.5, ""},
		{"45.5\u00a0%", false, 45.5, ""},
		{"0.455", true, 45.5, ""},
		{"0.45", true, 45, ""},
		{"1", true, 100, ""},
		{"0", false, 0, ""},
		{"100", false, 100, ""},
		{"100.5", false, 100.5, report.OutOfRange},
		{"-1", false, -1, report.OutOfRange},
		{"1.2", true, 120, report.OutOfRange},
		{"abc", false, 0, report.BadNumber},
		{"NaN", false, 0, report.BadNumber},
		{"1,234,5", false, 0, report.BadNumber},
	}
	for _, tt := range tests {
		got, p := Percent(tt.in, tt.formatted)
		code := report.Code("")
		if p != nil {
			code = p.Code
		}
		if code != tt.code || (tt.code != report.BadNumber && math.Abs(got-tt.want) > 1e-12) {
			t.Errorf("Percent(%q, %v) = %v, %v; want %v, %q", tt.in, tt.formatted, got, p, tt.want, tt.code)
		}
	}
	// No binary noise from scaling.
	if got, _ := Percent("0.455", true); got != 45.5 {
		t.Errorf("Percent(0.455 formatted) = %v, want exactly 45.5", got)
	}
}

func TestYear(t *testing.T) {
	tests := []struct {
		in   string
		want int
		code report.Code
	}{
		{"2021", 2021, ""}, {"2021.0", 2021, ""}, {" 2021 ", 2021, ""},
		{"1989", 1989, report.OutOfRange}, {"2101", 2101, report.OutOfRange},
		{"2021.5", 0, report.BadNumber}, {"twenty", 0, report.BadNumber},
	}
	for _, tt := range tests {
		got, p := Year(tt.in, 1990, 2100)
		code := report.Code("")
		if p != nil {
			code = p.Code
		}
		if got != tt.want || code != tt.code {
			t.Errorf("Year(%q) = %d, %v; want %d, %q", tt.in, got, p, tt.want, tt.code)
		}
	}
}

func TestVocabularies(t *testing.T) {
	tests := []struct {
		parse func(string) (string, *Problem)
		in    string
		want  string
	}{
		{RatificationStatus, "In Force", "in_force"},
		{RatificationStatus, "EN VIGUEUR", "in_force"},
		{RatificationStatus, "En vigor", "in_force"},
		{RatificationStatus, "Not in force", "not_in_force"},
		{RatificationStatus, "Pas en vigueur", "not_in_force"},
		{RatificationStatus, "No está en vigor", "not_in_force"},
		{RatificationStatus, "Dénoncée", "denounced"},
		{RatificationStatus, "Denunciado", "denounced"},
		{RatificationStatus, "in_force", "in_force"},
		{AgreementStatus, "in force", "in_force"},
		{AgreementStatus, "signé", "signed"},
		{AgreementStatus, "en negociación", "negotiating"},
		{AgreementStatus, "vencido", "expired"},
		{AgreementStatus, "résilié", "terminated"},
		{AgreementStatus, "superseded", "superseded"},
		{AgreementType, "Bilateral Labor Agreement", "BLA"},
		{AgreementType, "MoU", "MOU"},
		{AgreementType, "protocole d'accord", "MOU"},
		{AgreementType, "Convenio de seguridad social", "SSA"},
		{AgreementType, "multilateral SSA", "MULTILATERAL_SSA"},
		{AgreementType, "MULTILATERAL_SSA", "MULTILATERAL_SSA"},
		{AgreementType, "REC framework", "REGIONAL_FRAMEWORK"},
		{AgreementType, "autre", "OTHER"},
		{Sex, "", "T"}, {Sex, "Both sexes", "T"}, {Sex, "SEX_F", "F"}, {Sex, "Hommes", "M"}, {Sex, "mujeres", "F"},
		{Series, "", "SOC_CONTIG_TOTAL"}, {Series, "SI_COV_MATNL", "SOC_CONTIG_MAT"}, {Series, "soc_contig_une", "SOC_CONTIG_UNE"},
		{Population, "", "total"}, {Population, "MIG_STATUS_MIGRANT", "migrants"}, {Population, "non-migrants", "non_migrants"},
		{Flag, "yes", "yes"}, {Flag, "Y", "yes"}, {Flag, "1", "yes"}, {Flag, "x", "yes"}, {Flag, "✓", "yes"},
		{Flag, "TRUE", "yes"}, {Flag, "Oui", "yes"}, {Flag, "Sí", "yes"}, {Flag, "si", "yes"},
		{Flag, "no", "no"}, {Flag, "N", "no"}, {Flag, "0", "no"}, {Flag, "false", "no"}, {Flag, "Non", "no"},
		{Flag, "partial", "partial"}, {Flag, "Partiel", "partial"}, {Flag, "parcial", "partial"},
		{Flag, "", "unknown"}, {Flag, "unknown", "unknown"}, {Flag, "inconnu", "unknown"}, {Flag, "desconocido", "unknown"},
		{Flag, "1.0", "yes"},
	}
	for _, tt := range tests {
		got, p := tt.parse(tt.in)
		if p != nil || got != tt.want {
			t.Errorf("parse(%q) = %q, %v; want %q", tt.in, got, p, tt.want)
		}
	}
	for _, bad := range []struct {
		parse func(string) (string, *Problem)
		in    string
	}{
		{RatificationStatus, "ratified"}, {AgreementStatus, "maybe"}, {AgreementType, "treaty"},
		{Sex, "X"}, {Series, "SOC_CONTIG_NOPE"}, {Population, "tourists"}, {Flag, "perhaps"},
	} {
		if _, p := bad.parse(bad.in); p == nil || p.Code != report.BadValue {
			t.Errorf("parse(%q) = %v, want bad_value", bad.in, p)
		}
	}
}

// Every choice a template offers is read by ingest as a value of its
// column: the drop-down lists come from the vocabularies themselves.
func TestChoicesAreRead(t *testing.T) {
	read := map[string]func(string) (string, *Problem){
		"ratification_status": RatificationStatus, "agreement_status": AgreementStatus, "agreement_type": AgreementType,
		"sex": Sex, "series": Series, "population": Population, "flag": Flag,
	}
	for column, parse := range read {
		choices := Choices(column)
		if len(choices) == 0 {
			t.Errorf("%s: no choices", column)
		}
		for _, c := range choices {
			if _, p := parse(c); p != nil {
				t.Errorf("%s: the choice %q is refused: %v", column, c, p)
			}
		}
	}
	if Choices("nothing") != nil {
		t.Error("choices for an unknown column")
	}
}
