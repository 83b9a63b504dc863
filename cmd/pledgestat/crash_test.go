package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ilo-pledge/pledgestat/export"
)

// crashFixture is a workspace whose inbox holds files of every outcome:
// accepted workbooks and CSVs, and a rejected workbook (with its annotated
// copy).
func crashFixture(t *testing.T) string {
	t.Helper()
	ws := t.TempDir()
	os.WriteFile(filepath.Join(ws, "pledgestat.toml"), []byte("[report]\nfirst_year = 2019\nlast_year = 2021\n"), 0o644)
	inbox := filepath.Join(ws, "inbox")
	os.MkdirAll(filepath.Join(inbox, "sub"), 0o755)
	writeXLSX(t, filepath.Join(inbox, "a_ratifications.xlsx"), "Data", [][]any{
		{"country", "instrument", "ratification_date"},
		{"FRA", "C097", "1954-03-29"}, {"DEU", "C097", "1959-06-22"}, {"URY", "C189", "2012-06-14"},
	})
	os.WriteFile(filepath.Join(inbox, "b_coverage.csv"), []byte("country,year,value\nFRA,2020,70.1\nX01,2020,46.9\n"), 0o644)
	os.WriteFile(filepath.Join(inbox, "sub", "c_blma.csv"), []byte("title,type,origin,destination,date_signed,fair_recruitment\nA,BLA,PHL,DEU,2019,yes\nB,MOU,NPL,QAT,2020,no\n"), 0o644)
	writeXLSX(t, filepath.Join(inbox, "d_broken.xlsx"), "Data", [][]any{
		{"country", "instrument", "ratification_date"}, {"Kosovo", "C097", "2019-03-04"},
	})
	os.WriteFile(filepath.Join(inbox, "e_correction.csv"), []byte("country,instrument,ratification_date\nDEU,C097,2020-01-15\n"), 0o644)
	return ws
}

func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// dropped maps each inbox file (flattened name) to its SHA-256.
func droppedFiles(t *testing.T, ws string) map[string]string {
	t.Helper()
	out := map[string]string{}
	inbox := filepath.Join(ws, "inbox")
	filepath.WalkDir(inbox, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(inbox, path)
			data, _ := os.ReadFile(path)
			out[strings.ReplaceAll(filepath.ToSlash(rel), "/", "__")] = sha256Hex(data)
		}
		return nil
	})
	return out
}

type ledgerLine struct {
	Event    string `json:"event"`
	StoredAs string `json:"stored_as"`
	File     string `json:"file"`
}

// readLedger parses the ledger read-only; a torn last line is ignored, as
// the store does.
func readLedger(t *testing.T, ws string) []ledgerLine {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ws, ".pledgestat", "store", "ledger.jsonl"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []ledgerLine
	lines := strings.SplitAfter(string(data), "\n")
	for i, l := range lines {
		if !strings.HasSuffix(l, "\n") {
			break // torn last append
		}
		sum, body, ok := strings.Cut(strings.TrimSuffix(l, "\n"), " ")
		want, _ := strconv.ParseUint(sum, 16, 32)
		if !ok || crc32.ChecksumIEEE([]byte(body)) != uint32(want) {
			if i == len(lines)-1 || (i == len(lines)-2 && lines[len(lines)-1] == "") {
				break
			}
			t.Fatalf("ledger line %d is corrupt: %q", i+1, l)
		}
		var e ledgerLine
		json.Unmarshal([]byte(body), &e)
		out = append(out, e)
	}
	return out
}

