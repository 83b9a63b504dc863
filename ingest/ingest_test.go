package ingest

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/ingest/workbook"
	"github.com/ilo-pledge/pledgestat/internal/xlsxtest"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
)

var testRef = func() *refdata.Reference {
	ref, err := refdata.Load()
	if err != nil {
		panic(err)
	}
	return ref
}()

// sheetSpec describes one sheet of a workbook built by a test.
type sheetSpec struct {
	name   string
	rows   [][]any // rows from A1; nil rows are left empty
	hidden bool
	styles map[string]excelize.Style // cell -> style
}

func buildXLSX(t testing.TB, name string, sheets ...sheetSpec) string {
	t.Helper()
	f := excelize.NewFile()
	for i, s := range sheets {
		if i == 0 {
			f.SetSheetName("Sheet1", s.name)
		} else if _, err := f.NewSheet(s.name); err != nil {
			t.Fatal(err)
		}
		for r, row := range s.rows {
			if row == nil {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(s.name, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
		for cell, st := range s.styles {
			st := st
			id, err := f.NewStyle(&st)
			if err != nil {
				t.Fatal(err)
			}
			f.SetCellStyle(s.name, cell, cell, id)
		}
		if s.hidden {
			f.SetSheetVisible(s.name, false)
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeCSV(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func read(t testing.TB, path string) *Submission {
	t.Helper()
	sub, err := NewReader(testRef, workbook.DefaultLimits()).ReadFile(context.Background(), path, filepath.Base(path))
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	return sub
}

// entries renders the report's problems as "severity code sheet!cell"
// lines (info entries left out) for compact assertions.
func entries(sub *Submission) []string {
	var out []string
	for _, e := range sub.Report.Entries {
		if e.Severity == report.Info {
			continue
		}
		loc := e.Cell
		if loc == "" && e.Row > 0 {
			loc = fmt.Sprintf("row%d", e.Row)
		}
		out = append(out, fmt.Sprintf("%s %s %s!%s", e.Severity, e.Code, e.Sheet, loc))
	}
	return out
}

func hasEntry(sub *Submission, want string) bool {
	for _, e := range entries(sub) {
		if e == want {
			return true
		}
	}
	return false
}

func TestRatificationTemplateForm(t *testing.T) {
	path := buildXLSX(t, "ratif.xlsx", sheetSpec{name: "Ratifications", rows: [][]any{
		{"country", "instrument", "ratification_date", "status", "denunciation_date", "note"},
		{"FRA", "C097", "1954-03-29", "In Force", nil, nil},
		{"Philippines", "C 97", "2009-04-21", "In Force"},
		{"URY", "C.189", "2012-06-14", "En vigor"},
		{"Kenya", "No. 97", "1965-01-30", "Denounced", "1980-05-01"},
	}})
	sub := read(t, path)
	if !sub.Accepted() {
		t.Fatalf("rejected: %v", entries(sub))
	}
	if len(sub.Ratifications) != 4 {
		t.Fatalf("got %d ratifications", len(sub.Ratifications))
	}
	r := sub.Ratifications[1]
	if r.Country != "PHL" || r.Instrument != "C097" || r.RatificationDate.String() != "2009-04-21" || r.Status != "in_force" {
		t.Errorf("row 3 = %+v", r)
	}
	if r.Source.File != "ratif.xlsx" || r.Source.Sheet != "Ratifications" || r.Source.Cell != "A3" || len(r.Source.SHA256) != 64 || r.DateCell != "C3" {
		t.Errorf("provenance = %+v, date cell %s", r.Source, r.DateCell)
	}
	k := sub.Ratifications[3]
	if !k.Denunciation.Valid || k.Denunciation.Date.String() != "1980-05-01" || k.DenunciationCell != "E5" {
		t.Errorf("denunciation = %+v", k)
	}
}

func TestRatificationErrorsAllReported(t *testing.T) {
	path := buildXLSX(t, "bad.xlsx", sheetSpec{name: "Data", rows: [][]any{
		{"Ratifications of ILO conventions, 2024"},
		nil,
		{"Country", "Convention", "Date of ratification", "Status", "Denunciation date"},
		{"Atlantis", "C097", "2019-03-04"},               // unknown_country A4
		{"Kosovo", "C097", "2019-03-04"},                 // not_member A5
		{"FRA", "C999", "2019-03-04"},                    // unknown_instrument B6
		{"DEU", "C097", "31/02/2019"},                    // bad_date C7
		{"ITA", "C097", "2019-03-04", "Ratified"},        // bad_value D8
		{"ESP", "C097", "2019-03-04", "Denounced"},       // missing_value E9
		{"PRT", "C097", "2019-03-04", nil, "2010-01-01"}, // inconsistent E10
		{"BEL", "C189", "2019-03-04"},
		{"BEL", "C189", "2020-03-04"}, // duplicate_record rows 11 and 12
		{"NLD", "C189", "2019-03-04"},
		{"NLD", "C189", "2019-03-04"}, // duplicate_row row 14
		{"", "C189", "2019-03-04"},    // missing_value A15
	}})
	sub := read(t, path)
	if sub.Accepted() || len(sub.Ratifications) != 0 {
		t.Fatalf("a file with errors must yield no records")
	}
	want := []string{
		"error unknown_country Data!A4",
		"error not_member Data!A5",
		"error unknown_instrument Data!B6",
		"error bad_date Data!C7",
		"error bad_value Data!D8",
		"error missing_value Data!E9",
		"error inconsistent Data!E10",
		"error duplicate_record Data!A11",
		"error duplicate_record Data!A12",
		"warning duplicate_row Data!A14",
		"error missing_value Data!A15",
	}
	got := entries(sub)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, e := range sub.Report.Entries {
		if e.Code == report.UnknownCountry && !strings.Contains(e.Message, "Atlantis") {
			t.Errorf("message does not name the value: %q", e.Message)
		}
	}
}

func TestCSVRatificationFrenchSemicolon(t *testing.T) {
	path := writeCSV(t, "ratif_fr.csv", "Pays;Convention;Date de ratification;Statut\nFrance;C097;29/03/1954;En vigueur\nSénégal;C189;14/06/2022;En vigueur\nSource : BIT, NORMLEX\n")
	sub := read(t, path)
	if !sub.Accepted() || len(sub.Ratifications) != 2 {
		t.Fatalf("entries %v, %d records", entries(sub), len(sub.Ratifications))
	}
	if got := sub.Ratifications[1]; got.Country != "SEN" || got.RatificationDate.String() != "2022-06-14" || got.Source.Cell != "A3" || got.Source.Sheet != "" {
		t.Errorf("row = %+v", got)
	}
	if len(sub.Report.Notes) != 1 || !strings.Contains(sub.Report.Notes[0], "NORMLEX") {
		t.Errorf("notes = %q", sub.Report.Notes)
	}
}

func TestCoverageLongWideAndSheetYear(t *testing.T) {
	path := buildXLSX(t, "sp.xlsx",
		sheetSpec{name: "Long", rows: [][]any{
			{"Country", "Year", "Value", "Series", "Sex", "Population"},
			{"FRA", 2020, 45.5, "SOC_CONTIG_TOTAL", "T", "total"},
			{"X06", 2020, 17.4},
			{"DEU", 2020, ".."},
			{"FRA", 2020, 0.4, "SOC_CONTIG_TOTAL", "F", "migrants"},
		}, styles: map[string]excelize.Style{"C5": {NumFmt: 10}}},
		sheetSpec{name: "Wide", rows: [][]any{
			{"Country", "Series", 2019, 2020, 2021},
			{"ITA", "SOC_CONTIG_MAT", 80, "", 82},
		}},
		sheetSpec{name: "2021", rows: [][]any{
			{"Country", "Coverage (%)"},
			{"ESP", "61,5 %"},
		}},
	)
	sub := read(t, path)
	if !sub.Accepted() {
		t.Fatalf("rejected: %v", entries(sub))
	}
	got := map[string]float64{}
	for _, o := range sub.Coverage {
		got[o.Key()] = o.Value
	}
	want := map[string]float64{
		"FRA|2020|SOC_CONTIG_TOTAL|T|total":    45.5,
		"X06|2020|SOC_CONTIG_TOTAL|T|total":    17.4,
		"FRA|2020|SOC_CONTIG_TOTAL|F|migrants": 40,
		"ITA|2019|SOC_CONTIG_MAT|T|total":      80,
		"ITA|2021|SOC_CONTIG_MAT|T|total":      82,
		"ESP|2021|SOC_CONTIG_TOTAL|T|total":    61.5,
	}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestCoverageSuspectScale(t *testing.T) {
	path := writeCSV(t, "frac.csv", "country,year,value\nFRA,2020,0.45\nDEU,2020,0.5\n")
	sub := read(t, path)
	if !sub.Accepted() || !hasEntry(sub, "warning suspect_scale !C1") {
		t.Errorf("entries = %v", entries(sub))
	}
}

func TestILOSTATBulkCSV(t *testing.T) {
	content := "ref_area,source,indicator,sex,classif1,classif2,time,obs_value,obs_status,note_classif,note_indicator,note_source\n" +
		"FRA,BA:123,SDG_0131_SEX_SOC_RT_A,SEX_T,SOC_CONTIG_TOTAL,MIG_STATUS_TOTAL,2020,70.1,,,,\n" +
		"FRA,BA:123,SDG_0131_SEX_SOC_RT_A,SEX_F,SOC_CONTIG_TOTAL,MIG_STATUS_MIGRANT,2020,55.2,B,,,\n" +
		"X01,,SDG_0131_SEX_SOC_RT_A,SEX_T,SOC_CONTIG_TOTAL,MIG_STATUS_TOTAL,2020,46.9,,,,\n" +
		"X02,,SDG_0131_SEX_SOC_RT_A,SEX_T,SOC_CONTIG_TOTAL,MIG_STATUS_TOTAL,2020,12.0,,,,\n"
	sub := read(t, writeCSV(t, "ilostat.csv", content))
	if !sub.Accepted() || len(sub.Coverage) != 3 {
		t.Fatalf("entries %v, %d records", entries(sub), len(sub.Coverage))
	}
	if o := sub.Coverage[1]; o.Sex != "F" || o.Population != "migrants" || o.ObsStatus != "B" || o.SourceNote != "BA:123" || o.ValueCell != "H3" {
		t.Errorf("row = %+v", o)
	}
	for _, e := range entries(sub) {
		if strings.Contains(e, "unknown_column") {
			t.Errorf("ILOSTAT layout should raise no unknown_column warning: %s", e)
		}
	}
}

func TestBLMA(t *testing.T) {
	path := buildXLSX(t, "blma.xlsx", sheetSpec{name: "Agreements", rows: [][]any{
		{"Agreement ID", "Title", "Type", "Origin country", "Destination country", "Parties", "Date signed", "End date", "Status", "Social partners involved", "fair_recruitment", "Gender"},
		{"A1", "Philippines-Germany BLA", "Bilateral labour agreement", "Philippines", "Germany", nil, "2013-03-19", nil, "in force", "yes", "✓", "partial"},
		{"A2", "Colombo Process framework", "Regional framework", nil, nil, "Nepal; Sri Lanka; Korea, Republic of", 2016, nil, "signed", "no", "", "unknown"},
		{"A3", "Draft MoU", "MoU", "Kosovo", "Germany", nil, nil, nil, "negotiating"},
		{"A4", "Old SSA", "SSA", "FRA", "MAR", nil, 1990, 2005, "expired"},
	}})
	sub := read(t, path)
	if !sub.Accepted() || len(sub.Agreements) != 4 {
		t.Fatalf("entries %v, %d records", entries(sub), len(sub.Agreements))
	}
	a := sub.Agreements[0]
	if a.Type != "BLA" || strings.Join(a.Parties, ",") != "DEU,PHL" || a.Signed.String() != "2013-03-19" || a.Provision("social_dialogue") != "yes" || a.Provision("fair_recruitment") != "yes" || a.Provision("gender") != "partial" || a.Provision("crisis") != "unknown" {
		t.Errorf("A1 = %+v", a)
	}
	b := sub.Agreements[1]
	if strings.Join(b.Parties, ",") != "KOR,LKA,NPL" || b.Signed.Year != 2016 || b.Signed.HasDay {
		t.Errorf("A2 = %+v", b)
	}
	if c := sub.Agreements[2]; c.Signed.Known() || strings.Join(c.Parties, ",") != "DEU,XKX" {
		t.Errorf("A3 = %+v", c)
	}
	if d := sub.Agreements[3]; d.End.Year != 2005 || d.Status != "expired" {
		t.Errorf("A4 = %+v", d)
	}
}

func TestBLMAErrors(t *testing.T) {
	path := writeCSV(t, "blma_bad.csv", "title,type,origin,destination,date_signed,date_end,status,monitoring\n"+
		"A,BLA,PHL,DEU,2019,,expired,yes\n"+ // missing_value F2
		"B,BLA,PHL,DEU,2019,2010,,yes\n"+ // inconsistent F3
		"C,treaty,PHL,DEU,2019,,,yes\n"+ // bad_value B4
		"D,BLA,PHL,Mordor,2019,,,yes\n"+ // unknown_country D5
		"E,BLA,PHL,DEU,,,,yes\n"+ // missing_value E6
		"F,BLA,PHL,DEU,2019,,,maybe\n") // bad_value H7
	sub := read(t, path)
	want := []string{
		"error missing_value !F2", "error inconsistent !F3", "error bad_value !B4",
		"error unknown_country !D5", "error missing_value !E6", "error bad_value !H7",
	}
	if got := entries(sub); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestFileLevelProblems(t *testing.T) {
	noTable := buildXLSX(t, "notes.xlsx", sheetSpec{name: "Read me", rows: [][]any{{"Just some notes"}, {"Country", "is where"}}})
	sub := read(t, noTable)
	if !hasEntry(sub, "error no_table !") {
		t.Errorf("entries = %v", entries(sub))
	}
	missing := writeCSV(t, "missing.csv", "country,instrument\nFRA,C097\n")
	sub = read(t, missing)
	if !hasEntry(sub, "error missing_column !row1") {
		t.Errorf("entries = %v", entries(sub))
	}
	hidden := buildXLSX(t, "hidden.xlsx",
		sheetSpec{name: "Data", rows: [][]any{{"country", "year", "value"}, {"FRA", 2020, 50}}},
		sheetSpec{name: "Lookup", rows: [][]any{{"x"}}, hidden: true})
	sub = read(t, hidden)
	if !sub.Accepted() || !hasEntry(sub, "warning hidden_sheet Lookup!") {
		t.Errorf("entries = %v", entries(sub))
	}
}

func TestErrorsCSVColumns(t *testing.T) {
	sub := read(t, writeCSV(t, "e.csv", "country,year,value\nFRA,2020,150\n"))
	var b strings.Builder
	if err := sub.Report.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, r := range recs[1:] {
		if r[6] == "out_of_range" {
			found = true
			if r[2] != "C2" || r[3] != "2" || r[4] != "C" || r[5] != "error" || !strings.Contains(r[7], "150") {
				t.Errorf("errors.csv row = %q", r)
			}
		}
	}
	if !found {
		t.Errorf("no out_of_range row in %q", recs)
	}
}

func TestPartiesWithCommasInNames(t *testing.T) {
	sub := read(t, writeCSV(t, "p.csv", "title;type;parties;date_signed\nA;MOU;Korea, Republic of, Philippines, Viet Nam;2019\n"))
	if !sub.Accepted() || len(sub.Agreements) != 1 || strings.Join(sub.Agreements[0].Parties, ",") != "KOR,PHL,VNM" {
		t.Errorf("entries %v, agreements %+v", entries(sub), sub.Agreements)
	}
}

// withCachedValues rewrites a saved workbook so that its formulas carry
// cached results, as Excel saves them (excelize writes formulas without).
func withCachedValues(t *testing.T, path string, cached map[string]string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data = xlsxtest.EditParts(t, data, "xl/worksheets/", func(s string) string {
		for formula, v := range cached {
			s = strings.ReplaceAll(s, "<f>"+formula+"</f>", "<f>"+formula+"</f><v>"+v+"</v>")
		}
		return s
	})
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFormulasReadFromCachedValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "formulas.xlsx")
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"country", "year", "persons covered", "persons", "value"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"FRA", 2020, 455, 1000})
	f.SetCellFormula("Sheet1", "E2", "C2/D2*100")
	f.SetSheetRow("Sheet1", "A3", &[]any{"DEU", nil, 600, 1000})
	f.SetCellFormula("Sheet1", "B3", "B2+1")
	f.SetCellFormula("Sheet1", "E3", "C3/D3*100")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	withCachedValues(t, path, map[string]string{"C2/D2*100": "45.5", "B2+1": "2021", "C3/D3*100": "60"})
	sub := read(t, path)
	if !sub.Accepted() || len(sub.Coverage) != 2 {
		t.Fatalf("entries %v, %d records", entries(sub), len(sub.Coverage))
	}
	if o := sub.Coverage[0]; o.Value != 45.5 {
		t.Errorf("FRA = %+v", o)
	}
	if o := sub.Coverage[1]; o.Year != 2021 || o.Value != 60 {
		t.Errorf("DEU = %+v", o)
	}
}

func TestDuplicatesAcrossSheets(t *testing.T) {
	head := []any{"country", "year", "value"}
	path := buildXLSX(t, "two.xlsx",
		sheetSpec{name: "A", rows: [][]any{head, {"FRA", 2020, 50}, {"DEU", 2020, 60}}},
		sheetSpec{name: "B", rows: [][]any{head, {"FRA", 2020, 51}, {"DEU", 2020, 60}, {"ITA", 2020, 70}}})
	sub := read(t, path)
	want := []string{"error duplicate_record A!A2", "warning duplicate_row B!A3", "error duplicate_record B!A2"}
	got := entries(sub)
	for _, w := range want {
		if !hasEntry(sub, w) {
			t.Errorf("missing %q in %v", w, got)
		}
	}
	if sub.Accepted() {
		t.Error("a file with a duplicate record across sheets must be rejected")
	}
}

func TestFutureDatesRefused(t *testing.T) {
	r := NewReader(testRef, workbook.DefaultLimits())
	r.now = func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	rat := writeCSV(t, "f.csv", "country,instrument,ratification_date\nFRA,C097,2026-11-26\nDEU,C097,2026-11-27\n")
	sub, err := r.ReadFile(context.Background(), rat, "f.csv")
	if err != nil {
		t.Fatal(err)
	}
	if got := entries(sub); len(got) != 1 || got[0] != "error out_of_range !C3" {
		t.Errorf("entries = %v", got)
	}
	blma := writeCSV(t, "b.csv", "title,type,origin,destination,date_signed,date_in_force\nA,BLA,PHL,DEU,2027,\nB,BLA,PHL,DEU,2026,2030\n")
	sub, _ = r.ReadFile(context.Background(), blma, "b.csv")
	if got := entries(sub); len(got) != 1 || got[0] != "error out_of_range !E2" {
		t.Errorf("entries = %v (an entry into force may lie ahead, a signature not)", got)
	}
	// Today is today in UTC: on a machine at UTC+14 it is already the
	// 27th, but a date of the 27th is still in the future.
	ahead := time.FixedZone("UTC+14", 14*3600)
	r.now = func() time.Time { return time.Date(2026, 11, 26, 23, 30, 0, 0, time.UTC).In(ahead) }
	sub, _ = r.ReadFile(context.Background(), rat, "f.csv")
	if got := entries(sub); len(got) != 1 || got[0] != "error out_of_range !C3" {
		t.Errorf("with the clock in UTC+14: entries = %v", got)
	}
	r.now = func() time.Time { return time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC).In(ahead) }
	blma = writeCSV(t, "b2.csv", "title,type,origin,destination,date_signed\nA,BLA,PHL,DEU,2027\n")
	sub, _ = r.ReadFile(context.Background(), blma, "b2.csv")
	if got := entries(sub); len(got) != 1 || got[0] != "error out_of_range !E2" {
		t.Errorf("a signature year that is next year only in UTC+14: entries = %v", got)
	}
}

func TestNamibiaIsNotAMissingValue(t *testing.T) {
	sub := read(t, writeCSV(t, "na.csv", "title,type,origin,destination,date_signed\nA,BLA,na,ZAF,2019\nB,BLA,NA,BWA,2019\n"))
	if !sub.Accepted() || len(sub.Agreements) != 2 || sub.Agreements[0].Origin != "NAM" || sub.Agreements[1].Origin != "NAM" {
		t.Errorf("entries %v, agreements %+v", entries(sub), sub.Agreements)
	}
	sub = read(t, writeCSV(t, "na2.csv", "country,year,value\nn/a,2020,50\n"))
	if !hasEntry(sub, "error missing_value !A2") {
		t.Errorf("n/a in a country cell is a missing value: %v", entries(sub))
	}
}

// An unknown column is a warning that names the accepted header nearest
// to it, when one is near: a variant or a typing error, not any header.
func TestUnknownColumnNamesTheClosestHeader(t *testing.T) {
	sub := read(t, writeCSV(t, "h.csv", "country,year,value,Remarques,Contry code,budget\nFRA,2020,50,ok,FR,3\n"))
	want := map[string]string{
		"D1": `name it "remarks"`,
		"E1": `name it "country code"`,
		"F1": "",
	}
	for _, e := range sub.Report.Entries {
		w, ok := want[e.Cell]
		if !ok || e.Code != report.UnknownColumn {
			continue
		}
		delete(want, e.Cell)
		if w == "" && strings.Contains(e.Message, "name it") || w != "" && !strings.Contains(e.Message, w) {
			t.Errorf("%s: %s", e.Cell, e.Message)
		}
	}
	if len(want) != 0 {
		t.Errorf("no unknown-column warning for %v: %v", want, entries(sub))
	}
}

// Every domain has a reader, and every reader a domain: a descriptor
// added without its columns, or columns for a domain that is not
// described, fail here rather than as a file nobody can submit.
func TestEveryDomainHasAReader(t *testing.T) {
	read := map[records.Domain]bool{}
	for _, s := range specs {
		if _, err := records.Describe(s.domain); err != nil {
			t.Errorf("columns for %v", err)
		}
		read[s.domain] = true
	}
	for _, d := range records.Descriptors() {
		if !read[d.Domain] {
			t.Errorf("no columns read the %s domain", d.Domain)
		}
	}
}

// Findings of an independent probe against inputs.md: each was accepted
// (or half reported) before, and is now refused or warned about, in one
// pass, at the right cell.
func TestProbeFindings(t *testing.T) {
	tests := []struct {
		name, content string
		want          []string
	}{
		{"a marker in the parties is not Namibia", "Title,Type,Origin country,Destination country,Parties,Date signed\nT6,MOU,,,n/a;Kenya,2019\nT7,MOU,,,NA;Kenya,2019\n",
			[]string{"error missing_value !E2"}},
		{"origin and destination that are not the parties", "Title,Type,Origin country,Destination country,Parties,Date signed\nT1,BLA,Kenya,Qatar,Kenya; Oman,2019\nT2,BLA,Kenya,Qatar,Qatar;Kenya,2019\n",
			[]string{"error inconsistent !E2"}},
		{"Go number syntax is not a number", "country,year,value\nFRA,2_021,1_0\nDEU,2021,0x1p5\nITA,2021,NaN\nESP,2021,4.5E1\n",
			[]string{"error bad_number !B2", "error bad_number !C2", "error bad_number !C3", "error bad_number !C4"}},
		{"a ratification before its instrument was adopted", "country,instrument,ratification_date\nFrance,C190,1990-01-01\nSpain,C097,1950-01-01\n",
			[]string{"error out_of_range !C2"}},
		{"every problem of a row in one pass", "country,instrument,ratification_date,status,denunciation_date\nAtlantis,C097,2019-01-01,Denounced,\nSpain,C097,2019-01-01,Bogus,2010-01-01\n",
			[]string{"error unknown_country !A2", "error missing_value !E2", "error bad_value !D3", "error inconsistent !E3"}},
		{"every problem of an agreement in one pass", "Title,Type,Origin country,Destination country,Date signed,Date end,Status\nT1,Treaty,Kenya,Qatar,2019,,terminated\nT2,BLA,Atlantis,Qatar,2019,2015,in_force\n",
			[]string{"error bad_value !B2", "error missing_value !F2", "error unknown_country !C3", "error inconsistent !F3"}},
		{"data after the note that ended the table", "country,instrument,ratification_date\nFrance,C097,1954-03-29\nNote: data as of 2024\nGermany,C097,1990-01-01\n",
			[]string{"warning inconsistent !row4"}},
		{"a coverage record after the note", "country,year,value\nFRA,2020,45\nSource: ILO\nDEU,2020,50\n",
			[]string{"warning inconsistent !row4"}},
		{"an agreement after the note", "Title,Type,Parties,Date signed\nT1,BLA,Kenya;Qatar,2019\nNote: provisional\nT2,MOU,Kenya;Oman,2020\n",
			[]string{"warning inconsistent !row4"}},
		{"a note then a line that is not a record", "country,instrument,ratification_date\nFrance,C097,1954-03-29\nSource: NORMLEX\nces lignes ne sont pas des données,42,\n",
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := read(t, writeCSV(t, "probe.csv", tt.content))
			got := entries(sub)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("entries %q, want %q", got, tt.want)
			}
		})
	}
}

// A plain number in a workbook's date column is not a date (inputs.md: an
// Excel date is a number shown as a date); a date cell still is.
func TestPlainNumberIsNotADate(t *testing.T) {
	path := buildXLSX(t, "dates.xlsx", sheetSpec{name: "Data", rows: [][]any{
		{"country", "instrument", "ratification_date"},
		{"France", "C097", 5},
		{"Spain", "C097", 25000},
		{"Italy", "C097", 25000},
	}, styles: map[string]excelize.Style{"C4": {NumFmt: 14}}})
	sub := read(t, path)
	if got := entries(sub); strings.Join(got, "|") != "error bad_date Data!C2|error bad_date Data!C3" {
		t.Errorf("entries %q", got)
	}
}

// A date typed in a social-protection year column is named as the date
// Excel shows, not as its serial.
func TestDateInTheYearColumn(t *testing.T) {
	path := buildXLSX(t, "years.xlsx", sheetSpec{name: "Data", rows: [][]any{
		{"country", "year", "value"},
		{"FRA", 43831, 45},
	}, styles: map[string]excelize.Style{"B2": {NumFmt: 14}}})
	sub := read(t, path)
	var msg string
	for _, e := range sub.Report.Entries {
		if e.Cell == "B2" {
			msg = e.Message
		}
	}
	if !strings.Contains(msg, "the date 2020-01-01, not a year") {
		t.Errorf("B2: %q", msg)
	}
}

// In Force with a denunciation date: the date counts, and the sender is
// told about the contradiction.
func TestInForceWithADenunciationDate(t *testing.T) {
	sub := read(t, writeCSV(t, "r.csv", "country,instrument,ratification_date,status,denunciation_date\nSpain,C097,1990-01-01,In Force,2016-05-01\n"))
	if got := entries(sub); strings.Join(got, "|") != "warning inconsistent !E2" || len(sub.Ratifications) != 1 || !sub.Ratifications[0].Denunciation.Valid {
		t.Errorf("entries %q, records %+v", got, sub.Ratifications)
	}
}

// A record two sheets give with different values is named as the sender
// reads it, with both values.
func TestCrossSheetDuplicateMessages(t *testing.T) {
	path := buildXLSX(t, "two.xlsx",
		sheetSpec{name: "A", rows: [][]any{{"country", "year", "value"}, {"KEN", 2021, 10}}},
		sheetSpec{name: "B", rows: [][]any{{"country", "year", "value"}, {"KEN", 2021, 11}}},
		sheetSpec{name: "R1", rows: [][]any{{"country", "instrument", "ratification_date"}, {"France", "C097", "1954-03-29"}}},
		sheetSpec{name: "R2", rows: [][]any{{"country", "instrument", "ratification_date"}, {"France", "C097", "1955-03-29"}}})
	sub := read(t, path)
	var msgs []string
	for _, e := range sub.Report.Entries {
		if e.Code == report.DuplicateRecord {
			msgs = append(msgs, e.Message)
		}
	}
	all := strings.Join(msgs, "\n")
	if len(msgs) != 4 || !strings.Contains(all, "KEN 2021 SOC_CONTIG_TOTAL sex T total, with the values 10 and 11") || !strings.Contains(all, "the record FRA C097 with different values") || strings.Contains(all, "|") {
		t.Errorf("messages:\n%s", all)
	}
}

// countingReaderAt counts the reads of a source.
type countingReaderAt struct {
	r     io.ReaderAt
	reads int
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	return c.r.ReadAt(p, off)
}

// TestSmallFileIsReadOnce checks that a small workbook is parsed from the
// bytes that were hashed: one read of the file, not one per part (a
// 50-row workbook took about 50), and the parse sees exactly what the
// hash names.
func TestSmallFileIsReadOnce(t *testing.T) {
	path := buildXLSX(t, "small.xlsx", sheetSpec{name: "Ratifications", rows: [][]any{
		{"Country", "Convention", "Ratification date"},
		{"France", "C097", "1954-03-29"},
	}})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	src := &countingReaderAt{r: bytes.NewReader(data)}
	sub, err := NewReader(testRef, workbook.DefaultLimits()).ReadTo(context.Background(), workbook.Source{R: src, Size: int64(len(data)), Name: "small.xlsx"}, "small.xlsx", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.Set.Ratifications) != 1 || sub.Report.HasErrors() {
		t.Fatalf("the workbook was not read: %d ratifications, %v", len(sub.Set.Ratifications), entries(sub))
	}
	if src.reads != 1 {
		t.Errorf("the file was read %d times, want once", src.reads)
	}
}

// TestRepeatAcrossSheetsNamesItsCell: a table that starts right of column
// A has its repeats and duplicates named at its first column.
func TestRepeatAcrossSheetsNamesItsCell(t *testing.T) {
	head := []any{nil, nil, "country", "year", "value"}
	path := buildXLSX(t, "offset.xlsx",
		sheetSpec{name: "A", rows: [][]any{head, {nil, nil, "FRA", 2020, 50}, {nil, nil, "DEU", 2020, 60}}},
		sheetSpec{name: "B", rows: [][]any{head, {nil, nil, "FRA", 2020, 51}, {nil, nil, "DEU", 2020, 60}}})
	sub := read(t, path)
	for _, w := range []string{"error duplicate_record A!C2", "warning duplicate_row B!C3", "error duplicate_record B!C2"} {
		if !hasEntry(sub, w) {
			t.Errorf("missing %q in %v", w, entries(sub))
		}
	}
}
