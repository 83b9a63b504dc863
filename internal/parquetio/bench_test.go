package parquetio

import (
	"fmt"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// smallBatch is a submission of 50 rows and 14 columns, as the ministries'
// one-country files give: the size at which a file's fixed costs (the
// footer, a column writer per column) outweigh its rows.
func smallBatch(mem memory.Allocator) arrow.RecordBatch {
	var fields []arrow.Field
	for i := range 12 {
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("s%d", i), Type: arrow.BinaryTypes.String, Nullable: i%3 == 0})
	}
	fields = append(fields, arrow.Field{Name: "year", Type: arrow.PrimitiveTypes.Int32}, arrow.Field{Name: "value", Type: arrow.PrimitiveTypes.Float64})
	b := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer b.Release()
	for r := range 50 {
		for i := range 12 {
			b.Field(i).(*array.StringBuilder).Append(fmt.Sprintf("v%d-%d", i, r%(i+1)))
		}
		b.Field(12).(*array.Int32Builder).Append(int32(2000 + r))
		b.Field(13).(*array.Float64Builder).Append(float64(r) / 3)
	}
	return b.NewRecordBatch()
}

func BenchmarkWriteSmallFile(b *testing.B) {
	batch := smallBatch(memory.NewGoAllocator())
	defer batch.Release()
	b.ReportAllocs()
	for b.Loop() {
		err := WriteChunked(io.Discard, int(batch.NumRows()), 1<<16, func(from, to int) arrow.RecordBatch {
			batch.Retain()
			return batch
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
