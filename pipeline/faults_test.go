package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/publish"
	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/workspace"
)

func faultWorkspace(t *testing.T) (*workspace.Workspace, *Pipeline) {
	t.Helper()
	ws, err := workspace.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ref, err := refdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	return ws, New(ws, ref, quietLog())
}

func drop(t *testing.T, ws *workspace.Workspace, name, content string) {
	t.Helper()
	path := filepath.Join(ws.Inbox(), name)
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// publishedWithNewFiles is a workspace whose first run published a.csv,
// with a good file (b.csv) and a bad one (c.csv) waiting in the inbox; it
// returns the published run.
func publishedWithNewFiles(t *testing.T) (*workspace.Workspace, *Pipeline, string) {
	t.Helper()
	ws, p := faultWorkspace(t)
	drop(t, ws, "a.csv", "country,year,value\nFRA,2020,50\n")
	if _, err := p.Execute(context.Background(), CommandRun, Options{}); err != nil {
		t.Fatal(err)
	}
	before, _ := publish.Latest(ws.Out())
	drop(t, ws, "b.csv", "country,year,value\nDEU,2020,60\n")
	drop(t, ws, "c.csv", "country,year,value\nDEU,2020,999\n")
	return ws, p, before
}

// TestFaultsChangeNothingPublished injects each kind of I/O fault at each
// kind of step of a run: the run fails with an error naming the cause, the
// published run stays as it was, and every dropped file is still in exactly
// one place; a later run without the fault completes.
func TestFaultsChangeNothingPublished(t *testing.T) {
	faults := []struct {
		name string
		err  error
	}{
		{"disk full", syscall.ENOSPC},
		{"read-only", syscall.EROFS},
		{"permission denied", syscall.EACCES},
	}
	ops := []string{"open", "write", "sync", "close", "rename", "mkdir", "symlink", "syncdir"}
	tested := 0
	for _, fault := range faults {
		for _, op := range ops {
			t.Run(fault.name+"/"+op, func(t *testing.T) {
				ws, p, before := publishedWithNewFiles(t)
				// Fail the second occurrence of op, past the run's first
				// bookkeeping (the only one for the link switch).
				seen, at := 0, 2
				if op == "symlink" {
					at = 1
				}
				steps := &fsx.Steps{FS: fsx.OS{}, Hook: func(_ int64, o, path string) error {
					if o == op {
						seen++
						if seen == at {
							return fault.err
						}
					}
					return nil
				}}
				ws.FS = steps
				_, err := p.Execute(context.Background(), CommandRun, Options{})
				if seen < at {
					t.Skipf("a run takes fewer than two %s steps", op)
				}
				if err == nil || !errors.Is(err, fault.err) {
					t.Fatalf("run with %s on %s: err = %v", fault.name, op, err)
				}
				after, _ := publish.Latest(ws.Out())
				if after != before {
					t.Errorf("a failed run switched out/latest from %s to %s", before, after)
				}
				if data, err := os.ReadFile(filepath.Join(ws.Latest(), "indicators.csv")); err != nil || !strings.Contains(string(data), "FRA") {
					t.Errorf("the published run is damaged: %v", err)
				}
				// The fault goes away: the next run completes.
				ws.FS = fsx.OS{}
				res, err := p.Execute(context.Background(), CommandRun, Options{})
				if err != nil {
					t.Fatalf("run after the fault: %v", err)
				}
				if !res.Published {
					t.Error("run after the fault did not publish")
				}
				files, _ := ws.InboxFiles()
				if len(files) != 0 {
					t.Errorf("inbox after recovery: %v", files)
				}
				tested++
			})
		}
	}
	t.Logf("%d fault cases", tested)
}

// TestRetention keeps the newest runs and never the one latest points to.
func TestRetention(t *testing.T) {
	ws, p := faultWorkspace(t)
	ws.Config.Retention.KeepRuns = 2
	drop(t, ws, "a.csv", "country,year,value\nFRA,2020,50\n")
	for i := 0; i < 4; i++ {
		if _, err := p.Execute(context.Background(), CommandBuild, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	runs, _ := publish.Runs(ws.Out())
	latest, _ := publish.Latest(ws.Out())
	if len(runs) != 2 || runs[0] != latest {
		t.Errorf("runs = %v, latest %s", runs, latest)
	}
}

// TestPoisonFileSetAside: a file that killed two runs while being read is
// rejected as unreadable by the third, and the other files flow.
func TestPoisonFileSetAside(t *testing.T) {
	ws, p := faultWorkspace(t)
	drop(t, ws, "a.csv", "country,year,value\nFRA,2020,50\n")
	drop(t, ws, "b.csv", "country,year,value\nDEU,2020,60\n")
	// Two earlier runs died while reading a.csv.
	os.WriteFile(filepath.Join(ws.State(), "reading.json"), []byte(`{"name":"a.csv","attempts":2}`), 0o644)
	res, err := p.Execute(context.Background(), CommandRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 2 || res.Files[0].Outcome != "rejected" || !strings.Contains(res.Files[0].FirstError, "stopped 2 times") || res.Files[1].Outcome != "accepted" {
		t.Errorf("files = %+v", res.Files)
	}
	if _, err := os.Stat(filepath.Join(ws.State(), "reading.json")); !os.IsNotExist(err) {
		t.Error("the reading marker was left behind")
	}
}

// Files are read two at a time: a run that died while reading two files
// blames both once, and the next run reads each of them alone, so that
// only a file that kills a run on its own is ever set aside.
func TestReadingMarkerWithSeveralFiles(t *testing.T) {
	ws, p := faultWorkspace(t)
	drop(t, ws, "a.csv", "country,year,value\nFRA,2020,50\n")
	drop(t, ws, "b.csv", "country,year,value\nDEU,2020,60\n")
	drop(t, ws, "c.csv", "country,year,value\nESP,2020,70\n")
	marker := filepath.Join(ws.State(), "reading.json")
	os.WriteFile(marker, []byte(`{"reading":[{"name":"a.csv","attempts":2},{"name":"b.csv","attempts":1}]}`), 0o644)
	res, err := p.Execute(context.Background(), CommandRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := outcomes(res)
	if got["a.csv"] != OutcomeRejected || got["b.csv"] != OutcomeAccepted || got["c.csv"] != OutcomeAccepted {
		t.Errorf("outcomes = %v", got)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Error("the reading marker was left behind")
	}
}

// TestAgreementYearCorrectionNoticed: resubmitting an agreement without an
// id with another signature year creates a second record; the run says so.
func TestAgreementYearCorrectionNoticed(t *testing.T) {
	ws, p := faultWorkspace(t)
	drop(t, ws, "a.csv", "title,type,origin,destination,date_signed\nA,BLA,PHL,DEU,2018\n")
	if _, err := p.Execute(context.Background(), CommandRun, Options{}); err != nil {
		t.Fatal(err)
	}
	drop(t, ws, "b.csv", "title,type,origin,destination,date_signed\nA,BLA,PHL,DEU,2019\n")
	res, err := p.Execute(context.Background(), CommandRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || len(res.Files[0].Notices) != 1 || !strings.Contains(res.Files[0].Notices[0], "signed in 2018") {
		t.Errorf("files = %+v", res.Files)
	}
}

// The marker's entries for files no longer in the inbox are dropped: a new
// file that gets the same name starts with a clean record.
func TestReadingMarkerForgetsFilesThatLeft(t *testing.T) {
	ws, p := faultWorkspace(t)
	marker := filepath.Join(ws.State(), "reading.json")
	os.WriteFile(marker, []byte(`{"reading":[{"name":"gone.csv","attempts":1}]}`), 0o644)
	drop(t, ws, "a.csv", "country,year,value\nFRA,2020,50\n")
	if _, err := p.Execute(context.Background(), CommandIngest, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		data, _ := os.ReadFile(marker)
		t.Errorf("the marker keeps a file that left the inbox: %s", data)
	}
}

// A withdrawn submission's bytes dropped again are a new submission, not
// a duplicate of the withdrawn one: the sender may be putting the file
// back on purpose.
func TestWithdrawnBytesDroppedAgainAreAccepted(t *testing.T) {
	ws, p := faultWorkspace(t)
	const csv = "country,year,value\nFRA,2020,50\n"
	drop(t, ws, "a.csv", csv)
	if res, err := p.Execute(context.Background(), CommandRun, Options{}); err != nil || res.Count(OutcomeAccepted) != 1 {
		t.Fatalf("first run: %v", err)
	}
	drop(t, ws, "again.csv", csv)
	if res, err := p.Execute(context.Background(), CommandRun, Options{}); err != nil || res.Count(OutcomeDuplicate) != 1 {
		t.Fatalf("the same bytes while accepted: %v", err)
	}
	if _, err := p.Withdraw(context.Background(), "1", Options{}); err != nil {
		t.Fatal(err)
	}
	drop(t, ws, "back.csv", csv)
	res, err := p.Execute(context.Background(), CommandRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Count(OutcomeAccepted) != 1 || res.Count(OutcomeDuplicate) != 0 {
		t.Errorf("the same bytes after the withdrawal: %v", outcomes(res))
	}
}

// The unpacked-size limit of pledgestat.toml reaches the reader in
// bytes: a workbook whose parts unpack to 2 MB is refused as too large
// under max_unpacked_mb = 1 (the zip-bomb guard), not under the default.
func TestUnpackedLimitFromTheConfiguration(t *testing.T) {
	b := newBook(t, false)
	sheet := b.sheet("Data")
	b.row(sheet, 1, "country", "year", "value")
	for r := 2; r <= 15000; r++ {
		b.row(sheet, r, "FRA", 1900+r%120, 50.5)
	}
	var buf strings.Builder
	if err := b.f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		config   string
		tooLarge bool
	}{
		{"[limits]\nmax_unpacked_mb = 1\n", true},
		{"", false},
	} {
		dir := t.TempDir()
		if _, err := workspace.Init(dir); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "pledgestat.toml"), []byte(tc.config), 0o644)
		ws, err := workspace.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := refdata.Load()
		p := New(ws, ref, quietLog())
		drop(t, ws, "big.xlsx", buf.String())
		if _, err := p.Execute(context.Background(), CommandIngest, Options{}); err != nil {
			t.Fatal(err)
		}
		reports, _ := filepath.Glob(filepath.Join(ws.Rejected(), "*.errors.csv"))
		var data []byte
		if len(reports) == 1 {
			data, _ = os.ReadFile(reports[0])
		}
		if got := strings.Contains(string(data), "too_large"); got != tc.tooLarge {
			t.Errorf("config %q: too_large %v, want %v\n%s", tc.config, got, tc.tooLarge, data)
		}
	}
}

// Without last_year, the published years end at the latest year of the
// data, but never after the current year in UTC: a coverage target for
// 2024 entered in 2022 publishes nothing past 2022, even on a machine
// whose zone is already in 2023.
func TestDefaultLastYearStopsAtTheCurrentYear(t *testing.T) {
	ws, p := faultWorkspace(t)
	p.Now = func() time.Time {
		return time.Date(2022, 12, 31, 23, 30, 0, 0, time.UTC).In(time.FixedZone("UTC+14", 14*3600))
	}
	drop(t, ws, "a.csv", "country,year,value\nFRA,2020,50\nFRA,2024,60\n")
	if _, err := p.Execute(context.Background(), CommandRun, Options{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(ws.Out(), "latest", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		LastYear int `json:"last_year"`
	}
	json.Unmarshal(data, &m)
	if m.LastYear != 2022 {
		t.Errorf("last year %d, want 2022", m.LastYear)
	}
}

// An accepted file with warnings gets a report its sender can read,
// archive/RUN_ID-F.report.csv, and a workbook an annotated copy with the
// warned cells filled yellow; a file without warnings gets neither.
func TestAcceptedWithWarningsGetsAReport(t *testing.T) {
	ws, p := faultWorkspace(t)
	b := newBook(t, false)
	sheet := b.sheet("Data")
	b.row(sheet, 1, "country", "year", "value", "Remarques")
	b.row(sheet, 2, "FRA", 2020, 50, "vérifié")
	b.row(sheet, 3, "FRA", 2020, 50, "") // the same observation again: a warning
	b.save(filepath.Join(ws.Inbox(), "warned.xlsx"))
	drop(t, ws, "warned.csv", "country,year,value\nDEU,2020,60\nDEU,2020,60\n")
	drop(t, ws, "clean.csv", "country,year,value\nITA,2020,70\n")
	res, err := p.Execute(context.Background(), CommandIngest, Options{})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]FileOutcome{}
	for _, f := range res.Files {
		byName[f.Name] = f
	}
	for _, name := range []string{"warned.xlsx", "warned.csv"} {
		f := byName[name]
		if f.Outcome != OutcomeAccepted || f.Warnings == 0 || f.Report == "" {
			t.Errorf("%s: %+v", name, f)
			continue
		}
		data, err := os.ReadFile(filepath.Join(ws.Root, f.Report))
		if err != nil || !strings.HasPrefix(string(data), "file,sheet,cell,row,column,severity,code,message") || !strings.Contains(string(data), "warning") {
			t.Errorf("%s: report %s: %v\n%s", name, f.Report, err, data)
		}
		if f.Report != f.StoredAs+".report.csv" {
			t.Errorf("%s: report %s is not beside %s", name, f.Report, f.StoredAs)
		}
	}
	if a := byName["warned.xlsx"].Annotated; a == "" {
		t.Error("the workbook with warnings has no annotated copy")
	} else {
		f, err := excelize.OpenFile(filepath.Join(ws.Root, a))
		if err != nil {
			t.Fatal(err)
		}
		comments, _ := f.GetComments("Data")
		f.Close()
		if len(comments) == 0 {
			t.Error("the annotated copy marks no cell")
		}
	}
	if byName["warned.csv"].Annotated != "" {
		t.Error("a CSV got an annotated copy")
	}
	if f := byName["clean.csv"]; f.Report != "" || f.Annotated != "" {
		t.Errorf("a file without warnings got a report: %+v", f)
	}
	reports, _ := filepath.Glob(filepath.Join(ws.Archive(), "*.report.csv"))
	if len(reports) != 2 {
		t.Errorf("%d reports in archive/, want 2", len(reports))
	}
}

// TestFaultAtEveryStep fails each file-system step of a run, one run per
// step, on a workspace that already has a published run: a disk-full
// error at step k. The run fails with that error or, where the step is
// best effort (a report, the snapshot, retention), goes on; either way
// the published run is whole, nothing dropped is lost, and the next run
// without the fault completes with every file in its place.
func TestFaultAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline some 400 times")
	}
	ws, p, _ := publishedWithNewFiles(t)
	counter := &fsx.Steps{FS: fsx.OS{}}
	ws.FS = counter
	if _, err := p.Execute(context.Background(), CommandRun, Options{}); err != nil {
		t.Fatal(err)
	}
	total := counter.Count()
	if total < 20 {
		t.Fatalf("only %d steps in a run", total)
	}
	failed := 0
	for k := int64(1); k <= total; k++ {
		ws, p, before := publishedWithNewFiles(t)
		var op string
		ws.FS = &fsx.Steps{FS: fsx.OS{}, Hook: func(n int64, o, path string) error {
			if n == k {
				op = o + " " + filepath.Base(path)
				return syscall.ENOSPC
			}
			return nil
		}}
		_, err := p.Execute(context.Background(), CommandRun, Options{})
		if err != nil {
			failed++
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("step %d (%s): the error does not name the cause: %v", k, op, err)
			}
			if after, _ := publish.Latest(ws.Out()); after != before {
				t.Fatalf("step %d (%s): a failed run switched out/latest", k, op)
			}
		}
		if data, err := os.ReadFile(filepath.Join(ws.Latest(), "indicators.csv")); err != nil || !strings.Contains(string(data), "FRA") {
			t.Fatalf("step %d (%s): the published run is damaged: %v", k, op, err)
		}
		ws.FS = fsx.OS{}
		if _, err := p.Execute(context.Background(), CommandRun, Options{}); err != nil {
			t.Fatalf("step %d (%s): the run after the fault: %v", k, op, err)
		}
		if files, _ := ws.InboxFiles(); len(files) != 0 {
			t.Fatalf("step %d (%s): inbox after recovery: %v", k, op, files)
		}
		archived, _ := filepath.Glob(filepath.Join(ws.Archive(), "*-b.csv"))
		rejected, _ := filepath.Glob(filepath.Join(ws.Rejected(), "*-c.csv"))
		if len(archived) != 1 || len(rejected) != 1 {
			t.Fatalf("step %d (%s): b.csv archived %d times, c.csv rejected %d times", k, op, len(archived), len(rejected))
		}
		if data, _ := os.ReadFile(filepath.Join(ws.Latest(), "indicators.csv")); !strings.Contains(string(data), "DEU") {
			t.Fatalf("step %d (%s): the run after the fault did not publish b.csv", k, op)
		}
	}
	t.Logf("a fault at each of %d steps; %d failed the run, the others hit best-effort work", total, failed)
}
