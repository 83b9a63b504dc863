package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestColumnLetter(t *testing.T) {
	for col, want := range map[int]string{1: "A", 2: "B", 26: "Z", 27: "AA", 52: "AZ", 53: "BA", 702: "ZZ", 703: "AAA", 16384: "XFD"} {
		if got := ColumnLetter(col); got != want {
			t.Errorf("ColumnLetter(%d) = %q, want %q", col, got, want)
		}
	}
}

func TestReportCSV(t *testing.T) {
	r := New("=evil.xlsx")
	r.Errorf(BadDate, "Data", 3, 7, "date %s is not a date", Quote("31/02/2019"))
	r.Warnf(HiddenSheet, "Lookup", 0, 0, "sheet is hidden")
	r.Errorf(NoTable, "", 0, 0, "no table")
	if !r.HasErrors() || r.Count(Error) != 2 || r.Count(Warning) != 1 {
		t.Fatalf("counts wrong: %+v", r.Entries)
	}
	var buf bytes.Buffer
	if err := r.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\r\n")
	if lines[0] != "file,sheet,cell,row,column,severity,code,message" {
		t.Errorf("header = %q", lines[0])
	}
	if lines[1] != `'=evil.xlsx,Data,C7,7,C,error,bad_date,"date ""31/02/2019"" is not a date"` {
		t.Errorf("first entry = %q", lines[1])
	}
	if len(lines) != 4 {
		t.Errorf("got %d lines, want 4", len(lines))
	}
	first, ok := r.FirstError()
	if !ok || first.Code != BadDate {
		t.Errorf("FirstError = %+v", first)
	}
}
