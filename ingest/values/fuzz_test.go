package values

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ilo-pledge/pledgestat/internal/textnorm"
)

// The parsers take arbitrary text from spreadsheets: they must never panic,
// and what they accept must respect their contracts.

func FuzzPercent(f *testing.F) {
	for _, s := range []string{"45", "45%", "45,5 %", "0.455", "1e2", "-0", "∞", "1,2,3"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, formatted bool) {
		v, p := Percent(s, formatted)
		if p == nil && (v < 0 || v > 100) {
			t.Fatalf("Percent(%q) accepted %v outside 0..100", s, v)
		}
	})
}

func FuzzDateText(f *testing.F) {
	for _, s := range []string{"2019-03-04", "4 mars 2019", "04/03/2019", "4 de marzo de 2019", "2019", "31/02/2019", "1er", "March"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, allowYear bool) {
		v, p := DateText(s, allowYear)
		if p != nil {
			return
		}
		if v.YearOnly && !allowYear {
			t.Fatalf("DateText(%q) returned a bare year when not allowed", s)
		}
		if v.Year < minYear || v.Year > maxYear {
			t.Fatalf("DateText(%q) year %d out of range", s, v.Year)
		}
		if !v.YearOnly && !v.Pending && v.Date.Year() != v.Year {
			t.Fatalf("DateText(%q): date %s disagrees with year %d", s, v.Date, v.Year)
		}
		var col DateColumn
		col.Observe(v)
		if _, p := col.Settle(s, v); p != nil && !v.Pending {
			t.Fatalf("Settle rejected a settled date %q", s)
		}
	})
}

func FuzzFlag(f *testing.F) {
	for _, s := range []string{"yes", "✓", "oui", "Sí", "0", "partial", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, p := Flag(s)
		if p != nil {
			return
		}
		switch v {
		case "yes", "no", "partial", "unknown":
		default:
			t.Fatalf("Flag(%q) = %q", s, v)
		}
	})
}

func FuzzYear(f *testing.F) {
	for _, s := range []string{"2021", "2021.0", "1e3", "-5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		y, p := Year(s, 1990, 2100)
		if p == nil && (y < 1990 || y > 2100) {
			t.Fatalf("Year(%q) accepted %d", s, y)
		}
	})
}

// decimalGrammar is the number syntax isDecimal implements, as a regular
// expression: the scanner must accept exactly what it accepts.
var decimalGrammar = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`)

func FuzzDecimalSyntax(f *testing.F) {
	for _, s := range []string{"", "1", "+1.", "-.5", ".", "+", "1e", "1e+", "1e5", "4.5E-2", "1_0", "0x1p5", "Inf", "NaN", " 1", "1 ", "1.2.3", "e5", ".e5", "1.e5", "١"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isDecimal(s), decimalGrammar.MatchString(s); got != want {
			t.Fatalf("isDecimal(%q) = %v, the grammar says %v", s, got, want)
		}
	})
}

// FuzzMissing checks the fast path of Missing against its definition: the
// text cleaned and lower-cased is a marker.
func FuzzMissing(f *testing.F) {
	for m := range missingMarkers {
		f.Add(m)
		f.Add(strings.ToUpper(m))
		f.Add(" " + m + "\u00a0")
	}
	for _, s := range []string{"45.5", "France", "NA", "S.O.", "s.o.x", "n/a ", "N/D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := missingMarkers[strings.ToLower(textnorm.Clean(s))]
		if got := Missing(s); got != want {
			t.Errorf("Missing(%q) = %v, want %v", s, got, want)
		}
	})
}

// TestLongestASCIIMarker keeps the fast path's bound true to the markers.
func TestLongestASCIIMarker(t *testing.T) {
	for m := range missingMarkers {
		if textnorm.IsClean(m) && len(m) > longestASCIIMarker {
			t.Errorf("marker %q is longer than longestASCIIMarker (%d)", m, longestASCIIMarker)
		}
	}
}
