package parquetio

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// every type pledgestat's tables use, nullable and not; source_cell is
// written without a dictionary, the other strings with one.
var allTypes = arrow.NewSchema([]arrow.Field{
	{Name: "iso3", Type: arrow.BinaryTypes.String},
	{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "source_cell", Type: arrow.BinaryTypes.String},
	{Name: "year", Type: arrow.PrimitiveTypes.Int32},
	{Name: "count", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "big", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "date", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "on", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "parties", Type: arrow.ListOf(arrow.BinaryTypes.String)},
	{Name: "maybe_list", Type: arrow.ListOfNonNullable(arrow.BinaryTypes.String), Nullable: true},
}, func() *arrow.Metadata {
	m := arrow.NewMetadata([]string{"pledgestat:run", "k"}, []string{"R1", "v"})
	return &m
}())

// randomBatch is n rows of allTypes: nulls at the rate given, strings of
// any length including empty and non-ASCII.
func randomBatch(rng *rand.Rand, mem memory.Allocator, n int, nullRate float64) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, allTypes)
	defer b.Release()
	null := func() bool { return rng.Float64() < nullRate }
	words := []string{"", "KEN", "Côte d'Ivoire", "日本", "a,b\"c", strings.Repeat("x", 300)}
	for i := range n {
		b.Field(0).(*array.StringBuilder).Append(words[rng.IntN(len(words))])
		if null() {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(words[rng.IntN(len(words))])
		}
		b.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("Sheet1!B%d", i+2))
		b.Field(3).(*array.Int32Builder).Append(int32(1990 + rng.IntN(40)))
		if null() {
			b.Field(4).AppendNull()
		} else {
			b.Field(4).(*array.Int32Builder).Append(rng.Int32() - 1<<30)
		}
		if null() {
			b.Field(5).AppendNull()
		} else {
			b.Field(5).(*array.Int64Builder).Append(rng.Int64() - 1<<62)
		}
		if null() {
			b.Field(6).AppendNull()
		} else {
			b.Field(6).(*array.Float64Builder).Append(rng.NormFloat64())
		}
		if null() {
			b.Field(7).AppendNull()
		} else {
			b.Field(7).(*array.Date32Builder).Append(arrow.Date32(rng.IntN(30000)))
		}
		if null() {
			b.Field(8).AppendNull()
		} else {
			b.Field(8).(*array.BooleanBuilder).Append(rng.IntN(2) == 1)
		}
		b.Field(9).(*array.BooleanBuilder).Append(rng.IntN(3) == 1)
		lb := b.Field(10).(*array.ListBuilder)
		lb.Append(true)
		for range rng.IntN(4) {
			if null() {
				lb.ValueBuilder().AppendNull()
			} else {
				lb.ValueBuilder().(*array.StringBuilder).Append(words[rng.IntN(len(words))])
			}
		}
		mb := b.Field(11).(*array.ListBuilder)
		if null() {
			mb.AppendNull()
		} else {
			mb.Append(true)
			for range rng.IntN(3) {
				mb.ValueBuilder().(*array.StringBuilder).Append(words[rng.IntN(len(words))])
			}
		}
	}
	return b.NewRecordBatch()
}

