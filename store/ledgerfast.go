package store

import (
	"strconv"
	"unicode/utf8"
)

// The ledger's lines are read by every command that opens the store, and
// with encoding/json their decoding was over half of a status on a store
// of 10,000 submissions (20,000 lines). decodeEntryFast reads the one form
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

// entryFields are the JSON keys of Entry, in declaration order.
var entryFields = [...]string{"event", "outcome", "seq", "time", "run_id", "file", "sha256", "size", "rows", "superseded", "stored_as", "duplicate_of", "errors", "warnings", "first_error"}

// decodeEntryFast decodes an entry written by encodeLine; ok is false for
// any other text (see above).
func decodeEntryFast(b []byte) (e Entry, ok bool) {
	if len(b) < 2 || b[0] != '{' {
		return Entry{}, false
	}
	p := 1
	if b[p] == '}' {
		return Entry{}, len(b) == 2
	}
	next := 0 // fields come in order, each at most once
	for {
		key, after, ok := plainString(b, p)
		if !ok || after >= len(b) || b[after] != ':' {
			return Entry{}, false
		}
		field := fieldIndex(key, next)
		if field < 0 {
			return Entry{}, false
		}
		next = field + 1
		if p, ok = e.decodeField(field, b, after+1); !ok || p >= len(b) {
			return Entry{}, false
		}
		switch b[p] {
		case ',':
			p++
		case '}':
			return e, p+1 == len(b)
		default:
			return Entry{}, false
		}
	}
}

// fieldIndex is the index of key among entryFields at or after from, or
// -1 (unknown, out of order or repeated).
func fieldIndex(key []byte, from int) int {
	for i := from; i < len(entryFields); i++ {
		if string(key) == entryFields[i] {
			return i
		}
	}
	return -1
}

// decodeField decodes the value of field i at b[p:] and returns the
// position after it.
func (e *Entry) decodeField(i int, b []byte, p int) (int, bool) {
	var ok bool
	switch entryFields[i] {
	case "event":
		e.Event, p, ok = stringValue(b, p)
	case "outcome":
		e.Outcome, p, ok = stringValue(b, p)
	case "seq":
		e.Seq, p, ok = intValue(b, p)
	case "time":
		var end int
		if _, end, ok = plainString(b, p); ok {
			// time.Time decodes itself from the quoted text, as it does
			// under encoding/json.
			ok = e.Time.UnmarshalJSON(b[p:end]) == nil
			p = end
		}
	case "run_id":
		e.RunID, p, ok = stringValue(b, p)
	case "file":
		e.File, p, ok = stringValue(b, p)
	case "sha256":
		e.SHA256, p, ok = stringValue(b, p)
	case "size":
		var n int64
		if n, p, ok = int64Value(b, p, 64); ok {
			e.Size = n
		}
	case "rows":
		e.Rows, p, ok = countsValue(b, p)
	case "superseded":
		e.Superseded, p, ok = countsValue(b, p)
	case "stored_as":
		e.StoredAs, p, ok = stringValue(b, p)
	case "duplicate_of":
		e.DuplicateOf, p, ok = intValue(b, p)
	case "errors":
		e.Errors, p, ok = intValue(b, p)
	case "warnings":
		e.Warnings, p, ok = intValue(b, p)
	case "first_error":
		e.FirstError, p, ok = stringValue(b, p)
	}
	return p, ok
}

// plainString reads a JSON string at b[p:] that needs no unescaping: no
// backslash, no control character, valid UTF-8 (encoding/json would
// replace invalid bytes). It returns the bytes between the quotes and the
// position after the closing one.
func plainString(b []byte, p int) (s []byte, after int, ok bool) {
	if p >= len(b) || b[p] != '"' {
		return nil, 0, false
	}
	ascii := true
	for j := p + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			s = b[p+1 : j]
			if !ascii && !utf8.Valid(s) {
				return nil, 0, false
			}
			return s, j + 1, true
		case c == '\\' || c < 0x20:
			return nil, 0, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, 0, false
}

func stringValue(b []byte, p int) (string, int, bool) {
	s, after, ok := plainString(b, p)
	return string(s), after, ok
}

func intValue(b []byte, p int) (int, int, bool) {
	n, after, ok := int64Value(b, p, strconv.IntSize)
	return int(n), after, ok
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
		if n, p, ok = intValue(b, after+1); !ok || p >= len(b) {
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
