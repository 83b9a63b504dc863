package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/export"
	"github.com/ilo-pledge/pledgestat/pipeline"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// binary is the pledgestat binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "pledgestat-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "pledgestat")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	// The crash tests need the test-only hooks (see testhooks.go).
	build := exec.Command("go", "build", "-tags", "crashhook", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build pledgestat:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// pledgestat runs the binary and returns stdout, stderr and the exit code.
func pledgestat(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return pledgestatIn(t, "", args...)
}

// pledgestatIn runs the binary in dir (the test's own directory when
// empty), without $PLEDGESTAT_WORKSPACE.
func pledgestatIn(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PLEDGESTAT_WORKSPACE=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run pledgestat: %v", err)
	}
	return stdout.String(), stderr.String(), code
}

func writeXLSX(t *testing.T, path, sheet string, rows [][]any, dateCols ...int) {
	t.Helper()
	f := excelize.NewFile()
	f.SetSheetName("Sheet1", sheet)
	style, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	for r, row := range rows {
		if row == nil {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(1, r+1)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			t.Fatal(err)
		}
		for _, c := range dateCols {
			if c <= len(row) {
				if _, isNum := row[c-1].(int); isNum {
					cell, _ := excelize.CoordinatesToCellName(c, r+1)
					f.SetCellStyle(sheet, cell, cell, style)
				}
			}
		}
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

// fixtureWorkspace creates a workspace with the e2e fixture inbox.
func fixtureWorkspace(t *testing.T) string {
	t.Helper()
	ws := t.TempDir()
	inbox := filepath.Join(ws, "inbox")
	os.MkdirAll(filepath.Join(inbox, "ministry"), 0o755)
	os.WriteFile(filepath.Join(ws, "pledgestat.toml"), []byte("[report]\nfirst_year = 2020\nlast_year = 2022\n"), 0o644)
	// Excel serials: 1954-03-29 = 19812, 2009-04-21 = 39924, 1965-01-30 = 23772,
	// 2021-06-30 = 44377, 2021-06-14 = 44361, 2012-06-14 = 41074.
	writeXLSX(t, filepath.Join(inbox, "ratifications.xlsx"), "Ratifications", [][]any{
		{"Ratifications of ILO Conventions (test fixture)"},
		nil,
		{"Country", "Convention", "Date of ratification", "Status", "Denunciation date"},
		{"France", "C097", 19812, "In Force"},
		{"Germany", "C 97", "1959-06-22", "In Force"},
		{"Philippines", "No. 97", 39924},
		{"Kenya", "C097", 23772, "Denounced", 44377},
		{"Morocco", "C189", 44361},
		{"Uruguay", "C.189", 41074},
		{"FRA", "C087", "1951-06-28"}, {"FRA", "C098", "1951-10-26"},
		{"DEU", "C087", "1957-03-20"}, {"DEU", "C098", "1956-06-08"},
		{"BRA", "C098", "1952-11-18"},
		{"Source: invented test data"},
	}, 3, 5)
	writeXLSX(t, filepath.Join(inbox, "ministry", "agreements.xlsx"), "BLMA", [][]any{
		{"Agreement ID", "Title", "Type", "Origin country", "Destination country", "Parties", "Date signed", "End date", "Status", "Social partners involved", "fair_recruitment"},
		{"A1", "Philippines-Germany labour agreement", "BLA", "Philippines", "Germany", nil, 2013, nil, "in force", "yes", "yes"},
		{"A2", "Philippines-Saudi Arabia MoU", "MoU", "PHL", "SAU", nil, 2018, 2021, "expired", "no", "no"},
		{"A3", "Germany-Kosovo agreement", "Other", "DEU", "Kosovo", nil, "2020-05-04", nil, "signed", "", "partial"},
		{"A4", "France-Morocco social security", "Social security agreement", "FRA", "MAR", nil, 2007, nil, "in force"},
		{"A5", "East African mobility framework", "Regional framework", nil, nil, "Kenya; United Republic of Tanzania; Uganda", 2021, nil, "signed"},
		{"A6", "Nepal-Qatar BLA", "BLA", "NPL", "QAT", nil, nil, nil, "negotiating", "yes", "yes"},
	})
	writeXLSX(t, filepath.Join(inbox, "kosovo_ratification.xlsx"), "Data", [][]any{
		{"country", "instrument", "ratification_date"},
		{"Kosovo", "C097", "2019-03-04"},
	})
	for _, name := range []string{"social_protection.csv", "bad_blma.csv"} {
		data, err := os.ReadFile(filepath.Join("testdata", "e2e", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(inbox, name), data, 0o644)
	}
	return ws
}

func latestRun(t *testing.T, ws string) string {
	t.Helper()
	target, err := os.Readlink(filepath.Join(ws, "out", "latest"))
	if err != nil {
		t.Fatalf("out/latest: %v", err)
	}
	if !strings.HasPrefix(target, "runs"+string(filepath.Separator)) {
		t.Errorf("out/latest points to %q, want runs/RUN_ID", target)
	}
	return filepath.Base(target)
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

func TestEndToEnd(t *testing.T) {
	ws := fixtureWorkspace(t)
	stdout, stderr, code := pledgestat(t, "-w", ws, "run")
	if code != exitRejected {
		t.Fatalf("first run: exit %d, want 3 (one file rejected)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	run1 := latestRun(t, ws)

	// Every dropped file is in exactly one place.
	if left, _ := filepath.Glob(filepath.Join(ws, "inbox", "*.*")); len(left) != 0 {
		t.Errorf("inbox not empty: %v", left)
	}
	for _, name := range []string{run1 + "-ratifications.xlsx", run1 + "-ministry__agreements.xlsx", run1 + "-social_protection.csv"} {
		if _, err := os.Stat(filepath.Join(ws, "archive", name)); err != nil {
			t.Errorf("archive/%s: %v", name, err)
		}
	}
	rejected := filepath.Join(ws, "rejected", run1+"-bad_blma.csv")
	if _, err := os.Stat(rejected); err != nil {
		t.Errorf("rejected file: %v", err)
	}
	all := readCSV(t, rejected+".errors.csv")
	if strings.Join(all[0], ",") != "file,sheet,cell,row,column,severity,code,message" {
		t.Fatalf("errors.csv header = %q", all[0])
	}
	var errs [][]string
	for _, e := range all[1:] {
		if e[5] != "info" {
			errs = append(errs, e)
		}
	}
	if len(errs) != 1 {
		t.Fatalf("errors.csv problems = %q", errs)
	}
	annotated := filepath.Join(ws, "rejected", run1+"-kosovo_ratification.xlsx.annotated.xlsx")
	if x, err := excelize.OpenFile(annotated); err != nil {
		t.Errorf("annotated copy of the rejected workbook: %v", err)
	} else {
		if sheets := x.GetSheetList(); sheets[0] != "Problems" {
			t.Errorf("annotated sheets = %v", sheets)
		}
		if c, _ := x.GetComments("Data"); len(c) != 1 || c[0].Cell != "A2" {
			t.Errorf("annotated comments = %+v", c)
		}
		x.Close()
	}
	if _, err := os.Stat(filepath.Join(ws, "rejected", run1+"-bad_blma.csv.annotated.xlsx")); err == nil {
		t.Error("a CSV gets no annotated copy")
	}
	if e := errs[0]; e[0] != "bad_blma.csv" || e[2] != "C2" || e[3] != "2" || e[4] != "C" || e[5] != "error" || e[6] != "unknown_country" || !strings.Contains(e[7], "Atlantis") {
		t.Errorf("errors.csv entry = %q", e)
	}

	// indicators.csv against the golden file. The golden file is written
	// by the program itself (-update) and reviewed as a diff: it catches a
	// change, not a wrong rule. checkHandComputed, below, holds the values
	// worked out by hand: that is the check of the rules.
	runDir := filepath.Join(ws, "out", "runs", run1)
	got, err := os.ReadFile(filepath.Join(runDir, "indicators.csv"))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "e2e", "indicators.golden.csv")
	if *update {
		os.WriteFile(golden, got, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("indicators.csv differs from %s (run go test -update and review the diff)", golden)
	}
	checkHandComputed(t, readCSV(t, filepath.Join(runDir, "indicators.csv")))
	checkParquet(t, runDir, run1)
	checkManifest(t, runDir, run1)

	// Second run: the same bytes again are a duplicate; a correction
	// supersedes a record and shows in changes.csv.
	os.WriteFile(filepath.Join(ws, "inbox", "social_protection.csv"), must(os.ReadFile(filepath.Join("testdata", "e2e", "social_protection.csv"))), 0o644)
	os.WriteFile(filepath.Join(ws, "inbox", "z_correction.csv"), must(os.ReadFile(filepath.Join("testdata", "e2e", "correction.csv"))), 0o644)
	// The correction lowers a past count with no denunciation: the build
	// is held by a publish gate (exit 4) until it is released.
	stdout, stderr, code = pledgestat(t, "-w", ws, "run")
	if code != exitHeld || !strings.Contains(stdout, "HELD out/runs/") || !strings.Contains(stdout, "broke count_drop") {
		t.Fatalf("second run: exit %d, want %d (held by count_drop)\nstdout:\n%s\nstderr:\n%s", code, exitHeld, stdout, stderr)
	}
	if !strings.Contains(stdout, "duplicate  social_protection.csv") {
		t.Errorf("second run output does not report the duplicate:\n%s", stdout)
	}
	if latestRun(t, ws) != run1 {
		t.Fatal("a held run was switched to")
	}
	runs, _ := os.ReadDir(filepath.Join(ws, "out", "runs"))
	run2 := runs[len(runs)-1].Name()
	if stdout, _, code := pledgestat(t, "-w", ws, "gates"); code != exitOK || !strings.Contains(stdout, "FAIL  count_drop") || !strings.Contains(stdout, "C1.1 DEU 2020 T C097: 1 → 0") {
		t.Errorf("gates: exit %d\n%s", code, stdout)
	}
	if stdout, stderr, code := pledgestat(t, "-w", ws, "release", run2, "--note", "DEU's ratification date corrected"); code != exitOK || !strings.Contains(stdout, "released "+run2) {
		t.Fatalf("release: exit %d\n%s%s", code, stdout, stderr)
	}
	if latestRun(t, ws) != run2 {
		t.Fatal("release did not publish the held run")
	}
	changes := readCSV(t, filepath.Join(ws, "out", "runs", run2, "changes.csv"))
	wantChanges := map[string]bool{
		"changed,C1.1,X01,2020,T,C097,4,3": true,
		"changed,C1.1,DEU,2020,T,C097,1,0": true,
		"changed,C1.1,X60,2020,T,C097,2,1": true,
	}
	for _, c := range changes[1:] {
		delete(wantChanges, strings.Join(c, ","))
	}
	if len(wantChanges) != 0 || len(changes) != 4 {
		t.Errorf("changes.csv = %q; missing %v", changes, wantChanges)
	}
	// The duplicate was not counted: social-protection totals unchanged.
	stdout, _, code = pledgestat(t, "-w", ws, "status", "--json")
	if code != 0 {
		t.Fatalf("status exit %d", code)
	}
	var st pipeline.Status
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, stdout)
	}
	if st.StoreTotals["social_protection"] != 9 || st.StoreTotals["ratification"] != 11 || st.Submissions != 4 || st.Latest != run2 || len(st.Rejected) != 2 || len(st.Runs) != 3 || len(st.Held) != 0 {
		t.Errorf("status = %+v", st)
	}
	if dups, _ := filepath.Glob(filepath.Join(ws, "archive", run2+"-social_protection.csv")); len(dups) != 1 {
		t.Error("the duplicate file was not archived")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// checkHandComputed asserts values worked out by hand from the fixture
// (see the comments in fixtureWorkspace), independently of the golden file.
func checkHandComputed(t *testing.T, rows [][]string) {
	t.Helper()
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	get := map[string][]string{}
	for _, r := range rows[1:] {
		get[r[col["indicator_id"]]+" "+r[col["ref_area"]]+" "+r[col["time_period"]]+" "+r[col["sex"]]+" "+r[col["instrument"]]] = r
	}
	tests := []struct{ key, value, num, den string }{
		{"C1.1 X01 2020 T C097", "4", "4", "187"}, // FRA, DEU, PHL, KEN
		{"C1.1 X01 2021 T C097", "3", "3", "187"}, // KEN denounced 2021-06-30
		{"C1.1 X06 2020 T C097", "1", "1", "54"},
		{"C1.1 KEN 2021 T C097", "0", "", ""},
		{"P5.1 X01 2020 T C189", "1", "1", "187"}, // URY; MAR from 2021
		{"P5.1 X01 2021 T C189", "2", "2", "187"},
		{"C2.2 X01 2022 T ", "2", "2", "187"}, // FRA, DEU; BRA lacks C087
		{"C2.2 BRA 2022 T ", "0", "", ""},
		{"P4.2 X01 2020 T ", "3", "", ""}, // A1, A2, A3
		{"P4.2 X01 2021 T ", "2", "", ""}, // A2 ended in 2021
		{"P4.2 XKX 2021 T ", "1", "", ""},
		{"P4.1 X01 2020 T ", "1", "", ""},
		{"P1.3 X01 2020 T ", "33.333333333333336", "1", "3"},
		{"P1.3 X01 2021 T ", "50", "1", "2"},
		{"C2.3 X01 2020 T ", "50", "1", "2"}, // A3 unknown left out
		{"P3.5 X01 2022 T ", "1", "", ""},
		{"P7.1 X06 2021 T ", "1", "", ""},
		{"P7.1 X06 2020 T ", "0", "", ""},
		{"P3.1 FRA 2020 T ", "70.1", "", ""},
		{"P3.1 X01 2020 T ", "46.9", "", ""},
		{"P3.1 XKX 2021 T ", "30.5", "", ""},
		{"P3.2 FRA 2021 T ", "55.2", "", ""},
		{"P3.3 FRA 2021 T ", "17.2", "", ""},
		{"P5.5 X06 2020 T ", "14.9", "", ""},
		{"P8.3 DEU 2022 T ", "85", "", ""},
	}
	for _, tt := range tests {
		r, ok := get[tt.key]
		if !ok {
			t.Errorf("%s missing from indicators.csv", tt.key)
			continue
		}
		if r[col["value"]] != tt.value || r[col["numerator"]] != tt.num || r[col["denominator"]] != tt.den {
			t.Errorf("%s = %s (%s/%s), want %s (%s/%s)", tt.key, r[col["value"]], r[col["numerator"]], r[col["denominator"]], tt.value, tt.num, tt.den)
		}
	}
	for _, absent := range []string{"P3.1 FRA 2019 T ", "C1.1 X01 2020 T C143", "C1.1 XKX 2020 T C097", "P4.2 NPL 2020 T "} {
		if _, ok := get[absent]; ok {
			t.Errorf("%s should not be published", absent)
		}
	}
	if r := get["P3.1 XKX 2021 T "]; !strings.Contains(r[col["note"]], "1244") {
		t.Errorf("Kosovo row has no UNSCR 1244 footnote: %q", r)
	}
	if r := get["C1.1 KEN 2020 T C097"]; r[col["sources"]] != "ratifications.xlsx!Ratifications!C7;ratifications.xlsx!Ratifications!E7" {
		t.Errorf("KEN sources = %q", r[col["sources"]])
	}
}

// wantSchema is outputs.md's schema, written out independently of the code.
var wantSchema = []struct {
	name     string
	typ      arrow.DataType
	nullable bool
}{
	{"pledge", arrow.BinaryTypes.String, false}, {"indicator_id", arrow.BinaryTypes.String, false},
	{"indicator_name", arrow.BinaryTypes.String, false}, {"ref_area", arrow.BinaryTypes.String, false},
	{"ref_area_name", arrow.BinaryTypes.String, false}, {"ref_area_type", arrow.BinaryTypes.String, false},
	{"time_period", arrow.PrimitiveTypes.Int32, false}, {"sex", arrow.BinaryTypes.String, false},
	{"instrument", arrow.BinaryTypes.String, true}, {"value", arrow.PrimitiveTypes.Float64, false},
	{"unit", arrow.BinaryTypes.String, false}, {"numerator", arrow.PrimitiveTypes.Float64, true},
	{"denominator", arrow.PrimitiveTypes.Float64, true}, {"note", arrow.BinaryTypes.String, true},
	{"sources", arrow.BinaryTypes.String, true},
}

func checkParquet(t *testing.T, runDir, runID string) {
	t.Helper()
	path := filepath.Join(runDir, "indicators.parquet")
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	kv := rdr.MetaData().KeyValueMetadata()
	if v := kv.FindValue("pledgestat.run_id"); v == nil || *v != runID {
		t.Errorf("pledgestat.run_id = %v, want %s", v, runID)
	}
	if v := kv.FindValue("pledgestat.catalog_version"); v == nil || *v != "1" {
		t.Errorf("pledgestat.catalog_version = %v", v)
	}
	for i := 0; i < rdr.NumRowGroups(); i++ {
		for c := 0; c < rdr.MetaData().Schema.NumColumns(); c++ {
			cc, _ := rdr.MetaData().RowGroup(i).ColumnChunk(c)
			if cc.Compression().String() != "ZSTD" {
				t.Errorf("column %d compressed with %s, want ZSTD", c, cc.Compression())
			}
		}
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	schema := tbl.Schema()
	if schema.NumFields() != len(wantSchema) {
		t.Fatalf("schema has %d fields: %s", schema.NumFields(), schema)
	}
	for i, w := range wantSchema {
		f := schema.Field(i)
		if f.Name != w.name || !arrow.TypeEqual(f.Type, w.typ) || f.Nullable != w.nullable {
			t.Errorf("field %d = %s %s nullable=%v, want %s %s nullable=%v", i, f.Name, f.Type, f.Nullable, w.name, w.typ, w.nullable)
		}
	}
	// The Parquet rows equal the CSV rows, in order.
	csvRows := readCSV(t, filepath.Join(runDir, "indicators.csv"))[1:]
	tr := arrowTableReader(tbl)
	defer tr.Release()
	i := 0
	for tr.Next() {
		b := tr.RecordBatch()
		for r := 0; r < int(b.NumRows()); r++ {
			if i >= len(csvRows) {
				t.Fatalf("parquet has more rows than the CSV (%d)", len(csvRows))
			}
			for c := 0; c < int(b.NumCols()); c++ {
				if got := export.CellText(b.Column(c), r); got != csvRows[i][c] {
					t.Fatalf("row %d column %s: parquet %q, csv %q", i, schema.Field(c).Name, got, csvRows[i][c])
				}
			}
			i++
		}
	}
	if i != len(csvRows) {
		t.Errorf("parquet has %d rows, csv %d", i, len(csvRows))
	}
}

func checkManifest(t *testing.T, runDir, runID string) {
	t.Helper()
	var m export.Manifest
	if err := json.Unmarshal(must(os.ReadFile(filepath.Join(runDir, "manifest.json"))), &m); err != nil {
		t.Fatal(err)
	}
	if m.RunID != runID || m.CatalogVersion != "1" || len(m.Inputs) != 3 || m.StartedAt.IsZero() || m.FinishedAt.Before(m.StartedAt) {
		t.Errorf("manifest = %+v", m)
	}
	names := map[string]bool{}
	for _, o := range m.Outputs {
		names[o.Name] = true
		data, err := os.ReadFile(filepath.Join(runDir, o.Name))
		if err != nil {
			t.Errorf("%s: %v", o.Name, err)
			continue
		}
		if int64(len(data)) != o.Bytes || sha256Hex(data) != o.SHA256 {
			t.Errorf("%s: manifest says %d bytes %s, file has %d bytes %s", o.Name, o.Bytes, o.SHA256, len(data), sha256Hex(data))
		}
	}
	for _, want := range []string{"indicators.parquet", "indicators.csv", "indicators.xlsx", "ratification.parquet", "social_protection.parquet", "blma.parquet", "changes.csv"} {
		if !names[want] {
			t.Errorf("manifest lists no %s", want)
		}
	}
}
