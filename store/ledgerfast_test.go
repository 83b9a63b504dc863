package store

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sampleEntries are entries of every kind a run writes, with the values
// that test a decoder: maps, a time with nanoseconds and an offset,
// non-ASCII names, characters json.Marshal escapes.
func sampleEntries() []Entry {
	at := time.Date(2026, 11, 29, 15, 4, 5, 123456789, time.UTC)
	sha := strings.Repeat("5e", 32)
	return []Entry{
		{Event: EventIntake, Time: at, RunID: "20261129T150405Z", File: "000-AFG-ratifications.xlsx", SHA256: strings.Repeat("ab", 32), Size: 9876},
		{Event: EventAccepted, Seq: 42, Time: at, RunID: "r", File: "Côte d'Ivoire – taux.xlsx", SHA256: strings.Repeat("0f", 32), Size: 1 << 40,
			Rows: map[string]int{"blma": 50, "ratification": 3, "social_protection": 200000}, Superseded: map[string]int{"ratification": 5}, StoredAs: "archive/r-x.xlsx", Warnings: 2},
		{Event: EventIntake, Outcome: "rejected", Time: at.In(time.FixedZone("", 5*3600+1800)), File: "a<b>&\"c\"\\d\u2028.csv", SHA256: sha},
		{Event: EventRejected, Time: at, File: "bad.csv", SHA256: sha, StoredAs: "rejected/bad.csv", Errors: 3, FirstError: "C2: value 170 is over 100\nsee the report"},
		{Event: EventDuplicate, Time: at, File: "again.csv", SHA256: sha, DuplicateOf: 7},
		{Event: EventWithdrawn, Seq: 3, Time: at},
		{Event: EventAbandoned, Time: at, File: "gone.xlsx", SHA256: sha, Rows: map[string]int{}},
		{Event: EventAccepted, Seq: 65, Time: at, RunID: "r", File: "066-ALB-coverage.xlsx", SHA256: sha, Rows: map[string]int{"social_protection": 50},
			StoredAs: "archive/r-066-ALB-coverage.xlsx", Pack: "000065-000128-5e5e5e5e5e5e"},
	}
}

// TestFastDecodeReadsWhatEncodeLineWrites: every entry a run writes with
// plain strings is read by the fast path (else it would only cost), and
// every entry, plain or not, decodes as encoding/json decodes it.
func TestFastDecodeReadsWhatEncodeLineWrites(t *testing.T) {
	for i, e := range sampleEntries() {
		body, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var want Entry
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatal(err)
		}
		var got Entry
		ok := new(ledgerDecoder).fast(body, string(body), &got)
		plain := !strings.ContainsRune(string(body), '\\')
		if ok != plain {
			t.Errorf("entry %d: fast path ok=%v for %s", i, ok, body)
		}
		if ok && !reflect.DeepEqual(got, want) {
			t.Errorf("entry %d: fast path read\n%+v\nencoding/json read\n%+v", i, got, want)
		}
		line, err := encodeLine(e)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := decodeOneLine(line); err != nil || !reflect.DeepEqual(back, want) {
			t.Errorf("entry %d: decodeLine = %+v, %v", i, back, err)
		}
	}
}

// TestEntryFieldsMatchTheStruct keeps the fast path's keys true to Entry:
// a field added to Entry and not here would send every line to the slow
// path.
func TestEntryFieldsMatchTheStruct(t *testing.T) {
	typ := reflect.TypeFor[Entry]()
	if typ.NumField() != len(entryFields) {
		t.Fatalf("Entry has %d fields, entryFields %d", typ.NumField(), len(entryFields))
	}
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name != entryFields[i].key {
			t.Errorf("field %d: json key %q, entryFields says %q", i, name, entryFields[i].key)
		}
	}
}

// TestFastDecodeDeclines lists texts encoding/json reads differently from
// a naive reader, or refuses: the fast path must leave each to it.
func TestFastDecodeDeclines(t *testing.T) {
	for _, body := range []string{
		`{"event":"accepted","seq":-9223372036854775809}`, // out of range
		`{"event":"accepted","seq":1.0}`,
		`{"event":"accepted","seq":1e2}`,
		`{"event":"accepted","seq":01}`,
		`{"EVENT":"accepted"}`,         // case-insensitive key
		`{"seq":1,"event":"accepted"}`, // out of order
		`{"event":"a","event":"b"}`,    // repeated
		`{"event":"accepted","rows":{"b":1,"a":2}}`,
		`{"event":"accepted","rows":{"a":1,"a":2}}`,
		`{"event":"accepted","rows":null}`,
		`{"event":"x\u0041"}`,
		"{\"event\":\"\xff\"}",
		`{"event":"accepted"} `,
		`{ "event":"accepted"}`,
		`{"event":"accepted","unknown":1}`,
		`{"event":"accepted","time":"2026-13-01T00:00:00Z"}`,
		`{"event":"accepted"`,
		`[]`,
	} {
		if e := (Entry{}); new(ledgerDecoder).fast([]byte(body), body, &e) {
			t.Errorf("fast path read %s as %+v", body, e)
		}
	}
}

// FuzzDecodeEntryFast: whatever the fast path reads, encoding/json reads
// the same, without error.
func FuzzDecodeEntryFast(f *testing.F) {
	for _, e := range sampleEntries() {
		body, _ := json.Marshal(e)
		f.Add(body)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"event":"accepted","seq":-0,"rows":{"":1,"a":-2}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var got Entry
		if !new(ledgerDecoder).fast(body, string(body), &got) {
			return
		}
		var want Entry
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatalf("fast path read %q, encoding/json refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: fast path read\n%+v\nencoding/json read\n%+v", body, got, want)
		}
	})
}

