// Package annotate writes the annotated copy of a rejected workbook: the
// sender's own workbook with each problem cell filled red and carrying a
// comment with the message, and a first sheet "Problems" listing every entry
// with a link to its cell. A statistician fixes the file where the problems
// are, in one pass.
package annotate

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/ingest/report"
)

// ProblemsSheet is the name of the sheet listing the problems.
const ProblemsSheet = "Problems"

const (
	errorFill   = "FFC7CE" // Excel's "bad" red
	warningFill = "FFEB9C" // Excel's "neutral" amber
	author      = "pledgestat"
)

// Workbook writes to w a copy of the workbook at src annotated with rep's
// entries. Entries without a cell are marked on the first cell of their
// row, or listed only on the Problems sheet when about the whole file or
// sheet. Information entries are left out.
//
// It checks ctx as it marks cells: annotating thousands of cells takes
// seconds, and a stopped run must not wait for it.
func Workbook(ctx context.Context, src string, rep *report.Report, w io.Writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("annotate %s: the workbook could not be copied (%v)", src, r)
		}
	}()
	f, err := excelize.OpenFile(src)
	if err != nil {
		return fmt.Errorf("annotate: open %s: %w", src, err)
	}
	defer f.Close()
	entries := problems(rep)
	sheets := map[string]bool{}
	for _, name := range f.GetSheetList() {
		sheets[name] = true
	}
	marks := map[string]map[string][]report.Entry{} // sheet -> cell -> entries
	marked, unmarked := 0, 0
	for _, e := range entries {
		cell := markCell(e)
		if cell == "" || !sheets[e.Sheet] {
			continue
		}
		if marks[e.Sheet] == nil {
			marks[e.Sheet] = map[string][]report.Entry{}
		}
		if _, seen := marks[e.Sheet][cell]; !seen && marked >= MaxMarkedCells {
			unmarked++
			continue
		}
		if _, seen := marks[e.Sheet][cell]; !seen {
			marked++
		}
		marks[e.Sheet][cell] = append(marks[e.Sheet][cell], e)
	}
	m := &marker{f: f, styles: map[styleKey]int{}}
	for _, sheet := range slices.Sorted(maps.Keys(marks)) {
		cells := marks[sheet]
		if err := m.clearComments(sheet, cells); err != nil {
			return err
		}
		for i, cell := range slices.Sorted(maps.Keys(cells)) {
			if i%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := m.mark(sheet, cell, cells[cell]); err != nil {
				return err
			}
		}
	}
	if err := problemsSheet(ctx, f, entries, sheets, unmarked); err != nil {
		return err
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("annotate: write: %w", err)
	}
	return nil
}

// MaxMarkedCells caps the cells filled and commented, and the rows of the
// Problems sheet: beyond it, a file is better fixed from errors.csv, which
// lists every problem, and the copy would take long to make and to open.
const MaxMarkedCells = 20000

func problems(rep *report.Report) []report.Entry {
	rep.Sort()
	var out []report.Entry
	for _, e := range rep.Entries {
		if e.Severity != report.Info {
			out = append(out, e)
		}
	}
	return out
}

// markCell is where an entry is shown: its cell, else the first cell of its
// row, else nowhere.
func markCell(e report.Entry) string {
	switch {
	case e.Cell != "":
		return e.Cell
	case e.Row > 0:
		return "A" + strconv.Itoa(e.Row)
	}
	return ""
}

// marker fills and comments cells, making each fill style once.
type marker struct {
	f      *excelize.File
	styles map[styleKey]int
}

type styleKey struct {
	base  int // the cell's own style
	color string
}

// clearComments removes the sender's own comments on the cells about to
// be commented (a cell holds one comment). The sheet's comments are read
// once: excelize's DeleteComment scans them all per call.
func (m *marker) clearComments(sheet string, cells map[string][]report.Entry) error {
	existing, err := m.f.GetComments(sheet)
	if err != nil {
		return fmt.Errorf("annotate %s: read comments: %w", sheet, err)
	}
	for _, c := range existing {
		if _, ok := cells[c.Cell]; ok {
			if err := m.f.DeleteComment(sheet, c.Cell); err != nil {
				return fmt.Errorf("annotate %s!%s: %w", sheet, c.Cell, err)
			}
		}
	}
	return nil
}

