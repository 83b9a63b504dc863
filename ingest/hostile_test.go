package ingest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/ingest/workbook"
	"github.com/ilo-pledge/pledgestat/internal/xlsxtest"
	"github.com/ilo-pledge/pledgestat/records"
)

// readBytes reads a file's content as ingest does, from memory.
func readBytes(t testing.TB, name string, data []byte) *Submission {
	t.Helper()
	r := NewReader(testRef, workbook.DefaultLimits())
	sub, err := r.Read(context.Background(), workbook.Source{R: bytes.NewReader(data), Size: int64(len(data)), Name: name}, name)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return sub
}

// Every mix of line endings reads every row, at its physical line.
func TestCSVLineEndings(t *testing.T) {
	rows := []string{"country,year,value,note", "FRA,2019,50,a", "DEU,2019,60,b", "ESP,2019,70,c", "ITA,2019,80,d"}
	cases := map[string]string{
		"LF":                 strings.Join(rows, "\n") + "\n",
		"CRLF":               strings.Join(rows, "\r\n") + "\r\n",
		"CR (Excel for Mac)": strings.Join(rows, "\r") + "\r",
		"bare CR inside LF":  rows[0] + "\n" + rows[1] + "\r" + rows[2] + "\n" + rows[3] + "\r\n" + rows[4],
		"no final newline":   strings.Join(rows, "\r"),
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			sub := readBytes(t, "x.csv", []byte(text))
			if !sub.Accepted() || len(sub.Coverage) != 4 {
				t.Fatalf("accepted %v with %d rows: %v", sub.Accepted(), len(sub.Coverage), entries(sub))
			}
			for i, o := range sub.Coverage {
				if want := fmt.Sprintf("A%d", i+2); o.Source.Cell != want || o.Note != string(rune('a'+i)) {
					t.Errorf("row %d: cell %s note %q", i, o.Source.Cell, o.Note)
				}
			}
		})
	}
}

// A line break inside a quoted note, in any form, stays in the note and
// does not shift the line numbers of later rows.
func TestCSVQuotedLineBreaks(t *testing.T) {
	text := "country,year,value,note\r\"FRA\",2019,50,\"two\r\nlines\"\rDEU,2019,60,\"a\rb\"\r\nESP,2019,70,x\n"
	sub := readBytes(t, "x.csv", []byte(text))
	if !sub.Accepted() || len(sub.Coverage) != 3 {
		t.Fatalf("accepted %v, %d rows: %v", sub.Accepted(), len(sub.Coverage), entries(sub))
	}
	if sub.Coverage[0].Note != "two\nlines" || sub.Coverage[1].Note != "a\nb" {
		t.Errorf("notes %q %q", sub.Coverage[0].Note, sub.Coverage[1].Note)
	}
	if c := sub.Coverage[2].Source.Cell; c != "A6" {
		t.Errorf("third row at %s, want A6 (its physical line)", c)
	}
}

// Extra fields are an error on their line, never dropped; trailing empty
// fields (a delimiter at the end of the line) are fine.
func TestCSVExtraFieldsAreErrors(t *testing.T) {
	sub := readBytes(t, "x.csv", []byte("country,year,value\nFRA,2019,50,,\nDEU,2019,45,5\n"))
	if sub.Accepted() || !hasEntry(sub, "error bad_value !D3") {
		t.Errorf("extra field: %v", entries(sub))
	}
}

// A quote opened and never closed, or one that swallows whole rows, is a
// reason to reject the file naming the line, never rows silently lost.
func TestCSVBrokenQuotesNameTheLine(t *testing.T) {
	for name, tt := range map[string]struct {
		text string
		line string
	}{
		"never closed":    {"country,year,value,note\nFRA,2019,50,\"open\nDEU,2019,60,x\n", "line 2"},
		"open at the end": {"country,year,value,note\nDEU,2019,60,x\nFRA,2019,50,\"open\nnote text\n", "line 3"},
		"swallows a row":  {"country,year,value,note\nFRA,2019,50,\"open\nDEU,2019,60,x\nESP,2019,70,\"y\"\n", "line 2"},
	} {
		t.Run(name, func(t *testing.T) {
			sub := readBytes(t, "x.csv", []byte(tt.text))
			if sub.Accepted() {
				t.Fatalf("accepted with %d rows", len(sub.Coverage))
			}
			first, _ := sub.Report.FirstError()
			if first.Code != report.Unreadable || !strings.Contains(first.Message, tt.line) {
				t.Errorf("first error = %+v, want unreadable naming %s", first, tt.line)
			}
		})
	}
}

