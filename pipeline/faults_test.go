package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

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
				ws, p := faultWorkspace(t)
				drop(t, ws, "a.csv", "country,year,value\nFRA,2020,50\n")
				if _, err := p.Execute(context.Background(), CommandRun, Options{}); err != nil {
					t.Fatal(err)
				}
				before, _ := publish.Latest(ws.Out())
				drop(t, ws, "b.csv", "country,year,value\nDEU,2020,60\n")
				drop(t, ws, "c.csv", "country,year,value\nDEU,2020,999\n")
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