// checkInvariants asserts what must hold after any crash; settled adds what
// must hold once a run has completed.
func checkInvariants(t *testing.T, ws string, dropped map[string]string, settled bool) {
	t.Helper()
	// Each dropped file is in exactly one of inbox/, archive/, rejected/.
	where := map[string][]string{}
	for _, dir := range []string{"inbox", "archive", "rejected"} {
		root := filepath.Join(ws, dir)
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
				return nil
			}
			data, _ := os.ReadFile(path)
			where[sha256Hex(data)] = append(where[sha256Hex(data)], dir)
			return nil
		})
	}
	for name, sum := range dropped {
		if len(where[sum]) != 1 {
			t.Errorf("%s is in %v, want exactly one place", name, where[sum])
		}
		if settled && where[sum][0] == "inbox" {
			t.Errorf("%s still in the inbox after a complete run", name)
		}
	}
	// The ledger names only files that are where it says.
	completed := map[string]bool{}
	pending := 0
	for _, e := range readLedger(t, ws) {
		switch e.Event {
		case "accepted", "duplicate", "rejected":
			if _, err := os.Stat(filepath.Join(ws, e.StoredAs)); err != nil {
				t.Errorf("ledger says %s %s, but: %v", e.Event, e.StoredAs, err)
			}
			completed[e.StoredAs] = true
		case "intake":
			pending++
		case "abandoned":
			completed[e.StoredAs] = true
		}
	}
	if settled {
		n := 0
		for _, e := range readLedger(t, ws) {
			if e.Event == "intake" && !completed[e.StoredAs] {
				n++
			}
		}
		if n != 0 {
			t.Errorf("%d intakes still pending after a complete run", n)
		}
		for _, dir := range []string{"archive", "rejected"} {
			list, _ := os.ReadDir(filepath.Join(ws, dir))
			for _, d := range list {
				if strings.HasSuffix(d.Name(), ".errors.csv") || strings.HasSuffix(d.Name(), ".report.csv") || strings.HasSuffix(d.Name(), ".annotated.xlsx") {
					of := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(d.Name(), ".errors.csv"), ".report.csv"), ".annotated.xlsx")
					if _, err := os.Stat(filepath.Join(ws, dir, of)); err != nil {
						t.Errorf("report %s/%s without its file", dir, d.Name())
					}
					continue
				}
				if !completed[dir+"/"+d.Name()] {
					t.Errorf("%s/%s is named by no completed ledger entry", dir, d.Name())
				}
			}
		}
	}
	// out/latest, if any, is a complete run whose checksums verify; so is
	// every published run.
	runs, _ := os.ReadDir(filepath.Join(ws, "out", "runs"))
	for _, r := range runs {
		if strings.HasPrefix(r.Name(), ".") {
			if settled {
				t.Errorf("leftover %s after a complete run", r.Name())
			}
			continue
		}
		verifyRun(t, filepath.Join(ws, "out", "runs", r.Name()))
	}
	if target, err := os.Readlink(filepath.Join(ws, "out", "latest")); err == nil {
		verifyRun(t, filepath.Join(ws, "out", target))
	} else if settled {
		t.Errorf("no out/latest after a complete run: %v", err)
	}
}

func verifyRun(t *testing.T, dir string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Errorf("run %s has no manifest: %v", dir, err)
		return
	}
	var m export.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Errorf("run %s: manifest: %v", dir, err)
		return
	}
	for _, o := range m.Outputs {
		b, err := os.ReadFile(filepath.Join(dir, o.Name))
		if err != nil || int64(len(b)) != o.Bytes || sha256Hex(b) != o.SHA256 {
			t.Errorf("run %s: %s does not match its manifest (%v)", filepath.Base(dir), o.Name, err)
		}
	}
}

// runHooked runs pledgestat run with the test hooks; killed reports whether
// the process died of SIGKILL.
func runHooked(t *testing.T, ws string, env ...string) (killed bool, code int, out string) {
	t.Helper()
	cmd := exec.Command(binary, "-w", ws, "--log-level", "warn", "run")
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() && st.Signal() == syscall.SIGKILL {
			return true, -1, buf.String()
		}
		return false, ee.ExitCode(), buf.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return false, 0, buf.String()
}

// crashPoints reads the steps a run logged (PLEDGESTAT_TEST_STEPS_LOG) and
// chooses where to crash: every step that is not a write, plus every 10th
// write (renames, syncs and ledger appends are where crashes matter most).
func crashPoints(t *testing.T, stepsLog string) (steps []string, points []int) {
	t.Helper()
	data, err := os.ReadFile(stepsLog)
	if err != nil {
		t.Fatal(err)
	}
	steps = strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(steps) < 60 {
		t.Fatalf("only %d steps in a run", len(steps))
	}
	for i, s := range steps {
		if !strings.Contains(s, " write ") || i%10 == 0 {
			points = append(points, i+1)
		}
	}
	return steps, points
}