// FuzzCSVLineEndings writes a table of generated rows with line endings,
// quoting and stray fields chosen by the fuzzer: every row in is a row
// stored, or the file is rejected saying why; a file without stray fields
// or multi-line notes is always accepted.
func FuzzCSVLineEndings(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, "a note")
	f.Add([]byte{2, 2, 2, 2}, "x,y")
	f.Add([]byte{1, 0, 1, 0, 9, 9}, "line\rbreak")
	f.Add([]byte{5, 200, 7, 31}, "\"quoted\" \r\n text;")
	countries := []string{"FRA", "DEU", "ESP", "ITA", "PHL", "KEN", "BRA", "ARG"}
	endings := []string{"\n", "\r\n", "\r"}
	f.Fuzz(func(t *testing.T, plan []byte, note string) {
		if len(plan) == 0 || len(plan) > 200 || len(note) > 500 || !validNote(note) {
			return // invalid UTF-8 reads as Windows-1252: another test's matter
		}
		var b strings.Builder
		b.WriteString("country,year,value,note" + endings[int(plan[0])%3])
		type want struct {
			value float64
			note  string
		}
		var wants []want
		stray, multiline := false, false
		for i, p := range plan {
			n := strings.TrimSpace(note)
			if p&8 != 0 {
				n = ""
			}
			field := n
			if strings.ContainsAny(n, ",\"\r\n") || p&16 != 0 {
				field = `"` + strings.ReplaceAll(n, `"`, `""`) + `"`
			}
			if strings.ContainsAny(n, "\r\n") {
				multiline = true
			}
			value := float64(int(p) % 101)
			fmt.Fprintf(&b, "%s,%d,%g,%s", countries[i%len(countries)], 1990+i/len(countries), value, field)
			if p&32 != 0 && p&64 != 0 {
				b.WriteString(",stray")
				stray = true
			}
			b.WriteString(endings[int(p>>1)%3])
			norm := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(n)
			wants = append(wants, want{value, strings.TrimSpace(norm)})
		}
		sub := readBytes(t, "f.csv", []byte(b.String()))
		if !sub.Accepted() {
			if !stray && !multiline {
				t.Fatalf("a well-formed file was rejected: %v\n%q", entries(sub), b.String())
			}
			return
		}
		if stray {
			t.Fatalf("a row with a stray field was accepted:\n%q", b.String())
		}
		if len(sub.Coverage) != len(wants) {
			t.Fatalf("%d rows in, %d stored:\n%q", len(wants), len(sub.Coverage), b.String())
		}
		for i, o := range sub.Coverage {
			if o.Value != wants[i].value || o.Note != wants[i].note {
				t.Fatalf("row %d: got %v %q, want %v %q", i, o.Value, o.Note, wants[i].value, wants[i].note)
			}
		}
	})
}

// validNote: notes that ingest stores as they are (not markers of a
// missing value, no control characters that are not line breaks).
func validNote(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\r' && r != '\n' {
			return false
		}
	}
	return strings.ToValidUTF8(s, "") == s
}

// sheetXLSX is a small coverage workbook, as bytes, and the number of its
// data rows.
func sheetXLSX(t testing.TB, rows int) ([]byte, int) {
	t.Helper()
	x := excelize.NewFile()
	x.SetSheetRow("Sheet1", "A1", &[]any{"country", "year", "value", "note"})
	countries := []string{"FRA", "DEU", "ESP", "ITA", "PHL"}
	for i := 0; i < rows; i++ {
		x.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+2), &[]any{countries[i%5], 2000 + i/5, 10 + i%80, fmt.Sprintf("note %d", i)})
	}
	buf, err := x.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), rows
}

