// Package export writes the published formats: the indicators table as
// Parquet, CSV and an Excel workbook for people, the domain tables as
// Parquet, the changes since the previous run, and the manifest.
//
// export knows formats, nothing about where rows came from: it reads Arrow
// record batches and writes bytes to io.Writers. Publishing them atomically
// is package publish's job.
package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ilo-pledge/pledgestat/internal/cellsafe"
	"github.com/ilo-pledge/pledgestat/internal/parquetio"
)

// Metadata keys of the indicators Parquet file (outputs.md).
const (
	MetaRunID          = "pledgestat.run_id"
	MetaCatalogVersion = "pledgestat.catalog_version"
)

// WriteParquet writes a batch as a zstd-compressed Parquet file with its
// Arrow schema and metadata.
func WriteParquet(w io.Writer, batch arrow.RecordBatch) error {
	return parquetio.Write(w, batch)
}

// WriteCSV writes a batch as RFC 4180 CSV (UTF-8, header row, CRLF, "."
// decimal separator). Numbers are written in their shortest exact form,
// nulls as empty fields, and text that a spreadsheet could take for a
// formula is neutralised.
func WriteCSV(w io.Writer, batch arrow.RecordBatch) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	schema := batch.Schema()
	header := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		header[i] = f.Name
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cols := batch.Columns()
	rec := make([]string, len(cols))
	for r := 0; r < int(batch.NumRows()); r++ {
		for c, col := range cols {
			rec[c] = CellText(col, r)
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// CellText renders one value for CSV: shortest exact numbers, empty nulls,
// neutralised text.
func CellText(col arrow.Array, row int) string {
	if col.IsNull(row) {
		return ""
	}
	switch a := col.(type) {
	case *array.String:
		return cellsafe.Text(a.Value(row))
	case *array.Float64:
		return FormatNumber(a.Value(row))
	case *array.Int32:
		return strconv.Itoa(int(a.Value(row)))
	case *array.Int64:
		return strconv.FormatInt(a.Value(row), 10)
	case *array.Date32:
		return a.Value(row).FormattedString()
	}
	return cellsafe.Text(col.ValueStr(row))
}

// FormatNumber writes a float without exponent and without trailing zeros.
func FormatNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
