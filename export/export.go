// Package export writes the published formats: the indicators table as
// Parquet, CSV and an Excel workbook for people, the domain tables as
// Parquet, the changes since the previous run, and the manifest.
//
// export knows formats, nothing about where rows came from: it reads Arrow
// record batches and writes bytes to io.Writers. Publishing them atomically
// is package publish's job.
package export

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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
//
// The rows are appended to a buffer as encoding/csv writes them (with
// CRLF), byte for byte (TestCSVAsEncodingCSVWritesIt, FuzzCSVField):
// through encoding/csv, a string a value and a field at a time, the
// 13 MB of indicators.csv at 10,000 submissions took a fifth of the
// outputs' time.
func WriteCSV(w io.Writer, batch arrow.RecordBatch) error {
	var header []string
	for _, f := range batch.Schema().Fields() {
		header = append(header, f.Name)
	}
	buf := appendCSVRecord(nil, header...)
	cols := batch.Columns()
	for r := 0; r < int(batch.NumRows()); r++ {
		for c, col := range cols {
			if c > 0 {
				buf = append(buf, ',')
			}
			buf = appendCSVCell(buf, col, r)
		}
		buf = append(buf, "\r\n"...)
		var err error
		if buf, err = flushFull(w, buf); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// flushFull writes buf to w once it holds 64 KiB, and returns it emptied;
// a buffer not yet full is returned as it is.
func flushFull(w io.Writer, buf []byte) ([]byte, error) {
	if len(buf) < 64<<10 {
		return buf, nil
	}
	_, err := w.Write(buf)
	return buf[:0], err
}

// appendCSVRecord appends fields as one CSV record, as encoding/csv's
// Writer writes it with UseCRLF.
func appendCSVRecord(dst []byte, fields ...string) []byte {
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendCSVField(dst, f)
	}
	return append(dst, "\r\n"...)
}

// appendCSVCell appends a value as CellText renders it, as a CSV field.
// Numbers need no quotes and are appended without a string.
func appendCSVCell(dst []byte, col arrow.Array, row int) []byte {
	if col.IsNull(row) {
		return dst
	}
	switch a := col.(type) {
	case *array.Float64:
		return strconv.AppendFloat(dst, a.Value(row), 'f', -1, 64)
	case *array.Int32:
		return strconv.AppendInt(dst, int64(a.Value(row)), 10)
	case *array.Int64:
		return strconv.AppendInt(dst, a.Value(row), 10)
	}
	return appendCSVField(dst, CellText(col, row))
}

// appendCSVField appends a field as encoding/csv's Writer writes it with
// UseCRLF and a comma: quoted when it holds a comma, a quote, a line
// break or starts with a space (or is \.), quotes doubled, line feeds
// written as CRLF and carriage returns dropped inside quotes.
func appendCSVField(dst []byte, field string) []byte {
	if !csvFieldNeedsQuotes(field) {
		return append(dst, field...)
	}
	dst = append(dst, '"')
	for len(field) > 0 {
		i := strings.IndexAny(field, "\"\r\n")
		if i < 0 {
			i = len(field)
		}
		dst = append(dst, field[:i]...)
		field = field[i:]
		if len(field) > 0 {
			switch field[0] {
			case '"':
				dst = append(dst, `""`...)
			case '\n':
				dst = append(dst, "\r\n"...)
			}
			field = field[1:]
		}
	}
	return append(dst, '"')
}

// csvFieldNeedsQuotes is encoding/csv's fieldNeedsQuotes for a comma.
func csvFieldNeedsQuotes(field string) bool {
	if field == "" {
		return false
	}
	if field == `\.` {
		return true
	}
	for i := 0; i < len(field); i++ {
		switch field[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	r, _ := utf8.DecodeRuneInString(field)
	return unicode.IsSpace(r)
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