// A sheet whose XML stops decoding part-way (an undefined entity) is
// unreadable, although excelize declares only A1 as its dimension.
func TestSheetWithUndefinedEntityIsUnreadable(t *testing.T) {
	data, _ := sheetXLSX(t, 20)
	broken := xlsxtest.EditParts(t, data, "xl/worksheets/sheet1.xml", func(s string) string {
		return strings.Replace(s, "<v>2002</v>", "<v>2002&bogus;</v>", 1)
	})
	if !strings.Contains(string(unzipPart(t, data, "xl/worksheets/sheet1.xml")), `<dimension ref="A1"`) {
		t.Log("note: excelize now declares a full dimension")
	}
	sub := readBytes(t, "x.xlsx", broken)
	if sub.Accepted() || !hasEntry(sub, "error unreadable Sheet1!") {
		t.Errorf("undefined entity: accepted=%v rows=%d %v", sub.Accepted(), len(sub.Coverage), entries(sub))
	}
}

// Property: a sheet cut at any byte is read whole or rejected, never
// accepted with fewer rows.
func TestSheetCutAtAnyByteIsWholeOrRejected(t *testing.T) {
	data, rows := sheetXLSX(t, 12)
	sheet := string(unzipPart(t, data, "xl/worksheets/sheet1.xml"))
	step := 1
	if testing.Short() {
		step = 7
	}
	whole, rejected := 0, 0
	cuts := []int{len(sheet)} // the whole sheet, whatever the step
	for cut := 0; cut < len(sheet); cut += step {
		cuts = append(cuts, cut)
	}
	for _, cut := range cuts {
		cutData := xlsxtest.EditParts(t, data, "xl/worksheets/sheet1.xml", func(string) string { return sheet[:cut] })
		sub := readBytes(t, "x.xlsx", cutData)
		switch {
		case !sub.Accepted():
			rejected++
		case len(sub.Coverage) == rows:
			whole++
		default:
			t.Fatalf("cut at byte %d of %d: accepted with %d of %d rows", cut, len(sheet), len(sub.Coverage), rows)
		}
	}
	if whole == 0 || rejected == 0 {
		t.Errorf("whole %d, rejected %d: the property was not exercised both ways", whole, rejected)
	}
}

// Formulas written without a cached result (by a script, never opened in
// Excel) are errors on their cells, not "no rows".
func TestUncachedFormulasAreReported(t *testing.T) {
	x := excelize.NewFile()
	x.SetSheetRow("Sheet1", "A1", &[]any{"country", "year", "value"})
	for i := 2; i <= 4; i++ {
		x.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i), &[]any{"FRA", 2017 + i})
		x.SetCellFormula("Sheet1", fmt.Sprintf("C%d", i), "=40+2")
	}
	buf, err := x.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	sub := readBytes(t, "script.xlsx", buf.Bytes())
	if sub.Accepted() {
		t.Fatalf("accepted with %d rows", len(sub.Coverage))
	}
	for _, cell := range []string{"C2", "C3", "C4"} {
		if !hasEntry(sub, "error unreadable Sheet1!"+cell) {
			t.Errorf("%s not named: %v", cell, entries(sub))
		}
	}
	// The same cells with their cached results (as Excel saves them) are
	// read from the cache.
	cached := xlsxtest.EditParts(t, buf.Bytes(), "xl/worksheets/sheet1.xml", func(s string) string {
		return strings.ReplaceAll(s, "<f>=40+2</f>", "<f>=40+2</f><v>42</v>")
	})
	if sub := readBytes(t, "saved.xlsx", cached); !sub.Accepted() || len(sub.Coverage) != 3 || sub.Coverage[0].Value != 42 {
		t.Errorf("cached results: %v %v", sub.Coverage, entries(sub))
	}
}

// A cell that refers past the end of the shared-string table would read
// as empty: the workbook is damaged.
func TestSharedStringIndexOutOfRange(t *testing.T) {
	data, _ := sheetXLSX(t, 5)
	broken := xlsxtest.EditParts(t, data, "xl/worksheets/sheet1.xml", func(s string) string {
		i := strings.Index(s, `t="s"><v>`)
		j := strings.Index(s[i:], "</v>")
		return s[:i] + `t="s"><v>99999` + s[i+j:]
	})
	if sub := readBytes(t, "x.xlsx", broken); sub.Accepted() || !hasEntry(sub, "error unreadable Sheet1!") {
		t.Errorf("out-of-range shared string: %v", entries(sub))
	}
}

