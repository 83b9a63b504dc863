package annotate

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/ingest/report"
)

// manyProblems builds a workbook of rows×3 cells and a report with an
// error on every cell.
func manyProblems(t testing.TB, rows int) (string, *report.Report) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "many.xlsx")
	f := excelize.NewFile()
	sw, _ := f.NewStreamWriter("Sheet1")
	sw.SetRow("A1", []any{"country", "instrument", "ratification_date"})
	for r := 2; r <= rows+1; r++ {
		sw.SetRow(fmt.Sprintf("A%d", r), []any{"Atlantis", "C999", "soon"})
	}
	sw.Flush()
	if err := f.SaveAs(src); err != nil {
		t.Fatal(err)
	}
	rep := report.New("many.xlsx")
	for r := 2; r <= rows+1; r++ {
		for c := 1; c <= 3; c++ {
			rep.Errorf(report.BadValue, "Sheet1", c, r, "bad value in row %d", r)
		}
	}
	return src, rep
}

// 21,000 problem cells are annotated in seconds (they took minutes when
// each comment was deleted before being added), and the cap of
// MaxMarkedCells holds, with a note on the Problems sheet.
func TestAnnotatingManyCellsIsFastAndCapped(t *testing.T) {
	src, rep := manyProblems(t, 7000) // 21,000 cells
	start := time.Now()
	var buf bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := Workbook(ctx, src, rep, &buf); err != nil {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
	elapsed := time.Since(start)
	t.Logf("21,000 cells annotated in %v", elapsed)
	if elapsed > 30*time.Second {
		t.Errorf("annotating took %v", elapsed)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	comments, _ := x.GetComments("Sheet1")
	if len(comments) != MaxMarkedCells {
		t.Errorf("%d comments, want the cap %d", len(comments), MaxMarkedCells)
	}
	note, _ := x.GetCellValue(ProblemsSheet, "A2")
	if !strings.Contains(note, "21000 problems") || !strings.Contains(note, "1000 cells left unmarked") {
		t.Errorf("Problems sheet note = %q", note)
	}
}
