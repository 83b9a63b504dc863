package store

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// BenchmarkDecodeLedger decodes a ledger of 20,000 lines (a store of
// 10,000 submissions: an intake and an outcome each), or the one named
// by PLEDGESTAT_BENCH_LEDGER.
func BenchmarkDecodeLedger(b *testing.B) {
	path := os.Getenv("PLEDGESTAT_BENCH_LEDGER")
	if path == "" {
		b.Skip("PLEDGESTAT_BENCH_LEDGER names no ledger")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte{'\n'})
	lines = lines[:len(lines)-1]
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_, errs := decodeLines(lines)
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// FuzzLedgerJSON checks the ledger's fast JSON decoder against the
// standard library's on any line body: both refuse it, or both give the
// same entry. The bodies are checksummed, so a difference could only show
// on a line a person edited and re-summed; it must still be read the same.
func FuzzLedgerJSON(f *testing.F) {
	f.Add([]byte(`{"event":"accepted","seq":3,"time":"2026-11-29T12:16:12.570618136Z","run_id":"R","file":"a.xlsx","sha256":"ab","size":12,"rows":{"blma":2},"superseded":{"blma":1}}`))
	f.Add([]byte(`{"event":"intake","outcome":"accepted","file":"caf\u00e9.csv","stored_as":"archive/x"}`))
	f.Add([]byte(`{"event":"withdrawn","seq":1,"reason":"dup\"licate","Seq":2}`))
	f.Add([]byte(`{"rows":{"a":1e2}}`))
	f.Add([]byte(`{"time":"not a time"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var std, fast Entry
		stdErr := json.Unmarshal(body, &std)
		fastErr := unmarshalEntry(body, &fast)
		if (stdErr == nil) != (fastErr == nil) {
			t.Fatalf("%q: encoding/json says %v, go-json %v", body, stdErr, fastErr)
		}
		if stdErr == nil && !reflect.DeepEqual(std, fast) {
			t.Fatalf("%q: encoding/json reads %+v, go-json %+v", body, std, fast)
		}
	})
}
