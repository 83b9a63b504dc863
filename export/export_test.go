package export

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/transform"
)

var testRef = func() *refdata.Reference {
	r, err := refdata.Load()
	if err != nil {
		panic(err)
	}
	return r
}()

func f(v float64) *float64 { return &v }

func sampleBatch(t *testing.T, mem memory.Allocator, value float64) arrow.RecordBatch {
	t.Helper()
	res := &transform.Result{FirstYear: 2020, LastYear: 2021, Observations: []transform.Observation{
		{Pledge: "C1", IndicatorID: "C1.1", IndicatorName: "Member States having ratified", RefArea: "X01", RefAreaName: "World", RefAreaType: refdata.AreaWorld,
			TimePeriod: 2020, Sex: "T", Instrument: "C097", Value: value, Unit: "count", Numerator: f(value), Denominator: f(187)},
		{Pledge: "C1", IndicatorID: "C1.1", IndicatorName: "Member States having ratified", RefArea: "X01", RefAreaName: "World", RefAreaType: refdata.AreaWorld,
			TimePeriod: 2021, Sex: "T", Instrument: "C097", Value: 5, Unit: "count", Numerator: f(5), Denominator: f(187)},
		{Pledge: "C1", IndicatorID: "C1.1", IndicatorName: "Member States having ratified", RefArea: "FRA", RefAreaName: "France", RefAreaType: refdata.AreaCountry,
			TimePeriod: 2020, Sex: "T", Instrument: "C097", Value: 1, Unit: "count", Sources: "=HYPERLINK(\"x\")!S!C2"},
		{Pledge: "P3", IndicatorID: "P3.3", IndicatorName: "Coverage gap", RefArea: "XKX", RefAreaName: "Kosovo", RefAreaType: refdata.AreaCountry,
			TimePeriod: 2020, Sex: "F", Value: -2.5, Unit: "percentage_points", Note: refdata.KosovoFootnote},
	}}
	return res.RecordBatch(mem, map[string]string{MetaRunID: "R1", MetaCatalogVersion: "1"})
}

func TestWriteCSV(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := sampleBatch(t, mem, 4)
	defer b.Release()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\r\n")
	if lines[0] != "pledge,indicator_id,indicator_name,ref_area,ref_area_name,ref_area_type,time_period,sex,instrument,value,unit,numerator,denominator,note,sources" {
		t.Errorf("header = %q", lines[0])
	}
	if lines[1] != "C1,C1.1,Member States having ratified,X01,World,world,2020,T,C097,4,count,4,187,," {
		t.Errorf("world row = %q", lines[1])
	}
	if lines[3] != `C1,C1.1,Member States having ratified,FRA,France,country,2020,T,C097,1,count,,,,"'=HYPERLINK(""x"")!S!C2"` {
		t.Errorf("country row = %q", lines[3])
	}
	if !strings.Contains(lines[4], ",-2.5,percentage_points,,,References to Kosovo") {
		t.Errorf("a negative number must stay a number: %q", lines[4])
	}
}

func TestDiff(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	old := sampleBatch(t, mem, 4)
	defer old.Release()
	changes, err := Diff(nil, old)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 4 || changes[0].Kind != "added" {
		t.Errorf("first run: %+v", changes)
	}
	cur := sampleBatch(t, mem, 3)
	defer cur.Release()
	changes, err = Diff([]arrow.RecordBatch{old}, cur)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0] != (Change{Kind: "changed", IndicatorID: "C1.1", RefArea: "X01", TimePeriod: "2020", Sex: "T", Instrument: "C097", OldValue: "4", NewValue: "3"}) {
		t.Errorf("changes = %+v", changes)
	}
	head := cur.NewSlice(0, 2)
	defer head.Release()
	changes, _ = Diff([]arrow.RecordBatch{cur}, head)
	if len(changes) != 2 || changes[0].Kind != "removed" || changes[1].RefArea != "XKX" {
		t.Errorf("removed = %+v", changes)
	}
	var buf bytes.Buffer
	WriteChanges(&buf, changes)
	if !strings.HasPrefix(buf.String(), "change,indicator_id,ref_area,time_period,sex,instrument,old_value,new_value\r\nremoved,C1.1,FRA,2020,T,C097,1,\r\n") {
		t.Errorf("changes.csv = %q", buf.String())
	}
}

