package parquetio

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
)

// The string columns' dictionaries found here write the same file, byte
// for byte, as arrow-go's own hashing: repeated codes, nulls, empty
// strings, a column whose dictionary is off, and a row group whose
// dictionary-encoded rows fill several pages, over several row groups.
// A column whose dictionary would be too large for a page is left to
// arrow-go, which falls back to plain encoding; there arrow-go lists the
// page encodings in map order, so its own files differ from run to run
// and the files are compared by their chunks' metadata and their rows.
func TestDictionariesAsArrowWritesThem(t *testing.T) {
	for _, big := range []bool{false, true} {
		t.Run(fmt.Sprint("big=", big), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			fields := []arrow.Field{
				{Name: "country", Type: arrow.BinaryTypes.String},
				{Name: "series", Type: arrow.BinaryTypes.String}, // past a page of raw bytes in the largest batch
				{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
				{Name: "source_cell", Type: arrow.BinaryTypes.String}, // no dictionary
				{Name: "year", Type: arrow.PrimitiveTypes.Int32},
			}
			if big {
				fields = append(fields, arrow.Field{Name: "big", Type: arrow.BinaryTypes.String}) // over a dictionary page
			}
			schema := arrow.NewSchema(fields, nil)
			batch := func(rows, from int) arrow.RecordBatch {
				return arrowcol.NewBatch(mem, schema, rows, func(b *arrowcol.Builder, i int) {
					i += from
					b.Str([]string{"FRA", "DEU", "", "ITA"}[i%4])
					b.Str(fmt.Sprintf("SOC_CONTIG_SERIES_%02d", i%100))
					b.OptStr([]string{"", "a note", "é"}[i%3]) // null when empty
					b.Str(fmt.Sprintf("C%d", i+2))
					b.I32(2000 + i%25)
					if big {
						b.Str(fmt.Sprintf("%d%s", i, strings.Repeat("x", 300)))
					}
				})
			}
			write := func(arrowDictionaries bool) []byte {
				var out bytes.Buffer
				w, err := newWriter(&out, schema, false, true)
				if err != nil {
					t.Fatal(err)
				}
				w.buf.arrowDictionaries = arrowDictionaries
				batches := []int{10000, 1, 4000}
				if !big {
					batches = append(batches, 200000) // pages cut by raw size
				}
				for _, rows := range batches {
					b := batch(rows, rows)
					if err := w.Write(b); err != nil {
						t.Fatal(err)
					}
					b.Release()
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				return out.Bytes()
			}
			ours, arrows := write(false), write(true)
			if !big && !bytes.Equal(ours, arrows) {
				t.Errorf("the files differ: %d bytes here, %d by arrow-go's hashing\n%s", len(ours), len(arrows), describeChunks(t, ours, arrows))
			}
			if diff := describeChunks(t, ours, arrows); diff != "" {
				t.Errorf("the column chunks differ:\n%s", diff)
			}
			want := 14001
			if !big {
				want += 200000
			}
			if a, b := rowsOf(t, mem, ours), rowsOf(t, mem, arrows); a != b || strings.Count(a, "\n") != want {
				t.Errorf("the rows differ, or are not %d", want)
			}
		})
	}
}

// rowsOf reads a file back as text, a line a row.
func rowsOf(t *testing.T, mem memory.Allocator, file []byte) string {
	t.Helper()
	var out strings.Builder
	err := Read(context.Background(), bytes.NewReader(file), mem, false, func(b arrow.RecordBatch) error {
		for row := range int(b.NumRows()) {
			for _, col := range b.Columns() {
				out.WriteString(col.ValueStr(row) + "|")
			}
			out.WriteString("\n")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// describeChunks lists the column chunks whose metadata differ.
func describeChunks(t *testing.T, a, b []byte) string {
	t.Helper()
	ra, err := file.NewParquetReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for g := range ra.NumRowGroups() {
		ga, gb := ra.MetaData().RowGroup(g), rb.MetaData().RowGroup(g)
		for c := range ga.NumColumns() {
			ca, _ := ga.ColumnChunk(c)
			cb, _ := gb.ColumnChunk(c)
			describe := func(cc *metadata.ColumnChunkMetaData) string {
				d := fmt.Sprintf("%v %v %d %d", cc.Encodings(), sortedStats(cc.EncodingStats()), cc.TotalCompressedSize(), cc.TotalUncompressedSize())
				if st, _ := cc.Statistics(); st != nil { // none in a file written without
					d += fmt.Sprintf(" %q %q %d %d", st.EncodeMin(), st.EncodeMax(), st.NullCount(), st.NumValues())
				}
				return d
			}
			da, db := describe(ca), describe(cb)
			if da != db {
				fmt.Fprintf(&out, "row group %d column %d:\n  here  %s\n  arrow %s\n", g, c, da, db)
			}
		}
	}
	return out.String()
}

func sortedStats(stats []metadata.PageEncodingStats) []string {
	var out []string
	for _, s := range stats {
		out = append(out, fmt.Sprint(s))
	}
	slices.Sort(out)
	return out
}

// ReadFileColumns hands on the named columns alone, in the order asked,
// with the file's metadata, and refuses a name the file lacks.
func TestReadFileColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	md := arrow.NewMetadata([]string{"run_id"}, []string{"R1"})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.BinaryTypes.String},
		{Name: "b", Type: arrow.PrimitiveTypes.Int32},
		{Name: "c", Type: arrow.BinaryTypes.String, Nullable: true},
	}, &md)
	batch := arrowcol.NewBatch(mem, schema, 3, func(b *arrowcol.Builder, i int) {
		b.Str(fmt.Sprint("a", i))
		b.I32(i)
		b.OptStr([]string{"x", "", "z"}[i])
	})
	path := filepath.Join(t.TempDir(), "t.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(f, batch); err != nil {
		t.Fatal(err)
	}
	f.Close()
	batch.Release()
	var got []string
	err = ReadFileColumns(context.Background(), path, mem, []string{"c", "a"}, func(b arrow.RecordBatch) error {
		if b.NumCols() != 2 || b.Schema().Field(0).Name != "c" || b.Schema().Field(1).Name != "a" {
			t.Errorf("schema %v", b.Schema())
		}
		if v, _ := b.Schema().Metadata().GetValue("run_id"); v != "R1" {
			t.Errorf("metadata %v", b.Schema().Metadata())
		}
		for r := range int(b.NumRows()) {
			got = append(got, b.Column(0).ValueStr(r)+"/"+b.Column(1).ValueStr(r))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[x/a0 (null)/a1 z/a2]" {
		t.Errorf("rows %v", got)
	}
	if err := ReadFileColumns(context.Background(), path, mem, []string{"a", "d"}, func(arrow.RecordBatch) error { return nil }); err == nil || !strings.Contains(err.Error(), `"d"`) {
		t.Errorf("a missing column: %v", err)
	}
}
