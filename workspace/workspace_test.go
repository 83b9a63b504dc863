package workspace

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDefaultConfigTextIsTheDefault(t *testing.T) {
	cfg, err := ParseConfig("pledgestat.toml", []byte(DefaultConfigText))
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	if cfg.Report != def.Report || cfg.Limits != def.Limits || cfg.Server != def.Server || len(cfg.Schedules) != 1 || cfg.Schedules[0] != def.Schedules[0] ||
		cfg.Watch != def.Watch || cfg.Scheduler != def.Scheduler {
		t.Errorf("init's configuration %+v differs from the defaults %+v", cfg, def)
	}
}

func TestConfigErrorsHaveLines(t *testing.T) {
	tests := []struct {
		name, text string
		line       int
		want       string
	}{
		{"unknown key", "[report]\nfirst_year = 2016\nlast_yaer = 2020\n", 3, "unknown key"},
		{"unknown table", "[reprot]\nfirst_year = 2016\n", 1, "unknown key"},
		{"bad type", "[report]\nfirst_year = \"2016\"\n", 2, ""},
		{"bad cron", "[[schedule]]\nname = \"a\"\ncron = \"0 2 * *\"\n", 3, "cron"},
		{"cron TZ", "[[schedule]]\nname = \"a\"\ncron = \"TZ=\"\n", 3, "time zone"},
		{"bad timezone", "[[schedule]]\nname = \"a\"\ncron = \"@daily\"\ntimezone = \"Mars/Olympus\"\n", 4, "timezone"},
		{"bad command", "[[schedule]]\nname = \"a\"\ncron = \"@daily\"\n\n[[schedule]]\nname = \"b\"\ncron = \"@daily\"\ncommand = \"deploy\"\n", 8, "command"},
		{"years", "[report]\nfirst_year = 2020\nlast_year = 2010\n", 3, "last_year"},
		{"limits", "[limits]\nmax_rows = -1\n", 2, "max_rows"},
		{"file size wraps to 0 in bytes", "[limits]\n\nmax_file_mb = 17592186044416\n", 3, "max_file_mb"},
		{"file size over its maximum", "[limits]\nmax_file_mb = 10241\n", 2, "10240"},
		{"unpacked size over its maximum", "[limits]\nmax_unpacked_mb = 65537\n", 2, "max_unpacked_mb"},
		{"rows over their maximum", "[limits]\nmax_rows = 100000001\n", 2, "max_rows"},
		{"settle overflows a duration", "[ingest]\nsettle_seconds = 8589934592\n", 2, "settle_seconds"},
		{"keep_runs over its maximum", "[retention]\nkeep_runs = 100001\n", 2, "keep_runs"},
		{"removed share over 1", "[gates]\nmax_removed_share = 2\n", 2, "max_removed_share"},
		{"negative changed share", "[gates]\nmax_changed_share = -0.1\n", 2, "max_changed_share"},
		{"coverage move over 100", "[gates]\nenabled = true\nmax_coverage_move = 250\n", 3, "max_coverage_move"},
		{"gates flag not a boolean", "[gates]\ncount_drop = \"yes\"\n", 2, ""},
		{"watch command", "[watch]\nenabled = true\ncommand = \"build\"\n", 3, "watch command"},
		{"watch settle", "[watch]\nsettle_seconds = -1\n", 2, "settle_seconds"},
		{"grace", "[scheduler]\ngrace_seconds = 7200\n", 2, "grace_seconds"},
		{"beyond int64", "[limits]\nmax_rows = 99999999999999999999\n", 2, ""},
		{"addr", "[server]\naddr = \"nowhere\"\n", 2, "addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("ws/pledgestat.toml", []byte(tt.text))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a ConfigError", err)
			}
			if ce.Line != tt.line || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v (line %d), want line %d mentioning %q", err, ce.Line, tt.line, tt.want)
			}
		})
	}
}

// The documented maxima themselves are accepted.
func TestConfigMaximaAccepted(t *testing.T) {
	text := fmt.Sprintf("[limits]\nmax_file_mb = %d\nmax_unpacked_mb = %d\nmax_rows = %d\n[ingest]\nsettle_seconds = %d\n[retention]\nkeep_runs = %d\n",
		MaxFileMBLimit, MaxUnpackedMBLimit, MaxRowsLimit, MaxSettleSeconds, MaxKeepRuns)
	cfg, err := ParseConfig("x", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Limits.MaxFileMB<<20 <= 0 || cfg.Limits.MaxUnpackedMB<<20 <= 0 || cfg.Ingest.SettleDuration() <= 0 {
		t.Errorf("a maximum overflows: %+v", cfg)
	}
}

// A pledgestat.toml that is a named pipe is refused at once, never waited
// on; so is one too large to be a configuration.
func TestConfigThatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ConfigName)
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := LoadConfig(path); done <- err }()
	select {
	case err := <-done:
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "named pipe") {
			t.Errorf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reading a FIFO configuration blocks")
	}
	os.Remove(path)
	os.WriteFile(path, bytes.Repeat([]byte("# comment\n"), MaxConfigBytes/10+1), 0o644)
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("huge configuration: %v", err)
	}
}