// TestKillAtEveryStep SIGKILLs the real binary at many file-system steps of
// ingest and build, checks the invariants after each kill, reruns, and
// checks that the result equals an uninterrupted run.
func TestKillAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary some 150 times")
	}
	base := crashFixture(t)
	dropped := droppedFiles(t, base)

	clean := copyTree(t, base)
	stepsLog := filepath.Join(t.TempDir(), "steps.log")
	if killed, code, out := runHooked(t, clean, envStepsLog+"="+stepsLog); killed || code != exitRejected {
		t.Fatalf("clean run: exit %d\n%s", code, out)
	}
	checkInvariants(t, clean, dropped, true)
	want, err := os.ReadFile(filepath.Join(clean, "out", "latest", "indicators.csv"))
	if err != nil {
		t.Fatal(err)
	}
	steps, points := crashPoints(t, stepsLog)
	total := len(steps)
	t.Logf("%d file-system steps in a run; killing at %d of them", total, len(points))
	kills := 0
	for _, k := range points {
		ws := copyTree(t, base)
		killed, code, out := runHooked(t, ws, fmt.Sprintf("%s=%d", envCrashAt, k))
		if !killed {
			t.Fatalf("step %d (%s): the run was not killed (exit %d)\n%s", k, steps[k-1], code, out)
		}
		kills++
		checkInvariants(t, ws, dropped, false)
		killed, code, out = runHooked(t, ws)
		if killed || (code != exitOK && code != exitRejected) {
			t.Fatalf("step %d (%s): the rerun failed: exit %d\n%s", k, steps[k-1], code, out)
		}
		checkInvariants(t, ws, dropped, true)
		got, err := os.ReadFile(filepath.Join(ws, "out", "latest", "indicators.csv"))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("step %d (%s): after the rerun the indicators differ from an uninterrupted run (%v)", k, steps[k-1], err)
		}
		if t.Failed() {
			t.Fatalf("invariants broken by a kill at step %d: %s", k, steps[k-1])
		}
	}
	t.Logf("killed at %d distinct steps; every rerun repaired the workspace", kills)
}

// TestPowerCutAtEveryStep is TestKillAtEveryStep with a power cut instead
// of a kill, on a workspace that already has a published run: at the
// chosen step every change not yet made durable (file content not
// fsynced, directory entries whose directory was not fsynced) is undone
// (fsx.Strict) before the process dies. A missing fsync anywhere, publish
// included, shows as a lost file, a ledger naming a submission that is not
// there, or an out/latest that names no complete run.
func TestPowerCutAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary some 150 times")
	}
	base := crashFixture(t)
	// A first run publishes from one file; the others wait for the run
	// under test.
	later := filepath.Join(t.TempDir(), "later")
	os.Rename(filepath.Join(base, "inbox"), later)
	os.MkdirAll(filepath.Join(base, "inbox"), 0o755)
	os.Rename(filepath.Join(later, "b_coverage.csv"), filepath.Join(base, "inbox", "b_coverage.csv"))
	if killed, code, out := runHooked(t, base); killed || code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	entries, _ := os.ReadDir(later)
	for _, e := range entries {
		os.Rename(filepath.Join(later, e.Name()), filepath.Join(base, "inbox", e.Name()))
	}
	dropped := droppedFiles(t, base)

	clean := copyTree(t, base)
	stepsLog := filepath.Join(t.TempDir(), "steps.log")
	if killed, code, out := runHooked(t, clean, envStepsLog+"="+stepsLog); killed || code != exitRejected {
		t.Fatalf("clean run: exit %d\n%s", code, out)
	}
	want, err := os.ReadFile(filepath.Join(clean, "out", "latest", "indicators.csv"))
	if err != nil {
		t.Fatal(err)
	}
	steps, points := crashPoints(t, stepsLog)
	// The step that switches out/latest: from two steps on (the switch,
	// then its directory's sync), a power cut must not take the new run
	// back.
	switched := 0
	for i, s := range steps {
		if strings.HasSuffix(s, filepath.Join("out", "latest")) && strings.Contains(s, " rename ") {
			switched = i + 1
		}
	}
	if switched == 0 {
		t.Fatal("no step switches out/latest")
	}
	before, _ := os.Readlink(filepath.Join(base, "out", "latest"))
	t.Logf("%d file-system steps in a run; a power cut at %d of them", len(steps), len(points))
	for _, k := range points {
		ws := copyTree(t, base)
		aside := t.TempDir()
		killed, code, out := runHooked(t, ws, fmt.Sprintf("%s=%d", envCrashAt, k), envStrict+"="+aside)
		if !killed {
			t.Fatalf("step %d (%s): the run did not die (exit %d)\n%s", k, steps[k-1], code, out)
		}
		checkInvariants(t, ws, dropped, false)
		if now, _ := os.Readlink(filepath.Join(ws, "out", "latest")); k > switched+1 && now == before {
			t.Errorf("step %d (%s): a power cut after the switch took the published run back", k, steps[k-1])
		}
		killed, code, out = runHooked(t, ws)
		if killed || (code != exitOK && code != exitRejected) {
			t.Fatalf("step %d (%s): the run after the power cut failed: exit %d\n%s", k, steps[k-1], code, out)
		}
		checkInvariants(t, ws, dropped, true)
		got, err := os.ReadFile(filepath.Join(ws, "out", "latest", "indicators.csv"))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("step %d (%s): after the next run the indicators differ from an uninterrupted run (%v)", k, steps[k-1], err)
		}
		if t.Failed() {
			t.Fatalf("invariants broken by a power cut at step %d: %s", k, steps[k-1])
		}
	}
}
