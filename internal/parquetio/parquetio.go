// Package parquetio writes and reads Arrow record batches as Parquet files
// with pledgestat's settings: zstd compression, the Arrow schema stored in
// the file (ARROW:schema, as arrow-go's pqarrow and pyarrow write it), and
// key-value metadata.
//
// pledgestat's tables are flat: every column is a string, int32, int64,
// float64, date32 or boolean, nullable or not. This package moves such
// columns between Arrow arrays and Parquet's column chunk readers and
// writers itself rather than through arrow-go's pqarrow. Two reasons,
// both measured (docs/decisions.md): pqarrow imports arrow/flight, whose
// gRPC and protobuf tree is half of a cold build and 5 ms of every start
// of the binary; and pqarrow's string reader grows its buffers a page at a
// time, which was a third of a build's CPU over a large store.
package parquetio

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// arrowSchemaKey is the key-value metadata entry where Arrow writers keep
// the serialized Arrow schema.
const arrowSchemaKey = "ARROW:schema"

// Write writes batch to w as a zstd-compressed Parquet file. The batch's
// schema metadata becomes the file's key-value metadata.
func Write(w io.Writer, batch arrow.RecordBatch) error {
	pw, err := NewWriter(w, batch.Schema())
	if err != nil {
		return err
	}
	if err := pw.Write(batch); err != nil {
		pw.fw.Close()
		return err
	}
	return pw.Close()
}

// PlainRows is the most rows of a file WriteChunked writes plain: no
// dictionary, no compression, no statistics. For a one-country submission
// of 50 rows those are the file's cost, not its saving (writing one took
// 0.73 ms, 0.33 ms plain, for a few kilobytes more); its readers never
// filter it by statistics.
const PlainRows = 1000

// WriteChunked writes n rows to w as one Parquet file, asking rows for
// them chunk rows at a time (each becomes a row group), so that only one
// chunk is held in Arrow form at once. The first chunk's schema is the
// file's. The file is zstd-compressed, or plain for at most PlainRows.
func WriteChunked(w io.Writer, n, chunk int, rows func(from, to int) arrow.RecordBatch) error {
	return writeChunked(w, n, chunk, true, rows)
}

// WriteChunkedInternal is WriteChunked for a file only pledgestat reads (a
// submission's records in the store), written without column statistics:
// nothing reads them there, and the minimum and maximum of every page of
// text were a fifteenth of storing a 200,000-row file.
func WriteChunkedInternal(w io.Writer, n, chunk int, rows func(from, to int) arrow.RecordBatch) error {
	return writeChunked(w, n, chunk, false, rows)
}

func writeChunked(w io.Writer, n, chunk int, stats bool, rows func(from, to int) arrow.RecordBatch) error {
	var pw *Writer
	for from := 0; from < max(n, 1); from += chunk {
		b := rows(from, min(n, from+chunk))
		if pw == nil {
			var err error
			if pw, err = newWriter(w, b.Schema(), n <= PlainRows, stats); err != nil {
				b.Release()
				return err
			}
		}
		err := pw.Write(b)
		b.Release()
		if err != nil {
			pw.fw.Close()
			return err
		}
	}
	return pw.Close()
}

// Writer writes record batches to one Parquet file as they come, each
// batch a row group; Close writes the footer.
type Writer struct {
	schema *arrow.Schema
	fw     *file.Writer
	buf    columnBuffers
}

// NewWriter starts a zstd-compressed Parquet file of the given schema on w.
// w is not closed by the Writer: its owner syncs and closes it.
func NewWriter(w io.Writer, schema *arrow.Schema) (*Writer, error) {
	return newWriter(w, schema, false, true)
}

// NewInternalWriter is NewWriter for a file only pledgestat reads, without
// column statistics (WriteChunkedInternal).
func NewInternalWriter(w io.Writer, schema *arrow.Schema) (*Writer, error) {
	return newWriter(w, schema, false, false)
}

func newWriter(w io.Writer, schema *arrow.Schema, plain, stats bool) (*Writer, error) {
	root, err := parquetSchema(schema)
	if err != nil {
		return nil, fmt.Errorf("parquet writer: %w", err)
	}
	meta := make(metadata.KeyValueMetadata, 0, schema.Metadata().Len()+1)
	md := schema.Metadata()
	for i, k := range md.Keys() {
		meta.Append(k, md.Values()[i])
	}
	stored, err := serializeSchema(schema)
	if err != nil {
		return nil, fmt.Errorf("parquet writer: %w", err)
	}
	meta.Append(arrowSchemaKey, stored)
	// The Parquet writer closes a sink that is an io.Closer; the caller
	// must be the one to sync and close its file.
	fw, err := file.NewParquetWriterWithError(struct{ io.Writer }{w}, root,
		file.WithWriterProps(writerProperties(plain, stats)), file.WithWriteMetadata(meta))
	if err != nil {
		return nil, fmt.Errorf("parquet writer: %w", err)
	}
	return &Writer{schema: schema, fw: fw}, nil
}

