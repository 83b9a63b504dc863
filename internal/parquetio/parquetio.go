// Package parquetio writes and reads Arrow record batches as Parquet files
// with pledgestat's settings: zstd compression, the Arrow schema stored in
// the file, and key-value metadata.
package parquetio

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Write writes batch to w as a zstd-compressed Parquet file. The batch's
// schema metadata becomes the file's key-value metadata.
func Write(w io.Writer, batch arrow.RecordBatch) error {
	props := writerProperties()
	// The Parquet writer closes a sink that is an io.Closer; the caller
	// must be the one to sync and close its file.
	w = struct{ io.Writer }{w}
	fw, err := pqarrow.NewFileWriter(batch.Schema(), w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return fmt.Errorf("parquet writer: %w", err)
	}
	if batch.NumRows() > 0 {
		if err := fw.Write(batch); err != nil {
			fw.Close()
			return fmt.Errorf("parquet write: %w", err)
		}
	}
	// Close writes the footer; without it the file is unreadable.
	if err := fw.Close(); err != nil {
		return fmt.Errorf("parquet close: %w", err)
	}
	return nil
}

// WriteChunked writes n rows to w as one zstd-compressed Parquet file,
// asking rows for them chunk rows at a time (each becomes a row group), so
// that only one chunk is held in Arrow form at once. The first chunk's
// schema is the file's.
func WriteChunked(w io.Writer, n, chunk int, rows func(from, to int) arrow.RecordBatch) error {
	w = struct{ io.Writer }{w}
	var fw *pqarrow.FileWriter
	for from := 0; from < max(n, 1); from += chunk {
		b := rows(from, min(n, from+chunk))
		if fw == nil {
			var err error
			fw, err = pqarrow.NewFileWriter(b.Schema(), w, writerProperties(), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
			if err != nil {
				b.Release()
				return fmt.Errorf("parquet writer: %w", err)
			}
		}
		var err error
		if b.NumRows() > 0 {
			err = fw.Write(b)
		}
		b.Release()
		if err != nil {
			fw.Close()
			return fmt.Errorf("parquet write: %w", err)
		}
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("parquet close: %w", err)
	}
	return nil
}

// Writer writes record batches to one Parquet file as they come, each
// batch a row group; Close writes the footer.
type Writer struct {
	fw *pqarrow.FileWriter
}

// NewWriter starts a zstd-compressed Parquet file of the given schema on w.
// w is not closed by the Writer: its owner syncs and closes it.
func NewWriter(w io.Writer, schema *arrow.Schema) (*Writer, error) {
	fw, err := pqarrow.NewFileWriter(schema, struct{ io.Writer }{w}, writerProperties(), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, fmt.Errorf("parquet writer: %w", err)
	}
	return &Writer{fw: fw}, nil
}

// Write writes one batch as a row group.
func (w *Writer) Write(b arrow.RecordBatch) error {
	if b.NumRows() == 0 {
		return nil
	}
	if err := w.fw.Write(b); err != nil {
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

// uniqueColumns hold a different value on almost every row (a cell
// reference per record): a dictionary of them only costs. Hashing every
// value into the dictionary was two thirds of writing a submission of
// social-protection records.
var uniqueColumns = []string{"source_cell", "value_cell", "ratification_date_cell", "denunciation_date_cell"}

func writerProperties() *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCreatedBy("pledgestat"),
		parquet.WithMaxRowGroupLength(1 << 20),
	}
	for _, c := range uniqueColumns {
		opts = append(opts, parquet.WithDictionaryFor(c, false))
	}
	return parquet.NewWriterProperties(opts...)
}

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

func readFile(ctx context.Context, path string, mem memory.Allocator, parallel bool, fn func(arrow.RecordBatch) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	rdr, err := file.NewParquetReader(f, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 64 << 10, Parallel: parallel}, mem)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer rr.Release()
	for rr.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(rr.RecordBatch()); err != nil {
			return err
		}
	}
	if err := rr.Err(); err != nil && err != io.EOF {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
