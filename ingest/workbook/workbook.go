// Package workbook opens the files statisticians drop (XLSX workbooks and CSV
// files) and streams their sheets as rows of cells, whatever their format,
// encoding or dialect.
//
// It decides what a file is from its bytes, refuses formats it cannot read
// with a remedy (unsupported_format), damaged files (unreadable) and files
// over the configured limits (too_large) before unpacking them, and hands out
// cells with the hints the value parsers need: whether a number is shown as a
// date or a percentage. It knows nothing about domains or indicators.
package workbook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/internal/fsx"
)

// Format of a file.
type Format string

// Readable formats.
const (
	FormatXLSX Format = "xlsx"
	FormatCSV  Format = "csv"
)

// Cell is one cell's value as stored, with its display hints.
type Cell struct {
	// Text is the raw value: for a number the stored digits (0.455, 43528),
	// for a formula its cached result, for text the text.
	Text string
	// DateFormat: a number shown with a date or time format.
	DateFormat bool
	// PercentFormat: a number shown with a percent format (a fraction).
	PercentFormat bool
	// Numeric: the cell is stored as a number (XLSX only; CSV cells are
	// text).
	Numeric bool
}

// Row is one row of a sheet.
type Row struct {
	Num   int    // 1-based row number; for CSV the physical line where the record starts
	Cells []Cell // Cells[0] is column A; trailing empty cells may be absent
}

// Cell returns the cell of a 1-based column, empty when absent.
func (r Row) Cell(col int) Cell {
	if col < 1 || col > len(r.Cells) {
		return Cell{}
	}
	return r.Cells[col-1]
}

// Sheet describes one worksheet.
type Sheet struct {
	Name   string // empty for a CSV file
	Hidden bool
}

// Limits bound what a file may cost before it is read.
type Limits struct {
	MaxFileBytes     int64 // size on disk
	MaxUnpackedBytes int64 // total unpacked size of a workbook's parts
	MaxRows          int   // rows per sheet or CSV file
}

// DefaultLimits returns cli.md's defaults.
func DefaultLimits() Limits {
	return Limits{MaxFileBytes: 100 << 20, MaxUnpackedBytes: 1 << 30, MaxRows: 1048576}
}

// TemplateListsSheet is the hidden sheet of pledgestat's input templates
// that holds the long drop-down lists; it is not data and no warning is
// due for it being hidden.
const TemplateListsSheet = "pledgestat_lists"

// File is an opened workbook or CSV file.
type File interface {
	Format() Format
	Sheets() []Sheet
	// Date1904 reports the workbook's date system.
	Date1904() bool
	// Walk streams a sheet's rows in order to fn, stopping at fn's first
	// error. A *Problem error means the file itself is at fault.
	Walk(ctx context.Context, sheet string, fn func(Row) error) error
	Close() error
}

// Problem is a reason the file itself cannot be read; it carries the report
// code (unsupported_format, unreadable, too_large).
type Problem struct {
	Code    report.Code
	Message string
}

func (p *Problem) Error() string { return string(p.Code) + ": " + p.Message }

func problemf(code report.Code, format string, args ...any) *Problem {
	return &Problem{Code: code, Message: fmt.Sprintf(format, args...)}
}

var (
	zipMagic = []byte("PK\x03\x04")
	emptyZip = []byte("PK\x05\x06")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	pdfMagic = []byte("%PDF")
)

// Source is the content of a file to read: read it through R (an open
// file, or bytes in tests), so that everything is read from the one file
// that was opened, whatever happens to its path meanwhile.
type Source struct {
	R    io.ReaderAt
	Size int64
	Name string // the file's name: its extension is a hint, and messages use it
}

// reader returns a fresh sequential reader over the whole content.
func (s Source) reader() io.Reader { return io.NewSectionReader(s.R, 0, s.Size) }

