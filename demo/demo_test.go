package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ilo-pledge/pledgestat/ingest"
	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/ingest/workbook"
	"github.com/ilo-pledge/pledgestat/refdata"
)

const brokenFile = "06_blma_updates_broken.csv"

// TestSamplesThroughReader reads every bundled file with the real reader:
// the broken file is rejected with a clear report, every other file is
// accepted without error or warning, and together they cover enough
// countries, regions and instruments for every indicator to have data.
func TestSamplesThroughReader(t *testing.T) {
	ref, err := refdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	names, err := Seed(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 6 {
		t.Fatalf("Seed wrote %d files, want at least 6: %v", len(names), names)
	}
	reader := ingest.NewReader(ref, workbook.DefaultLimits())
	ctx := context.Background()

	var (
		rejected   []string
		formats    = map[workbook.Format]bool{}
		rows       = map[string]int{}
		countries  = map[string]bool{} // ISO3 of countries in accepted files
		regions    = map[string]bool{} // ILO regions of those countries
		aggregates = map[string]bool{} // ILO aggregates in social-protection data
		instrs     = map[string]bool{}
		kosovo     = map[string]bool{} // domains Kosovo appears in
		types      = map[string]bool{}
		series     = map[string]bool{}
	)
	addCountry := func(iso3, domain string) {
		c, ok := ref.Countries().ByISO3(iso3)
		if !ok {
			t.Errorf("%s record with unknown ISO3 %q", domain, iso3)
			return
		}
		countries[iso3] = true
		regions[c.Region] = true
		if iso3 == "XKX" {
			kosovo[domain] = true
		}
	}
	for _, name := range names {
		sub, err := reader.ReadFile(ctx, filepath.Join(dir, name), name)
		if err != nil {
			t.Fatalf("%s: ReadFile: %v", name, err)
		}
		formats[sub.Format] = true
		if !sub.Accepted() {
			rejected = append(rejected, name)
			if name != brokenFile {
				t.Errorf("%s was rejected:\n%s", name, describe(sub.Report, report.Error))
			}
			continue
		}
		if w := describe(sub.Report, report.Warning); w != "" {
			t.Errorf("%s has warnings (the demo files should be clean):\n%s", name, w)
		}
		if sub.Len() == 0 {
			t.Errorf("%s was accepted but holds no records", name)
		}
		for _, r := range sub.Ratifications {
			addCountry(r.Country, "ratification")
			instrs[r.Instrument] = true
		}
		for _, o := range sub.Coverage {
			series[o.Series+"/"+o.Population] = true
			if strings.HasPrefix(o.Area, "X") && len(o.Area) == 3 && o.Area[1] >= '0' && o.Area[1] <= '9' {
				aggregates[o.Area] = true
				continue
			}
			addCountry(o.Area, "social_protection")
		}
		for _, a := range sub.Agreements {
			types[a.Type] = true
			for _, p := range a.Parties {
				addCountry(p, "blma")
			}
		}
		rows["ratification"] += len(sub.Ratifications)
		rows["social_protection"] += len(sub.Coverage)
		rows["blma"] += len(sub.Agreements)
		t.Logf("%s: %d ratifications, %d coverage observations, %d agreements", name, len(sub.Ratifications), len(sub.Coverage), len(sub.Agreements))
	}

	if len(rejected) != 1 || rejected[0] != brokenFile {
		t.Errorf("rejected files = %v, want exactly [%s]", rejected, brokenFile)
	}
	for domain, min := range map[string]int{"ratification": 300, "social_protection": 600, "blma": 55} {
		if rows[domain] < min {
			t.Errorf("%s: %d records, want at least %d", domain, rows[domain], min)
		}
	}
	if len(countries) < 40 {
		t.Errorf("%d distinct countries across the accepted files, want at least 40", len(countries))
	}
	for _, reg := range []string{"X06", "X21", "X36", "X40", "X60"} {
		if !regions[reg] {
			t.Errorf("no country of ILO region %s in the accepted files", reg)
		}
	}
	for _, agg := range []string{"X01", "X06", "X21", "X36", "X40", "X60"} {
		if !aggregates[agg] {
			t.Errorf("no social-protection observation for the ILO aggregate %s", agg)
		}
	}
	if !kosovo["social_protection"] && !kosovo["blma"] {
		t.Errorf("Kosovo (XKX) is in neither the social-protection nor the BLMA data")
	}
	if kosovo["ratification"] {
		t.Errorf("Kosovo (XKX) has ratification records, but it is not an ILO member")
	}
	// Every ratification indicator of the catalog has data.
	for _, code := range []string{"C097", "C143", "C144", "C087", "C098", "C181", "P029", "C142", "C102", "C118", "C157", "C189", "C190", "C155", "C187"} {
		if !instrs[code] {
			t.Errorf("no ratification of %s in the accepted files", code)
		}
	}
	for _, ty := range []string{"BLA", "MOU", "OTHER", "SSA", "MULTILATERAL_SSA", "REGIONAL_FRAMEWORK"} {
		if !types[ty] {
			t.Errorf("no agreement of type %s", ty)
		}
	}
	for _, s := range []string{"SOC_CONTIG_TOTAL/total", "SOC_CONTIG_TOTAL/migrants", "SOC_CONTIG_TOTAL/non_migrants", "SOC_CONTIG_MAT/total", "SOC_CONTIG_UNE/total"} {
		if !series[s] {
			t.Errorf("no social-protection observation of %s", s)
		}
	}
	if !formats[workbook.FormatXLSX] || !formats[workbook.FormatCSV] {
		t.Errorf("formats read = %v, want both xlsx and csv", formats)
	}
	t.Logf("records: %v; %d countries", rows, len(countries))
}

// TestBrokenSampleReport checks that the broken file's report names each
// problem at its cell, and nothing else.
func TestBrokenSampleReport(t *testing.T) {
	ref, err := refdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := Seed(dir); err != nil {
		t.Fatal(err)
	}
	sub, err := ingest.NewReader(ref, workbook.DefaultLimits()).ReadFile(context.Background(), filepath.Join(dir, brokenFile), brokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Accepted() || sub.Len() != 0 {
		t.Fatalf("%s accepted (%d records), want rejected", brokenFile, sub.Len())
	}
	var got []string
	for _, e := range sub.Report.Entries {
		if e.Severity == report.Error {
			got = append(got, string(e.Code)+" "+e.Cell)
		}
	}
	sort.Strings(got)
	want := []string{"bad_date F4", "bad_value C5", "unknown_country D3"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("errors = %v, want %v\n%s", got, want, describe(sub.Report, report.Error))
	}
	for _, e := range sub.Report.Entries {
		if e.Code == report.UnknownCountry && !strings.Contains(e.Message, "Atlantis") {
			t.Errorf("unknown_country message does not name the value: %s", e.Message)
		}
	}
}

func TestSeed(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no bundled files")
	}
	total := 0
	for name, b := range files {
		if len(b) == 0 {
			t.Errorf("%s is empty", name)
		}
		total += len(b)
	}
	if total > 1<<20 {
		t.Errorf("bundled files total %d bytes, want under 1 MiB", total)
	}

	dir := filepath.Join(t.TempDir(), "inbox", "nested")
	written, err := Seed(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != len(files) {
		t.Fatalf("Seed wrote %v, want all %d files", written, len(files))
	}
	if !sort.StringsAreSorted(written) {
		t.Errorf("Seed returned %v, want lexical order", written)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: written content differs from the bundled file", name)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(files) {
		var left []string
		for _, e := range entries {
			left = append(left, e.Name())
		}
		t.Errorf("inbox holds %v, want only the %d samples (no temporary files left)", left, len(files))
	}

	// A second Seed writes nothing and changes nothing, even where a file
	// under a sample's name now holds something else.
	changed := filepath.Join(dir, written[0])
	if err := os.WriteFile(changed, []byte("statistician's own file"), 0o644); err != nil {
		t.Fatal(err)
	}
	removed := written[len(written)-1]
	if err := os.Remove(filepath.Join(dir, removed)); err != nil {
		t.Fatal(err)
	}
	again, err := Seed(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0] != removed {
		t.Errorf("second Seed wrote %v, want only the removed %s", again, removed)
	}
	if b, _ := os.ReadFile(changed); string(b) != "statistician's own file" {
		t.Errorf("Seed overwrote %s", changed)
	}
}

// describe renders the report entries of one severity, one per line.
func describe(r *report.Report, sev report.Severity) string {
	var b strings.Builder
	for _, e := range r.Entries {
		if e.Severity == sev {
			b.WriteString("  " + string(e.Code) + " " + e.Sheet + "!" + e.Cell + ": " + e.Message + "\n")
		}
	}
	return b.String()
}
