package ingest

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"archive/zip"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/ingest/workbook"
)

// TestEveryCode shows each code of inputs.md on the exact sheet and cell
// where errors.csv reports it.
func TestEveryCode(t *testing.T) {
	type file struct {
		name string
		data func(t *testing.T) string // returns the path
	}
	csvFile := func(name, content string) func(t *testing.T) string {
		return func(t *testing.T) string { return writeCSV(t, name, content) }
	}
	xlsx := func(name string, sheets ...sheetSpec) func(t *testing.T) string {
		return func(t *testing.T) string { return buildXLSX(t, name, sheets...) }
	}
	rat := func(rows ...[]any) []sheetSpec {
		return []sheetSpec{{name: "Data", rows: append([][]any{{"country", "instrument", "ratification_date", "status", "denunciation_date"}}, rows...)}}
	}
	tests := []struct {
		code report.Code
		file func(t *testing.T) string
		want string // severity,sheet,cell,row,column
	}{
		{report.UnsupportedFormat, csvFile("old.xls", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"+strings.Repeat("\x00", 600)), "error,,,,"},
		{report.Unreadable, func(t *testing.T) string {
			full, _ := os.ReadFile(buildXLSX(t, "x.xlsx", rat([]any{"FRA", "C097", "2019-03-04"})...))
			return writeCSV(t, "cut.xlsx", string(full[:len(full)-100]))
		}, "error,,,,"},
		{report.NoTable, csvFile("notes.csv", "just,some\nnotes,here\n"), "error,,,,"},
		{report.MissingColumn, csvFile("mc.csv", "title\ncountry,year\nFRA,2020\n"), "error,,,2,"},
		{report.MissingValue, xlsx("mv.xlsx", rat([]any{"FRA", "", "2019-03-04"})...), "error,Data,B2,2,B"},
		{report.UnknownCountry, xlsx("uc.xlsx", rat([]any{"Atlantis", "C097", "2019-03-04"})...), "error,Data,A2,2,A"},
		{report.NotMember, xlsx("nm.xlsx", rat([]any{"XK", "C097", "2019-03-04"})...), "error,Data,A2,2,A"},
		{report.UnknownInstrument, xlsx("ui.xlsx", rat([]any{"FRA", "C 500", "2019-03-04"})...), "error,Data,B2,2,B"},
		{report.BadDate, xlsx("bd.xlsx", rat([]any{"FRA", "C097", "30 février 2019"})...), "error,Data,C2,2,C"},
		{report.AmbiguousDate, csvFile("ad.csv", "country,instrument,ratification_date\nFRA,C097,04/03/2019\nDEU,C097,05/06/2019\n"), "error,,C2,2,C"},
		{report.BadNumber, csvFile("bn.csv", "country,year,value\nFRA,2020,high\n"), "error,,C2,2,C"},
		{report.OutOfRange, csvFile("oor.csv", "country,year,value\nFRA,2020,101\n"), "error,,C2,2,C"},
		{report.BadValue, xlsx("bv.xlsx", rat([]any{"FRA", "C097", "2019-03-04", "Ratified"})...), "error,Data,D2,2,D"},
		{report.DuplicateRecord, csvFile("dr.csv", "country,year,value\nFRA,2020,50\nFRA,2020,51\n"), "error,,A2,2,A"},
		{report.Inconsistent, xlsx("in.xlsx", rat([]any{"FRA", "C097", "2019-03-04", "Denounced", "2018-01-01"})...), "error,Data,E2,2,E"},
		{report.HiddenSheet, xlsx("hs.xlsx", sheetSpec{name: "Data", rows: [][]any{{"country", "year", "value"}, {"FRA", 2020, 50}}}, sheetSpec{name: "Old", rows: [][]any{{"x"}}, hidden: true}), "warning,Old,,,"},
		{report.SuspectScale, csvFile("ss.csv", "country,year,value\nFRA,2020,0.5\n"), "warning,,C1,1,C"},
		{report.DuplicateRow, csvFile("dup.csv", "country,year,value\nFRA,2020,50\nFRA,2020,50\n"), "warning,,A3,3,A"},
		{report.UnknownColumn, csvFile("ucol.csv", "country,year,value,colour\nFRA,2020,50,blue\n"), "warning,,D1,1,D"},
	}
	r := NewReader(testRef, workbook.DefaultLimits())
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			path := tt.file(t)
			sub, err := r.ReadFile(context.Background(), path, filepath.Base(path))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := sub.Report.WriteCSV(&buf); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, rec := range recs[1:] {
				if rec[6] == string(tt.code) {
					got = append(got, strings.Join([]string{rec[5], rec[1], rec[2], rec[3], rec[4]}, ","))
					if rec[0] != filepath.Base(path) || rec[7] == "" {
						t.Errorf("file or message missing: %q", rec)
					}
				}
			}
			if tt.code == report.DuplicateRecord && (len(got) != 2 || got[1] != "error,,A3,3,A") {
				t.Errorf("duplicate_record must be on both rows: %q", got)
			}
			if len(got) == 0 || got[0] != tt.want {
				t.Errorf("%s entries %q, want first %q; all: %q", tt.code, got, tt.want, recs)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	path := writeCSV(t, "big.csv", "country,year,value\n"+strings.Repeat("FRA,2020,50\n", 200))
	for _, limits := range []workbook.Limits{{MaxFileBytes: 100}, {MaxRows: 10}} {
		sub, err := NewReader(testRef, limits).ReadFile(context.Background(), path, "big.csv")
		if err != nil {
			t.Fatal(err)
		}
		if !hasEntry(sub, "error too_large !") {
			t.Errorf("limits %+v: %v", limits, entries(sub))
		}
	}
}

// TestZipBombRefusedQuickly: a workbook of a few hundred KiB whose sheet
// unpacks to 1.1 GiB (over the 1 GiB default) is refused from the zip directory, without unpacking.
func TestZipBombRefusedQuickly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 1.1 GiB deflate stream")
	}
	path := filepath.Join(t.TempDir(), "bomb.xlsx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	for _, name := range []string{"[Content_Types].xml", "xl/workbook.xml"} {
		w, _ := zw.Create(name)
		w.Write([]byte("<x/>"))
	}
	w, _ := zw.Create("xl/worksheets/sheet1.xml")
	zeros := make([]byte, 1<<20)
	for i := 0; i < 1100; i++ {
		w.Write(zeros)
	}
	zw.Close()
	f.Close()
	st, _ := os.Stat(path)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	sub, err := NewReader(testRef, workbook.DefaultLimits()).ReadFile(context.Background(), path, "bomb.xlsx")
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if !hasEntry(sub, "error too_large !") {
		t.Fatalf("zip bomb not refused: %v", entries(sub))
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("zip bomb of %d KiB (1.1 GiB unpacked) refused in %v, %d KiB allocated", st.Size()>>10, elapsed, allocated>>10)
	if elapsed > time.Second || allocated > 100<<20 {
		t.Errorf("refusing the bomb took %v and %d MiB", elapsed, allocated>>20)
	}
}

// panickyFile is a workbook whose reader panics, as a parser bug would.
type panickyFile struct{ workbook.File }

func (panickyFile) Sheets() []workbook.Sheet { return []workbook.Sheet{{Name: "Data"}} }
func (panickyFile) Walk(context.Context, string, func(workbook.Row) error) error {
	var m map[string]int
	m["boom"]++ // nil map write: a runtime panic
	return nil
}
func (panickyFile) Close() error            { return nil }
func (panickyFile) Format() workbook.Format { return workbook.FormatXLSX }

// TestParserPanicRejectsOnlyThatFile: a panic while reading a file rejects
// that file as unreadable; the next file is read normally.
func TestParserPanicRejectsOnlyThatFile(t *testing.T) {
	r := NewReader(testRef, workbook.DefaultLimits())
	r.open = func(src workbook.Source, limits workbook.Limits) (workbook.File, error) {
		if strings.HasSuffix(src.Name, "panic.csv") {
			return panickyFile{}, nil
		}
		return workbook.OpenSource(src, limits)
	}
	bad := writeCSV(t, "panic.csv", "country,year,value\nFRA,2020,50\n")
	sub, err := r.ReadFile(context.Background(), bad, "panic.csv")
	if err != nil {
		t.Fatal(err)
	}
	if sub.Accepted() || !hasEntry(sub, "error unreadable !") || sub.Len() != 0 {
		t.Errorf("panicking file: %v", entries(sub))
	}
	good := writeCSV(t, "good.csv", "country,year,value\nFRA,2020,50\n")
	sub, err = r.ReadFile(context.Background(), good, "good.csv")
	if err != nil || !sub.Accepted() || len(sub.Coverage) != 1 {
		t.Errorf("the next file: %v %v", err, entries(sub))
	}
}

// TestCellRefsAreColumnLettersAndRows: the references made without
// allocating read as the column's letters and the row's number.
func TestCellRefsAreColumnLettersAndRows(t *testing.T) {
	for _, col := range []int{1, 2, 25, 26, 27, 52, 53, 701, 702, 703, 16384, 18278, 18279} {
		for _, row := range []int{1, 9, 10, 99, 100, 1048576, 2147483647} {
			want := report.ColumnLetter(col) + strconv.Itoa(row)
			if got := cellRef(col, row); got != want {
				t.Errorf("cellRef(%d, %d) = %q, want %q", col, row, got, want)
			}
			first, value := rowCellRefs(3, col, row)
			if first != "C"+strconv.Itoa(row) || value != want {
				t.Errorf("rowCellRefs(3, %d, %d) = %q, %q", col, row, first, value)
			}
		}
	}
	if got := cellRef(0, 5); got != "" {
		t.Errorf("cellRef(0, 5) = %q, want nothing", got)
	}
	if first, value := rowCellRefs(2, 0, 7); first != "B7" || value != "" {
		t.Errorf("rowCellRefs without a value column = %q, %q", first, value)
	}
}
