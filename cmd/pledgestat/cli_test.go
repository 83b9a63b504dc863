package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/ilo-pledge/pledgestat/internal/quietstart"
	"github.com/ilo-pledge/pledgestat/workspace"
)

func TestExitCodes(t *testing.T) {
	ws := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout+stderr
	}{
		{"unknown command", []string{"frobnicate"}, exitUsage, "unknown command"},
		{"unknown flag", []string{"run", "--frob"}, exitUsage, "unknown flag"},
		{"validate needs files", []string{"validate"}, exitUsage, "requires at least 1 arg"},
		{"bad log level", []string{"--log-level", "loud", "catalog"}, exitUsage, "log-level"},
		{"missing workspace", []string{"-w", filepath.Join(ws, "nope"), "run"}, exitUsage, "pledgestat init " + filepath.Join(ws, "nope")},
		{"not a workspace", []string{"-w", ws, "run"}, exitUsage, "not a pledgestat workspace"},
		{"version", []string{"--version"}, exitOK, "0.1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := pledgestat(t, tt.args...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s\n%s", code, tt.code, tt.want, stdout, stderr)
			}
		})
	}
}

func TestEmptyWorkspaceRun(t *testing.T) {
	ws := t.TempDir()
	os.Mkdir(filepath.Join(ws, "inbox"), 0o755)
	stdout, stderr, code := pledgestat(t, "-w", ws, "run")
	if code != exitOK || !strings.Contains(stdout, "published") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestBadConfigRefusedWithLine(t *testing.T) {
	ws := t.TempDir()
	os.WriteFile(filepath.Join(ws, "pledgestat.toml"), []byte("[report]\nfirst_yaer = 2016\n"), 0o644)
	for _, cmd := range []string{"run", "status", "build", "validate"} {
		_, stderr, code := pledgestat(t, "-w", ws, cmd, filepath.Join(ws, "pledgestat.toml"))
		if cmd != "validate" {
			_, stderr, code = pledgestat(t, "-w", ws, cmd)
		}
		if code != exitUsage || !strings.Contains(stderr, "pledgestat.toml:2") || !strings.Contains(stderr, "first_yaer") {
			t.Errorf("%s: exit %d, stderr:\n%s", cmd, code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(ws, "out")); !os.IsNotExist(err) {
		t.Error("a refused configuration must change nothing")
	}
}

func TestSecondRunWhileLockedExits1(t *testing.T) {
	w, err := workspace.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := w.TryLock("run")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	_, stderr, code := pledgestat(t, "-w", w.Root, "run")
	if code != exitFailure || !strings.Contains(stderr, "PID "+itoa(os.Getpid())) {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestValidateAndCatalog(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(good, []byte("country,year,value\nFRA,2020,70\n"), 0o644)
	os.WriteFile(bad, []byte("country,year,value\nFRA,2020,170\n"), 0o644)
	// Outside any workspace, validate checks files with the default
	// configuration when no workspace is named; a named one must be one.
	stdout, _, code := pledgestatIn(t, dir, "validate", good)
	if code != exitOK || !strings.Contains(stdout, "good.csv: valid") {
		t.Errorf("validate good: exit %d\n%s", code, stdout)
	}
	stdout, _, code = pledgestatIn(t, dir, "validate", good, bad)
	if code != exitRejected || !strings.Contains(stdout, "C2 error") || !strings.Contains(stdout, "out_of_range") {
		t.Errorf("validate bad: exit %d\n%s", code, stdout)
	}
	stdout, _, code = pledgestatIn(t, dir, "validate", "--json", bad)
	var reports []validateOutput
	if err := json.Unmarshal([]byte(stdout), &reports); err != nil || code != exitRejected || len(reports) != 1 || reports[0].Valid || reports[0].Errors != 1 {
		t.Errorf("validate --json: exit %d, %v\n%s", code, err, stdout)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("validate changed the directory: %v", entries)
	}
	stdout, _, code = pledgestat(t, "catalog", "--json")
	var cat struct {
		Version    string `json:"version"`
		Indicators []struct {
			ID         string `json:"id"`
			Definition string `json:"definition"`
		} `json:"indicators"`
	}
	if err := json.Unmarshal([]byte(stdout), &cat); err != nil || code != 0 || len(cat.Indicators) != 31 || cat.Indicators[0].Definition == "" {
		t.Errorf("catalog --json: exit %d, %v", code, err)
	}
	stdout, _, _ = pledgestat(t, "catalog")
	if !strings.Contains(stdout, "P8.3") || !strings.Contains(stdout, "percentage_points") {
		t.Errorf("catalog:\n%s", stdout)
	}
}

func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	stdout, stderr, code := pledgestat(t, "demo", dir)
	if code != exitOK || !strings.Contains(stdout, "Outputs:") || !strings.Contains(stdout, "rejected   06_blma_updates_broken.csv") {
		t.Fatalf("demo: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, name := range []string{"indicators.parquet", "indicators.csv", "indicators.xlsx", "manifest.json", "changes.csv"} {
		if _, err := os.Stat(filepath.Join(dir, "out", "latest", name)); err != nil {
			t.Errorf("demo output %s: %v", name, err)
		}
	}
	// Again: the samples are dropped again and recognised as duplicates.
	stdout, _, code = pledgestat(t, "demo", dir)
	if code != exitOK || strings.Count(stdout, "duplicate  ") != 5 {
		t.Errorf("second demo: exit %d\n%s", code, stdout)
	}
	stdout, _, code = pledgestat(t, "-w", dir, "status")
	if code != exitOK || !strings.Contains(stdout, "rejected: 2") || !strings.Contains(stdout, "5 submissions") {
		t.Errorf("status:\n%s", stdout)
	}
}

func TestTemplateCommand(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "t.xlsx")
	stdout, stderr, code := pledgestat(t, "template", "blma", "-o", out)
	if code != exitOK || !strings.Contains(stdout, out) {
		t.Fatalf("template: exit %d\n%s%s", code, stdout, stderr)
	}
	if st, err := os.Stat(out); err != nil || st.Size() == 0 {
		t.Errorf("template file: %v", err)
	}
	_, stderr, code = pledgestat(t, "template", "nonsense")
	if code != exitUsage || !strings.Contains(stderr, "ratification") {
		t.Errorf("unknown template: exit %d\n%s", code, stderr)
	}
}

func TestHistoryAndWithdraw(t *testing.T) {
	ws := t.TempDir()
	inbox := filepath.Join(ws, "inbox")
	os.MkdirAll(inbox, 0o755)
	os.WriteFile(filepath.Join(inbox, "a.csv"), []byte("country,instrument,ratification_date\nFRA,C097,1954-03-29\nDEU,C097,1959-06-22\n"), 0o644)
	if _, _, code := pledgestat(t, "-w", ws, "run"); code != 0 {
		t.Fatal("first run failed")
	}
	os.WriteFile(filepath.Join(inbox, "b.csv"), []byte("country,instrument,ratification_date\nFrance,C 97,1955-01-01\n"), 0o644)
	if _, _, code := pledgestat(t, "-w", ws, "run"); code != 0 {
		t.Fatal("second run failed")
	}
	stdout, _, code := pledgestat(t, "-w", ws, "history", "--country", "France")
	if code != 0 || !strings.Contains(stdout, "ratification FRA|C097") || !strings.Contains(stdout, "* #2") || !strings.Contains(stdout, "ratification_date=1955-01-01") || strings.Contains(stdout, "DEU") {
		t.Errorf("history:\n%s", stdout)
	}
	stdout, _, code = pledgestat(t, "-w", ws, "history", "--key", "FRA|C097", "--json")
	var revs []struct {
		Submission int  `json:"submission"`
		Current    bool `json:"current"`
	}
	if err := json.Unmarshal([]byte(stdout), &revs); err != nil || code != 0 || len(revs) != 2 || revs[0].Current || !revs[1].Current {
		t.Errorf("history --json: %v\n%s", err, stdout)
	}
	stdout, stderr, code := pledgestat(t, "-w", ws, "withdraw", "b.csv")
	if code != 0 || !strings.Contains(stdout, "submission 2") {
		t.Fatalf("withdraw: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, _, code := pledgestat(t, "-w", ws, "build"); code != 0 {
		t.Fatal("build after withdraw failed")
	}
	data, _ := os.ReadFile(filepath.Join(ws, "out", "latest", "ratification.parquet"))
	if len(data) == 0 {
		t.Fatal("no ratification table")
	}
	stdout, _, _ = pledgestat(t, "-w", ws, "history", "--key", "FRA|C097")
	if !strings.Contains(stdout, "w #2") || !strings.Contains(stdout, "* #1") {
		t.Errorf("history after withdraw:\n%s", stdout)
	}
	changes, _ := os.ReadFile(filepath.Join(ws, "out", "latest", "changes.csv"))
	if strings.Contains(string(changes), "changed") {
		t.Errorf("FRA ratified both in 1954 and 1955 before 2015: no indicator should change:\n%s", changes)
	}
	if _, stderr, code := pledgestat(t, "-w", ws, "withdraw", "b.csv"); code != exitFailure || !strings.Contains(stderr, "already withdrawn") {
		t.Errorf("second withdraw: exit %d %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(ws, "archive")); err != nil {
		t.Error("archive gone")
	}
	list, _ := os.ReadDir(filepath.Join(ws, "archive"))
	if len(list) != 2 {
		t.Errorf("archive = %v; a withdrawn file stays archived", list)
	}
}

func TestDemoRefusesARealWorkspace(t *testing.T) {
	ws := t.TempDir()
	if _, _, code := pledgestat(t, "init", ws); code != 0 {
		t.Fatal("init failed")
	}
	_, stderr, code := pledgestat(t, "demo", ws)
	if code != exitFailure || !strings.Contains(stderr, "not created by pledgestat demo") {
		t.Errorf("demo into a real workspace: exit %d\n%s", code, stderr)
	}
	if entries, _ := os.ReadDir(filepath.Join(ws, "inbox")); len(entries) != 0 {
		t.Errorf("demo seeded a real inbox: %v", entries)
	}
}

// A report that cannot be written (stdout on a full disk) is a failure,
// exit 1, not a silent success: in text and in JSON.
func TestValidateReportThatCannotBeWritten(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full here")
	}
	defer full.Close()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("country,year,value\nFRA,2020,70\n"), 0o644)
	for _, args := range [][]string{{"validate", good}, {"validate", "--json", good}} {
		cmd := exec.Command(binary, args...)
		cmd.Dir = dir
		cmd.Stdout = full
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitFailure || !strings.Contains(stderr.String(), "write the report") {
			t.Errorf("%v to a full disk: %v\n%s", args, err, stderr.String())
		}
	}
}

// TestNoGeneratedFilesInTheRepository: what commands write into the
// folder they run in (a template, the binary, a demo workspace) is never
// committed at the repository's root, where a first-time user found a
// template workbook.
func TestNoGeneratedFilesInTheRepository(t *testing.T) {
	out, err := exec.Command("git", "-C", "../..", "ls-files").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(f, "/") {
			continue
		}
		if strings.HasSuffix(f, ".xlsx") || strings.HasSuffix(f, ".parquet") || f == "pledgestat" || strings.HasPrefix(f, "pledgestat-demo") {
			t.Errorf("%s is committed at the repository's root", f)
		}
	}
}

// TestReadmeOpensWithItsTwoCommands guards the README's contract with a
// new user and with CI: it opens with exactly two commands, the demo run
// and the test suite, and .ci/run runs that same test command. An edit
// that emptied or reordered it once went unnoticed by every other test.
func TestReadmeOpensWithItsTwoCommands(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "```sh\n")
	if start < 0 || strings.Count(text[:start], "\n") > 3 {
		t.Fatalf("README does not open with a sh block of commands (found at byte %d)", start)
	}
	block, _, ok := strings.Cut(text[start+len("```sh\n"):], "```")
	if !ok {
		t.Fatal("README's first sh block is not closed")
	}
	var commands []string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		cmd, _, _ := strings.Cut(line, "#")
		commands = append(commands, strings.TrimSpace(cmd))
	}
	if len(commands) != 2 || commands[0] != "go run ./cmd/pledgestat demo" || commands[1] != "go test ./..." {
		t.Fatalf("README opens with %q, want the demo run and go test ./...", commands)
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, line := range strings.Split(string(ci), "\n") {
		if strings.TrimSpace(line) == commands[1] {
			found = true
		}
	}
	if !found {
		t.Errorf(".ci/run does not run the README's test command %q", commands[1])
	}
}

// TestShortCommandCollectsNothing checks the quiet start (package
// quietstart, memlimit.StartQuiet): the collector is off before the large
// packages are initialised, and a validate of a small file runs without
// one collection. Each collection of that start-up garbage was about a
// twentieth of a validate's time.
func TestShortCommandCollectsNothing(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("country,year,value\nFRA,2020,70\n"), 0o644)
	cmd := exec.Command(binary, "validate", good)
	cmd.Dir = dir
	// gcstoptheworld makes each collection end before the program goes
	// on, so that one is reported even when the command exits right
	// after it started (a concurrent one could be cut off unreported).
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1,gctrace=1,gcstoptheworld=1", "GOGC=", "GOMEMLIMIT=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("validate: %v\n%s", err, stderr.String())
	}
	var inits []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(line, "gc ") {
			t.Errorf("a collection in a short command: %s", line)
		}
		if f := strings.Fields(line); len(f) > 1 && f[0] == "init" {
			inits = append(inits, f[1])
		}
	}
	at := func(pkg string) int {
		for i, p := range inits {
			if p == pkg {
				return i
			}
		}
		t.Fatalf("no init of %s in:\n%s", pkg, strings.Join(inits, "\n"))
		return -1
	}
	quiet := at("github.com/ilo-pledge/pledgestat/internal/quietstart")
	for _, large := range []string{"github.com/xuri/excelize/v2", "github.com/apache/arrow-go/v18/arrow/compute"} {
		if at(large) < quiet {
			t.Errorf("%s is initialised before the collector is turned off", large)
		}
	}
}

