// Package values parses the cell values statisticians type into typed
// values: missing-value markers, percents, years, dates, flags and the
// closed vocabularies of inputs.md (statuses, agreement types, sexes, series,
// populations).
//
// Every parser takes the cell's text and returns either a value or a
// *Problem that names the code and what was expected; the caller adds the
// sheet and cell. Nothing here knows about files or domains.
package values

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/internal/decimal"
	"github.com/ilo-pledge/pledgestat/internal/textnorm"
)

// Problem is why a value could not be read.
type Problem struct {
	Code report.Code
	// Expected says what would have been accepted, completing a message
	// "VALUE is not ...; expected ...".
	Message string
}

func problem(code report.Code, format string, args ...any) *Problem {
	return &Problem{Code: code, Message: fmt.Sprintf(format, args...)}
}

// missingMarkers are the spellings of "no observation" (inputs.md).
var missingMarkers = map[string]bool{
	"": true, "..": true, "...": true, "-": true, "–": true, "—": true,
	"n/a": true, "na": true, "nd": true, "s.o.": true, "…": true,
}

// longestASCIIMarker is the length of the longest ASCII marker ("s.o.").
const longestASCIIMarker = 4

// Missing reports whether s is a missing-value marker. Callers reading a
// country column must not use it: there "NA" is Namibia.
func Missing(s string) bool {
	if textnorm.IsClean(s) {
		// Most cells: clean ASCII, so only an ASCII marker can match,
		// and a value longer than those is none. Lower-cased on the
		// stack: it is asked of two or three cells of every row.
		if len(s) > longestASCIIMarker || '0' <= s[0] && s[0] <= '9' {
			return false // a value, most often a number: no marker starts with a digit
		}
		var lower [longestASCIIMarker]byte
		for i := range len(s) {
			c := s[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		return missingMarkers[string(lower[:len(s)])]
	}
	return missingMarkers[strings.ToLower(textnorm.Clean(s))]
}

// Percent reads a coverage percentage in 0..100. percentFormatted says the
// cell is a number shown with a percent format, so it holds a fraction
// (Excel shows 0.455 as 45.5%). Text "45%", "45 %" and "45,5" are read as
// written.
func Percent(text string, percentFormatted bool) (float64, *Problem) {
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u00a0' || r == '\u202f' || r == '\t' {
			return -1
		}
		return r
	}, text)
	hasSign := strings.HasSuffix(s, "%")
	s = strings.TrimSuffix(s, "%")
	if strings.Contains(s, ",") && !strings.Contains(s, ".") && strings.Count(s, ",") == 1 {
		s = strings.Replace(s, ",", ".", 1)
	}
	v, ok := Decimal(s)
	if !ok {
		return 0, problem(report.BadNumber, "%s is not a number; expected a percentage from 0 to 100 such as 45.5 or 45,5 %%", report.Quote(text))
	}
	if percentFormatted && !hasSign {
		v = decimal.Round15(v * 100)
	}
	if v < 0 || v > 100 {
		if percentFormatted && !hasSign {
			return v, problem(report.OutOfRange, "%s is shown as a percentage, %s%%, outside 0 to 100; expected a percentage (a cell formatted as %% holds a fraction: 45%% is 0.45)", report.Quote(text), strconv.FormatFloat(v, 'f', -1, 64))
		}
		return v, problem(report.OutOfRange, "%s is outside 0 to 100; expected a percentage", report.Quote(text))
	}
	return v, nil
}

