package ingest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/ingest/workbook"
	"github.com/ilo-pledge/pledgestat/internal/textnorm"
	"github.com/ilo-pledge/pledgestat/records"
)

// FuzzReadCSV feeds whole files through the reader: it must never panic
// or fail, every problem must carry a known code, an accepted file must
// hold only well-formed records, and a rejected one none.
func FuzzReadCSV(f *testing.F) {
	for _, seed := range []string{
		"country,instrument,ratification_date\nFRA,C097,2019-03-04\n",
		"Pays;Convention;Date de ratification\nFrance;C97;04/03/2019\nSource: x\n",
		"country,year,value\nFRA,2020,45,5\nX01,2020,..\n",
		"title,type,origin,destination,date_signed\nA,BLA,PHL,DEU,2019\n",
		"ref_area,source,indicator,sex,classif1,classif2,time,obs_value\nFRA,s,i,SEX_T,SOC_CONTIG_TOTAL,MIG_STATUS_TOTAL,2020,50\n",
		"\xff\xfe c\x00o\x00",
		"\"unterminated,quote\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	r := NewReader(testRef, workbook.Limits{MaxFileBytes: 1 << 20, MaxUnpackedBytes: 1 << 20, MaxRows: 10000})
	known := map[report.Code]bool{}
	for _, c := range []report.Code{report.UnsupportedFormat, report.Unreadable, report.TooLarge, report.NoTable, report.MissingColumn,
		report.MissingValue, report.UnknownCountry, report.NotMember, report.UnknownInstrument, report.BadDate, report.AmbiguousDate,
		report.BadNumber, report.OutOfRange, report.BadValue, report.DuplicateRecord, report.Inconsistent, report.HiddenSheet,
		report.SuspectScale, report.DuplicateRow, report.UnknownColumn, report.SheetIgnored, report.RowSkipped, report.TableRead,
		report.FileNote, report.Duplicate} {
		known[c] = true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.csv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		sub, err := r.ReadFile(context.Background(), path, "fuzz.csv")
		if err != nil {
			t.Fatalf("ReadFile: %v", err)
		}
		for _, e := range sub.Report.Entries {
			if !known[e.Code] || e.Message == "" {
				t.Fatalf("entry with unknown code or no message: %+v", e)
			}
		}
		if !sub.Accepted() {
			if sub.Len() != 0 {
				t.Fatalf("a rejected file kept %d records", sub.Len())
			}
			return
		}
		for _, rt := range sub.Ratifications {
			if len(rt.Country) != 3 || rt.Instrument == "" || rt.Source.Cell == "" {
				t.Fatalf("bad ratification %+v", rt)
			}
		}
		for _, o := range sub.Coverage {
			if o.Value < 0 || o.Value > 100 || o.Year < 1990 || o.Year > 2100 {
				t.Fatalf("bad observation %+v", o)
			}
		}
		for _, a := range sub.Agreements {
			if len(a.Parties) < 2 || (!a.Signed.Known() && a.Status != records.StatusNegotiating) {
				t.Fatalf("bad agreement %+v", a)
			}
		}
	})
}

// FuzzMatchHeader checks header matching on arbitrary rows: it never
// panics and every column it assigns is within the row.
func FuzzMatchHeader(f *testing.F) {
	f.Add("Country", "Convention", "Date of ratification", "2019")
	f.Add("pays", "année", "valeur", "")
	f.Add("Title", "Type", "Parties", "Date signed")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		row := workbook.Row{Num: 1, Cells: []workbook.Cell{{Text: a}, {Text: b}, {Text: c}, {Text: d}}}
		for _, spec := range specs {
			h := matchHeader(spec, row, 0)
			for name, col := range h.columns {
				if col < 1 || col > 4 {
					t.Fatalf("%s assigned to column %d", name, col)
				}
				if _, ok := spec.byKey[textnorm.Key(row.Cell(col).Text)]; !ok {
					t.Fatalf("%s assigned to a header that names nothing: %q", name, row.Cell(col).Text)
				}
			}
		}
	})
}

// FuzzReadXLSX builds real workbooks from fuzzed cells (a title row, a
// header and two data rows, some cells numeric with a date or percent
// style) and reads them whole: no panic, no failure, only known codes.
func FuzzReadXLSX(f *testing.F) {
	f.Add("Ratifications", "Pays", "Convention", "Date de ratification", "France", "C 97", "4 mars 2019", "Kenya", "No. 97", 43528.0, uint8(1))
	f.Add("", "country", "year", "value", "X01", "2020", "45,5 %", "NA", "2021", 0.455, uint8(2))
	f.Add("Agreements", "title", "type", "parties", "A", "MoU", "Kenya; Uganda", "B", "BLA", 2019.0, uint8(0))
	dir := f.TempDir()
	r := NewReader(testRef, workbook.Limits{MaxFileBytes: 1 << 20, MaxUnpackedBytes: 8 << 20, MaxRows: 100})
	f.Fuzz(func(t *testing.T, title, h1, h2, h3, a1, a2, a3, b1, b2 string, num float64, style uint8) {
		x := excelize.NewFile()
		defer x.Close()
		sheet := "Sheet1"
		x.SetCellValue(sheet, "A1", title)
		x.SetSheetRow(sheet, "A3", &[]any{h1, h2, h3})
		x.SetSheetRow(sheet, "A4", &[]any{a1, a2, a3})
		x.SetSheetRow(sheet, "A5", &[]any{b1, b2, num})
		switch style % 3 {
		case 1:
			id, _ := x.NewStyle(&excelize.Style{NumFmt: 14})
			x.SetCellStyle(sheet, "C5", "C5", id)
		case 2:
			id, _ := x.NewStyle(&excelize.Style{NumFmt: 10})
			x.SetCellStyle(sheet, "C5", "C5", id)
		}
		path := filepath.Join(dir, "fuzz.xlsx")
		if err := x.SaveAs(path); err != nil {
			t.Skip("excelize refused the cells:", err)
		}
		sub, err := r.ReadFile(context.Background(), path, "fuzz.xlsx")
		if err != nil {
			t.Fatalf("ReadFile: %v", err)
		}
		for _, e := range sub.Report.Entries {
			if e.Message == "" || e.Code == "" {
				t.Fatalf("entry without code or message: %+v", e)
			}
			if e.Code == report.Unreadable {
				t.Fatalf("a workbook excelize wrote was unreadable: %+v", e)
			}
		}
		if !sub.Accepted() && sub.Len() != 0 {
			t.Fatal("a rejected file kept records")
		}
	})
}