// decodeOneLine decodes one line, as decodeLines does.
func decodeOneLine(line []byte) (Entry, error) {
	var e Entry
	err := new(ledgerDecoder).decodeLine(line, string(line), &e)
	return e, err
}

// TestDecodeLineAllocations is the ledger's allocation budget: an
// accepted entry's line takes 13 allocations through the fast path (its
// strings, maps and time zone) and 36 through encoding/json.
func TestDecodeLineAllocations(t *testing.T) {
	line, err := encodeLine(sampleEntries()[1])
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := decodeOneLine(line); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%.0f allocations a line", allocs)
	if allocs > 20 {
		t.Errorf("decoding a ledger line takes %.0f allocations, over the budget of 20", allocs)
	}
}

// FuzzDecodeLinesInTurn: one decoder reads lines in turn, as a worker
// does, and keeps the maps of counts it read by their text. Whatever it
// reads of the second line, after the first, is what encoding/json reads.
func FuzzDecodeLinesInTurn(f *testing.F) {
	f.Add([]byte(`{"event":"accepted","rows":{"a":1}}`), []byte(`{"event":"accepted","rows":{"a":1},"superseded":{"a":1}}`))
	f.Add([]byte(`{"rows":{"a}":1}}`), []byte(`{"rows":{"a}":1,"b":2}}`))
	f.Add([]byte(`{"rows":{"a":1}}`), []byte(`{"rows":{"a":1,"b":2}}`))
	f.Fuzz(func(t *testing.T, first, second []byte) {
		var d ledgerDecoder
		var e Entry
		d.fast(first, string(first), &e)
		var got Entry
		if !d.fast(second, string(second), &got) {
			return
		}
		var want Entry
		if err := json.Unmarshal(second, &want); err != nil {
			t.Fatalf("fast path read %q, encoding/json refuses it: %v", second, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("after %q, %q: fast path read\n%+v\nencoding/json read\n%+v", first, second, got, want)
		}
	})
}

// TestLedgerEntriesShareTheirCounts: the counts of entries read from the
// ledger with the same text are one map, and the entries' strings are
// cut from the ledger's text (no allocation a field).
func TestLedgerEntriesShareTheirCounts(t *testing.T) {
	var data []byte
	for _, e := range sampleEntries() {
		line, err := encodeLine(e)
		if err != nil {
			t.Fatal(err)
		}
		data = append(append(data, line...), '\n')
	}
	data = append(data, data...) // each line twice
	entries, errs := decodeLines(data)
	n := len(sampleEntries())
	if len(entries) != 2*n {
		t.Fatalf("%d entries from %d lines", len(entries), 2*n)
	}
	for i := range n {
		if errs[i] != nil || errs[n+i] != nil {
			t.Fatal(errs[i], errs[n+i])
		}
		a, b := entries[i], entries[n+i]
		if !reflect.DeepEqual(a, b) {
			t.Errorf("line %d read twice differs: %+v, %+v", i, a, b)
		}
		if a.Rows != nil && reflect.ValueOf(a.Rows).UnsafePointer() != reflect.ValueOf(b.Rows).UnsafePointer() {
			t.Errorf("line %d: the same counts %v are two maps", i, a.Rows)
		}
	}
	// The plain lines in UTC, each four times: the fast path's allocations
	// are the ledger's, not its lines'.
	var plain []byte
	for _, e := range sampleEntries() {
		line, _ := encodeLine(e)
		if e.Time.Location() == time.UTC && !strings.ContainsRune(string(line), '\\') {
			plain = append(append(plain, line...), '\n')
		}
	}
	few := bytes.Repeat(plain, 2)
	many := bytes.Repeat(plain, 40)
	allocsFew := testing.AllocsPerRun(20, func() { decodeLines(few) })
	allocsMany := testing.AllocsPerRun(20, func() { decodeLines(many) })
	if allocsMany > allocsFew+2 {
		t.Errorf("decoding %d lines took %.0f allocations, %d lines %.0f: a line's fields or counts allocate", bytes.Count(few, []byte{'\n'}), allocsFew, bytes.Count(many, []byte{'\n'}), allocsMany)
	}
}

// TestChecksumReadsEitherCase: a line's checksum is read as
// strconv.ParseUint read it, in either case (a ledger a person fixed by
// hand may have it in capitals); anything else is a bad checksum.
func TestChecksumReadsEitherCase(t *testing.T) {
	var line []byte // one whose checksum has letters
	for _, e := range sampleEntries() {
		if l, err := encodeLine(e); err == nil && bytes.ContainsAny(l[:8], "abcdef") {
			line = l
			break
		}
	}
	if line == nil {
		t.Fatal("no sample line has a checksum with letters")
	}
	upper := append(bytes.ToUpper(line[:8]), line[8:]...)
	for _, c := range []struct {
		line []byte
		err  string
	}{
		{line, ""},
		{upper, ""},
		{append([]byte("0000000g"), line[8:]...), "bad checksum"},
		{append([]byte("+0000000"), line[8:]...), "bad checksum"},
		{append([]byte("00000000"), line[8:]...), "checksum mismatch"},
	} {
		_, err := decodeOneLine(c.line)
		if (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("%.20q: error %v, want %q", c.line, err, c.err)
		}
	}
}