// A small workbook whose styles part holds millions of entries is refused
// as too_large quickly and without the gigabytes parsing it would take.
func TestStylesBombIsRefused(t *testing.T) {
	data, _ := sheetXLSX(t, 3)
	bomb := xlsxtest.EditParts(t, data, "xl/styles.xml", func(s string) string {
		i := strings.Index(s, "<cellXfs")
		return s[:i] + "<dxfs>" + strings.Repeat("<dxf/>", 3_000_000) + "</dxfs>" + s[i:]
	})
	if len(bomb) > 2<<20 {
		t.Fatalf("the bomb is %d bytes compressed", len(bomb))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	sub := readBytes(t, "bomb.xlsx", bomb)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	first, _ := sub.Report.FirstError()
	if first.Code != report.TooLarge || !strings.Contains(first.Message, "xl/styles.xml") {
		t.Errorf("first error = %+v", first)
	}
	if elapsed > 5*time.Second {
		t.Errorf("refusing took %v", elapsed)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 256<<20 {
		t.Errorf("refusing allocated %d MiB", grown>>20)
	}
}

func unzipPart(t testing.TB, data []byte, name string) []byte {
	t.Helper()
	var out []byte
	xlsxtest.EditParts(t, data, name, func(s string) string {
		out = []byte(s)
		return s
	})
	return out
}

// The records of a large CSV are held once, compactly: repeated texts are
// shared and repeats are dropped in place (the largest CSV the default
// limits accept, a million rows, needed 2 GB when they were copied three
// times).
func TestLargeCSVMemoryPerRow(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 200,000 rows")
	}
	for _, streamed := range []bool{false, true} {
		name := "kept"
		if streamed {
			name = "streamed"
		}
		t.Run(name, func(t *testing.T) { largeCSVMemory(t, streamed) })
	}
}

// countingSink checks that observations come in row order and counts them.
type countingSink struct {
	n       int
	lastRow int
	unorder bool
}

func (c *countingSink) Coverage(batch []records.CoverageObservation) error {
	for _, o := range batch {
		r := rowNum(o.Source.Cell)
		if r <= c.lastRow {
			c.unorder = true
		}
		c.lastRow = r
		c.n++
	}
	return nil
}

// largeCSVMemory reads 200,000 rows. Kept in the submission, they cost
// their records; streamed to a sink, only the key hashes that find
// repeats stay (a million-row extract no longer needs its size in memory).
func largeCSVMemory(t *testing.T, streamed bool) {
	const rows = 200_000
	var b bytes.Buffer
	b.WriteString("country,year,value,series,sex,population,source,note\n")
	countries := []string{"FRA", "DEU", "ESP", "ITA", "PHL", "KEN", "BRA", "ARG", "IND", "CHN", "PER", "CHL", "COL", "ECU", "BOL",
		"URY", "PRY", "CAN", "JPN", "KOR", "THA", "VNM", "MYS", "AUS", "NZL", "POL", "CZE", "HUN", "ROU", "BGR"}
	series := []string{"SOC_CONTIG_TOTAL", "SOC_CONTIG_CHILD", "SOC_CONTIG_MAT", "SOC_CONTIG_DISAB", "SOC_CONTIG_UNE", "SOC_CONTIG_PENSION", "SOC_CONTIG_INJ", "SOC_CONTIG_POOR", "SOC_CONTIG_VULN"}
	n := 0
	for y := 1990; n < rows; y++ {
		for _, c := range countries {
			for _, s := range series {
				for _, sx := range []string{"T", "F", "M"} {
					for _, p := range []string{"total", "migrants", "non_migrants"} {
						if n < rows {
							fmt.Fprintf(&b, "%s,%d,%d.5,%s,%s,%s,ILO World Social Protection Database,note %d\n", c, y, n%100, s, sx, p, n%7)
							n++
						}
					}
				}
			}
		}
	}
	data := b.Bytes()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// The peak of live memory while reading: sample the heap left after
	// each collection.
	stop, peak := make(chan struct{}), make(chan uint64)
	go func() {
		var m runtime.MemStats
		var max uint64
		for {
			select {
			case <-stop:
				peak <- max
				return
			case <-time.After(5 * time.Millisecond):
				runtime.GC()
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > max {
					max = m.HeapAlloc
				}
			}
		}
	}()
	var sub *Submission
	sink := &countingSink{}
	if streamed {
		r := NewReader(testRef, workbook.DefaultLimits())
		var err error
		sub, err = r.ReadTo(context.Background(), workbook.Source{R: bytes.NewReader(data), Size: int64(len(data)), Name: "big.csv"}, "big.csv", sink)
		if err != nil {
			t.Fatal(err)
		}
	} else {
		sub = readBytes(t, "big.csv", data)
	}
	close(stop)
	top := <-peak
	got := len(sub.Coverage)
	if streamed {
		got = sub.Streamed
		if sink.n != rows || sink.unorder || len(sub.Coverage) != 0 {
			t.Errorf("the sink received %d observations (in row order: %v), the submission kept %d", sink.n, !sink.unorder, len(sub.Coverage))
		}
	}
	if !sub.Accepted() || got != rows {
		t.Fatalf("accepted %v with %d rows: %v", sub.Accepted(), got, entries(sub)[:min(3, len(entries(sub)))])
	}
	perRow := float64(top-before.HeapAlloc) / rows
	t.Logf("peak of %.0f bytes of live heap per row", perRow)
	limit := 560.0 // the records, held once
	if streamed {
		limit = 120 // the repeat index only
	}
	if perRow > limit {
		t.Errorf("peak of %.0f bytes of live heap per row, want at most %.0f", perRow, limit)
	}
	runtime.KeepAlive(sub)
}

// A small file costs little: its observations are kept in a chunk sized
// for it, not in a block sized for a million rows (16,384 records of 200
// bytes were allocated and cleared for each 50-row file).
func TestSmallFileAllocatesLittle(t *testing.T) {
	var b strings.Builder
	b.WriteString("country,year,value\n")
	for y := 1990; y < 2040; y++ {
		fmt.Fprintf(&b, "FRA,%d,%d.5\n", y, y%100)
	}
	data := []byte(b.String())
	readBytes(t, "warm.csv", data)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	sub := readBytes(t, "small.csv", data)
	runtime.ReadMemStats(&after)
	if len(sub.Coverage) != 50 {
		t.Fatalf("read %d observations", len(sub.Coverage))
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 2<<20 {
		t.Errorf("reading a 50-row file allocated %d KiB, want under 2 MiB", got>>10)
	}
}

// ilostatAggregate is the form ^[Xx]\d{2}$, written out.
func TestILOSTATAggregateForm(t *testing.T) {
	form := regexp.MustCompile(`^[Xx]\d{2}$`)
	cases := []string{"", "X", "X0", "X01", "x60", "X6", "X600", "Y01", "X0a", "XA1", " X01", "X01 ", "X١٢", "ＸＯ１", "X\n0", "FRA", "x99", "X/0", "X:0"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := []byte{"Xx0Y"[rng.IntN(4)], byte('/' + rng.IntN(13)), byte('/' + rng.IntN(13))}
		cases = append(cases, string(b[:1+rng.IntN(3)]))
	}
	for _, c := range cases {
		if got, want := ilostatAggregate(c), form.MatchString(c); got != want {
			t.Errorf("ilostatAggregate(%q) = %v, want %v", c, got, want)
		}
	}
}

// TestSocialProtectionCellsCleanedAndTrimmed: codes are read from their
// cleaned text (runs of spaces and non-breaking spaces folded, ends
// trimmed), free text is only trimmed, and a clean cell is read as it is.
func TestSocialProtectionCellsCleanedAndTrimmed(t *testing.T) {
	csv := "country,year,series,sex,population,value,obs_status,note\n" +
		"\u00a0France ,\t2020 , SOC_CONTIG_TOTAL,T\u00a0, total ,  45.5 ,  B  ,  a  b \n" +
		"Germany,2020,SOC_CONTIG_TOTAL,F,migrants,50,A,clean note\n"
	sub := readBytes(t, "spaces.csv", []byte(csv))
	if !sub.Accepted() || len(sub.Coverage) != 2 {
		t.Fatalf("entries %v, %d records", entries(sub), len(sub.Coverage))
	}
	want := []records.CoverageObservation{
		{Area: "FRA", Year: 2020, Series: "SOC_CONTIG_TOTAL", Sex: "T", Population: "total", Value: 45.5, ObsStatus: "B", Note: "a  b", ValueCell: "F2"},
		{Area: "DEU", Year: 2020, Series: "SOC_CONTIG_TOTAL", Sex: "F", Population: "migrants", Value: 50, ObsStatus: "A", Note: "clean note", ValueCell: "F3"},
	}
	for i, o := range sub.Coverage {
		o.Source = records.Provenance{}
		if o != want[i] {
			t.Errorf("row %d read as\n%+v\nwant\n%+v", i+2, o, want[i])
		}
	}
	if c := sub.Coverage[1].Source.Cell; c != "A3" {
		t.Errorf("the second row's source cell is %q, want A3", c)
	}
}

// TestWideValueCells: each value of a wide table (a column a year) is
// traced to its own cell.
func TestWideValueCells(t *testing.T) {
	sub := readBytes(t, "wide.csv", []byte("country,2019,2020\nFRA,40,45\nDEU,,50\n"))
	var got []string
	for _, o := range sub.Coverage {
		got = append(got, fmt.Sprintf("%s %d %s %s", o.Area, o.Year, o.Source.Cell, o.ValueCell))
	}
	if want := []string{"FRA 2019 A2 B2", "FRA 2020 A2 C2", "DEU 2020 A3 C3"}; !slices.Equal(got, want) {
		t.Errorf("read %q, want %q", got, want)
	}
}

// recyclingSink hands every batch it was given back at once (Spare),
// remembering them.
type recyclingSink struct {
	got   [][]records.CoverageObservation
	spare [][]records.CoverageObservation
	rows  int
}

func (s *recyclingSink) Coverage(batch []records.CoverageObservation) error {
	s.got = append(s.got, batch)
	s.rows += len(batch)
	s.spare = append(s.spare, batch[:0])
	return nil
}

func (s *recyclingSink) Spare() []records.CoverageObservation {
	if len(s.spare) == 0 {
		return nil
	}
	b := s.spare[0]
	s.spare = s.spare[1:]
	return b
}

// TestStreamFillsSpareBatches: a sink that gives batches back has them
// filled again rather than new ones made.
func TestStreamFillsSpareBatches(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("country,year,value,series\n")
	rows := 3*coverageBatch + 10
	countries := []string{"FRA", "DEU", "ESP", "ITA", "PHL", "KEN", "BRA", "ARG", "IND", "CHN", "PER", "CHL", "COL", "ECU", "BOL",
		"URY", "PRY", "CAN", "JPN", "KOR", "THA", "VNM", "MYS", "AUS", "NZL", "POL", "CZE", "HUN", "ROU", "BGR"}
	series := []string{"SOC_CONTIG_TOTAL", "SOC_CONTIG_CHILD", "SOC_CONTIG_MAT", "SOC_CONTIG_DISAB", "SOC_CONTIG_UNE", "SOC_CONTIG_PENSION", "SOC_CONTIG_INJ", "SOC_CONTIG_POOR", "SOC_CONTIG_VULN"}
	for i := range rows {
		fmt.Fprintf(&b, "%s,%d,%d,%s\n", countries[i%30], 1990+(i/30)%100, i%100, series[i/3000])
	}
	data := b.Bytes()
	sink := &recyclingSink{}
	r := NewReader(testRef, workbook.DefaultLimits())
	sub, err := r.ReadTo(context.Background(), workbook.Source{R: bytes.NewReader(data), Size: int64(len(data)), Name: "many.csv"}, "many.csv", sink)
	if err != nil {
		t.Fatal(err)
	}
	if !sub.Accepted() || sink.rows != rows {
		t.Fatalf("%d rows to the sink of %d; entries %v", sink.rows, rows, entries(sub)[:min(3, len(entries(sub)))])
	}
	if len(sink.got) < 3 {
		t.Fatalf("%d batches for %d rows", len(sink.got), rows)
	}
	for i := 2; i < len(sink.got)-1; i++ {
		if &sink.got[i][:1][0] != &sink.got[i-1][:1][0] && &sink.got[i][:1][0] != &sink.got[0][:1][0] {
			t.Errorf("batch %d is new memory, not a batch given back", i)
		}
	}
}