func TestWorkbook(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := sampleBatch(t, mem, 4)
	defer b.Release()
	var buf bytes.Buffer
	err := WriteWorkbook(context.Background(), &buf, b, WorkbookInfo{RunID: "R1", StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ToolVersion: "test",
		FirstYear: 2020, LastYear: 2021, Catalog: testRef.Catalog(), ReferenceFiles: testRef.Sources(),
		Inputs: []ManifestInput{{Name: "=evil.xlsx", SHA256: "abc", Rows: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	want := []string{"README", "C1", "C2", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"}
	var visible []string
	for _, name := range x.GetSheetList() {
		if v, _ := x.GetSheetVisible(name); v {
			visible = append(visible, name)
		} else if name != "chart_data" {
			t.Errorf("unexpected hidden sheet %q", name)
		}
	}
	if strings.Join(visible, ",") != strings.Join(want, ",") {
		t.Errorf("visible sheets = %v, want %v", visible, want)
	}
	// The used range is written, for readers that trust it: C1 has a
	// header and three rows of 15 columns, P1 a header and a message.
	for sheet, want := range map[string]string{"C1": "A1:O4", "P3": "A1:O2", "P1": "A1:O2", "chart_data": "A1:B5"} {
		if got, err := x.GetSheetDimension(sheet); err != nil || got != want {
			t.Errorf("%s dimension = %q (%v), want %q", sheet, got, err, want)
		}
	}
	// Every pledge without observations says so under its header.
	for _, sheet := range []string{"C2", "P1", "P2", "P4", "P5", "P6", "P7", "P8"} {
		if v, _ := x.GetCellValue(sheet, "A2"); !strings.HasPrefix(v, "No observation of this pledge") {
			t.Errorf("%s!A2 = %q, want the note that the pledge has no observation", sheet, v)
		}
	}
	rows, _ := x.GetRows("README")
	if dim, _ := x.GetSheetDimension("README"); dim != "A1:F"+fmt.Sprint(len(rows)) {
		t.Errorf("README dimension = %q, want A1:F%d (six columns, %d rows)", dim, len(rows), len(rows))
	}
	var text strings.Builder
	for _, r := range rows {
		text.WriteString(strings.Join(r, "|") + "\n")
	}
	for _, s := range []string{"R1", "1244 (1999)", "C1.1", "countries.csv", "=evil.xlsx"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("README sheet lacks %q", s)
		}
	}
	// The README is streamed: its styles and widths must survive that.
	for i, r := range rows {
		if len(r) == 0 || r[0] != "=evil.xlsx" {
			continue
		}
		style, _ := x.GetCellStyle("README", fmt.Sprintf("A%d", i+1))
		if xf := x.Styles.CellXfs.Xf[style]; xf.QuotePrefix == nil || !*xf.QuotePrefix {
			t.Errorf("README!A%d (an input's name) has no quotePrefix", i+1)
		}
		header, _ := x.GetCellStyle("README", fmt.Sprintf("E%d", i))
		if fill := x.Styles.CellXfs.Xf[header].FillID; fill == nil || *fill == 0 {
			t.Errorf("README!E%d (the inputs' header) is not filled", i)
		}
	}
	if w, _ := x.GetColWidth("README", "F"); w != 100 {
		t.Errorf("README column F width = %v, want 100", w)
	}
	panes, _ := x.GetPanes("C1")
	if !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("C1 panes = %+v", panes)
	}
	if v, _ := x.GetCellValue("C1", "J2"); v != "4" {
		t.Errorf("C1!J2 = %q", v)
	}
	typ, _ := x.GetCellType("C1", "J2")
	if typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Errorf("values must be numbers, got %v", typ)
	}
	if v, _ := x.GetCellValue("C1", "O4"); v != `=HYPERLINK("x")!S!C2` {
		t.Errorf("C1!O4 = %q", v)
	}
	if f, _ := x.GetCellFormula("C1", "O4"); f != "" {
		t.Errorf("user text became a formula: %q", f)
	}
	// Text from users carries Excel's quotePrefix ("this is text") flag.
	style, _ := x.GetCellStyle("C1", "O4")
	if xf := x.Styles.CellXfs.Xf[style]; xf.QuotePrefix == nil || !*xf.QuotePrefix {
		t.Errorf("sources cell style %d has no quotePrefix", style)
	}
	// One chart, on the sheet of C1.1's world series.
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	charts, filters := 0, 0
	for _, zf := range zr.File {
		if strings.HasPrefix(zf.Name, "xl/charts/chart") {
			charts++
		}
		if strings.HasPrefix(zf.Name, "xl/worksheets/sheet") {
			rc, _ := zf.Open()
			var b bytes.Buffer
			b.ReadFrom(rc)
			rc.Close()
			if strings.Contains(b.String(), "<autoFilter") {
				filters++
			}
		}
	}
	if charts != 1 {
		t.Errorf("workbook has %d charts, want 1 (C1.1 world)", charts)
	}
	if filters != 2 {
		t.Errorf("%d sheets with filters, want 2 (C1 and P3)", filters)
	}
}

// encodingCSV is indicators.csv as encoding/csv writes it, the reference
// WriteCSV must match.
func encodingCSV(t testing.TB, batch arrow.RecordBatch) []byte {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.UseCRLF = true
	var header []string
	for _, f := range batch.Schema().Fields() {
		header = append(header, f.Name)
	}
	cw.Write(header)
	rec := make([]string, batch.NumCols())
	for r := range int(batch.NumRows()) {
		for c, col := range batch.Columns() {
			rec[c] = CellText(col, r)
		}
		cw.Write(rec)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCSVAsEncodingCSVWritesIt: the indicators written by WriteCSV are
// encoding/csv's bytes, texts that need quoting and numbers included,
// across the flushes of its buffer.
func TestCSVAsEncodingCSVWritesIt(t *testing.T) {
	texts := []string{"", " lead", "\tlead", "a,b", `q"q`, "line\nbreak", "cr\rhere", "crlf\r\n", `\.`, `\.x`, "\u00a0nbsp", "\u3000wide", "é", "=SUM(A1)", "+1", "x\xffy", strings.Repeat("long ", 20000)}
	res := &transform.Result{FirstYear: 2020, LastYear: 2020}
	for i, s := range texts {
		res.Observations = append(res.Observations, transform.Observation{Pledge: "P3", IndicatorID: "P3.1", IndicatorName: s, RefArea: "FRA", RefAreaName: s,
			RefAreaType: refdata.AreaCountry, TimePeriod: 2020 + i, Sex: "T", Value: []float64{0, -0.5, 1e21, 1e-7, 12.345678901234567, 100}[i%6], Unit: "percent",
			Numerator: f(float64(i)), Note: s, Sources: s})
	}
	for range 2000 { // over 64 KiB of rows
		res.Observations = append(res.Observations, res.Observations[3])
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := res.RecordBatch(mem, map[string]string{MetaRunID: "R1", MetaCatalogVersion: "1"})
	defer b.Release()
	var got bytes.Buffer
	if err := WriteCSV(&got, b); err != nil {
		t.Fatal(err)
	}
	if want := encodingCSV(t, b); !bytes.Equal(got.Bytes(), want) {
		i := 0
		for i < min(got.Len(), len(want)) && got.Bytes()[i] == want[i] {
			i++
		}
		t.Errorf("WriteCSV differs from encoding/csv at byte %d: %q, want %q", i, got.Bytes()[i:min(i+40, got.Len())], want[i:min(i+40, len(want))])
	}
}

// FuzzCSVField: any text is written as encoding/csv writes it.
func FuzzCSVField(f *testing.F) {
	for _, s := range []string{"", "a", " a", "a,b", `"`, "\r\n", `\.`, "\u2028", "\u0085x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		cw := csv.NewWriter(&want)
		cw.UseCRLF = true
		cw.Write([]string{s, s})
		cw.Flush()
		got := appendCSVField(nil, s)
		got = append(append(append(got, ','), appendCSVField(nil, s)...), "\r\n"...)
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%q written as %q, encoding/csv writes %q", s, got, want.Bytes())
		}
	})
}

// TestChangesAsEncodingCSVWritesThem: changes.csv is encoding/csv's bytes,
// across the flushes of its buffer.
func TestChangesAsEncodingCSVWritesThem(t *testing.T) {
	var changes []Change
	for i := range 5000 {
		changes = append(changes, Change{Kind: "changed", IndicatorID: "P3.1", RefArea: []string{"FRA", "a,b", `q"`, " lead"}[i%4],
			TimePeriod: strconv.Itoa(2000 + i%30), Sex: "T", Instrument: []string{"", "C097", "x\ny"}[i%3], OldValue: strconv.Itoa(i), NewValue: "1.5"})
	}
	var got bytes.Buffer
	if err := WriteChanges(&got, changes); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	cw := csv.NewWriter(&want)
	cw.UseCRLF = true
	cw.Write(ChangesHeader)
	for _, c := range changes {
		cw.Write([]string{c.Kind, c.IndicatorID, c.RefArea, c.TimePeriod, c.Sex, c.Instrument, c.OldValue, c.NewValue})
	}
	cw.Flush()
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("changes.csv differs from encoding/csv's (%d and %d bytes)", got.Len(), want.Len())
	}
}