// mark fills one cell and attaches the messages as a comment, keeping the
// cell's number format, font and borders.
func (m *marker) mark(sheet, cell string, es []report.Entry) error {
	color := warningFill
	var lines []string
	for _, e := range es {
		if e.Severity == report.Error {
			color = errorFill
		}
		lines = append(lines, fmt.Sprintf("%s %s: %s", e.Severity, e.Code, e.Message))
	}
	id, err := m.fillStyle(sheet, cell, color)
	if err != nil {
		return fmt.Errorf("annotate %s!%s: %w", sheet, cell, err)
	}
	if err := m.f.SetCellStyle(sheet, cell, cell, id); err != nil {
		return fmt.Errorf("annotate %s!%s: %w", sheet, cell, err)
	}
	text := strings.Join(lines, "\n")
	if err := m.f.AddComment(sheet, excelize.Comment{Author: author, Cell: cell, Text: text, Width: 360, Height: uint(60 + 40*len(lines))}); err != nil {
		return fmt.Errorf("annotate %s!%s: comment: %w", sheet, cell, err)
	}
	return nil
}

// fillStyle returns the style of the cell with the fill added, made once
// per (style, color).
func (m *marker) fillStyle(sheet, cell, color string) (int, error) {
	base, _ := m.f.GetCellStyle(sheet, cell)
	key := styleKey{base, color}
	if id, ok := m.styles[key]; ok {
		return id, nil
	}
	style := &excelize.Style{}
	if base > 0 {
		if s, err := m.f.GetStyle(base); err == nil && s != nil {
			style = s
		}
	}
	style.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{color}}
	id, err := m.f.NewStyle(style)
	if err != nil {
		return 0, err
	}
	m.styles[key] = id
	return id, nil
}

// problemsSheet inserts the first sheet, listing every entry with a link to
// its cell.
func problemsSheet(ctx context.Context, f *excelize.File, entries []report.Entry, sheets map[string]bool, unmarked int) error {
	name := ProblemsSheet
	for i := 2; sheets[name]; i++ {
		name = fmt.Sprintf("%s %d", ProblemsSheet, i)
	}
	idx, err := f.NewSheet(name)
	if err != nil {
		return fmt.Errorf("annotate: %w", err)
	}
	first := f.GetSheetList()[0]
	if err := f.MoveSheet(name, first); err != nil {
		return fmt.Errorf("annotate: %w", err)
	}
	header, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "FFFFFF"}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"C00000"}}})
	link, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Color: "0563C1", Underline: "single"}})
	f.SetSheetRow(name, "A1", &[]any{"This copy of your file shows what pledgestat could not accept. Fix each problem below (the cells are red, with a comment), then send the file again."})
	if len(entries) > MaxMarkedCells {
		f.SetSheetRow(name, "A2", &[]any{fmt.Sprintf("The file has %d problems; the first %d are listed here and marked in the sheets (%d cells left unmarked). The .csv report next to this copy lists every one.", len(entries), MaxMarkedCells, unmarked)})
		entries = entries[:MaxMarkedCells]
	}
	f.SetSheetRow(name, "A3", &[]any{"sheet", "cell", "severity", "code", "message"})
	f.SetCellStyle(name, "A3", "E3", header)
	for i, e := range entries {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row := 4 + i
		cell := markCell(e)
		f.SetSheetRow(name, "A"+strconv.Itoa(row), &[]any{e.Sheet, cell, string(e.Severity), string(e.Code), e.Message})
		if cell != "" && sheets[e.Sheet] {
			target := fmt.Sprintf("'%s'!%s", strings.ReplaceAll(e.Sheet, "'", "''"), cell)
			if err := f.SetCellHyperLink(name, "B"+strconv.Itoa(row), target, "Location"); err != nil {
				return fmt.Errorf("annotate: link to %s: %w", target, err)
			}
			f.SetCellStyle(name, "B"+strconv.Itoa(row), "B"+strconv.Itoa(row), link)
		}
	}
	if len(entries) == 0 {
		f.SetCellValue(name, "A4", "(no problem)")
	}
	f.SetColWidth(name, "A", "A", 18)
	f.SetColWidth(name, "B", "D", 14)
	f.SetColWidth(name, "E", "E", 110)
	f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 3, TopLeftCell: "A4", ActivePane: "bottomLeft"})
	_ = idx
	// The Problems sheet is the one that opens.
	f.SetActiveSheet(0)
	return nil
}
