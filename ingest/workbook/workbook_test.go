package workbook

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/internal/xlsxtest"
)

func readAll(t *testing.T, f File, sheet string) []Row {
	t.Helper()
	var rows []Row
	err := f.Walk(context.Background(), sheet, func(r Row) error {
		r.Cells = append([]Cell(nil), r.Cells...)
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk(%q): %v", sheet, err)
	}
	return rows
}

func TestXLSXCellsAndStyles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "styled.xlsx")
	x := excelize.NewFile()
	dateStyle, _ := x.NewStyle(&excelize.Style{NumFmt: 14})
	customDate, _ := x.NewStyle(&excelize.Style{CustomNumFmt: ptr("d mmmm yyyy")})
	pctStyle, _ := x.NewStyle(&excelize.Style{NumFmt: 10})
	thousands, _ := x.NewStyle(&excelize.Style{NumFmt: 3})
	x.SetSheetRow("Sheet1", "A1", &[]any{"Title of the table"})
	x.SetSheetRow("Sheet1", "A3", &[]any{"date", "pct", "plain", "text", "big", "formula"})
	x.SetSheetRow("Sheet1", "A4", &[]any{43528, 0.455, 2019, "04/03/2019", 1234567, nil})
	x.SetCellFormula("Sheet1", "F4", "=C4+1")
	x.SetCellStyle("Sheet1", "A4", "A4", dateStyle)
	x.SetCellStyle("Sheet1", "B4", "B4", pctStyle)
	x.SetCellStyle("Sheet1", "E4", "E4", thousands)
	x.SetSheetRow("Sheet1", "A5", &[]any{43529})
	x.SetCellStyle("Sheet1", "A5", "A5", customDate)
	x.NewSheet("Hidden")
	x.SetSheetVisible("Hidden", false)
	if err := x.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Format() != FormatXLSX {
		t.Errorf("format = %s", f.Format())
	}
	sheets := f.Sheets()
	if len(sheets) != 2 || sheets[0].Hidden || !sheets[1].Hidden {
		t.Errorf("sheets = %+v", sheets)
	}
	var rows []Row
	err = f.Walk(context.Background(), "Sheet1", func(r Row) error {
		rows = append(rows, r)
		return nil
	})
	// F4 holds a formula excelize wrote without a result: every row is
	// read, and the cell is named.
	var uncached *UncachedFormulas
	if !errors.As(err, &uncached) || uncached.Count != 1 || uncached.Cells[0].String() != "F4" {
		t.Errorf("Walk: %v, want the formula in F4 named", err)
	}
	if len(rows) != 4 || rows[0].Num != 1 || rows[1].Num != 3 || rows[2].Num != 4 {
		t.Fatalf("rows = %+v", rows)
	}
	data := rows[2]
	if c := data.Cell(1); c.Text != "43528" || !c.DateFormat || c.PercentFormat {
		t.Errorf("date cell = %+v", c)
	}
	if c := data.Cell(2); c.Text != "0.455" || !c.PercentFormat {
		t.Errorf("percent cell = %+v", c)
	}
	if c := data.Cell(3); c.Text != "2019" || c.DateFormat || !c.Numeric {
		t.Errorf("plain cell = %+v", c)
	}
	if c := data.Cell(4); c.Text != "04/03/2019" || c.Numeric {
		t.Errorf("text cell = %+v", c)
	}
	if c := data.Cell(5); c.DateFormat || c.PercentFormat {
		t.Errorf("thousands cell misread as date: %+v", c)
	}
	if c := data.Cell(7); c.Text != "" {
		t.Errorf("beyond last cell = %+v", c)
	}
	if c := rows[3].Cell(1); !c.DateFormat {
		t.Errorf("custom date format not recognised: %+v", c)
	}
}

func ptr[T any](v T) *T { return &v }