// Write writes one batch as a row group.
func (w *Writer) Write(b arrow.RecordBatch) error {
	if b.NumRows() == 0 {
		return nil
	}
	// A column of text may come as a dictionary (arrowcol's coded
	// columns): the file holds the text.
	if !SameValues(b.Schema(), w.schema) {
		return fmt.Errorf("parquet write: batch schema %s, file schema %s", b.Schema(), w.schema)
	}
	rg, err := w.fw.AppendRowGroupChecked()
	if err != nil {
		return fmt.Errorf("parquet write: %w", err)
	}
	for i, col := range b.Columns() {
		cw, err := rg.NextColumn()
		if err != nil {
			return fmt.Errorf("parquet write: column %s: %w", w.schema.Field(i).Name, err)
		}
		if err := writeColumn(cw, col, w.schema.Field(i).Nullable, &w.buf); err != nil {
			return fmt.Errorf("parquet write: column %s: %w", w.schema.Field(i).Name, err)
		}
		if err := cw.Close(); err != nil {
			return fmt.Errorf("parquet write: column %s: %w", w.schema.Field(i).Name, err)
		}
	}
	if err := rg.Close(); err != nil {
		return fmt.Errorf("parquet write: %w", err)
	}
	return nil
}

// Close writes the footer; without it the file is unreadable.
func (w *Writer) Close() error {
	if err := w.fw.Close(); err != nil {
		return fmt.Errorf("parquet close: %w", err)
	}
	return nil
}

// serializeSchema encodes schema the way Arrow's Parquet writers store it:
// an IPC stream holding only the schema, base64-encoded.
func serializeSchema(schema *arrow.Schema) (string, error) {
	var buf bytes.Buffer
	iw := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	if err := iw.Close(); err != nil {
		return "", fmt.Errorf("serialize the Arrow schema: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// uniqueColumns hold a different value on almost every row (a cell
// reference per record, an indicator's list of source cells): a
// dictionary of them only costs. Hashing every value into the dictionary
// was two thirds of writing a submission of social-protection records;
// the indicators' sources (7.6 MB at 10,000 submissions) were hashed up
// to the dictionary's limit, then written plain anyway.
var uniqueColumns = []string{"sources", "source_cell", "value_cell", "ratification_date_cell", "denunciation_date_cell"}

// writerProperties are the Parquet writer's settings: zstd with
// dictionaries and statistics (unless stats is false), or plain.
func writerProperties(plain, stats bool) *parquet.WriterProperties {
	if plain {
		return parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Uncompressed),
			parquet.WithDictionaryDefault(false), parquet.WithStats(false), parquet.WithCreatedBy("pledgestat"))
	}
	opts := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		// zstd's fastest level: the default level's encoder holds 1.3 MB
		// of match tables, made again whenever the garbage collector
		// empties arrow-go's pool of encoders (a tenth of a CSV ingest's
		// CPU); level 1 made the 200k-row ingest ~8% faster, its peak
		// memory ~20 MB lower and, on the benchmark data, the store no
		// larger.
		parquet.WithCompressionLevel(1),
		parquet.WithCreatedBy("pledgestat"),
		parquet.WithMaxRowGroupLength(1 << 20),
		parquet.WithStats(stats),
	}
	for _, c := range uniqueColumns {
		opts = append(opts, parquet.WithDictionaryFor(c, false))
	}
	return parquet.NewWriterProperties(opts...)
}

// batchRows is the most rows handed on in one batch when reading: a row
// group may hold a million.
const batchRows = 64 << 10

// ReadFile reads a whole Parquet file and calls fn with each record batch;
// the batch is released after fn returns.
func ReadFile(ctx context.Context, path string, mem memory.Allocator, fn func(arrow.RecordBatch) error) error {
	return readFile(ctx, path, mem, false, fn)
}

// ReadFileParallel is ReadFile decoding the columns of each batch on
// several goroutines: for the large files of a build (the store's
// snapshot), not for the many small ones of an ingest.
func ReadFileParallel(ctx context.Context, path string, mem memory.Allocator, fn func(arrow.RecordBatch) error) error {
	return readFile(ctx, path, mem, true, fn)
}