// Decimal reads a number as people and spreadsheets write it: digits with
// an optional sign, decimal point and exponent (Excel writes 4.5E-2).
// strconv.ParseFloat alone also takes Go's own syntax, so that "1_0",
// "0x1p5", "Inf" or "NaN" typed in a cell would become numbers.
func Decimal(s string) (float64, bool) {
	if !isDecimal(s) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// isDecimal reports whether s is written [+-]digits[.digits][e[+-]digits],
// with digits on at least one side of the point. A scanner, not a regular
// expression: it runs for every number cell of every file (a regexp took a
// tenth of a CSV ingest).
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, exp = i+1, exp+1
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// Year reads an integer year in [min, max]; "2021", "2021.0" and a numeric
// cell are accepted.
func Year(text string, min, max int) (int, *Problem) {
	s := textnorm.Clean(text)
	v, ok := Decimal(s)
	if !ok || v != math.Trunc(v) {
		return 0, problem(report.BadNumber, "%s is not a year; expected a year such as 2021", report.Quote(text))
	}
	if v < float64(min) || v > float64(max) {
		return int(v), problem(report.OutOfRange, "%s is outside %d to %d; expected a year", report.Quote(text), min, max)
	}
	return int(v), nil
}

// IsYearHeader reports whether a header cell names a year (wide sheets have
// columns headed 2019, 2020, ...), and which.
func IsYearHeader(text string) (int, bool) {
	y, p := Year(text, 1990, 2100)
	return y, p == nil
}

// vocabulary maps normalised spellings to a canonical value, and keeps
// the canonical values in the order they were given: the input templates'
// drop-down lists are built from them (Choices), so that a template never
// offers a value ingest would refuse.
type vocabulary struct {
	byKey map[string]string
	codes []string
	// labels are the first spelling of each code, for people ("In
	// Force" for in_force).
	labels []string
}

// term is one canonical value and its other spellings, the first of which
// is its label.
type term struct {
	code      string
	spellings []string
}

func newVocabulary(terms ...term) vocabulary {
	v := vocabulary{byKey: map[string]string{}}
	for _, t := range terms {
		v.codes = append(v.codes, t.code)
		label := t.code
		if len(t.spellings) > 0 {
			label = t.spellings[0]
		}
		v.labels = append(v.labels, label)
		v.byKey[textnorm.Key(t.code)] = t.code
		for _, sp := range t.spellings {
			v.byKey[textnorm.Key(sp)] = t.code
		}
	}
	return v
}

func (v vocabulary) lookup(text string) (string, bool) {
	c, ok := v.byKey[textnorm.Key(text)]
	return c, ok
}

// Choices lists the values a template offers for a vocabulary column, in
// order: the codes, or for ratification statuses their English labels
// (which ingest reads as the codes).
func Choices(column string) []string {
	switch column {
	case "ratification_status":
		return slices.Clone(ratificationStatuses.labels)
	case "agreement_status":
		return slices.Clone(agreementStatuses.codes)
	case "agreement_type":
		return slices.Clone(agreementTypes.codes)
	case "sex":
		return slices.Clone(sexes.codes)
	case "series":
		return slices.Clone(series.codes)
	case "population":
		return slices.Clone(populations.codes)
	case "flag":
		return slices.Clone(flags.codes)
	}
	return nil
}

var ratificationStatuses = newVocabulary(
	term{"in_force", []string{"In Force", "En vigueur", "En vigor", "In force"}},
	term{"not_in_force", []string{"Not in force", "Pas en vigueur", "No está en vigor", "No en vigor", "Not yet in force"}},
	term{"denounced", []string{"Denounced", "Dénoncée", "Dénoncé", "Denunciado", "Denunciada"}},
)

// RatificationStatus reads the status of a ratification.
func RatificationStatus(text string) (string, *Problem) {
	if c, ok := ratificationStatuses.lookup(text); ok {
		return c, nil
	}
	return "", problem(report.BadValue, "%s is not a ratification status; expected In Force, Not in force or Denounced (En vigueur, Pas en vigueur, Dénoncée; En vigor, No está en vigor, Denunciado)", report.Quote(text))
}

var agreementStatuses = newVocabulary(
	term{"negotiating", []string{"en négociation", "en negociación", "under negotiation", "in negotiation", "negotiation", "négociation", "negociación"}},
	term{"signed", []string{"signé", "signée", "firmado", "firmada"}},
	term{"in_force", []string{"in force", "en vigueur", "en vigor"}},
	term{"expired", []string{"expiré", "expirée", "vencido", "vencida", "expirado"}},
	term{"terminated", []string{"résilié", "résiliée", "terminado", "terminada"}},
	term{"superseded", []string{"remplacé", "remplacée", "sustituido", "sustituida", "reemplazado"}},
)

// AgreementStatus reads the status of an agreement.
func AgreementStatus(text string) (string, *Problem) {
	if c, ok := agreementStatuses.lookup(text); ok {
		return c, nil
	}
	return "", problem(report.BadValue, "%s is not an agreement status; expected negotiating, signed, in force, expired, terminated or superseded", report.Quote(text))
}

// Ended reports whether an agreement status needs a date_end: expired,
// terminated or superseded.
func Ended(status string) bool {
	return status == "expired" || status == "terminated" || status == "superseded"
}

var agreementTypes = newVocabulary(
	term{"BLA", []string{"bilateral labour agreement", "bilateral labor agreement", "accord bilatéral de travail", "acuerdo bilateral de trabajo", "bilateral labour migration agreement", "bilateral labor migration agreement", "bilateral agreement"}},
	term{"MOU", []string{"memorandum of understanding", "MoU", "mémorandum d'entente", "protocole d'accord", "memorando de entendimiento", "memorándum de entendimiento"}},
	term{"SSA", []string{"social security agreement", "bilateral social security agreement", "accord de sécurité sociale", "convenio de seguridad social", "acuerdo de seguridad social"}},
	term{"MULTILATERAL_SSA", []string{"multilateral SSA", "multilateral social security agreement", "convention multilatérale de sécurité sociale", "convenio multilateral de seguridad social"}},
	term{"REGIONAL_FRAMEWORK", []string{"regional framework", "regional labour mobility framework", "regional labor mobility framework", "REC framework", "cadre régional", "marco regional"}},
	term{"OTHER", []string{"other", "autre", "otro"}},
)

// AgreementType reads an agreement type to its code.
func AgreementType(text string) (string, *Problem) {
	if c, ok := agreementTypes.lookup(text); ok {
		return c, nil
	}
	return "", problem(report.BadValue, "%s is not an agreement type; expected BLA (bilateral labour agreement), MOU, SSA (social security agreement), MULTILATERAL_SSA, REGIONAL_FRAMEWORK or OTHER", report.Quote(text))
}

var sexes = newVocabulary(
	term{"T", []string{"Total", "Both sexes", "SEX_T", "Ambos sexos", "Les deux sexes", "Deux sexes"}},
	term{"F", []string{"Female", "Women", "Woman", "SEX_F", "Femmes", "Femme", "Féminin", "Mujeres", "Mujer", "Femenino"}},
	term{"M", []string{"Male", "Men", "Man", "SEX_M", "Hommes", "Homme", "Masculin", "Hombres", "Hombre", "Masculino"}},
)

// Sex reads a sex code; empty means total.
func Sex(text string) (string, *Problem) {
	if strings.TrimSpace(text) == "" {
		return "T", nil
	}
	if c, ok := sexes.lookup(text); ok {
		return c, nil
	}
	return "", problem(report.BadValue, "%s is not a sex; expected T (total), F or M (also Total, Female, Male, SEX_T, SEX_F, SEX_M, Femmes, Hommes, Mujeres, Hombres)", report.Quote(text))
}

var series = newVocabulary(
	term{"SOC_CONTIG_TOTAL", []string{"SI_COV_BENFTS"}},
	term{"SOC_CONTIG_CHILD", []string{"SI_COV_CHLD"}},
	term{"SOC_CONTIG_MAT", []string{"SI_COV_MATNL"}},
	term{"SOC_CONTIG_DISAB", []string{"SI_COV_DISAB"}},
	term{"SOC_CONTIG_UNE", []string{"SI_COV_UEMP"}},
	term{"SOC_CONTIG_PENSION", []string{"SI_COV_PENSN"}},
	term{"SOC_CONTIG_INJ", []string{"SI_COV_WKINJRY"}},
	term{"SOC_CONTIG_POOR", []string{"SI_COV_POOR"}},
	term{"SOC_CONTIG_VULN", []string{"SI_COV_VULN"}},
)

// Series reads a social-protection series code; empty means the total.
func Series(text string) (string, *Problem) {
	if strings.TrimSpace(text) == "" {
		return "SOC_CONTIG_TOTAL", nil
	}
	if c, ok := series.lookup(text); ok {
		return c, nil
	}
	return "", problem(report.BadValue, "%s is not a social-protection series; expected SOC_CONTIG_TOTAL, SOC_CONTIG_CHILD, SOC_CONTIG_MAT, SOC_CONTIG_DISAB, SOC_CONTIG_UNE, SOC_CONTIG_PENSION, SOC_CONTIG_INJ, SOC_CONTIG_POOR, SOC_CONTIG_VULN or a UN code such as SI_COV_BENFTS", report.Quote(text))
}

var populations = newVocabulary(
	term{"total", []string{"MIG_STATUS_TOTAL", "Total population", "All"}},
	term{"migrants", []string{"MIG_STATUS_MIGRANT", "migrant", "migrantes", "migrante"}},
	term{"non_migrants", []string{"MIG_STATUS_NONMIG", "non-migrant", "non migrants", "non-migrants", "no migrantes", "no migrante", "nonmigrants"}},
)

// Population reads a migratory-status population; empty means total.
func Population(text string) (string, *Problem) {
	if strings.TrimSpace(text) == "" {
		return "total", nil
	}
	if c, ok := populations.lookup(text); ok {
		return c, nil
	}
	return "", problem(report.BadValue, "%s is not a population; expected total, migrants or non_migrants (also MIG_STATUS_TOTAL, MIG_STATUS_MIGRANT, MIG_STATUS_NONMIG)", report.Quote(text))
}

var flagSymbols = map[string]string{"✓": "yes", "✔": "yes", "☑": "yes", "✗": "no", "✘": "no"}

var flags = newVocabulary(
	term{"yes", []string{"y", "1", "x", "true", "oui", "sí", "si"}},
	term{"no", []string{"n", "0", "false", "non"}},
	term{"partial", []string{"partiel", "partielle", "parcial", "partly", "partially"}},
	term{"unknown", []string{"inconnu", "desconocido", "unknown"}},
)

// Flag reads a provision flag: yes, no, partial or unknown. Symbols are
// matched before punctuation is ignored, so "✓" is yes.
func Flag(text string) (string, *Problem) {
	s := textnorm.Clean(text)
	if c, ok := flagSymbols[s]; ok {
		return c, nil
	}
	if s == "" || Missing(s) {
		return "unknown", nil
	}
	if f, ok := Decimal(s); ok {
		switch f {
		case 1:
			return "yes", nil
		case 0:
			return "no", nil
		}
	}
	if c, ok := flags.lookup(s); ok {
		return c, nil
	}
	return "", problem(report.BadValue, "%s is not a flag; expected yes, no, partial or unknown (also y/n, 1/0, x, ✓, oui/non, sí/no, partiel, parcial)", report.Quote(text))
}
