package export

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/xuri/excelize/v2"
)

// excelizeValue is what a table's cell is given to excelize as: nil for
// a null, numbers as numbers, text as text.
func excelizeValue(col arrow.Array, row int) any {
	if col.IsNull(row) {
		return nil
	}
	switch a := col.(type) {
	case *array.String:
		return a.Value(row)
	case *array.Float64:
		return a.Value(row)
	case *array.Int32:
		return int(a.Value(row))
	}
	return col.ValueStr(row)
}

// excelizeRows is the XML excelize's stream writer makes of the columns'
// rows, from row 2, each cell with the style of its column.
func excelizeRows(t testing.TB, cols []arrow.Array, styles []int) string {
	t.Helper()
	var lines []sheetLine
	for r := 0; r < cols[0].Len(); r++ {
		line := make([]any, len(cols))
		for c, col := range cols {
			if v := excelizeValue(col, r); v != nil {
				line[c] = excelize.Cell{StyleID: styles[c], Value: v}
			}
		}
		lines = append(lines, sheetLine{row: r + 2, cells: line})
	}
	return excelizeLines(t, lines)
}

// excelizeLines is the XML excelize's stream writer makes of the lines.
func excelizeLines(t testing.TB, lines []sheetLine) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if err := sw.SetRow(cellName(1, l.row), l.cells); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return sheetData(t, buf.Bytes(), "xl/worksheets/sheet1.xml")
}

// sheetData is what the sheetData element of a workbook's part holds.
func sheetData(t testing.TB, workbook []byte, part string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(workbook), int64(len(workbook)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(part)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	xml, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(xml)
	from, to := strings.Index(s, "<sheetData>"), strings.Index(s, "</sheetData>")
	if from < 0 || to < from {
		t.Fatalf("%s has no sheetData: %.300s", part, s)
	}
	return s[from+len("<sheetData>") : to]
}

// ourRows is the XML cellWriter makes of the same rows.
func ourRows(cols []arrow.Array, styles []int) string {
	cw := newCellWriter(len(cols))
	for r := 0; r < cols[0].Len(); r++ {
		cw.startRow(r + 2)
		for c, col := range cols {
			cw.arrowCell(c, r+2, styles[c], col, r)
		}
		cw.endRow()
	}
	return string(cw.buf)
}

// awkwardTexts are strings whose XML is not the string itself.
var awkwardTexts = []string{
	"", "plain", "AT&T <b>", `say "hi"`, "Côte d'Ivoire", "Türkiye", "line\nbreak", "tab\tinside", "cr\rinside",
	" leading", "trailing ", "\tlead tab", "trail newline\n", "\x01control\x1f", "bad utf8 \xff\xfe", "\u2028sep",
	"_x0041_", "a_x005F_x0041_b", "_x005F_", "_x005F_zz", "_xZZZZ_", "_x12", "snake_case_name", "emoji 😀",
	"=1+2", "+cmd", "@SUM(A1)", "-2", strings.Repeat("é", 20000), strings.Repeat("a", 32766) + "😀b",
	strings.Repeat("x", 40000), strings.Repeat("_x0041_", 6000),
}

// awkwardNumbers are floats whose shortest form is not Excel's.
var awkwardNumbers = []float64{0, -0.0, 1, 0.1 + 0.2, 1.0 / 3, 2.5e-7, 1e20, 123456789012345678, 1234567890.123456789,
	-98.7654321098765432, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), math.Inf(-1)}