// ReadRowGroups is ReadFileParallel handing on each row group as one
// batch, however many rows it holds: for a table read whole (the store's
// snapshot), where cutting it into batches only to join them again would
// hold it twice.
func ReadRowGroups(ctx context.Context, path string, mem memory.Allocator, fn func(arrow.RecordBatch) error) error {
	return ReadRowGroupsColumns(ctx, path, mem, nil, fn)
}

// ReadRowGroupsColumns is ReadRowGroups reading only the named columns
// (nil: all), which the batches hold in that order. A name the file does
// not have is an error.
func ReadRowGroupsColumns(ctx context.Context, path string, mem memory.Allocator, columns []string, fn func(arrow.RecordBatch) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	if err := read(ctx, f, mem, columns, true, 0, fn); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// ReadFileColumns is ReadFile reading only the named columns, which the
// batches hold in that order: the file's other columns are not decoded.
// A name the file does not have is an error.
func ReadFileColumns(ctx context.Context, path string, mem memory.Allocator, columns []string, fn func(arrow.RecordBatch) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	if err := read(ctx, f, mem, columns, false, batchRows, fn); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

func readFile(ctx context.Context, path string, mem memory.Allocator, parallel bool, fn func(arrow.RecordBatch) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	if err := Read(ctx, f, mem, parallel, fn); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// Read reads a Parquet file of flat columns from r and calls fn with each
// record batch of at most 64k rows; the batch is released after fn
// returns. With parallel, the columns of a batch are decoded on as many
// goroutines as the machine has cores.
func Read(ctx context.Context, r parquet.ReaderAtSeeker, mem memory.Allocator, parallel bool, fn func(arrow.RecordBatch) error) error {
	return read(ctx, r, mem, nil, parallel, batchRows, fn)
}

// ReadCodedColumns is ReadRowGroupsColumns for a file of one row group,
// whose string columns held dictionary-encoded throughout (the Parquet
// writer's choice for repetitive text) are given as Arrow dictionaries
// (Int32 codes into the distinct values) rather than a string a row:
// for tables that are read to be computed with, not published, most of
// whose text is a few values repeated (an agreement's twelve provision
// flags, its type, its file). Other columns, and every column of a file
// of more row groups, are read as ReadRowGroupsColumns reads them.
func ReadCodedColumns(ctx context.Context, path string, mem memory.Allocator, columns []string, fn func(arrow.RecordBatch) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	if err := readColumns(ctx, f, mem, columns, true, 0, true, fn); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// read is Read of the named columns (nil: all) in batches of at most
// maxRows rows (0: a row group each).
func read(ctx context.Context, r parquet.ReaderAtSeeker, mem memory.Allocator, names []string, parallel bool, maxRows int64, fn func(arrow.RecordBatch) error) error {
	return readColumns(ctx, r, mem, names, parallel, maxRows, false, fn)
}

// readColumns is read, with coded asking for ReadCodedColumns' dictionaries.
func readColumns(ctx context.Context, r parquet.ReaderAtSeeker, mem memory.Allocator, names []string, parallel bool, maxRows int64, coded bool, fn func(arrow.RecordBatch) error) error {
	rdr, err := file.NewParquetReader(r, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		return err
	}
	defer rdr.Close()
	schema, err := arrowSchema(rdr.MetaData())
	if err != nil {
		return err
	}
	columns := make([]int, schema.NumFields())
	for i := range columns {
		columns[i] = i
	}
	if names != nil {
		columns = columns[:0]
		fields := make([]arrow.Field, 0, len(names))
		for _, name := range names {
			idx := schema.FieldIndices(name)
			if len(idx) != 1 {
				return fmt.Errorf("column %q missing", name)
			}
			columns = append(columns, idx[0])
			fields = append(fields, schema.Field(idx[0]))
		}
		md := schema.Metadata()
		schema = arrow.NewSchema(fields, &md)
	}
	var dict *dictionaryReader
	if coded && rdr.NumRowGroups() == 1 {
		// One row group: its dictionaries are the file's, and the table
		// is one batch of one type a column.
		dict = &dictionaryReader{file: rdr, mem: mem}
	}
	for g := range rdr.NumRowGroups() {
		if err := readRowGroup(ctx, rdr.RowGroup(g), schema, columns, parallel, maxRows, dict, fn); err != nil {
			return fmt.Errorf("row group %d: %w", g, err)
		}
	}
	return nil
}
