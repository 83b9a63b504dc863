package gates

import (
	"context"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/internal/parquetio"
)

// BenchmarkReadObservations reads the indicators.parquet named by
// PLEDGESTAT_BENCH_INDICATORS (a run's), as the gates read the previous
// and new runs' tables.
func BenchmarkReadObservations(b *testing.B) {
	path := os.Getenv("PLEDGESTAT_BENCH_INDICATORS")
	if path == "" {
		b.Skip("PLEDGESTAT_BENCH_INDICATORS names no indicators.parquet")
	}
	var batches []arrow.RecordBatch
	err := parquetio.ReadFile(context.Background(), path, memory.DefaultAllocator, func(rb arrow.RecordBatch) error {
		rb.Retain()
		batches = append(batches, rb)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := readObservations(batches); err != nil {
			b.Fatal(err)
		}
	}
}
