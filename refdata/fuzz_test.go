package refdata

import (
	"strings"
	"testing"

	"github.com/ilo-pledge/pledgestat/internal/textnorm"
)

func FuzzCountryLookup(f *testing.F) {
	ref := mustLoad(f)
	for _, s := range []string{"France", "Côte d’Ivoire", "NA", "KOS", "Korea, Republic of", "", "X01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := ref.Countries().Lookup(s)
		if ok && strings.Contains(s, "&") {
			// "&" may read as "and"; what it reaches must be a name,
			// not a code made of a letter and the "and".
			if plain, okPlain := ref.Countries().Lookup(textnorm.Key(s)); okPlain {
				if plain.ISO3 != c.ISO3 {
					t.Fatalf("Lookup(%q) = %s but its key gives %s", s, c.ISO3, plain.ISO3)
				}
				return
			}
			if len(textnorm.Key(s)) < 3 {
				t.Fatalf("Lookup(%q) = %s from almost nothing", s, c.ISO3)
			}
			return
		}
		if ok {
			// Exact after normalisation: the same key always gives the
			// same country.
			again, ok2 := ref.Countries().Lookup(textnorm.Key(s))
			if !ok2 || again.ISO3 != c.ISO3 {
				t.Fatalf("Lookup(%q) = %s but its key gives %s", s, c.ISO3, again.ISO3)
			}
		}
		for _, sug := range ref.Countries().Suggest(s, 3) {
			if sug == "" {
				t.Fatal("empty suggestion")
			}
		}
	})
}

func FuzzInstrumentLookup(f *testing.F) {
	ref := mustLoad(f)
	for _, s := range []string{"C097", "C 97", "No. 97", "97.0", "P29", "Protocol of 2014 to the Forced Labour Convention", "(No. 189)", "C9999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := ref.Instruments().Lookup(s)
		if q.Found {
			if _, ok := ref.Instruments().ByCode(q.Instrument.Code); !ok {
				t.Fatalf("Lookup(%q) found %s, which is not in the table", s, q.Instrument.Code)
			}
		}
	})
}