// readAll reads a file with this package, concatenating its batches.
func readAll(t *testing.T, data []byte, parallel bool) (arrow.RecordBatch, int) {
	t.Helper()
	mem := memory.NewGoAllocator()
	var batches []arrow.RecordBatch
	err := Read(context.Background(), bytes.NewReader(data), mem, parallel, func(b arrow.RecordBatch) error {
		if b.NumRows() > batchRows {
			t.Errorf("a batch of %d rows", b.NumRows())
		}
		b.Retain()
		batches = append(batches, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) == 0 {
		return nil, 0
	}
	tbl := array.NewTableFromRecords(batches[0].Schema(), batches)
	defer tbl.Release()
	for _, b := range batches {
		b.Release()
	}
	return tableBatch(t, tbl), len(batches)
}

// readWithPqarrow reads a file with arrow-go's own Parquet reader: the
// independent check of what this package writes.
func readWithPqarrow(t *testing.T, data []byte) arrow.RecordBatch {
	t.Helper()
	mem := memory.NewGoAllocator()
	rdr, err := file.NewParquetReader(bytes.NewReader(data), file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	b := tableBatch(t, tbl)
	defer b.Release()
	// The table drops the schema's metadata; the reader's schema has it.
	sc, err := fr.Schema()
	if err != nil {
		t.Fatal(err)
	}
	return array.NewRecordBatch(sc, b.Columns(), b.NumRows())
}

// tableBatch is a table as one record batch.
func tableBatch(t *testing.T, tbl arrow.Table) arrow.RecordBatch {
	t.Helper()
	cols := make([]arrow.Array, tbl.NumCols())
	for i := range cols {
		c, err := array.Concatenate(tbl.Column(i).Data().Chunks(), memory.NewGoAllocator())
		if err != nil {
			t.Fatal(err)
		}
		cols[i] = c
		defer c.Release()
	}
	return array.NewRecordBatch(tbl.Schema(), cols, tbl.NumRows())
}

func sameBatch(t *testing.T, what string, got, want arrow.RecordBatch) {
	t.Helper()
	if !SameColumns(got.Schema(), want.Schema()) {
		t.Fatalf("%s: schema\n%s\nwant\n%s", what, got.Schema(), want.Schema())
	}
	if !got.Schema().Metadata().Equal(want.Schema().Metadata()) {
		t.Fatalf("%s: metadata %v, want %v", what, got.Schema().Metadata(), want.Schema().Metadata())
	}
	if got.NumRows() != want.NumRows() {
		t.Fatalf("%s: %d rows, want %d", what, got.NumRows(), want.NumRows())
	}
	for i := range int(want.NumCols()) {
		if !array.Equal(got.Column(i), want.Column(i)) {
			g, w := got.Column(i), want.Column(i)
			for r := range w.Len() {
				if g.IsNull(r) != w.IsNull(r) || g.ValueStr(r) != w.ValueStr(r) {
					t.Fatalf("%s: column %s row %d: %s, want %s", what, want.ColumnName(i), r, g.ValueStr(r), w.ValueStr(r))
				}
			}
			t.Fatalf("%s: column %s differs", what, want.ColumnName(i))
		}
	}
}

// What this package writes, it and pqarrow read back the same, for every
// type, with and without nulls, in one batch or many, and in row groups
// larger than a batch.
func TestRoundTripEveryType(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rows     int
		chunk    int
		nullRate float64
	}{
		{"empty", 0, 10, 0},
		{"one row", 1, 10, 0},
		{"no nulls", 5000, 1000, 0},
		{"some nulls", 5000, 1777, 0.2},
		{"all nulls", 300, 100, 1},
		{"a row group of several batches", 150_000, 150_000, 0.1},
		{"plain, at the limit", PlainRows, 300, 0.2},
		{"compressed, past the limit", PlainRows + 1, 300, 0.2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.rows), 7))
			mem := memory.NewGoAllocator()
			want := randomBatch(rng, mem, tc.rows, tc.nullRate)
			defer want.Release()
			var buf bytes.Buffer
			err := WriteChunked(&buf, tc.rows, tc.chunk, func(from, to int) arrow.RecordBatch {
				return want.NewSlice(int64(from), int64(to))
			})
			if err != nil {
				t.Fatal(err)
			}
			fromPq := readWithPqarrow(t, buf.Bytes())
			defer fromPq.Release()
			sameBatch(t, "pqarrow", fromPq, want)
			if tc.rows > 0 {
				// At most PlainRows are written plain, more compressed.
				pr, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
				if err != nil {
					t.Fatal(err)
				}
				cc, err := pr.MetaData().RowGroup(0).ColumnChunk(0)
				if err != nil {
					t.Fatal(err)
				}
				want := "ZSTD"
				if tc.rows <= PlainRows {
					want = "UNCOMPRESSED"
				}
				if got := cc.Compression().String(); got != want {
					t.Errorf("%d rows compressed with %s, want %s", tc.rows, got, want)
				}
			}
			for _, parallel := range []bool{false, true} {
				got, batches := readAll(t, buf.Bytes(), parallel)
				if tc.rows == 0 {
					if got != nil {
						t.Fatalf("an empty file gave %d rows", got.NumRows())
					}
					continue
				}
				sameBatch(t, fmt.Sprintf("parallel=%v", parallel), got, want)
				if wantBatches := (tc.rows + tc.chunk - 1) / tc.chunk * ((min(tc.chunk, tc.rows) + batchRows - 1) / batchRows); batches != wantBatches {
					t.Errorf("%d batches, want %d", batches, wantBatches)
				}
				got.Release()
			}
		})
	}
}

