package store

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"
)

// The ledger's lines are read by every command that opens the store, and
// with encoding/json their decoding was over half of a status on a store
// of 10,000 submissions (20,000 lines). ledgerDecoder.fast reads the one form
// encodeLine writes: json.Marshal of an Entry, its fields in declaration
// order, map keys sorted, no white space. It declines anything else (a
// key out of order or unknown, an escape in a string, a null, a number
// that is not a plain integer in range, a duplicate map key), and
// encoding/json then reads the line as before. So what it accepts it reads
// exactly as encoding/json would (FuzzDecodeEntryFast checks that on any
// input), and what it declines costs only the attempt.
//
// A faster JSON library was tried instead and left (docs/decisions.md): it
// read a few hand-edited lines differently, which a ledger check must not.

// ledgerDecoder reads the lines of a ledger, or one worker's share of
// them. Reading 20,000 lines allocated over 800,000 times (a string a
// field, two maps an entry), a third of the time a run took to open a
// store of 10,000 submissions before it did anything:
//   - the strings read are substrings of line, the line as a string (the
//     ledger is made a string once): a field costs no allocation, and the
//     entries keep the ledger's text alive, which they would mostly hold
//     anyway;
//   - the maps of counts are kept by their text, so that the ledger's
//     thousands of {"social_protection":50} are one map.
type ledgerDecoder struct {
	line   string
	counts map[string]map[string]int
}

// entryField is a JSON key of Entry and how its value is read.
type entryField struct {
	key  string
	read func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) // the position after the value
}

// entryFields are Entry's fields, in declaration order.
var entryFields = [...]entryField{
	{"event", func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) { return d.readString(&e.Event, b, p) }},
	{"outcome", func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) { return d.readString(&e.Outcome, b, p) }},
	{"seq", func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) { return readInt(&e.Seq, b, p) }},
	{"time", func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) { return readTime(&e.Time, b, p) }},
	{"run_id", func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) { return d.readString(&e.RunID, b, p) }},
	{"file", func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) { return d.readString(&e.File, b, p) }},
	{"sha256", func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) { return d.readString(&e.SHA256, b, p) }},
	{"size", func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) { return readInt64(&e.Size, b, p) }},
	{"rows", func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) { return d.readCounts(&e.Rows, b, p) }},
	{"superseded", func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) {
		return d.readCounts(&e.Superseded, b, p)
	}},
	{"stored_as", func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) { return d.readString(&e.StoredAs, b, p) }},
	{"duplicate_of", func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) { return readInt(&e.DuplicateOf, b, p) }},
	{"errors", func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) { return readInt(&e.Errors, b, p) }},
	{"warnings", func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) { return readInt(&e.Warnings, b, p) }},
	{"first_error", func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) {
		return d.readString(&e.FirstError, b, p)
	}},
	{"pack", func(d *ledgerDecoder, e *Entry, b []byte, p int) (int, bool) { return d.readString(&e.Pack, b, p) }},
}

// fast decodes an entry written by encodeLine into e, which must be zero;
// ok is false for any other text (see above), and e is then to be
// discarded. line is b as a string: the entry's strings are cut from it.
// (Filling the caller's entry, which encoding/json is given too, allocates
// none of its own.)
func (d *ledgerDecoder) fast(b []byte, line string, e *Entry) (ok bool) {
	d.line = line
	if len(b) < 2 || b[0] != '{' {
		return false
	}
	p := 1
	if b[p] == '}' {
		return len(b) == 2
	}
	next := 0 // fields come in order, each at most once
	for {
		key, after, ok := plainString(b, p)
		if !ok || after >= len(b) || b[after] != ':' {
			return false
		}
		field := fieldIndex(key, next)
		if field < 0 {
			return false
		}
		next = field + 1
		if p, ok = entryFields[field].read(d, e, b, after+1); !ok || p >= len(b) {
			return false
		}
		switch b[p] {
		case ',':
			p++
		case '}':
			return p+1 == len(b)
		default:
			return false
		}
	}
}

// fieldIndex is the index of key among entryFields at or after from, or
// -1 (unknown, out of order or repeated).
func fieldIndex(key []byte, from int) int {
	for i := from; i < len(entryFields); i++ {
		if string(key) == entryFields[i].key {
			return i
		}
	}
	return -1
}

