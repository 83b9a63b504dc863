// Package textnorm folds the spellings people type into one comparable key.
//
// Headers, vocabulary and country names are matched "ignoring case, accents,
// surrounding and repeated spaces, and punctuation" (spec inputs.md). Key is
// the one place that rule lives, so the reference tables, the header matcher
// and the value parsers can never disagree about what counts as the same word.
package textnorm

import (
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Key returns s lower-cased, with accents removed and every character that is
// not a letter or a digit dropped: "Côte d’Ivoire" and "COTE D'IVOIRE" both
// give "cotedivoire". Letters without a decomposition (ß, ø, æ) are folded by
// hand so that German, Nordic and French ligatures match their ASCII forms.
func Key(s string) string {
	if k, ok := fastKey(s); ok {
		return k
	}
	return strings.Join(Words(s), "")
}

// latinRanges are the runes fastKey folds from a table: the Latin
// letters with accents of French, Spanish, Portuguese and most European
// names, and the general punctuation (typographic quotes and dashes).
var latinRanges = [][2]rune{{0x80, 0x24f}, {0x2000, 0x206f}}

// latinTable holds what Key gives for each rune of latinRanges alone,
// computed once, by the Unicode path itself, the first time a text needs
// it.
var latinTable = sync.OnceValue(func() map[rune]string {
	t := map[rune]string{}
	for _, rg := range latinRanges {
		for r := rg[0]; r <= rg[1]; r++ {
			t[r] = strings.Join(Words(string(r)), "")
		}
	}
	return t
})

// fastKey is Key for text of ASCII and the runes of latinRanges, without
// Unicode decomposition (loading the reference data keys thousands of
// names on every command, and most cells are ASCII): runes are folded one
// by one, which gives the Unicode path's result because each of those
// runes decomposes alone (none combines with its neighbours once accents
// are dropped). A text that is already a key is returned as it is. false
// for any other rune (combining marks included).
func fastKey(s string) (string, bool) {
	if isKey(s) {
		return s, true
	}
	var table map[rune]string
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			b = append(b, byte(r))
		case 'A' <= r && r <= 'Z':
			b = append(b, byte(r)+'a'-'A')
		case r < 0x80:
		default:
			if table == nil {
				table = latinTable()
			}
			k, ok := table[r]
			if !ok {
				return "", false
			}
			b = append(b, k...)
		}
	}
	return string(b), true
}

// isKey reports whether s holds only lower-case ASCII letters and digits.
func isKey(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// Words returns s as lower-case words without accents, split at anything that
// is not a letter or a digit. Date and footnote parsing need word boundaries,
// which Key removes.
func Words(s string) []string {
	var words []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			words = append(words, b.String())
			b.Reset()
		}
	}
	for _, r := range decompose(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if folded, ok := ligatures[unicode.ToLower(r)]; ok {
				b.WriteString(folded)
				continue
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return words
}

// decompose splits accented letters into letter and accent. Invalid UTF-8
// is dropped first: the normaliser would otherwise leave the letter after a
// stray byte undecomposed (found by FuzzKey).
func decompose(s string) string {
	return norm.NFKD.String(strings.ToValidUTF8(s, ""))
}

// Clean trims s and collapses runs of white space (including non-breaking
// spaces, which spreadsheets are full of) into one ordinary space.
func Clean(s string) string {
	if s == "" || isClean(s) {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\u00a0' || r == '\u202f' || r == '\u2007'
	}), " ")
}

// isClean reports, without allocating, that Clean would return s as it is:
// ASCII with single inner spaces and none at the ends (most cells).
func isClean(s string) bool {
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c < ' ' || c == ' ' && s[i+1] == ' ' {
			return false
		}
	}
	return true
}

var ligatures = map[rune]string{
	'ß': "ss",
	'ø': "o",
	'æ': "ae",
	'œ': "oe",
	'ð': "d",
	'þ': "th",
	'ł': "l",
	'đ': "d",
	'ı': "i",
}

// EditDistance is the Levenshtein distance of a and b in runes, cut off at
// limit+1 (anything farther is reported as limit+1), so that suggestions
// over a long table stay cheap: a country name, a column header.
func EditDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
