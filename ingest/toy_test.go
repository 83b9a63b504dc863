package ingest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/ingest/workbook"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/records/toydomain"
)

// TestToyDomainIsReadByItsDescriptor adds a fourth domain to ingest by its
// descriptor alone (records.NewDescriptor with a FromRow, Reader.WithDomains):
// its table is found under a title and by French headers, its rows become
// records with their cells, a bad or missing value is an error at its
// cell, and the pledge's domains are read beside it as before.
func TestToyDomainIsReadByItsDescriptor(t *testing.T) {
	r, err := NewReader(testRef, workbook.DefaultLimits()).WithDomains(toydomain.Descriptor())
	if err != nil {
		t.Fatal(err)
	}
	csv := "Scores 2024\n\nzone;année;points\nfra;2020;1.5\nDEU;20x0;2\nITA;2021;\nESP;2021;many\n"
	sub, err := r.Read(context.Background(), workbook.Source{R: bytes.NewReader([]byte(csv)), Size: int64(len(csv)), Name: "toy.csv"}, "toy.csv")
	if err != nil {
		t.Fatal(err)
	}
	var errs []string
	for _, e := range sub.Report.Entries {
		if e.Severity == report.Error {
			errs = append(errs, e.Cell+" "+string(e.Code))
		}
	}
	if got := strings.Join(errs, ","); got != "B5 bad_number,C6 missing_value,C7 bad_number" {
		t.Errorf("errors %v, want DEU's year at B5, ITA's missing score at C6, ESP's score at C7 (%v)", got, sub.Report.Entries)
	}

	good := "zone;année;points\nfra;2020;1.5\nDEU;;2\n"
	sub, err = r.Read(context.Background(), workbook.Source{R: bytes.NewReader([]byte(good)), Size: int64(len(good)), Name: "good.csv"}, "good.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !sub.Accepted() {
		t.Fatalf("a good toy file is rejected: %v", sub.Report.Entries)
	}
	got := toydomain.Of(sub.Set)
	if len(got) != 2 || got[0].Area != "FRA" || got[0].Year != 2020 || got[0].Score != 1.5 || got[0].Source.Cell != "A2" || got[1].Area != "DEU" || got[1].Year != 0 {
		t.Errorf("toy records = %+v", got)
	}

	// A pledge domain's file is read by the same reader as before.
	path := filepath.Join(t.TempDir(), "cov.csv")
	os.WriteFile(path, []byte("country,year,value\nFRA,2020,50\n"), 0o644)
	cov, err := r.ReadFile(context.Background(), path, "cov.csv")
	if err != nil || !cov.Accepted() || len(cov.Coverage) != 1 || cov.Others != nil {
		t.Errorf("a coverage file beside the toy domain: %v %+v", err, cov)
	}

	// A descriptor that cannot read rows is refused by name.
	if _, err := NewReader(testRef, workbook.DefaultLimits()).WithDomains(records.NewDescriptor(records.Descriptor{Domain: "mute"}, records.Kind[toydomain.Score]{})); err == nil || !strings.Contains(err.Error(), "mute") {
		t.Errorf("a domain without FromRow: %v", err)
	}
}