// plainString reads a JSON string at b[p:] that needs no unescaping: no
// backslash, no control character, valid UTF-8 (encoding/json would
// replace invalid bytes). It returns the bytes between the quotes and the
// position after the closing one.
func plainString(b []byte, p int) (s []byte, after int, ok bool) {
	if p >= len(b) || b[p] != '"' {
		return nil, 0, false
	}
	end := bytes.IndexByte(b[p+1:], '"')
	if end < 0 {
		return nil, 0, false
	}
	s = b[p+1 : p+1+end]
	// One table load a byte, not four comparisons: this loop was a
	// quarter of the ledger's reading.
	var kinds byte
	for _, c := range s {
		kinds |= plainKind[c]
	}
	if kinds&kindRefused != 0 || (kinds&kindMultibyte != 0 && !utf8.Valid(s)) {
		return nil, 0, false
	}
	return s, p + 2 + end, true
}

// The kinds of byte plainString tells apart.
const (
	kindRefused   = 1 // a backslash or a control character
	kindMultibyte = 2 // part of a multibyte character, to be checked
)

// plainKind is the kind of each byte in a plain string (0 for plain ASCII).
var plainKind = func() (t [256]byte) {
	for c := range t {
		switch {
		case c == '\\' || c < 0x20:
			t[c] = kindRefused
		case c >= utf8.RuneSelf:
			t[c] = kindMultibyte
		}
	}
	return t
}()

// readString reads a plain string (see plainString) into dst, cut from
// the line.
func (d *ledgerDecoder) readString(dst *string, b []byte, p int) (int, bool) {
	_, after, ok := plainString(b, p)
	if ok {
		*dst = d.line[p+1 : after-1]
	}
	return after, ok
}

// readTime reads a time the way encoding/json does: time.Time decodes
// itself from the quoted text.
func readTime(dst *time.Time, b []byte, p int) (int, bool) {
	_, after, ok := plainString(b, p)
	return after, ok && dst.UnmarshalJSON(b[p:after]) == nil
}

func readInt(dst *int, b []byte, p int) (int, bool) {
	n, after, ok := int64Value(b, p, strconv.IntSize)
	*dst = int(n)
	return after, ok
}

func readInt64(dst *int64, b []byte, p int) (int, bool) {
	n, after, ok := int64Value(b, p, 64)
	*dst = n
	return after, ok
}

// readCounts reads a map of counts into dst: the map read before from the
// same text, if any. Entries read from the ledger share their maps; no
// one writes into them.
func (d *ledgerDecoder) readCounts(dst *map[string]int, b []byte, p int) (int, bool) {
	// A text read before is a whole map that ends at its first brace: if
	// the text up to the first brace here is one, it is this map.
	if end := bytes.IndexByte(b[p:], '}'); end >= 0 {
		if seen, dup := d.counts[string(b[p:p+end+1])]; dup {
			*dst = seen
			return p + end + 1, true
		}
	}
	m, after, ok := countsValue(b, p)
	if !ok {
		return after, ok
	}
	if d.counts == nil {
		d.counts = map[string]map[string]int{}
	}
	d.counts[d.line[p:after]] = m
	*dst = m
	return after, ok
}

// int64Value reads a JSON integer: an optional minus and digits, without
// leading zeros, that fits in bits. A fraction or exponent after it is
// declined by the callers, which want a comma or a brace next
// (encoding/json refuses them for integer fields).
func int64Value(b []byte, p, bits int) (int64, int, bool) {
	start := p
	if p < len(b) && b[p] == '-' {
		p++
	}
	digits := p
	for p < len(b) && b[p] >= '0' && b[p] <= '9' {
		p++
	}
	if p == digits || (b[digits] == '0' && p-digits > 1) {
		return 0, 0, false
	}
	n, err := strconv.ParseInt(string(b[start:p]), 10, bits)
	if err != nil {
		return 0, 0, false
	}
	return n, p, true
}

// countsValue reads a map of counts ({"blma":50}) whose keys are sorted
// and distinct, as json.Marshal writes them.
func countsValue(b []byte, p int) (map[string]int, int, bool) {
	if p >= len(b) || b[p] != '{' {
		return nil, 0, false
	}
	p++
	m := map[string]int{}
	if p < len(b) && b[p] == '}' {
		return m, p + 1, true
	}
	var last []byte
	for {
		key, after, ok := plainString(b, p)
		if !ok || after >= len(b) || b[after] != ':' || (last != nil && string(key) <= string(last)) {
			return nil, 0, false
		}
		last = key
		var n int
		if p, ok = readInt(&n, b, after+1); !ok || p >= len(b) {
			return nil, 0, false
		}
		m[string(key)] = n
		switch b[p] {
		case ',':
			p++
		case '}':
			return m, p + 1, true
		default:
			return nil, 0, false
		}
	}
}
