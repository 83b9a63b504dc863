package values

import (
	"testing"
	"time"

	"github.com/ilo-pledge/pledgestat/ingest/report"
)

func TestDateText(t *testing.T) {
	tests := []struct {
		in        string
		allowYear bool
		want      string // YYYY-MM-DD, YYYY for a bare year, "pending" or an error code
	}{
		{"2019-03-04", false, "2019-03-04"},
		{"2019/03/04", false, "2019-03-04"},
		{"2019-03-04T00:00:00", false, "2019-03-04"},
		{"2019-03-04 00:00:00", false, "2019-03-04"},
		{"20190304", false, "2019-03-04"},
		{"4 Mar 2019", false, "2019-03-04"},
		{"4 March 2019", false, "2019-03-04"},
		{"March 4, 2019", false, "2019-03-04"},
		{"04 mars 2019", false, "2019-03-04"},
		{"1er mars 2019", false, "2019-03-01"},
		{"4 de marzo de 2019", false, "2019-03-04"},
		{"4 févr. 2019", false, "2019-02-04"},
		{"15 août 2020", false, "2020-08-15"},
		{"3 dic 2018", false, "2018-12-03"},
		{"4-Mar-19", false, "2019-03-04"},
		{"Monday, 4 March 2019", false, "2019-03-04"},
		{"25/03/2019", false, "2019-03-25"},
		{"03/25/2019", false, "2019-03-25"},
		{"25.03.2019", false, "2019-03-25"},
		{"04/04/2019", false, "2019-04-04"},
		// Two-digit years as Excel reads them: 00-29 are 2000s, 30-99 1900s.
		{"04/04/29", false, "2029-04-04"},
		{"04/04/30", false, "1930-04-04"},
		{"25/12/49", false, "1949-12-25"},
		{"4-Mar-00", false, "2000-03-04"},
		{"4-Mar-99", false, "1999-03-04"},
		{"04/03/2019", false, "pending"},
		{"2019", true, "2019"},
		{"2019.0", true, "2019"},
		{"March 2019", true, "2019"},
		{"2019", false, string(report.BadDate)},
		{"31/02/2019", false, string(report.BadDate)},
		{"2019-02-30", false, string(report.BadDate)},
		{"soon", false, string(report.BadDate)},
		{"4 Smarch 2019", false, string(report.BadDate)},
		{"", false, string(report.MissingValue)},
		{"1850-01-01", false, string(report.BadDate)},
	}
	for _, tt := range tests {
		v, p := DateText(tt.in, tt.allowYear)
		got := ""
		switch {
		case p != nil:
			got = string(p.Code)
		case v.Pending:
			got = "pending"
		case v.YearOnly:
			got = v.Partial().String()
		default:
			got = v.Date.String()
		}
		if got != tt.want {
			t.Errorf("DateText(%q, %v) = %s (%v), want %s", tt.in, tt.allowYear, got, p, tt.want)
		}
	}
}

func TestDateColumnSettles(t *testing.T) {
	settle := func(cells ...string) []string {
		var col DateColumn
		vals := make([]DateValue, len(cells))
		for i, c := range cells {
			v, p := DateText(c, false)
			if p != nil {
				t.Fatalf("DateText(%q): %v", c, p)
			}
			vals[i] = v
			col.Observe(v)
		}
		var out []string
		for i, v := range vals {
			s, p := col.Settle(cells[i], v)
			if p != nil {
				out = append(out, string(p.Code))
				continue
			}
			out = append(out, s.Date.String())
		}
		return out
	}
	got := settle("04/03/2019", "25/12/2019")
	if got[0] != "2019-03-04" {
		t.Errorf("day-first column: %v", got)
	}
	got = settle("04/03/2019", "12/25/2019")
	if got[0] != "2019-04-03" {
		t.Errorf("month-first column: %v", got)
	}
	got = settle("04/03/2019", "05/06/2019")
	if got[0] != string(report.AmbiguousDate) || got[1] != string(report.AmbiguousDate) {
		t.Errorf("unsettled column: %v", got)
	}
	// A date whose day and month are equal says nothing about the order:
	// it cannot settle a column.
	got = settle("04/03/2019", "04/04/2019")
	if got[0] != string(report.AmbiguousDate) || got[1] != "2019-04-04" {
		t.Errorf("a column whose only unambiguous date has day = month: %v", got)
	}
	got = settle("04/03/2019", "25/12/2019", "12/25/2019")
	if got[0] != string(report.AmbiguousDate) || got[1] != "2019-12-25" {
		t.Errorf("contradicting column: %v", got)
	}
}

// From 1 March 1900 on, a serial is the number of days since 30 December
// 1899 (1 January 1904 in the 1904 calendar), whole or with a time of day.
func TestSerialIsDaysSinceTheEpoch(t *testing.T) {
	for s := 61; s <= 71000; s += 7 { // to 2094 (2098 in 1904)
		want := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, s).Format("2006-01-02")
		if d, p := Serial(float64(s)+0.99, false); p != nil || d.String() != want {
			t.Fatalf("Serial(%d.99) = %s %v, want %s", s, d, p, want)
		}
		want = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, s).Format("2006-01-02")
		if d, p := Serial(float64(s), true); p != nil || d.String() != want {
			t.Fatalf("Serial(%d, 1904) = %s %v, want %s", s, d, p, want)
		}
	}
}

func TestSerial(t *testing.T) {
	tests := []struct {
		serial   float64
		date1904 bool
		want     string
	}{
		{43528, false, "2019-03-04"},
		{43528.75, false, "2019-03-04"},
		{1, false, "1900-01-01"},
		{59, false, "1900-02-28"},
		{60, false, "1900-02-28"}, // Excel's phantom 29 February 1900
		{61, false, "1900-03-01"},
		{2958465, false, ""}, // 9999-12-31: outside the years pledgestat reads
		{42066, true, "2019-03-04"},
		{0, true, ""},
	}
	for _, tt := range tests {
		d, p := Serial(tt.serial, tt.date1904)
		if tt.want == "" {
			if p == nil {
				t.Errorf("Serial(%v) = %s, want a problem", tt.serial, d)
			}
			continue
		}
		if p != nil || d.String() != tt.want {
			t.Errorf("Serial(%v, %v) = %s, %v; want %s", tt.serial, tt.date1904, d, p, tt.want)
		}
	}
}