func TestXLSXDate1904(t *testing.T) {
	path := filepath.Join(t.TempDir(), "1904.xlsx")
	x := excelize.NewFile()
	x.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: ptr(true)})
	x.SetCellValue("Sheet1", "A1", 1)
	if err := x.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !f.Date1904() {
		t.Error("Date1904 = false, want true")
	}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCSVEncodingsAndDelimiters(t *testing.T) {
	text := "Ratifications 2024\npays;convention;date\nCôte d’Ivoire;C097;04/03/2019\n\"Line\nbreak\";C189;2019\n"
	utf16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(text)
	cp1252, _ := charmap.Windows1252.NewEncoder().String(strings.ReplaceAll(text, "’", "'"))
	tests := []struct {
		name  string
		data  string
		first string
	}{
		{"utf8.csv", text, "Côte d’Ivoire"},
		{"bom.csv", "\xEF\xBB\xBF" + text, "Côte d’Ivoire"},
		{"utf16.csv", utf16, "Côte d’Ivoire"},
		{"cp1252.csv", cp1252, "Côte d'Ivoire"},
		{"tab.csv", strings.ReplaceAll(text, ";", "\t"), "Côte d’Ivoire"},
		{"pipe.csv", strings.ReplaceAll(text, ";", "|"), "Côte d’Ivoire"},
		{"comma.csv", strings.ReplaceAll(text, ";", ","), "Côte d’Ivoire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Open(writeFile(t, tt.name, []byte(tt.data)), DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			rows := readAll(t, f, "")
			if len(rows) != 4 {
				t.Fatalf("got %d rows: %+v", len(rows), rows)
			}
			if got := rows[2].Cell(1).Text; got != tt.first {
				t.Errorf("country = %q, want %q", got, tt.first)
			}
			if rows[1].Num != 2 || rows[2].Num != 3 || rows[3].Num != 4 {
				t.Errorf("line numbers = %d %d %d", rows[1].Num, rows[2].Num, rows[3].Num)
			}
			if got := rows[3].Cell(1).Text; got != "Line\nbreak" {
				t.Errorf("quoted newline = %q", got)
			}
		})
	}
}

func TestSniffDelimiterDecimalComma(t *testing.T) {
	sample := "country;year;value\nFRA;2020;45,5\nDEU;2020;50,1\nITA;2020;61,0\n"
	if d := SniffDelimiter(sample); d != ';' {
		t.Errorf("delimiter = %q, want ';'", d)
	}
	if d := SniffDelimiter("a,b,c\n1,2,3\n"); d != ',' {
		t.Errorf("delimiter = %q, want ','", d)
	}
}

func problemCode(err error) report.Code {
	var p *Problem
	if errors.As(err, &p) {
		return p.Code
	}
	return ""
}

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	zw.Close()
	return buf.Bytes()
}

