package parquetio

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
)

// ReadCodedColumns gives, of a file of one row group, the string columns
// whose pages are all dictionary-encoded as dictionaries, with the same
// rows as ReadRowGroupsColumns: repeated values, nulls and empty texts.
// A column written plain (a cell reference a row), one whose dictionary
// outgrew its page (plain pages after it) and any column of a file of
// several row groups are read as strings.
func TestCodedColumnsAreTheRowsAsDictionaries(t *testing.T) {
	fields := []arrow.Field{
		{Name: "country", Type: arrow.BinaryTypes.String},
		{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "source_cell", Type: arrow.BinaryTypes.String}, // written plain
		{Name: "big", Type: arrow.BinaryTypes.String},         // outgrows its dictionary page
		{Name: "year", Type: arrow.PrimitiveTypes.Int32},
	}
	schema := arrow.NewSchema(fields, nil)
	const rows = 6000
	for _, groups := range []int{1, 3} {
		t.Run(fmt.Sprint(groups, " row groups"), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			table := arrowcol.NewBatch(mem, schema, rows, func(b *arrowcol.Builder, i int) {
				b.Str([]string{"FRA", "DEU", "", "ITA"}[i%4])
				b.OptStr([]string{"", "a note", "é"}[i%3]) // null when empty
				b.Str(fmt.Sprintf("C%d", i+2))
				b.Str(fmt.Sprintf("%d%s", i, strings.Repeat("x", 300)))
				b.I32(2000 + i%25)
			})
			defer table.Release()
			var out bytes.Buffer
			err := WriteChunked(&out, rows, (rows+groups-1)/groups, func(from, to int) arrow.RecordBatch { return table.NewSlice(int64(from), int64(to)) })
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "t.parquet")
			if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			names := []string{"year", "note", "country", "source_cell", "big"}
			text := func(read func(context.Context, string, memory.Allocator, []string, func(arrow.RecordBatch) error) error) (string, []string) {
				var s strings.Builder
				var types []string
				err := read(context.Background(), path, mem, names, func(b arrow.RecordBatch) error {
					if !SameValues(b.Schema(), arrow.NewSchema([]arrow.Field{fields[4], fields[1], fields[0], fields[2], fields[3]}, nil)) {
						return fmt.Errorf("schema %s", b.Schema())
					}
					types = types[:0]
					for _, c := range b.Columns() {
						types = append(types, c.DataType().String())
					}
					for r := range int(b.NumRows()) {
						for _, c := range b.Columns() {
							if c.IsNull(r) {
								s.WriteString("(null)|")
								continue
							}
							s.WriteString(c.ValueStr(r) + "|")
						}
						s.WriteString("\n")
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return s.String(), types
			}
			coded, codedTypes := text(ReadCodedColumns)
			plain, _ := text(ReadRowGroupsColumns)
			if coded != plain || strings.Count(coded, "\n") != rows {
				t.Errorf("the rows differ, or are not %d", rows)
			}
			want := []string{"int32", "utf8", "utf8", "utf8", "utf8"}
			if groups == 1 {
				want = []string{"int32", "dictionary<values=utf8, indices=int32, ordered=false>", "dictionary<values=utf8, indices=int32, ordered=false>", "utf8", "utf8"}
			}
			if strings.Join(codedTypes, ", ") != strings.Join(want, ", ") {
				t.Errorf("types %v, want %v", codedTypes, want)
			}
		})
	}
}

// Files the store keeps for itself are written without column
// statistics; every other file with them (a published file's readers may
// skip row groups by them).
func TestInternalFilesHaveNoStatistics(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "country", Type: arrow.BinaryTypes.String}, {Name: "year", Type: arrow.PrimitiveTypes.Int32}}, nil)
	const rows = PlainRows + 10 // not a small file, which is written plain
	table := arrowcol.NewBatch(mem, schema, rows, func(b *arrowcol.Builder, i int) {
		b.Str([]string{"FRA", "DEU"}[i%2])
		b.I32(2000 + i%20)
	})
	defer table.Release()
	for _, tc := range []struct {
		name  string
		write func(io.Writer, int, int, func(from, to int) arrow.RecordBatch) error
		stats bool
	}{{"WriteChunked", WriteChunked, true}, {"WriteChunkedInternal", WriteChunkedInternal, false}} {
		var out bytes.Buffer
		err := tc.write(&out, rows, rows, func(from, to int) arrow.RecordBatch { return table.NewSlice(int64(from), int64(to)) })
		if err != nil {
			t.Fatal(err)
		}
		rdr, err := file.NewParquetReader(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		for c := range 2 {
			md, err := rdr.MetaData().RowGroup(0).ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			if set, _ := md.StatsSet(); set != tc.stats {
				t.Errorf("%s: column %d has statistics: %v, want %v", tc.name, c, set, tc.stats)
			}
		}
		rdr.Close()
	}
}

