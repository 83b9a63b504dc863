package store

import (
	"bytes"
	"os"
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
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_, errs := decodeLines(data)
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