// TestTestBinaryCollects: this test binary never runs main, which turns
// the collector back on; package quietstart's first collection must.
// Without it the suite ran with no collector and no memory limit (674 MB
// where 54 MB do).
func TestTestBinaryCollects(t *testing.T) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		got := debug.SetGCPercent(-1)
		debug.SetGCPercent(got) // read, not changed
		if got == quietstart.Percent() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the collector is at %d after collections, want %d (GOGC)", got, quietstart.Percent())
		}
	}
}

// heapLogWorkspace makes a workspace, and a small good CSV beside its
// inbox for validate, for the tests that read how a command prepared its
// heap.
func heapLogWorkspace(t *testing.T) (ws, good string) {
	t.Helper()
	ws = filepath.Join(t.TempDir(), "ws")
	if out, err := exec.Command(binary, "init", ws).CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	good = filepath.Join(ws, "good.csv")
	if err := os.WriteFile(good, []byte("country,year,value\nFRA,2020,70\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return ws, good
}

// debugLog runs a command on ws with the debug log, GOGC and GOMEMLIMIT
// unset (a developer's own would change what it does) and then env, and
// returns what it printed and its exit.
func debugLog(ws string, env []string, args ...string) (string, error) {
	cmd := exec.Command(binary, append([]string{"-w", ws, "--log-level", "debug"}, args...)...)
	cmd.Env = append(append(os.Environ(), "GOMEMLIMIT=", "GOGC="), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestBatchCommandsAdviseHugePages: ingest, build and run ask for a heap
// in huge pages (package hugeheap, whose own test checks that the system
// gives them); validate and the scheduler do not ask, and
// PLEDGESTAT_HUGE_PAGES=off turns the request off.
func TestBatchCommandsAdviseHugePages(t *testing.T) {
	// Whether the advice is taken depends on the machine (package
	// hugeheap's own test checks that); here, that batch commands ask.
	want := `msg="heap advice" huge_pages=`
	ws, good := heapLogWorkspace(t)
	for _, tc := range []struct {
		args []string
		env  []string
		want string // "" for no advice at all
	}{
		{args: []string{"ingest"}, want: want},
		{args: []string{"build"}, want: want},
		{args: []string{"run"}, want: want},
		{args: []string{"validate", good}},
		{args: []string{"ingest"}, env: []string{"PLEDGESTAT_HUGE_PAGES=off"}, want: `msg="heap advice" huge_pages=false why="PLEDGESTAT_HUGE_PAGES=off"`},
	} {
		out, err := debugLog(ws, tc.env, tc.args...)
		advice := strings.Contains(out, `msg="heap advice"`)
		if tc.want == "" && advice || tc.want != "" && !strings.Contains(out, tc.want) {
			t.Errorf("%v %s: want %q in the log (exit: %v)\n%s", tc.env, tc.args[0], tc.want, err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(ws, "pledgestat.toml"), []byte("[[schedule]]\nname = \"nightly\"\ncron = \"0 2 * * *\"\ncommand = \"run\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "-w", ws, "schedule")
	d.waitLog("schedule started", 10*time.Second)
	if code, _ := d.stop(15 * time.Second); code != 0 {
		t.Errorf("schedule: exit %d\n%s", code, d.log())
	}
	if d.logged(`msg="heap advice"`) || d.logged(`msg="heap goal kept above"`) {
		t.Errorf("the scheduler prepared its heap as a batch command:\n%s", d.log())
	}
}

// TestBatchCommandsKeepAHeapGoal: ingest, build and run keep the heap's
// goal above a floor (memlimit.KeepGoalAbove), unless the user set GOGC or
// GOMEMLIMIT; validate does not.
func TestBatchCommandsKeepAHeapGoal(t *testing.T) {
	ws, good := heapLogWorkspace(t)
	for _, tc := range []struct {
		args []string
		env  []string
		kept bool
	}{
		{args: []string{"ingest"}, kept: true},
		{args: []string{"build"}, kept: true},
		{args: []string{"run"}, kept: true},
		{args: []string{"validate", good}},
		{args: []string{"ingest"}, env: []string{"GOGC=50"}},
		{args: []string{"ingest"}, env: []string{"GOGC=off"}},
		{args: []string{"ingest"}, env: []string{"GOMEMLIMIT=1GiB"}},
	} {
		out, err := debugLog(ws, tc.env, tc.args...)
		if kept := strings.Contains(out, `msg="heap goal kept above"`); kept != tc.kept {
			t.Errorf("%v %s: heap goal kept %v, want %v (exit: %v)\n%s", tc.env, tc.args[0], kept, tc.kept, err, out)
		}
	}
}

// build takes the indicators of unchanged domains from the latest run;
// build --recompute and run --recompute compute every one.
func TestRecomputeComputesEveryIndicator(t *testing.T) {
	ws, good := heapLogWorkspace(t)
	if err := os.Rename(good, filepath.Join(ws, "inbox", "good.csv")); err != nil {
		t.Fatal(err)
	}
	if out, err := debugLog(ws, nil, "run"); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	const taken = `msg="indicators taken from the latest run`
	for i, args := range [][]string{{"build"}, {"build", "--recompute"}, {"run"}, {"run", "--recompute"}} {
		if args[0] == "run" {
			// A file of another domain: a run with nothing new builds nothing.
			name := filepath.Join(ws, "inbox", fmt.Sprintf("rat-%d.csv", i))
			if err := os.WriteFile(name, []byte(fmt.Sprintf("country,instrument,ratification_date\nFRA,C097,1954-03-%02d\n", 10+i)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out, err := debugLog(ws, nil, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		if recompute := len(args) > 1; strings.Contains(out, taken) == recompute {
			t.Errorf("%v: indicators taken from the latest run: %v, want %v\n%s", args, !recompute, !recompute, out)
		}
	}
}