// Open opens the file at path (following symbolic links: the user named
// it) and reads it as OpenSource does; closing the File closes the file.
// A path that is not a regular file (a named pipe, a folder) is refused
// without blocking.
func Open(path string, limits Limits) (File, error) {
	f, st, err := fsx.OpenRegular(path, false)
	if err != nil {
		var nr *fsx.NotRegularError
		if errors.As(err, &nr) {
			return nil, problemf(report.Unreadable, "%s is %s, not a file: only .xlsx and .csv files are read", filepath.Base(path), fsx.Kind(nr.Mode))
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	file, err := OpenSource(Source{R: f, Size: st.Size(), Name: path}, limits)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &owned{File: file, closer: f}, nil
}

// owned closes the opened file with the File.
type owned struct {
	File
	closer io.Closer
}

func (o *owned) Close() error {
	err := o.File.Close()
	if cerr := o.closer.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close: %w", cerr)
	}
	return err
}

// OpenSource opens a file's content, deciding its format from its bytes (a
// workbook renamed .csv is still a workbook) and its name. Data problems
// are returned as *Problem; other errors are I/O failures. The caller keeps
// src.R open until the File is closed, and closes it.
func OpenSource(src Source, limits Limits) (File, error) {
	if limits.MaxFileBytes > 0 && src.Size > limits.MaxFileBytes {
		return nil, problemf(report.TooLarge, "the file is %s, over the limit of %s ([limits] max_file_mb); split it into smaller files", humanBytes(src.Size), humanBytes(limits.MaxFileBytes))
	}
	head, err := readHead(src, 8)
	if err != nil {
		return nil, err
	}
	ext := strings.ToLower(filepath.Ext(src.Name))
	switch {
	case bytes.HasPrefix(head, zipMagic) || bytes.HasPrefix(head, emptyZip):
		return openXLSX(src, limits)
	case bytes.HasPrefix(head, oleMagic):
		return nil, oleProblem(src, ext)
	case bytes.HasPrefix(head, pdfMagic):
		return nil, problemf(report.UnsupportedFormat, "the file is a PDF document%s; pledgestat reads .xlsx workbooks and .csv files: export the table from its source as .xlsx or .csv", renamedAs(ext))
	}
	switch ext {
	case ".csv":
		return openCSV(src, limits)
	case ".tsv", ".txt", ".tab":
		return nil, problemf(report.UnsupportedFormat, "files named %s are not read; if it is a table, save it as .csv (any delimiter) or .xlsx", ext)
	case ".xlsx", ".xlsm":
		return nil, problemf(report.UnsupportedFormat, "the file is named %s but is not an Excel workbook (it looks like %s); save it from Excel as .xlsx, or name a text table .csv", ext, sniffKind(src))
	case ".ods":
		return nil, problemf(report.UnsupportedFormat, "OpenDocument spreadsheets (.ods) are not read; in LibreOffice use File > Save As > Excel 2007-365 (.xlsx)")
	case ".xls", ".xlsb":
		return nil, problemf(report.UnsupportedFormat, "%s workbooks are not read; in Excel use File > Save As > Excel Workbook (.xlsx)", ext)
	}
	return nil, problemf(report.UnsupportedFormat, "files named %s are not read; pledgestat reads .xlsx workbooks and .csv files", displayExt(ext))
}

func displayExt(ext string) string {
	if ext == "" {
		return "without an extension"
	}
	return "*" + ext
}

func renamedAs(ext string) string {
	if ext == "" || ext == ".pdf" {
		return ""
	}
	return " renamed " + ext
}

func readHead(src Source, n int64) ([]byte, error) {
	buf := make([]byte, min(n, src.Size))
	k, err := src.R.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", src.Name, err)
	}
	return buf[:k], nil
}

// oleProblem tells a legacy .xls from an encrypted (password-protected)
// workbook: both are OLE compound files, but the latter has an
// "EncryptedPackage" stream.
func oleProblem(src Source, ext string) *Problem {
	head, _ := readHead(src, 1<<20)
	name := []byte{}
	for _, r := range "EncryptedPackage" {
		name = append(name, byte(r), 0)
	}
	if bytes.Contains(head, name) {
		return problemf(report.UnsupportedFormat, "the workbook is protected by a password, so it cannot be read; open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password, clear it) and save it again as .xlsx")
	}
	if ext == ".xls" {
		ext = "" // named as what it is: not "renamed .xls"
	}
	return problemf(report.UnsupportedFormat, "the file is an Excel 97-2003 workbook (.xls)%s; open it in Excel and use File > Save As > Excel Workbook (.xlsx)", renamedAs(ext))
}

func sniffKind(src Source) string {
	head, _ := readHead(src, 512)
	if len(head) == 0 {
		return "an empty file"
	}
	if bytes.HasPrefix(head, []byte("<")) || bytes.Contains(bytes.ToLower(head), []byte("<html")) {
		return "an HTML or XML page"
	}
	for _, b := range head {
		if b == 0 {
			return "binary data"
		}
	}
	return "plain text"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