// TestRowsAreExcelizes: the pledge sheets' rows are the XML excelize's
// stream writer makes of them, byte for byte, whatever the text or number,
// with nulls left out and every column's style.
func TestRowsAreExcelizes(t *testing.T) {
	mem := memory.NewGoAllocator()
	n := max(len(awkwardTexts), len(awkwardNumbers))
	text := array.NewStringBuilder(mem)
	num := array.NewFloat64Builder(mem)
	year := array.NewInt32Builder(mem)
	for i := range n {
		if i < len(awkwardTexts) {
			text.Append(awkwardTexts[i])
		} else {
			text.AppendNull()
		}
		if i < len(awkwardNumbers) {
			num.Append(awkwardNumbers[i])
		} else {
			num.AppendNull()
		}
		if i%5 == 4 {
			year.AppendNull()
		} else {
			year.Append(int32(1990 + i))
		}
	}
	cols := []arrow.Array{text.NewArray(), num.NewArray(), year.NewArray()}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for _, styles := range [][]int{{0, 0, 0}, {3, 12, 1}} {
		want, got := excelizeRows(t, cols, styles), ourRows(cols, styles)
		if got != want {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Fatalf("styles %v: rows differ from byte %d:\nexcelize: %.200q\nours:     %.200q", styles, i, want[i:], got[i:])
		}
	}
}

// FuzzCellText: any text and number are written as excelize writes them.
func FuzzCellText(f *testing.F) {
	for i, s := range awkwardTexts {
		if len(s) < 100 {
			f.Add(s, awkwardNumbers[i%len(awkwardNumbers)])
		}
	}
	mem := memory.NewGoAllocator()
	f.Fuzz(func(t *testing.T, s string, v float64) {
		tb := array.NewStringBuilder(mem)
		tb.Append(s)
		nb := array.NewFloat64Builder(mem)
		nb.Append(v)
		cols := []arrow.Array{tb.NewArray(), nb.NewArray()}
		defer cols[0].Release()
		defer cols[1].Release()
		styles := []int{2, 0}
		if want, got := excelizeRows(t, cols, styles), ourRows(cols, styles); got != want {
			t.Fatalf("text %q, number %v:\nexcelize: %q\nours:     %q", s, v, want, got)
		}
	})
}

// TestSplicedRowsStandInTheirSheets: a placeholder cut anywhere across
// the writes of its part is replaced by its sheet's rows; the rest of the
// part passes through as written.
func TestSplicedRowsStandInTheirSheets(t *testing.T) {
	s, err := newRowSplicer()
	if err != nil {
		t.Fatal(err)
	}
	holder := s.placeholder("P3", func(w io.Writer) error { _, err := io.WriteString(w, "<ROWS/>"); return err })
	part := `<sheetData><row r="1"><c r="A1"/></row><row r="2"><c r="A2" t="inlineStr"><is><t>` + holder + `</t></is></c></row></sheetData>`
	want := `<sheetData><row r="1"><c r="A1"/></row><ROWS/></sheetData>`
	for cut := 1; cut < len(part); cut += 7 {
		s.sheets[0].placed = false
		var out bytes.Buffer
		w := &spliceWriter{s: s, part: &out}
		for p := part; len(p) > 0; {
			k := min(cut, len(p))
			if n, err := w.Write([]byte(p[:k])); err != nil || n != k {
				t.Fatalf("writes of %d: %d, %v", cut, n, err)
			}
			p = p[k:]
		}
		if err := w.flush(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Fatalf("writes of %d bytes: %q", cut, out.String())
		}
		if err := s.unplaced(); err != nil {
			t.Fatal(err)
		}
	}
	// A placeholder not found is an error, not a sheet without rows.
	s.sheets[0].placed = false
	if err := s.unplaced(); err == nil || !strings.Contains(err.Error(), "P3") {
		t.Fatalf("unplaced rows: %v", err)
	}
	// A placeholder seen twice, or of no sheet, is an error, not rows
	// written twice or none.
	for _, bad := range []string{part + part, strings.Replace(part, holder, holder+"7", 1)} {
		s.sheets[0].placed = false
		w := &spliceWriter{s: s, part: io.Discard}
		_, err := w.Write([]byte(bad))
		if err == nil {
			err = w.flush()
		}
		if err == nil || !strings.Contains(err.Error(), "unknown or repeated") {
			t.Errorf("%.80q...: %v, want an unknown or repeated placeholder", bad, err)
		}
	}
}