func TestRejectedFormats(t *testing.T) {
	valid := func() []byte {
		x := excelize.NewFile()
		x.SetCellValue("Sheet1", "A1", "x")
		b, err := x.WriteToBuffer()
		if err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}()
	encrypted := append(append([]byte{}, oleMagic...), make([]byte, 512)...)
	for _, r := range "EncryptedPackage" {
		encrypted = append(encrypted, byte(r), 0)
	}
	tests := []struct {
		name string
		data []byte
		code report.Code
		hint string
	}{
		{"old.xls", append(append([]byte{}, oleMagic...), make([]byte, 600)...), report.UnsupportedFormat, "97-2003 workbook (.xls); open it"},
		{"old-renamed.xlsx", append(append([]byte{}, oleMagic...), make([]byte, 600)...), report.UnsupportedFormat, "(.xls) renamed .xlsx"},
		{"locked.xlsx", encrypted, report.UnsupportedFormat, "password"},
		{"report.pdf", []byte("%PDF-1.7\n..."), report.UnsupportedFormat, "PDF"},
		{"renamed.xlsx", []byte("country,year\nFRA,2020\n"), report.UnsupportedFormat, "plain text"},
		{"calc.ods", zipOf(t, map[string]string{"mimetype": "application/vnd.oasis.opendocument.spreadsheet"}), report.UnsupportedFormat, ".ods"},
		{"binary.xlsb", zipOf(t, map[string]string{"xl/workbook.bin": "x", "[Content_Types].xml": "x"}), report.UnsupportedFormat, ".xlsb"},
		{"letter.xlsx", zipOf(t, map[string]string{"word/document.xml": "x"}), report.UnsupportedFormat, "Word"},
		{"truncated.xlsx", valid[:len(valid)/2], report.Unreadable, "damaged"},
		{"notes.md", []byte("# hello"), report.UnsupportedFormat, ".md"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(writeFile(t, tt.name, tt.data), DefaultLimits())
			if got := problemCode(err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
			if !strings.Contains(err.Error(), tt.hint) {
				t.Errorf("message %q does not mention %q", err, tt.hint)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	path := writeFile(t, "big.csv", []byte(strings.Repeat("a,b\n", 100)))
	if _, err := Open(path, Limits{MaxFileBytes: 10}); problemCode(err) != report.TooLarge {
		t.Errorf("file size limit: %v", err)
	}
	f, err := Open(path, Limits{MaxRows: 50})
	if err != nil {
		t.Fatal(err)
	}
	err = f.Walk(context.Background(), "", func(Row) error { return nil })
	if problemCode(err) != report.TooLarge {
		t.Errorf("row limit: %v", err)
	}
}

func TestZipBombRefusedFromDirectory(t *testing.T) {
	// 64 MiB of zeros compresses to ~64 KiB; the declared size alone
	// must refuse it under a 1 MiB unpacked limit.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"[Content_Types].xml", "xl/workbook.xml"} {
		w, _ := zw.Create(name)
		w.Write([]byte("<x/>"))
	}
	w, _ := zw.Create("xl/worksheets/sheet1.xml")
	zeros := make([]byte, 1<<20)
	for i := 0; i < 64; i++ {
		w.Write(zeros)
	}
	zw.Close()
	path := writeFile(t, "bomb.xlsx", buf.Bytes())
	_, err := Open(path, Limits{MaxUnpackedBytes: 1 << 20})
	if problemCode(err) != report.TooLarge {
		t.Fatalf("zip bomb: %v", err)
	}
}

func TestLiteralPercentSignIsNotAFraction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pct.xlsx")
	x := excelize.NewFile()
	quoted, _ := x.NewStyle(&excelize.Style{CustomNumFmt: ptr(`0.0"%"`)})
	escaped, _ := x.NewStyle(&excelize.Style{CustomNumFmt: ptr(`0.0\%`)})
	real, _ := x.NewStyle(&excelize.Style{NumFmt: 9})
	x.SetSheetRow("Sheet1", "A1", &[]any{45.5, 45.5, 0.4555, 1})
	x.SetCellStyle("Sheet1", "A1", "A1", quoted)
	x.SetCellStyle("Sheet1", "B1", "B1", escaped)
	x.SetCellStyle("Sheet1", "C1", "C1", real)
	x.SetCellStyle("Sheet1", "D1", "D1", real)
	if err := x.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := readAll(t, f, "Sheet1")[0]
	want := []bool{false, false, true, true}
	for i, w := range want {
		if got := row.Cell(i + 1).PercentFormat; got != w {
			t.Errorf("cell %d (%q): PercentFormat = %v, want %v", i+1, row.Cell(i+1).Text, got, w)
		}
	}
}

// rewriteSheet replaces text in a workbook's first sheet part.
func rewriteSheet(t *testing.T, data []byte, old, new string) []byte {
	return xlsxtest.EditParts(t, data, "xl/worksheets/sheet1.xml", func(s string) string { return strings.Replace(s, old, new, 1) })
}

// A declared range larger than the data is common and harmless; broken XML
// that stops the rows early is damage.
func TestDeclaredRangeVersusBrokenXML(t *testing.T) {
	x := excelize.NewFile()
	for r := 1; r <= 5; r++ {
		x.SetSheetRow("Sheet1", fmt.Sprintf("A%d", r), &[]any{"a", r})
	}
	buf, err := x.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	walk := func(data []byte) error {
		f, err := Open(writeFile(t, "w.xlsx", data), DefaultLimits())
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Walk(context.Background(), "Sheet1", func(Row) error { return nil })
	}
	stale := rewriteSheet(t, buf.Bytes(), `<dimension ref="A1"></dimension>`, `<dimension ref="A1:B500"></dimension>`)
	if err := walk(stale); err != nil {
		t.Errorf("a stale declared range was taken for damage: %v", err)
	}
	broken := rewriteSheet(t, stale, `<row r="3"`, `<row r="3" <<`)
	if err := walk(broken); problemCode(err) != report.Unreadable {
		t.Errorf("broken sheet XML: %v", err)
	}
}

// A cell without a style attribute has style 0, whose number format
// counts: a workbook whose default style is a date reads its numbers as
// dates.
func TestDefaultStyleNumberFormat(t *testing.T) {
	x := excelize.NewFile()
	x.SetCellValue("Sheet1", "A1", 43528)
	buf, err := x.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	data := xlsxtest.EditParts(t, buf.Bytes(), "xl/styles.xml", func(s string) string {
		i := strings.Index(s, "<cellXfs")
		j := strings.Index(s[i:], "<xf ")
		return s[:i+j] + strings.Replace(s[i+j:], `numFmtId="0"`, `numFmtId="14"`, 1)
	})
	f, err := Open(writeFile(t, "d.xlsx", data), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if c := readAll(t, f, "Sheet1")[0].Cell(1); !c.DateFormat {
		t.Errorf("cell = %+v, want a date", c)
	}
}

// A panic in the caller's work on a row stops the decoding goroutine too:
// nothing is left reading the file.
func TestWalkStopsDecodingWhenTheCallerPanics(t *testing.T) {
	var rows strings.Builder
	rows.WriteString("a,b\n")
	for i := 0; i < 20000; i++ {
		rows.WriteString("1,2\n")
	}
	f, err := Open(writeFile(t, "p.csv", []byte(rows.String())), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	before := runtime.NumGoroutine()
	func() {
		defer func() { recover() }()
		f.Walk(context.Background(), "", func(Row) error { panic("bug") })
	}()
	time.Sleep(100 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines before the walk, %d after", before, after)
	}
}

// A part excelize did not keep in memory (a sheet over maxXMLInMemory, or
// a part it filed under another name) is read from the zip: the rows are
// the same either way.
func TestPartsReadFromTheZipWhenNotInMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.xlsx")
	x := excelize.NewFile()
	for r := 1; r <= 20; r++ {
		x.SetSheetRow("Sheet1", fmt.Sprintf("A%d", r), &[]any{fmt.Sprintf("text %d", r%3), r})
	}
	if err := x.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	read := func(drop bool, edit func(pkg *sync.Map)) []string {
		f, err := Open(path, DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		pkg := &f.(*owned).File.(*xlsxFile).f.Pkg
		if edit != nil {
			edit(pkg)
		}
		if drop {
			for _, name := range []string{"xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml"} {
				if _, ok := pkg.Load(name); !ok {
					t.Fatalf("excelize holds no %s: the test no longer tests the fallback", name)
				}
				pkg.Delete(name)
			}
		}
		var out []string
		for _, row := range readAll(t, f, "Sheet1") {
			out = append(out, row.Cell(1).Text+"|"+row.Cell(2).Text)
		}
		return out
	}
	inMemory, fromZip := read(false, nil), read(true, nil)
	if len(inMemory) != 20 || !slices.Equal(inMemory, fromZip) {
		t.Errorf("rows read from excelize's parts %v, from the zip %v", inMemory, fromZip)
	}
	// The sheet read is the one excelize unpacked, not unpacked again:
	// changed in memory, the change shows.
	edited := read(false, func(pkg *sync.Map) {
		v, _ := pkg.Load("xl/worksheets/sheet1.xml")
		pkg.Store("xl/worksheets/sheet1.xml", bytes.Replace(v.([]byte), []byte("<v>1</v>"), []byte("<v>101</v>"), 1))
	})
	if len(edited) == 0 || edited[0] != "text 1|101" {
		t.Errorf("with the sheet changed in memory the first row reads %v: the sheet was unpacked again", edited[:min(1, len(edited))])
	}
}