// Keys whose default is not zero keep it when absent and take an explicit
// zero when given.
func TestWatchAndSchedulerDefaults(t *testing.T) {
	cfg, err := ParseConfig("x", []byte("[watch]\nenabled = true\n"))
	if err != nil || !cfg.Watch.Enabled || cfg.Watch.SettleSeconds != 60 || cfg.Watch.Command != "run" || cfg.Scheduler.GraceSeconds != 300 {
		t.Errorf("defaults: %+v %+v %v", cfg.Watch, cfg.Scheduler, err)
	}
	cfg, err = ParseConfig("x", []byte("[watch]\nsettle_seconds = 0\ncommand = \"ingest\"\n[scheduler]\ngrace_seconds = 0\n"))
	if err != nil || cfg.Watch.SettleSeconds != 0 || cfg.Watch.Command != "ingest" || cfg.Scheduler.GraceSeconds != 0 {
		t.Errorf("explicit values: %+v %+v %v", cfg.Watch, cfg.Scheduler, err)
	}
}

func TestConfigOverlaysDefaults(t *testing.T) {
	cfg, err := ParseConfig("x", []byte("[report]\nlast_year = 2024\n[limits]\nmax_file_mb = 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Report.FirstYear != 2015 || cfg.Report.LastYear != 2024 || cfg.Limits.MaxFileMB != 5 || cfg.Limits.MaxRows != 1048576 || len(cfg.Schedules) != 1 {
		t.Errorf("cfg = %+v", cfg)
	}

}

func TestLockNamesHolder(t *testing.T) {
	w, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := w.TryLock("run")
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.TryLock("build")
	var locked *ErrLocked
	if !errors.As(err, &locked) || locked.Holder.PID != os.Getpid() || locked.Holder.Command != "run" {
		t.Fatalf("second lock: %v", err)
	}
	if !strings.Contains(err.Error(), "PID") {
		t.Errorf("message %q does not name the PID", err)
	}
	l.Release()
	l2, err := w.TryLock("build")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.Release()
}

func TestRunIDs(t *testing.T) {
	w, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	id, _ := w.NewRunID(at)
	if id != "20261126T020000Z" {
		t.Errorf("id = %s", id)
	}
	w.RecordRun(RunRecord{RunID: id})
	os.MkdirAll(filepath.Join(w.Runs(), id+"-2"), 0o755)
	if id, _ := w.NewRunID(at); id != "20261126T020000Z-3" {
		t.Errorf("taken ids must get a suffix: %s", id)
	}
}

func TestInboxFilesSkipsEditorFiles(t *testing.T) {
	w, err := Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"b.xlsx", "a.csv", "~$b.xlsx", ".DS_Store", "sub/c.xlsx", ".hidden/d.csv"} {
		p := filepath.Join(w.Inbox(), name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("x"), 0o644)
	}
	files, err := w.InboxFiles()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "a.csv,b.xlsx,sub/c.xlsx" {
		t.Errorf("inbox = %v", names)
	}
	if got, err := w.RejectedPath("R", "sub/c.xlsx"); err != nil || filepath.Base(got) != "R-sub__c.xlsx" {
		t.Errorf("rejected name = %s", got)
	}
}

// Nightly runs do not fill the disk by default: without keep_runs, 30
// runs are kept; keep_runs = 0 still keeps all.
func TestKeepRunsDefault(t *testing.T) {
	for _, tc := range []struct {
		text string
		want int
	}{
		{"", DefaultKeepRuns},
		{"[report]\nfirst_year = 2016\n", DefaultKeepRuns},
		{"[retention]\nkeep_runs = 0\n", 0},
		{"[retention]\nkeep_runs = 5\n", 5},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, ConfigName), []byte(tc.text), 0o644)
		w, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Config.Retention.KeepRuns; got != tc.want {
			t.Errorf("%q: keep_runs %d, want %d", tc.text, got, tc.want)
		}
	}
	if DefaultKeepRuns != 30 {
		t.Errorf("DefaultKeepRuns = %d", DefaultKeepRuns)
	}
}

// The gates keep their defaults where the file is silent, and take what
// it gives, even false or 0; an integer is read as a number of points.
func TestGatesConfig(t *testing.T) {
	cfg, err := ParseConfig("pledgestat.toml", []byte("[report]\nfirst_year = 2016\n"))
	if err != nil || cfg.Gates != DefaultGates() {
		t.Fatalf("without [gates]: %+v, %v; want %+v", cfg.Gates, err, DefaultGates())
	}
	cfg, err = ParseConfig("pledgestat.toml", []byte("[gates]\ncount_drop = false\nmax_coverage_move = 40\nmax_removed_share = 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultGates()
	want.CountDrop, want.MaxCoverageMove, want.MaxRemovedShare = false, 40, 0
	if cfg.Gates != want {
		t.Errorf("gates = %+v, want %+v", cfg.Gates, want)
	}
}
