package annotate

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/ingest/report"
)

func TestWorkbook(t *testing.T) {
	src := filepath.Join(t.TempDir(), "in.xlsx")
	f := excelize.NewFile()
	f.SetSheetName("Sheet1", "Data")
	f.SetSheetRow("Data", "A1", &[]any{"country", "instrument", "ratification_date"})
	f.SetSheetRow("Data", "A2", &[]any{"Atlantis", "C097", 43528})
	dateStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	f.SetCellStyle("Data", "C2", "C2", dateStyle)
	f.SetSheetRow("Data", "A3", &[]any{"FRA", "C999", "soon"})
	if err := f.SaveAs(src); err != nil {
		t.Fatal(err)
	}
	rep := report.New("in.xlsx")
	rep.Errorf(report.UnknownCountry, "Data", 1, 2, "\"Atlantis\" is not a known country")
	rep.Errorf(report.UnknownInstrument, "Data", 2, 3, "\"C999\" is not an ILO instrument")
	rep.Errorf(report.BadDate, "Data", 3, 3, "\"soon\" is not a date")
	rep.Warnf(report.DuplicateRow, "Data", 0, 2, "row 2 repeats row 1")
	rep.Errorf(report.NoTable, "", 0, 0, "file-level problem")
	rep.Infof(report.TableRead, "Data", 0, 1, "info is not annotated")

	var buf bytes.Buffer
	if err := Workbook(context.Background(), src, rep, &buf); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if sheets := x.GetSheetList(); sheets[0] != ProblemsSheet || sheets[1] != "Data" {
		t.Fatalf("sheets = %v", sheets)
	}
	rows, _ := x.GetRows(ProblemsSheet)
	if len(rows) != 3+5 {
		t.Fatalf("Problems sheet has %d rows: %q", len(rows), rows)
	}
	if strings.Join(rows[3], "|") != "Data|A2|error|unknown_country|\"Atlantis\" is not a known country" {
		t.Errorf("first problem = %q", rows[3])
	}
	ok, target, _ := x.GetCellHyperLink(ProblemsSheet, "B4")
	if !ok || target != "'Data'!A2" {
		t.Errorf("link = %v %q", ok, target)
	}
	comments, _ := x.GetComments("Data")
	byCell := map[string]string{}
	for _, c := range comments {
		text := c.Text
		for _, p := range c.Paragraph {
			text += p.Text
		}
		byCell[c.Cell] = text
	}
	if !strings.Contains(byCell["A2"], "Atlantis") || !strings.Contains(byCell["A2"], "repeats") {
		t.Errorf("comment on A2 = %q", byCell["A2"])
	}
	if !strings.Contains(byCell["C3"], "soon") || len(byCell) != 3 {
		t.Errorf("comments = %v", byCell)
	}
	for _, cell := range []string{"A2", "B3", "C3"} {
		id, _ := x.GetCellStyle("Data", cell)
		st, _ := x.GetStyle(id)
		if st == nil || len(st.Fill.Color) == 0 || st.Fill.Color[0] != errorFill {
			t.Errorf("%s is not filled red: %+v", cell, st)
		}
	}
	if id, _ := x.GetCellStyle("Data", "C2"); func() bool { st, _ := x.GetStyle(id); return st.NumFmt != 14 }() {
		t.Error("an unmarked cell lost its date format")
	}
	if v, _ := x.GetCellValue("Data", "C2"); v == "" {
		t.Error("the data were not copied")
	}
}
