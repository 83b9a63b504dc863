package ingest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/records"
)

// Repeats are checked a few observations at a time (settle): a repeat is
// found whatever the distance to its first occurrence, within the
// observations waiting together or across them, and each table's count of
// records is reported with its last observations checked, before the next
// sheet is read.
func TestRepeatsFoundAcrossPendingChecks(t *testing.T) {
	countries := [2][]string{{"FRA", "DEU", "ESP", "ITA", "PRT", "BEL", "NLD", "AUT"}, {"BRA", "ARG", "CHL", "PER", "COL", "MEX", "URY", "BOL"}}
	// sheetRows gives n distinct observations of a sheet's countries,
	// then the repeats: the same value of the first row (a warning),
	// another value of row 2+near (an error), both placed at the end.
	sheetRows := func(sheet, n, near int) [][]any {
		c := countries[sheet]
		rows := [][]any{{"country", "year", "value"}}
		for i := range n {
			rows = append(rows, []any{c[i%len(c)], 1990 + i/len(c), float64(i % 97)})
		}
		rows = append(rows, rows[1], []any{rows[1+near][0], rows[1+near][1], 98.5})
		return rows
	}
	for _, n := range []int{3, pendingChecks - 2, pendingChecks - 1, pendingChecks, 5*pendingChecks + 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			near := min(n-1, pendingChecks/2)
			path := buildXLSX(t, "repeats.xlsx",
				sheetSpec{name: "First", rows: sheetRows(0, n, near)},
				sheetSpec{name: "Second", rows: sheetRows(1, n, 0)})
			sub := read(t, path)
			var read, repeats []string
			for _, e := range sub.Report.Entries {
				switch e.Code {
				case report.TableRead:
					read = append(read, e.Sheet+": "+e.Message)
				case report.DuplicateRow, report.DuplicateRecord:
					repeats = append(repeats, fmt.Sprintf("%s %s %s", e.Sheet, e.Severity, e.Cell))
				}
			}
			want := fmt.Sprintf("%d records without error", n)
			if len(read) != 2 || !strings.Contains(read[0], want) || !strings.Contains(read[1], want) {
				t.Errorf("table counts %q, want both %q", read, want)
			}
			last := n + 2 // the header, n rows, then the repeats
			wantRepeats := []string{
				fmt.Sprintf("First error A%d", 2+near), fmt.Sprintf("First warning A%d", last), fmt.Sprintf("First error A%d", last+1),
				"Second error A2", fmt.Sprintf("Second warning A%d", last), fmt.Sprintf("Second error A%d", last+1),
			}
			if strings.Join(repeats, "; ") != strings.Join(wantRepeats, "; ") {
				t.Errorf("repeats reported at\n%s\nwant\n%s", strings.Join(repeats, "; "), strings.Join(wantRepeats, "; "))
			}
		})
	}
}

// Two observations have the same key bytes only when they have the same
// key: texts that run into each other, empty texts and years apart.
func TestObservationKeysAreDistinct(t *testing.T) {
	obs := func(area string, year int, series, sex, pop string) records.CoverageObservation {
		return records.CoverageObservation{Area: area, Year: year, Series: series, Sex: sex, Population: pop,
			Value: 1, Note: "not in the key"}
	}
	keys := []records.CoverageObservation{
		obs("X1", 2020, "0SOC", "T", "total"),
		obs("X10", 2020, "SOC", "T", "total"),
		obs("X10", 2020, "SOC", "", "Ttotal"),
		obs("X10", 2020, "SOCT", "", "total"),
		obs("X10", 2021, "SOC", "T", "total"),
		obs("", 2020, "X10SOC", "T", "total"),
		obs("X10", 2020, "SOC", "Tt", "otal"),
	}
	seen := map[string]int{}
	for i, o := range keys {
		k := string(appendKey(nil, o))
		if j, dup := seen[k]; dup {
			t.Errorf("observations %d and %d have the same key bytes", j, i)
		}
		seen[k] = i
	}
	same := obs("X10", 2020, "SOC", "T", "total")
	same.Value, same.Note = 2, "another"
	if string(appendKey(nil, same)) != string(appendKey(nil, keys[1])) {
		t.Error("the same key gives other bytes when the value or the note differ")
	}
}

// A country that is not one is reported on every row that gives it, not
// only the first: what the reader remembers of a text is the areas found.
func TestUnknownCountryReportedOnEveryRow(t *testing.T) {
	sub := readBytes(t, "c.csv", []byte("country,year,value\nAtlantis,2020,50\nFRA,2020,60\nAtlantis,2021,51\n,2021,40\n,2022,41\nFRA,2021,61\n"))
	var cells []string
	for _, e := range sub.Report.Entries {
		if e.Code == report.UnknownCountry || e.Code == report.MissingValue {
			cells = append(cells, e.Cell)
		}
	}
	if strings.Join(cells, ",") != "A2,A4,A5,A6" {
		t.Errorf("countries reported at %v, want A2, A4, A5 and A6", cells)
	}
}
