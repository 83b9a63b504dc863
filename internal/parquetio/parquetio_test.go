package parquetio

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// writeInts writes n int32 rows in row groups of chunk rows to a file.
func writeInts(t *testing.T, n, chunk int) string {
	t.Helper()
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int32}}, nil)
	var buf bytes.Buffer
	err := WriteChunked(&buf, n, chunk, func(from, to int) arrow.RecordBatch {
		b := array.NewInt32Builder(mem)
		defer b.Release()
		for i := from; i < to; i++ {
			b.Append(int32(i))
		}
		col := b.NewArray()
		defer col.Release()
		return array.NewRecordBatch(schema, []arrow.Array{col}, int64(to-from))
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "t.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// What is written comes back whole and in order, both ways of reading.
func TestRoundTrip(t *testing.T) {
	path := writeInts(t, 200_000, 64<<10)
	for _, read := range []func(context.Context, string, memory.Allocator, func(arrow.RecordBatch) error) error{ReadFile, ReadFileParallel} {
		next := int32(0)
		err := read(context.Background(), path, memory.NewGoAllocator(), func(b arrow.RecordBatch) error {
			col := b.Column(0).(*array.Int32)
			for i := range col.Len() {
				if col.Value(i) != next {
					t.Fatalf("row %d holds %d", next, col.Value(i))
				}
				next++
			}
			return nil
		})
		if err != nil || next != 200_000 {
			t.Fatalf("read %d rows: %v", next, err)
		}
	}
}

// A stopped run stops reading: no batch is handed on once ctx is done
// (a build over a large store stops within a second of SIGTERM).
func TestReadStopsWhenTold(t *testing.T) {
	path := writeInts(t, 200_000, 64<<10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	err := ReadFile(ctx, path, memory.NewGoAllocator(), func(arrow.RecordBatch) error { calls++; return nil })
	if !errors.Is(err, context.Canceled) || calls != 0 {
		t.Errorf("read with a stopped context: %d batches, err %v", calls, err)
	}
}
