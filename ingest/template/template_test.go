package template_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/ingest"
	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/ingest/template"
	"github.com/ilo-pledge/pledgestat/ingest/workbook"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
)

// fill writes rows into a template's first sheet the way a statistician
// would: dates typed into date-formatted cells become date serials.
func fill(t *testing.T, tmpl []byte, rows [][]any) string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(tmpl))
	if err != nil {
		t.Fatal(err)
	}
	sheet := f.GetSheetList()[0]
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := f.SetSheetRow(sheet, cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "filled.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTemplatesRoundTripWithoutWarnings(t *testing.T) {
	ref, err := refdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		domain records.Domain
		rows   [][]any
		count  func(*ingest.Submission) int
	}{
		{records.DomainRatification, [][]any{
			{"France", "C097", 19812, "In Force"},
			{"Kenya", "C097", 23772, "Denounced", 44377, "denounced in 2021"},
		}, func(s *ingest.Submission) int { return len(s.Ratifications) }},
		{records.DomainSocialProtection, [][]any{
			{"X01", 2020, 46.9, "SOC_CONTIG_TOTAL", "T", "total"},
			{"France", 2021, 55.2, "SOC_CONTIG_TOTAL", "F", "migrants", "B", "survey"},
		}, func(s *ingest.Submission) int { return len(s.Coverage) }},
		{records.DomainBLMA, [][]any{
			{"A1", "Philippines-Germany", "BLA", "Philippines", "Germany", nil, 41352, nil, nil, "in_force", "health", "yes", "no", "partial", "unknown", "yes", "yes", "no", "no", "no", "no", "no", "yes"},
			{"A2", "East Africa framework", "REGIONAL_FRAMEWORK", nil, nil, "Kenya; Uganda", 2019, nil, nil, "signed"},
		}, func(s *ingest.Submission) int { return len(s.Agreements) }},
	}
	for _, d := range records.Descriptors() {
		found := false
		for _, tt := range tests {
			found = found || tt.domain == d.Domain
		}
		if !found {
			t.Errorf("domain %s has no template round trip here: add its rows", d.Domain)
		}
	}
	for _, name := range template.Names() {
		domain, _ := template.DomainOf(name)
		for _, tt := range tests {
			if tt.domain != domain {
				continue
			}
			t.Run(name, func(t *testing.T) {
				var buf bytes.Buffer
				if err := template.Write(&buf, domain, ref); err != nil {
					t.Fatal(err)
				}
				path := fill(t, buf.Bytes(), tt.rows)
				sub, err := ingest.NewReader(ref, workbook.DefaultLimits()).ReadFile(context.Background(), path, "filled.xlsx")
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range sub.Report.Entries {
					if e.Severity != report.Info {
						t.Errorf("%s %s %s!%s: %s", e.Severity, e.Code, e.Sheet, e.Cell, e.Message)
					}
				}
				if got := tt.count(sub); got != len(tt.rows) {
					t.Errorf("read %d records, want %d", got, len(tt.rows))
				}
				checkValues(t, domain, sub)
				checkTemplate(t, buf.Bytes())
			})
		}
	}
}

// checkValues asserts what was read back, not only how many records.
func checkValues(t *testing.T, domain records.Domain, sub *ingest.Submission) {
	t.Helper()
	switch domain {
	case records.DomainRatification:
		r := sub.Ratifications[1]
		if r.Country != "KEN" || r.RatificationDate.String() != "1965-01-30" || r.Status != "denounced" || r.Denunciation.Date.String() != "2021-06-30" {
			t.Errorf("ratification = %+v", r)
		}
	case records.DomainSocialProtection:
		o := sub.Coverage[1]
		if o.Area != "FRA" || o.Year != 2021 || o.Value != 55.2 || o.Sex != "F" || o.Population != "migrants" {
			t.Errorf("observation = %+v", o)
		}
	case records.DomainBLMA:
		a, b := sub.Agreements[0], sub.Agreements[1]
		if a.Signed.String() != "2013-03-19" || a.Provision("social_dialogue") != "no" || a.Provision("ilo_standards") != "yes" {
			t.Errorf("A1 = %+v", a)
		}
		// 2019 typed in a date-formatted cell is the year 2019, not a
		// date in 1905.
		if b.Signed.Year != 2019 || b.Signed.HasDay || strings.Join(b.Parties, ",") != "KEN,UGA" {
			t.Errorf("A2 = %+v", b)
		}
	}
}

func checkTemplate(t *testing.T, data []byte) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) != 3 || sheets[1] != template.InstructionsSheet || sheets[2] != template.ListsSheet {
		t.Fatalf("sheets = %v", sheets)
	}
	if v, _ := f.GetSheetVisible(template.ListsSheet); v {
		t.Error("the lists sheet should be hidden")
	}
	panes, _ := f.GetPanes(sheets[0])
	if !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("header not frozen: %+v", panes)
	}
	dvs, _ := f.GetDataValidations(sheets[0])
	if len(dvs) < 3 {
		t.Errorf("only %d validations", len(dvs))
	}
	rows, _ := f.GetRows(template.InstructionsSheet)
	var all strings.Builder
	for _, r := range rows {
		all.WriteString(strings.Join(r, " "))
	}
	for _, s := range []string{"How to fill", "Comment remplir", "Cómo llenar"} {
		if !strings.Contains(all.String(), s) {
			t.Errorf("instructions lack %q", s)
		}
	}
}