// TestSheetRowsStopWithTheirContext: the rows written as the workbook is
// saved stop when the context is cancelled.
func TestSheetRowsStopWithTheirContext(t *testing.T) {
	mem := memory.NewGoAllocator()
	batch := benchBatch(mem)
	defer batch.Release()
	rows, err := readIndicatorRows(batch)
	if err != nil {
		t.Fatal(err)
	}
	ps := &pledgeSheet{rows: rows, cols: batch.Columns(), styles: make([]int, batch.NumCols()), valueCol: -1}
	ctx, cancel := context.WithCancel(context.Background())
	written := 0
	cancelling := writerFunc(func(p []byte) (int, error) { written++; cancel(); return len(p), nil })
	if err := ps.writeRows(ctx, cancelling); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if written != 1 {
		t.Fatalf("%d writes after the cancel, want the one that cancelled", written-1)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestReadmeRowsAreExcelizes: the README's lines, from row 2 on, are the
// XML excelize's stream writer makes of them, byte for byte: styled
// empty cells, texts, integers, floats, gaps between lines.
func TestReadmeRowsAreExcelizes(t *testing.T) {
	s := sheetLines{next: 1}
	s.put("title")
	s.skip()
	s.put("Run", "R1 & <co>")
	s.style(1, 4)
	s.put("file", "sha256", "rows")
	s.style(5, 7) // two styled cells past the values
	s.put("_x0041_.csv", "ab", 50, int64(7), 2.5, 1e21, nil, " x")
	s.style(1, 9)
	s.skip()
	s.put()

	want := excelizeLines(t, s.lines[1:])
	var got bytes.Buffer
	if err := s.writeRows(context.Background(), &got, 2); err != nil {
		t.Fatal(err)
	}
	if got.String() != want {
		t.Fatalf("README rows differ:\nexcelize: %s\nours:     %s", want, got.String())
	}
	// excelize writes a date or a boolean in a form of its own: a line
	// with one is an error, not a cell that reads otherwise.
	for _, v := range []any{time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), true} {
		bad := sheetLines{next: 2}
		bad.put(v)
		if err := bad.writeRows(context.Background(), io.Discard, 2); err == nil || !strings.Contains(err.Error(), "A2") {
			t.Errorf("a %T cell: %v, want an error naming A2", v, err)
		}
	}
}

// TestPlaceholdersOfAnySheetName: a sheet whose name excelize escapes, or
// whose name ends in a space, gets its rows: placeholders are keyed by
// number, not by the name excelize writes.
func TestPlaceholdersOfAnySheetName(t *testing.T) {
	for _, name := range []string{"R&D", "P 1 ", "P_x0041_", "C1"} {
		s, err := newRowSplicer()
		if err != nil {
			t.Fatal(err)
		}
		f := excelize.NewFile()
		if err := f.SetSheetName("Sheet1", name); err != nil {
			t.Fatal(err)
		}
		f.SetZipWriter(workbookZip(1, s))
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := sw.SetRow("A1", []any{"header"}); err != nil {
			t.Fatal(err)
		}
		rows := func(w io.Writer) error {
			_, err := io.WriteString(w, `<row r="2"><c r="A2"><v>7</v></c></row>`)
			return err
		}
		if err := sw.SetRow("A2", []any{s.placeholder(name, rows)}); err != nil {
			t.Fatal(err)
		}
		if err := sw.Flush(); err != nil {
			t.Fatal(err)
		}
		buf, err := f.WriteToBuffer()
		f.Close()
		if err != nil {
			t.Fatalf("sheet %q: %v", name, err)
		}
		back, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := back.GetCellValue(name, "A2"); v != "7" {
			t.Errorf("sheet %q: A2 = %q, want the spliced 7", name, v)
		}
		back.Close()
	}
}