// A batch whose text columns come coded (arrowcol's dictionary columns)
// is written as the same file as the batch of plain strings: repeated values, nulls, empty texts, a column whose dictionary
// outgrows its page (written plain), with statistics and without, over
// several row groups.
func TestCodedColumnsWriteTheSameFile(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	coded := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	plainFields := []arrow.Field{
		{Name: "country", Type: arrow.BinaryTypes.String},
		{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "big", Type: arrow.BinaryTypes.String},
		{Name: "year", Type: arrow.PrimitiveTypes.Int32},
	}
	plainSchema := arrow.NewSchema(plainFields, nil)
	codedFields := slices.Clone(plainFields)
	for i := range 3 {
		codedFields[i].Type = coded
	}
	codedSchema := arrow.NewSchema(codedFields, nil)
	batch := func(schema *arrow.Schema, rows, from int) arrow.RecordBatch {
		return arrowcol.NewBatch(mem, schema, rows, func(b *arrowcol.Builder, i int) {
			i += from
			b.Str([]string{"FRA", "DEU", "", "ITA"}[i%4])
			b.OptStr([]string{"", "a note", "é", ""}[i%4])
			b.Str(fmt.Sprintf("%d%s", i, strings.Repeat("x", 300)))
			b.I32(2000 + i%25)
		})
	}
	for _, stats := range []bool{true, false} {
		write := func(schema *arrow.Schema) []byte {
			var out bytes.Buffer
			w, err := newWriter(&out, plainSchema, false, stats)
			if err != nil {
				t.Fatal(err)
			}
			for _, rows := range []int{5000, 1, 300} {
				b := batch(schema, rows, rows)
				if err := w.Write(b); err != nil {
					t.Fatal(err)
				}
				b.Release()
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			// Of the coded columns, only the one whose dictionary is too
			// large for its page (big, in the batch of 5,000 rows) was
			// written from its text.
			if want := map[*arrow.Schema]int{plainSchema: 0, codedSchema: 1}[schema]; w.buf.decoded != want {
				t.Errorf("stats %v: %d coded columns written from their text, want %d", stats, w.buf.decoded, want)
			}
			return out.Bytes()
		}
		// Compared by their chunks (encodings, sizes, statistics) and
		// rows: where a dictionary outgrows its page arrow-go lists the
		// page encodings in map order, so the bytes differ from write to
		// write.
		plain, fromCodes := write(plainSchema), write(codedSchema)
		if diff := describeChunks(t, fromCodes, plain); diff != "" {
			t.Errorf("stats %v: the file from coded columns differs:\n%s", stats, diff)
		}
		if a, b := rowsOf(t, mem, fromCodes), rowsOf(t, mem, plain); a != b || strings.Count(a, "\n") != 5301 {
			t.Errorf("stats %v: the rows differ, or are not 5,301", stats)
		}
	}
}

// Two schemas have the same columns only with the same names, types and
// nullability, in the same order; the same values also when a column is
// a dictionary of the other's type.
func TestSameColumnsAndValues(t *testing.T) {
	str := arrow.Field{Name: "a", Type: arrow.BinaryTypes.String}
	schema := func(fields ...arrow.Field) *arrow.Schema { return arrow.NewSchema(fields, nil) }
	coded, nullable, renamed, retyped := str, str, str, str
	coded.Type = arrowcol.CodedText()
	nullable.Nullable = true
	renamed.Name = "b"
	retyped.Type = arrow.PrimitiveTypes.Int32
	for _, tc := range []struct {
		name          string
		a, b          *arrow.Schema
		columns, vals bool
	}{
		{"same", schema(str), schema(str), true, true},
		{"coded", schema(coded), schema(str), false, true},
		{"nullable", schema(nullable), schema(str), false, false},
		{"renamed", schema(renamed), schema(str), false, false},
		{"retyped", schema(retyped), schema(str), false, false},
		{"one more", schema(str, renamed), schema(str), false, false},
	} {
		if got := SameColumns(tc.a, tc.b); got != tc.columns {
			t.Errorf("%s: SameColumns = %v", tc.name, got)
		}
		if got := SameValues(tc.a, tc.b); got != tc.vals {
			t.Errorf("%s: SameValues = %v", tc.name, got)
		}
	}
}
