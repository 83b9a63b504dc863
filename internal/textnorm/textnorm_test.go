package textnorm

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
)

func TestKey(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Date of ratification", "dateofratification"},
		{"date_of_ratification", "dateofratification"},
		{"  DATE DE RATIFICATION ", "datederatification"},
		{"Côte d’Ivoire", "cotedivoire"},
		{"Cote d'Ivoire", "cotedivoire"},
		{"Türkiye", "turkiye"},
		{"Coverage (%)", "coverage"},
		{"N°", "n"},
		{"Œuvre", "oeuvre"},
		{"Straße", "strasse"},
		{"", ""},
		{"C.97", "c97"},
		{"Ελλάδα", "ελλαδα"}, // letters past the Latin table take the Unicode path
		{"日本 (Japan)", "日本japan"},
	}
	for _, tt := range tests {
		if got := Key(tt.in); got != tt.want {
			t.Errorf("Key(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWords(t *testing.T) {
	got := Words("4 de Marzo, 2019")
	want := []string{"4", "de", "marzo", "2019"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Words = %q, want %q", got, want)
	}
	if got := Words(" -- "); len(got) != 0 {
		t.Errorf("Words of punctuation = %q, want none", got)
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  a  b ", "a b"},
		{"a\u00a0\u00a0b", "a b"},
		{"\tx\n", "x"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzKey(f *testing.F) {
	for _, s := range []string{"Côte d’Ivoire", "N°", "Straße", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := Key(s)
		if Key(k) != k {
			t.Fatalf("Key is not idempotent on %q: %q then %q", s, k, Key(k))
		}
	})
}

// FuzzCleanFastPath: the allocation-free check agrees with the full
// cleaning whenever it says a text is already clean.
func FuzzCleanFastPath(f *testing.F) {
	for _, s := range []string{"FRA", "Côte d'Ivoire", " a", "a  b", "a\tb", "a\u00a0b", "SOC_CONTIG_TOTAL"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" || !isClean(s) {
			return
		}
		slow := strings.Join(strings.FieldsFunc(s, func(r rune) bool {
			return unicode.IsSpace(r) || r == '\u00a0' || r == '\u202f' || r == '\u2007'
		}), " ")
		if slow != s {
			t.Fatalf("isClean(%q) but Clean gives %q", s, slow)
		}
	})
}

// Key's fast path gives what the Unicode path gives, whatever the text
// and the neighbours of each rune.
func FuzzKeyFastPath(f *testing.F) {
	for _, s := range []string{"Date of ratification", "C.97", "", "abc", "A-b_C 9", "\x7f\x00Z",
		"Côte d’Ivoire", "Türkiye", "Œuvre", "Straße", "São Tomé", "e\u0301", "ǅ", "Ĳssel", "ŉ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := fastKey(s)
		if !ok {
			return
		}
		if slow := strings.Join(Words(s), ""); fast != slow {
			t.Errorf("fastKey(%q) = %q, Words gives %q", s, fast, slow)
		}
	})
}

// Every rune of the Latin ranges next to every other: the fast path
// agrees with the Unicode path on pairs.
func TestKeyLatinPathPairs(t *testing.T) {
	var runes []rune
	for _, rg := range latinRanges {
		for r := rg[0]; r <= rg[1]; r += 3 {
			runes = append(runes, r)
		}
	}
	runes = append(runes, 'a', 'Z', '7', ' ')
	for _, a := range runes {
		for _, b := range runes {
			s := string([]rune{a, b})
			if fast, ok := fastKey(s); !ok || fast != strings.Join(Words(s), "") {
				t.Fatalf("fastKey(%q) = %q, %v; Words gives %q", s, fast, ok, strings.Join(Words(s), ""))
			}
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"remarques", "remarks", 3}, {"kitten", "sitting", 3}, {"", "abc", 3}, {"same", "same", 0}, {"côte", "cote", 1}, {"abcdef", "zzzzzz", 4}} {
		if got := EditDistance(tc.a, tc.b, 3); got != min(tc.want, 4) {
			t.Errorf("EditDistance(%q, %q, 3) = %d, want %d", tc.a, tc.b, got, min(tc.want, 4))
		}
	}
}
