package pipeline

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/publish"
	"github.com/ilo-pledge/pledgestat/store"
	"github.com/ilo-pledge/pledgestat/workspace"
)

const (
	goodCSV  = "country,year,value\nFRA,2020,50\n"
	otherCSV = "country,year,value\nDEU,2020,60\n"
)

func outcomes(res *Result) map[string]string {
	m := map[string]string{}
	for _, f := range res.Files {
		m[f.Name] = f.Outcome
	}
	return m
}

// everyLedgerPathExists: each path the ledger records names a file that
// is there (no path mangled on its way to JSON).
func everyLedgerPathExists(t *testing.T, ws *workspace.Workspace) {
	t.Helper()
	st, err := store.OpenReadOnly(ws.StoreDir(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range st.Entries() {
		if e.StoredAs == "" || e.Event == store.EventAbandoned || e.Event == store.EventIntake {
			continue
		}
		if _, err := os.Lstat(filepath.Join(ws.Root, filepath.FromSlash(e.StoredAs))); err != nil {
			t.Errorf("ledger %s event names %q, which is not there: %v", e.Event, e.StoredAs, err)
		}
	}
}

// A sender taking a file back while the run reads the inbox never stops
// the night's run: the other files flow and the run publishes.
func TestFileVanishingMidReadDoesNotStopTheRun(t *testing.T) {
	ws, p := faultWorkspace(t)
	drop(t, ws, "a.csv", goodCSV)
	drop(t, ws, "b.csv", otherCSV)
	p.openInbox = func(path string) (*os.File, fs.FileInfo, error) {
		if filepath.Base(path) == "b.csv" {
			os.Remove(path) // taken back between the listing and the read
		}
		return fsx.OpenRegular(path, true)
	}
	res, err := p.Execute(context.Background(), CommandRun, Options{})
	if err != nil {
		t.Fatalf("run failed: %v", err)
	}
	if got := outcomes(res); got["a.csv"] != OutcomeAccepted || got["b.csv"] != OutcomeVanished {
		t.Errorf("outcomes = %v", got)
	}
	if !res.Published || res.NeedsAttention() {
		t.Errorf("published %v, needs attention %v", res.Published, res.NeedsAttention())
	}
}

// A file that cannot be read (permission denied: simulated, since tests
// may run as root) stays in the inbox, is reported, and the other files
// flow; once readable it is taken by the next run.
func TestUnreadableFileIsLeftAndOthersFlow(t *testing.T) {
	ws, p := faultWorkspace(t)
	drop(t, ws, "a.csv", goodCSV)
	drop(t, ws, "b.csv", otherCSV)
	p.openInbox = func(path string) (*os.File, fs.FileInfo, error) {
		if filepath.Base(path) == "a.csv" {
			return nil, nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EACCES}
		}
		return fsx.OpenRegular(path, true)
	}
	res, err := p.Execute(context.Background(), CommandRun, Options{})
	if err != nil {
		t.Fatalf("run failed: %v", err)
	}
	if got := outcomes(res); got["a.csv"] != OutcomeLeft || got["b.csv"] != OutcomeAccepted {
		t.Errorf("outcomes = %v", got)
	}
	if !res.Published || !res.NeedsAttention() {
		t.Errorf("published %v, needs attention %v (want both)", res.Published, res.NeedsAttention())
	}
	for _, f := range res.Files {
		if f.Name == "a.csv" && !strings.Contains(f.FirstError, "permission denied") {
			t.Errorf("left file's reason = %q", f.FirstError)
		}
	}
	if _, err := os.Stat(filepath.Join(ws.Inbox(), "a.csv")); err != nil {
		t.Errorf("unreadable file left the inbox: %v", err)
	}
	p.openInbox = nil
	res, err = p.Execute(context.Background(), CommandRun, Options{})
	if err != nil || outcomes(res)["a.csv"] != OutcomeAccepted {
		t.Errorf("next run: %v %v", err, outcomes(res))
	}
}

// A file swapped for a symbolic link after the inbox was listed is never
// followed: the outside file is not read, archive/ holds no link.
func TestSymlinkSwappedAfterListingIsNotFollowed(t *testing.T) {
	ws, p := faultWorkspace(t)
	outside := filepath.Join(t.TempDir(), "secret.csv")
	os.WriteFile(outside, []byte(otherCSV), 0o600)
	drop(t, ws, "a.csv", goodCSV)
	p.openInbox = func(path string) (*os.File, fs.FileInfo, error) {
		if filepath.Base(path) == "a.csv" { // swapped between the listing and the read
			os.Remove(path)
			os.Symlink(outside, path)
		}
		return fsx.OpenRegular(path, true)
	}
	res, err := p.Execute(context.Background(), CommandRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(res)["a.csv"]; got != OutcomeLeft {
		t.Errorf("outcome = %q, want left", got)
	}
	noLinks(t, ws.Archive(), ws.Rejected())
	if data, _ := os.ReadFile(outside); string(data) != otherCSV {
		t.Error("the outside file changed")
	}
}

// The path is swapped for a link in the instant between the checks and
// the rename into archive/: what was moved is put back, the link never
// stays in archive/, nothing is stored, and the run goes on.
func TestSymlinkSwappedDuringTheMoveIsPutBack(t *testing.T) {
	ws, p := faultWorkspace(t)
	outside := filepath.Join(t.TempDir(), "secret.csv")
	os.WriteFile(outside, []byte(otherCSV), 0o600)
	drop(t, ws, "a.csv", goodCSV)
	src := filepath.Join(ws.Inbox(), "a.csv")
	steps := &fsx.Steps{FS: fsx.OS{}}
	swapped := false
	steps.Hook = func(step int64, op, path string) error {
		if op == "rename" && !swapped && strings.HasPrefix(path, ws.Archive()) {
			swapped = true
			os.Rename(src, src+".orig")
			os.Symlink(outside, src)
		}
		return nil
	}
	ws.FS = steps
	res, err := p.Execute(context.Background(), CommandRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !swapped {
		t.Fatal("the swap was never made")
	}
	if len(res.Settling) != 1 || res.Count(OutcomeAccepted) != 0 {
		t.Errorf("settling %v, outcomes %v", res.Settling, outcomes(res))
	}
	noLinks(t, ws.Archive(), ws.Rejected())
	if st, err := os.Lstat(src); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link was not put back in the inbox: %v", err)
	}
	st, err := store.OpenReadOnly(ws.StoreDir(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Accepted()) != 0 || len(st.PendingIntakes()) != 0 {
		t.Errorf("store: %d accepted, %d pending", len(st.Accepted()), len(st.PendingIntakes()))
	}
}

func noLinks(t *testing.T, dirs ...string) {
	t.Helper()
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type()&fs.ModeSymlink != 0 {
				t.Errorf("%s is a symbolic link", path)
			}
			return nil
		})
	}
}

