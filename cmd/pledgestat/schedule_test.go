package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ilo-pledge/pledgestat/pipeline"
	"github.com/ilo-pledge/pledgestat/publish"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// daemon is a `pledgestat schedule` process under test, with its log.
type daemon struct {
	t     *testing.T
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	done  chan struct{}
}

func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, cmd: exec.Command(binary, append([]string{"--log-level", "debug"}, args...)...), done: make(chan struct{})}
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stdout = io.Discard
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(d.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			d.mu.Lock()
			d.lines = append(d.lines, sc.Text())
			d.mu.Unlock()
		}
	}()
	t.Cleanup(func() { d.cmd.Process.Kill() })
	return d
}

// waitLog waits for a log line containing text.
func (d *daemon) waitLog(text string, within time.Duration) {
	d.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if d.logged(text) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.t.Fatalf("no log line with %q within %v; log:\n%s", text, within, d.log())
}

func (d *daemon) logged(text string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, l := range d.lines {
		if strings.Contains(l, text) {
			return true
		}
	}
	return false
}

func (d *daemon) log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.lines, "\n")
}

// stop sends SIGTERM and returns the exit status and how long it took.
func (d *daemon) stop(within time.Duration) (int, time.Duration) {
	d.t.Helper()
	start := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan struct{})
	go func() { d.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(within):
		d.cmd.Process.Kill()
		d.t.Fatalf("still running %v after SIGTERM; log:\n%s", within, d.log())
	}
	<-d.done
	return d.cmd.ProcessState.ExitCode(), time.Since(start)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func history(t *testing.T, w *workspace.Workspace) []workspace.RunRecord {
	t.Helper()
	h, err := w.RunHistory()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func countTrigger(h []workspace.RunRecord, trigger string) int {
	n := 0
	for _, r := range h {
		if r.Trigger == trigger {
			n++
		}
	}
	return n
}

// The scheduler end to end: a missed nightly run is caught up once (and
// not again after a restart), a fast job fires, --serve answers, status
// sees the scheduler, a second scheduler is refused, SIGHUP refuses a bad
// file and applies a good one, SIGTERM exits 0 with the locks free.
func TestScheduleEndToEnd(t *testing.T) {
	w, err := workspace.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(w.Root, "pledgestat.toml")
	config := "[[schedule]]\nname = \"nightly\"\ncron = \"0 2 * * *\"\ncommand = \"run\"\n\n[[schedule]]\nname = \"fast\"\ncron = \"@every 1s\"\ncommand = \"ingest\"\n"
	os.WriteFile(cfgPath, []byte(config), 0o644)
	os.WriteFile(filepath.Join(w.Inbox(), "a.csv"), []byte("country,year,value\nFRA,2020,50\n"), 0o644)
	// The nightly job last ran three days ago: the process was down since.
	w.RecordRun(workspace.RunRecord{RunID: "20200101T020000Z", Command: "run", StartedAt: time.Now().Add(-72 * time.Hour), FinishedAt: time.Now().Add(-72 * time.Hour),
		Outcome: "ok", Trigger: "schedule nightly"})
	addr := freeAddr(t)

	d := startDaemon(t, "-w", w.Root, "schedule", "--serve", "--addr", addr)
	d.waitLog("catching up", 10*time.Second)
	d.waitLog(`msg="run finished"`, 20*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for countTrigger(history(t, w), "schedule fast") == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	h := history(t, w)
	if countTrigger(h, "schedule nightly") != 2 || countTrigger(h, "schedule fast") == 0 {
		t.Fatalf("history: %d nightly (want the old one and one catch-up), %d fast", countTrigger(h, "schedule nightly"), countTrigger(h, "schedule fast"))
	}
	if latest, _ := publish.Latest(w.Out()); latest == "" {
		t.Error("the catch-up run published nothing")
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("--serve: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}
	stdout, _, _ := pledgestat(t, "-w", w.Root, "status")
	if !strings.Contains(stdout, "scheduler  running (PID") || !strings.Contains(stdout, "job fast: ingest") {
		t.Errorf("status does not see the scheduler:\n%s", stdout)
	}
	second := startDaemon(t, "-w", w.Root, "schedule")
	select {
	case <-second.done:
		second.cmd.Wait()
		if code := second.cmd.ProcessState.ExitCode(); code != exitFailure || !second.logged("already serves") {
			t.Errorf("a second scheduler: exit %d\n%s", code, second.log())
		}
	case <-time.After(10 * time.Second):
		second.cmd.Process.Kill()
		t.Error("a second scheduler started beside the first")
	}

	// A bad file is refused with its line; the schedules go on.
	os.WriteFile(cfgPath, []byte(config+"\n[limits]\nmax_rows = -5\n"), 0o644)
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog("reload refused", 5*time.Second)
	if !d.logged("pledgestat.toml:12") {
		t.Errorf("the refusal does not name the line:\n%s", d.log())
	}
	before := countTrigger(history(t, w), "schedule fast")
	time.Sleep(2500 * time.Millisecond)
	if countTrigger(history(t, w), "schedule fast") == before {
		t.Error("the schedules stopped after a refused reload")
	}
	// A good file replaces the jobs, and its server token applies at once.
	os.WriteFile(cfgPath, []byte("[[schedule]]\nname = \"nightly\"\ncron = \"0 2 * * *\"\ncommand = \"run\"\n\n[server]\ntoken = \"rotated\"\n"), 0o644)
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog("reloaded", 5*time.Second)
	status := func(token string) int { return httpStatus(t, addr, "/api/runs", token) }
	if without, with := status(""), status("rotated"); without != 401 || with != 200 {
		t.Errorf("after reloading a token: %d without it, %d with it", without, with)
	}
	time.Sleep(1500 * time.Millisecond)
	before = countTrigger(history(t, w), "schedule fast")
	time.Sleep(2500 * time.Millisecond)
	if after := countTrigger(history(t, w), "schedule fast"); after != before {
		t.Errorf("the removed job still fires: %d → %d", before, after)
	}

	code, took := d.stop(15 * time.Second)
	if code != 0 {
		t.Errorf("exit %d after SIGTERM\n%s", code, d.log())
	}
	t.Logf("stopped %v after SIGTERM", took.Round(time.Millisecond))
	checkLocksFree(t, w)

	// A restart does not catch up again.
	d2 := startDaemon(t, "-w", w.Root, "schedule")
	d2.waitLog("schedule started", 10*time.Second)
	time.Sleep(1500 * time.Millisecond)
	if code, _ := d2.stop(15 * time.Second); code != 0 {
		t.Errorf("restart: exit %d", code)
	}
	if n := countTrigger(history(t, w), "schedule nightly"); n != 2 {
		t.Errorf("after a restart: %d nightly runs, want 2 (no second catch-up)", n)
	}
}

func checkLocksFree(t *testing.T, w *workspace.Workspace) {
	t.Helper()
	l, err := w.TryLock("test")
	if err != nil {
		t.Fatalf("the run lock is held: %v", err)
	}
	l.Release()
	s, err := w.TrySchedulerLock("test")
	if err != nil {
		t.Fatalf("the scheduler lock is held: %v", err)
	}
	s.Release()
}

// SIGTERM during a long run: the run may finish within the grace period;
// past it, it is aborted cleanly (nothing published half, lock free) and
// the process exits 0.
func TestScheduleGraceAbortsALongRun(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a large file")
	}
	w, err := workspace.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(w.Root, "pledgestat.toml"), []byte("[scheduler]\ngrace_seconds = 1\n\n[watch]\nenabled = true\nsettle_seconds = 0\n"), 0o644)
	writeBigCSV(t, filepath.Join(w.Inbox(), "big.csv"), 1_000_000)
	d := startDaemon(t, "-w", w.Root, "schedule")
	d.waitLog("msg=reading", 20*time.Second)
	time.Sleep(500 * time.Millisecond)
	code, took := d.stop(10 * time.Second)
	if code != 0 {
		t.Errorf("exit %d\n%s", code, d.log())
	}
	if took > 4*time.Second {
		t.Errorf("stopping took %v with a grace of 1 s", took)
	}
	if !d.logged("grace period is over") {
		t.Errorf("the run was not aborted after the grace:\n%s", d.log())
	}
	checkLocksFree(t, w)
	if latest, _ := publish.Latest(w.Out()); latest != "" {
		t.Errorf("an aborted run published %s", latest)
	}
	if _, err := os.Stat(filepath.Join(w.Inbox(), "big.csv")); err != nil {
		t.Errorf("the file being read left the inbox: %v", err)
	}
	h := history(t, w)
	if len(h) != 1 || h[0].Outcome != "failed" || h[0].Trigger != "watch" {
		t.Errorf("history: %+v", h)
	}
}

// The watcher: files dropped together make one run once settled; a file
// dropped later makes another.
func TestScheduleWatchesTheInbox(t *testing.T) {
	w, err := workspace.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(w.Root, "pledgestat.toml"), []byte("[watch]\nenabled = true\ncommand = \"ingest\"\nsettle_seconds = 2\n"), 0o644)
	d := startDaemon(t, "-w", w.Root, "schedule")
	d.waitLog("watching the inbox", 10*time.Second)
	for i := 0; i < 60; i++ {
		os.WriteFile(filepath.Join(w.Inbox(), fmt.Sprintf("f%02d.csv", i)), []byte(fmt.Sprintf("country,year,value\nFRA,%d,50\n", 2000+i)), 0o644)
		if i%20 == 0 {
			time.Sleep(300 * time.Millisecond)
		}
	}
	waitFor(t, 20*time.Second, func() bool { return countTrigger(history(t, w), "watch") == 1 && inboxEmpty(w) })
	os.WriteFile(filepath.Join(w.Inbox(), "late.csv"), []byte("country,year,value\nDEU,2020,50\n"), 0o644)
	waitFor(t, 20*time.Second, func() bool { return countTrigger(history(t, w), "watch") == 2 && inboxEmpty(w) })
	h := history(t, w)
	if h[0].Accepted != 60 || h[1].Accepted != 1 {
		t.Errorf("runs took %d and %d files, want 60 then 1", h[0].Accepted, h[1].Accepted)
	}
	if code, _ := d.stop(15 * time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
	var st pipeline.Status
	stdout, _, _ := pledgestat(t, "-w", w.Root, "status", "--json")
	if json.Unmarshal([]byte(stdout), &st) != nil || st.Scheduler.Running || !st.Scheduler.Watch {
		t.Errorf("status after the stop: %+v", st.Scheduler)
	}
}

func inboxEmpty(w *workspace.Workspace) bool {
	files, err := w.InboxFiles()
	return err == nil && len(files) == 0
}

func waitFor(t *testing.T, within time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not done within %v", within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// serve on its own: answers, honours PLEDGESTAT_TOKEN, exits 0 on SIGTERM.
func TestServeCommand(t *testing.T) {
	ws := fixtureWorkspace(t)
	if _, stderr, code := pledgestat(t, "-w", ws, "run"); code != exitOK && code != exitRejected {
		t.Fatalf("run: %d\n%s", code, stderr)
	}
	addr := freeAddr(t)
	d := &daemon{t: t, cmd: exec.Command(binary, "-w", ws, "serve", "--addr", addr), done: make(chan struct{})}
	d.cmd.Env = append(os.Environ(), "PLEDGESTAT_TOKEN=tok")
	stderr, _ := d.cmd.StderrPipe()
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(d.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			d.mu.Lock()
			d.lines = append(d.lines, sc.Text())
			d.mu.Unlock()
		}
	}()
	t.Cleanup(func() { d.cmd.Process.Kill() })
	d.waitLog("serving", 10*time.Second)
	get := func(path, token string) int { return httpStatus(t, addr, path, token) }
	if get("/healthz", "") != 200 || get("/api/runs", "") != 401 || get("/api/runs", "tok") != 200 || get("/", "tok") != 200 {
		t.Errorf("routes: healthz %d, runs without token %d, with %d", get("/healthz", ""), get("/api/runs", ""), get("/api/runs", "tok"))
	}
	if code, _ := d.stop(10 * time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
}

// httpStatus is the status of GET path on addr, with a bearer token when
// one is given.
func httpStatus(t *testing.T, addr, path, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