// Files written by pqarrow (every store and run before this package wrote
// its own) read the same through this package.
func TestReadsWhatPqarrowWrote(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	mem := memory.NewGoAllocator()
	want := randomBatch(rng, mem, 20_000, 0.15)
	defer want.Release()
	var buf bytes.Buffer
	fw, err := pqarrow.NewFileWriter(allTypes, struct{ io2 }{&buf}, writerProperties(false, true), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(want); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, buf.Bytes(), true)
	defer got.Release()
	sameBatch(t, "pqarrow's file", got, want)
	x := readWithPqarrow(t, buf.Bytes())
	sameBatch(t, "pqarrow's file by pqarrow", x, want)
}

type io2 interface{ Write([]byte) (int, error) }

// A schema outside the flat types is refused by name, not written wrong.
func TestUnsupportedTypesAreRefused(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "when", Type: arrow.FixedWidthTypes.Timestamp_us}}, nil)
	if _, err := NewWriter(&bytes.Buffer{}, sc); err == nil || !strings.Contains(err.Error(), "when") {
		t.Errorf("a timestamp column: %v", err)
	}
	// A non-nullable column holding a null is an error, not a shifted column.
	b := array.NewInt32Builder(memory.NewGoAllocator())
	b.AppendValues([]int32{1, 0, 3}, []bool{true, false, true})
	col := b.NewArray()
	sc = arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int32}}, nil)
	batch := array.NewRecordBatch(sc, []arrow.Array{col}, 3)
	if err := Write(&bytes.Buffer{}, batch); err == nil {
		t.Error("nulls in a required column were written")
	}
}

// The reader's arrays own their memory: nothing is left in the allocator
// once the batches are released.
func TestReadLeavesNothingAllocated(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	want := randomBatch(rng, memory.NewGoAllocator(), 3000, 0.3)
	defer want.Release()
	var buf bytes.Buffer
	if err := Write(&buf, want); err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	err := Read(context.Background(), bytes.NewReader(buf.Bytes()), mem, true, func(b arrow.RecordBatch) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)
}

// ReadRowGroups hands on each row group whole, however large: the
// snapshot's tables are used as read, not joined from pieces.
func TestReadRowGroupsWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	want := randomBatch(rng, memory.NewGoAllocator(), 150_000, 0.1)
	defer want.Release()
	var buf bytes.Buffer
	err := WriteChunked(&buf, 150_000, 100_000, func(from, to int) arrow.RecordBatch {
		return want.NewSlice(int64(from), int64(to))
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "t.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	from := int64(0)
	err = ReadRowGroups(context.Background(), path, memory.NewGoAllocator(), func(b arrow.RecordBatch) error {
		sizes = append(sizes, b.NumRows())
		part := want.NewSlice(from, from+b.NumRows())
		defer part.Release()
		sameBatch(t, fmt.Sprintf("row group from %d", from), b, part)
		from += b.NumRows()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sizes, []int64{100_000, 50_000}) {
		t.Errorf("batches of %v rows, want the two row groups", sizes)
	}
}