// Names that are not UTF-8 are recorded in a form that names the file
// that was archived, and a run killed right after the file was archived
// is finished by the next run's repair.
func TestNonUTF8NamesRoundTripAndRepair(t *testing.T) {
	ws, p := faultWorkspace(t)
	name := "caf\xe9-\x1b[2J.csv"
	drop(t, ws, name, goodCSV)
	steps := &fsx.Steps{FS: fsx.OS{}}
	moved := false
	steps.Hook = func(step int64, op, path string) error {
		if op == "rename" && strings.HasPrefix(path, ws.Archive()) {
			moved = true
			return nil
		}
		if moved && strings.Contains(path, "submissions") {
			return syscall.EIO // the run dies after the move, before storing
		}
		return nil
	}
	ws.FS = steps
	if _, err := p.Execute(context.Background(), CommandIngest, Options{}); err == nil {
		t.Fatal("the injected fault did not fail the run")
	}
	ws.FS = fsx.OS{}
	if _, err := p.Execute(context.Background(), CommandRun, Options{}); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenReadOnly(ws.StoreDir(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	acc := st.Accepted()
	if len(acc) != 1 || acc[0].File != "caf%E9-%1B[2J.csv" {
		t.Fatalf("accepted = %+v", acc)
	}
	everyLedgerPathExists(t, ws)
	if !strings.HasSuffix(acc[0].StoredAs, "-caf%E9-%1B[2J.csv") {
		t.Errorf("stored as %q", acc[0].StoredAs)
	}
}

// A file name of 244 bytes, or one 40 folders deep, never hangs a run:
// it is archived under a shortened name, and the next run works too.
func TestLongNamesDoNotHang(t *testing.T) {
	ws, p := faultWorkspace(t)
	long := strings.Repeat("x", 240) + ".csv"
	drop(t, ws, long, goodCSV)
	deep := strings.Repeat("folder-with-a-long-name/", 40) + "data.csv"
	drop(t, ws, deep, otherCSV)
	for run := 0; run < 2; run++ {
		done := make(chan error, 1)
		go func() {
			_, err := p.Execute(context.Background(), CommandRun, Options{})
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d: %v", run, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("run %d hangs", run)
		}
	}
	list, _ := os.ReadDir(ws.Archive())
	if len(list) != 2 {
		t.Fatalf("archive = %v", list)
	}
	for _, e := range list {
		if len(e.Name()) > 255 {
			t.Errorf("archived name of %d bytes", len(e.Name()))
		}
	}
	everyLedgerPathExists(t, ws)
}

// A run id or free name that cannot be probed (a name too long, out/runs
// not a folder) is an error, never an endless loop.
func TestNameProbesStopOnErrors(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	if _, err := fsx.FreeName(filepath.Join(dir, strings.Repeat("n", 300))); !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Errorf("FreeName of a name too long: %v, want the file system's answer", err)
	}
	ws, _ := faultWorkspace(t)
	os.RemoveAll(ws.Runs())
	os.WriteFile(ws.Runs(), []byte("not a folder"), 0o644)
	if _, err := ws.NewRunID(time.Now()); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("NewRunID with out/runs a file: %v, want the file system's answer", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the probes took %v: they retried instead of stopping", d)
	}
	taken := filepath.Join(dir, "taken.csv")
	os.WriteFile(taken, nil, 0o644)
	for i := 2; i <= 5; i++ {
		os.WriteFile(filepath.Join(dir, "taken-"+string(rune('0'+i))+".csv"), nil, 0o644)
	}
	if got, err := fsx.FreeName(taken); err != nil || filepath.Base(got) != "taken-6.csv" {
		t.Errorf("FreeName = %s, %v", got, err)
	}
}

// out/latest made a folder by someone is detected before ingesting and
// moved aside (nothing deleted); the run publishes.
func TestLatestMadeAFolderIsMovedAside(t *testing.T) {
	ws, p := faultWorkspace(t)
	os.MkdirAll(filepath.Join(ws.Latest(), "copy"), 0o755)
	os.WriteFile(filepath.Join(ws.Latest(), "copy", "mine.txt"), []byte("keep"), 0o644)
	drop(t, ws, "a.csv", goodCSV)
	res, err := p.Execute(context.Background(), CommandRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if latest, err := publish.Latest(ws.Out()); err != nil || latest != res.RunID {
		t.Errorf("latest = %q, %v", latest, err)
	}
	if data, err := os.ReadFile(filepath.Join(ws.Out(), "latest.moved", "copy", "mine.txt")); err != nil || string(data) != "keep" {
		t.Errorf("what was in out/latest: %q, %v", data, err)
	}
}

// An inbox that is a symbolic link to a folder (a mounted share) is read
// through the link; links and named pipes inside it are reported, never
// silently skipped.
func TestInboxLinkAndSpecialEntries(t *testing.T) {
	ws, p := faultWorkspace(t)
	share := t.TempDir()
	os.Remove(ws.Inbox())
	if err := os.Symlink(share, ws.Inbox()); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(share, "a.csv"), []byte(goodCSV), 0o644)
	os.Symlink("/etc/hostname", filepath.Join(share, "link.csv"))
	if err := syscall.Mkfifo(filepath.Join(share, "pipe.csv"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := p.Execute(context.Background(), CommandRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(res)["a.csv"]; got != OutcomeAccepted {
		t.Errorf("a.csv through the linked inbox: %q", got)
	}
	kinds := map[string]string{}
	for _, e := range res.Ignored {
		kinds[e.Name] = e.Kind
	}
	if kinds["link.csv"] != "a symbolic link" || kinds["pipe.csv"] != "a named pipe (FIFO)" {
		t.Errorf("ignored = %v", res.Ignored)
	}
	if !res.NeedsAttention() {
		t.Error("ignored entries do not need attention")
	}
	noLinks(t, ws.Archive(), ws.Rejected())
}

// An inbox link that points nowhere is refused with a clear message, not
// read as an empty inbox.
func TestBrokenInboxLinkIsRefused(t *testing.T) {
	ws, p := faultWorkspace(t)
	os.Remove(ws.Inbox())
	os.Symlink(filepath.Join(t.TempDir(), "unmounted"), ws.Inbox())
	_, err := p.Execute(context.Background(), CommandRun, Options{})
	if err == nil || !errors.Is(err, workspace.ErrInbox) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("err = %v", err)
	}
}

// A run that died in a panic is recorded as failed, under a run id of its
// own, with its trigger: the scheduler's record of it.
func TestRecordPanic(t *testing.T) {
	ws, p := faultWorkspace(t)
	started := time.Now().Add(-time.Minute)
	if err := p.RecordPanic("run", "schedule nightly", started, "panic: boom"); err != nil {
		t.Fatal(err)
	}
	h, err := p.History()
	if err != nil || len(h) != 1 || h[0].Trigger != "schedule nightly" || h[0].Command != "run" {
		t.Fatalf("history %v %v", h, err)
	}
	runs, _ := ws.RunHistory()
	if runs[0].Outcome != "failed" || runs[0].Error != "panic: boom" || !runs[0].StartedAt.Equal(started.UTC()) {
		t.Errorf("recorded %+v", runs[0])
	}
	if l, err := ws.TryLock("test"); err != nil {
		t.Errorf("the lock is held after recording: %v", err)
	} else {
		l.Release()
	}
}

// A nightly run that took nothing new does no work; a new file, a
// withdrawal or a changed report window makes it build; `build` always
// builds.
func TestRunWithNothingNewDoesNoWork(t *testing.T) {
	ws, p := faultWorkspace(t)
	drop(t, ws, "a.csv", goodCSV)
	first, err := p.Execute(context.Background(), CommandRun, Options{})
	if err != nil || !first.Published {
		t.Fatalf("first run: %v", err)
	}
	again, err := p.Execute(context.Background(), CommandRun, Options{})
	if err != nil || again.Published || again.UpToDate != first.RunID {
		t.Fatalf("a run with nothing new: published %v, up to date %q, %v", again.Published, again.UpToDate, err)
	}
	drop(t, ws, "bad.csv", "country,year,value\nAtlantis,2020,50\n")
	if r, _ := p.Execute(context.Background(), CommandRun, Options{}); r.Published || r.Count(OutcomeRejected) != 1 {
		t.Errorf("a rejected file alone changes nothing: published %v", r.Published)
	}
	drop(t, ws, "b.csv", otherCSV)
	if r, _ := p.Execute(context.Background(), CommandRun, Options{}); !r.Published {
		t.Error("a new accepted file was not published")
	}
	ws.Config.Report.LastYear = 2021
	if r, _ := p.Execute(context.Background(), CommandRun, Options{}); !r.Published {
		t.Error("a changed report window was not published")
	}
	if r, _ := p.Execute(context.Background(), CommandBuild, Options{}); !r.Published {
		t.Error("build did not build")
	}
	if _, err := p.Withdraw(context.Background(), "1", Options{}); err != nil {
		t.Fatal(err)
	}
	if r, _ := p.Execute(context.Background(), CommandRun, Options{}); !r.Published {
		t.Error("a withdrawal was not published")
	}
}
