package refdata

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ilo-pledge/pledgestat/internal/textnorm"
)

// Instrument is an ILO Convention or Protocol.
type Instrument struct {
	Code   string // "C097", "P029"
	Kind   string // "convention" or "protocol"
	Number int    // the Convention's number; for a Protocol, its parent's
	Year   int    // year of adoption
	Title  string // official English title
}

// Instruments answers look-ups on the ILO instruments table.
type Instruments struct {
	list   []Instrument
	byCode map[string]int
	byKey  map[string]int // normalised title or alias
}

func newInstruments(rows []row) (*Instruments, error) {
	in := &Instruments{byCode: make(map[string]int, len(rows)), byKey: make(map[string]int, 4*len(rows))}
	for _, r := range rows {
		inst := Instrument{Code: r.get("code"), Kind: r.get("kind"), Title: r.get("title_en")}
		inst.Number = atoiOr(r.get("number"), 0)
		inst.Year = atoiOr(r.get("year"), 0)
		if inst.Number <= 0 || inst.Year < 1919 || inst.Title == "" {
			return nil, fmt.Errorf("line %d: %s has a bad number, year or title", r.line, inst.Code)
		}
		want := fmt.Sprintf("C%03d", inst.Number)
		if inst.Kind == "protocol" {
			want = fmt.Sprintf("P%03d", inst.Number)
		} else if inst.Kind != "convention" {
			return nil, fmt.Errorf("line %d: kind %q is not convention or protocol", r.line, inst.Kind)
		}
		if inst.Code != want {
			return nil, fmt.Errorf("line %d: code %s should be %s", r.line, inst.Code, want)
		}
		idx := len(in.list)
		in.list = append(in.list, inst)
		in.byCode[inst.Code] = idx
		for _, s := range append([]string{inst.Title}, splitAliases(r.get("aliases"))...) {
			k := textnorm.Key(s)
			if prev, ok := in.byKey[k]; ok && prev != idx {
				return nil, fmt.Errorf("line %d: title %q also names %s", r.line, s, in.list[prev].Code)
			}
			in.byKey[k] = idx
		}
	}
	return in, nil
}

// All returns every instrument in code order.
func (in *Instruments) All() []Instrument { return append([]Instrument(nil), in.list...) }

// ByCode returns the instrument with a canonical code such as "C097".
func (in *Instruments) ByCode(code string) (Instrument, bool) {
	i, ok := in.byCode[code]
	if !ok {
		return Instrument{}, false
	}
	return in.list[i], true
}

var (
	// "C097", "C97", "C 97", "C.97", "P29", "97", "No. 97", "Convention 97",
	// "Convenio 97", "Convention n° 97", "núm. 97" once normalised by Key.
	codeForm = regexp.MustCompile(`^(c|p|no|n|num|nr|nu|convention|conventionno|conventionn|convenio|convenionum|convenion|protocol|protocole|protocolo)?0*([0-9]{1,3})$`)
	// "(No. 97)", "(n° 97)", "(núm. 97)" inside an official title.
	titleNumber = regexp.MustCompile(`(?i)\(\s*(?:no|n°|nº|n|núm|num|nr)\s*\.?\s*([0-9]{1,3})\s*\)`)
	protocolOf  = regexp.MustCompile(`(?i)^\s*(protocol|protocole|protocolo)\b`)
	// The Convention a protocol title refers to, e.g. "... Convention, 1930".
	parentYear = regexp.MustCompile(`(?:,|\b)\s*(19[0-9]{2}|20[0-9]{2})\s*$`)
)

// InstrumentQuery is the outcome of reading an instrument spelling.
type InstrumentQuery struct {
	Instrument Instrument
	Found      bool
	// Number is the Convention number read from the text when it was
	// recognisable as one but is not in the table (for the error message).
	Number int
}

// Lookup reads any accepted spelling of an instrument (inputs.md): codes
// like C097, C97, C 97, C.97, No. 97, 97, Convention 97; protocols P029,
// P29; or an official or alias title in English, French or Spanish, which
// may carry "(No. 97)".
func (in *Instruments) Lookup(text string) InstrumentQuery {
	text = strings.TrimSpace(text)
	if text == "" {
		return InstrumentQuery{}
	}
	if i, ok := in.byKey[textnorm.Key(text)]; ok {
		return InstrumentQuery{Instrument: in.list[i], Found: true}
	}
	// A numeric cell can arrive as "97.0".
	if f, err := strconv.ParseFloat(text, 64); err == nil && f == float64(int(f)) && f > 0 && f < 1000 {
		return in.byNumber("C", int(f))
	}
	if m := codeForm.FindStringSubmatch(textnorm.Key(text)); m != nil {
		n, _ := strconv.Atoi(m[2])
		prefix := "C"
		if strings.HasPrefix(m[1], "p") {
			prefix = "P"
		}
		return in.byNumber(prefix, n)
	}
	if m := titleNumber.FindStringSubmatch(text); m != nil {
		n, _ := strconv.Atoi(m[1])
		prefix := "C"
		if protocolOf.MatchString(text) {
			prefix = "P"
		}
		return in.byNumber(prefix, n)
	}
	return InstrumentQuery{}
}

func (in *Instruments) byNumber(prefix string, n int) InstrumentQuery {
	if inst, ok := in.ByCode(fmt.Sprintf("%s%03d", prefix, n)); ok {
		return InstrumentQuery{Instrument: inst, Found: true}
	}
	return InstrumentQuery{Number: n}
}
