// Package report holds what pledgestat tells a statistician about a file:
// every problem found in it, each with a severity, a code from the spec's
// list (inputs.md), the sheet, the cell and a message naming the value found
// and what was expected.
//
// Data problems are values of this package; Go errors are kept for failures
// of the program itself.
package report

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ilo-pledge/pledgestat/internal/cellsafe"
)

// Severity of a report entry.
type Severity string

// Severities, from the one that rejects a file to the one that only informs.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Code classifies a problem; the values are the spec's error codes.
type Code string

// Error codes (inputs.md).
const (
	UnsupportedFormat Code = "unsupported_format"
	Unreadable        Code = "unreadable"
	TooLarge          Code = "too_large"
	NoTable           Code = "no_table"
	MissingColumn     Code = "missing_column"
	MissingValue      Code = "missing_value"
	UnknownCountry    Code = "unknown_country"
	NotMember         Code = "not_member"
	UnknownInstrument Code = "unknown_instrument"
	BadDate           Code = "bad_date"
	AmbiguousDate     Code = "ambiguous_date"
	BadNumber         Code = "bad_number"
	OutOfRange        Code = "out_of_range"
	BadValue          Code = "bad_value"
	DuplicateRecord   Code = "duplicate_record"
	Inconsistent      Code = "inconsistent"
	// Warnings.
	HiddenSheet   Code = "hidden_sheet"
	SuspectScale  Code = "suspect_scale"
	DuplicateRow  Code = "duplicate_row"
	UnknownColumn Code = "unknown_column"
	// Information that is not a problem.
	SheetIgnored Code = "sheet_ignored"
	RowSkipped   Code = "row_skipped"
	TableRead    Code = "table_read"
	FileNote     Code = "file_note"
	Duplicate    Code = "duplicate_file"
)

// Entry is one line of a report.
type Entry struct {
	File     string   `json:"file"`
	Sheet    string   `json:"sheet"`
	Cell     string   `json:"cell"`   // A1 reference; empty for file- or sheet-level entries
	Row      int      `json:"row"`    // 1-based sheet row or CSV line; 0 when not about a row
	Column   string   `json:"column"` // column letter; empty when not about a column
	Severity Severity `json:"severity"`
	Code     Code     `json:"code"`
	Message  string   `json:"message"`
	// order keeps entries in the order the sheets appear in the workbook.
	sheetOrder int
}

// Report collects the entries of one file.
type Report struct {
	File    string   `json:"file"`
	Entries []Entry  `json:"entries"`
	Notes   []string `json:"notes,omitempty"` // footnotes read below tables, kept verbatim
	sheets  map[string]int
}

// New returns an empty report for a file.
func New(file string) *Report { return &Report{File: file, sheets: map[string]int{}} }

// Add records an entry at a cell of a sheet; col and row are 1-based, 0 when
// the entry is not about a column or row.
func (r *Report) Add(sev Severity, code Code, sheet string, col, row int, format string, args ...any) {
	e := Entry{File: r.File, Sheet: sheet, Row: row, Severity: sev, Code: code, Message: fmt.Sprintf(format, args...)}
	if col > 0 {
		e.Column = ColumnLetter(col)
		if row > 0 {
			e.Cell = e.Column + strconv.Itoa(row)
		}
	}
	if r.sheets == nil {
		r.sheets = map[string]int{}
	}
	order, ok := r.sheets[sheet]
	if !ok {
		order = len(r.sheets)
		r.sheets[sheet] = order
	}
	e.sheetOrder = order
	r.Entries = append(r.Entries, e)
}

// Errorf adds an error.
func (r *Report) Errorf(code Code, sheet string, col, row int, format string, args ...any) {
	r.Add(Error, code, sheet, col, row, format, args...)
}

// Warnf adds a warning.
func (r *Report) Warnf(code Code, sheet string, col, row int, format string, args ...any) {
	r.Add(Warning, code, sheet, col, row, format, args...)
}

// Infof adds an information entry.
func (r *Report) Infof(code Code, sheet string, col, row int, format string, args ...any) {
	r.Add(Info, code, sheet, col, row, format, args...)
}

// Count returns the number of entries of a severity.
func (r *Report) Count(sev Severity) int {
	n := 0
	for _, e := range r.Entries {
		if e.Severity == sev {
			n++
		}
	}
	return n
}

// HasErrors reports whether the file must be rejected.
func (r *Report) HasErrors() bool { return r.Count(Error) > 0 }

// FirstError returns the first error in report order, for status lines.
func (r *Report) FirstError() (Entry, bool) {
	r.Sort()
	for _, e := range r.Entries {
		if e.Severity == Error {
			return e, true
		}
	}
	return Entry{}, false
}

// Sort orders entries by sheet (workbook order), row, severity (errors
// first), then column, keeping insertion order among equals.
func (r *Report) Sort() {
	rank := map[Severity]int{Error: 0, Warning: 1, Info: 2}
	slices.SortStableFunc(r.Entries, func(a, b Entry) int {
		return cmp.Or(
			cmp.Compare(a.sheetOrder, b.sheetOrder),
			cmp.Compare(a.Row, b.Row),
			cmp.Compare(rank[a.Severity], rank[b.Severity]),
			cmp.Compare(len(a.Column), len(b.Column)),
			cmp.Compare(a.Column, b.Column),
		)
	})
}

// CSVHeader is the header of errors.csv (cli.md).
var CSVHeader = []string{"file", "sheet", "cell", "row", "column", "severity", "code", "message"}

// WriteCSV writes the entries as errors.csv. Text from the file (names,
// sheet names, values quoted in messages) is neutralised so that no
// spreadsheet program evaluates it as a formula.
func (r *Report) WriteCSV(w io.Writer) error {
	r.Sort()
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("write errors.csv header: %w", err)
	}
	for _, e := range r.Entries {
		row := ""
		if e.Row > 0 {
			row = strconv.Itoa(e.Row)
		}
		rec := []string{cellsafe.Text(e.File), cellsafe.Text(e.Sheet), e.Cell, row, e.Column, string(e.Severity), string(e.Code), cellsafe.Text(e.Message)}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write errors.csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write errors.csv: %w", err)
	}
	return nil
}

// ColumnLetter converts a 1-based column number to its letters (1 → A,
// 27 → AA).
func ColumnLetter(col int) string {
	var b []byte
	for col > 0 {
		col--
		b = append([]byte{byte('A' + col%26)}, b...)
		col /= 26
	}
	return string(b)
}

// Quote renders a value found in a file for a message: quoted, shortened,
// with control characters made visible.
func Quote(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return strconv.Quote(strings.ToValidUTF8(s, "\uFFFD"))
}
