package workspace

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/schedules"
)

// ConfigName is the configuration file of a workspace.
const ConfigName = "pledgestat.toml"

// Config is pledgestat.toml (cli.md). Every key is optional.
type Config struct {
	Report    ReportConfig     `toml:"report"`
	Schedules []ScheduleConfig `toml:"schedule"`
	Limits    LimitsConfig     `toml:"limits"`
	Server    ServerConfig     `toml:"server"`
	Retention RetentionConfig  `toml:"retention"`
	Ingest    IngestConfig     `toml:"ingest"`
	Watch     WatchConfig      `toml:"watch"`
	Scheduler SchedulerConfig  `toml:"scheduler"`
	Gates     GatesConfig      `toml:"gates"`
}

// GatesConfig holds the publish gates (cli.md): a build that breaks a
// rule is published under out/runs/ but out/latest is not switched to it
// (the run is held) until an operator releases it.
type GatesConfig struct {
	Enabled bool `toml:"enabled"`
	// MaxRemovedShare and MaxChangedShare: the share of the previous
	// run's observations removed, or whose value changed (1 never holds).
	MaxRemovedShare float64 `toml:"max_removed_share"`
	MaxChangedShare float64 `toml:"max_changed_share"`
	// MaxCoverageMove: percentage points a social-protection value may
	// move between runs (100 never holds).
	MaxCoverageMove float64 `toml:"max_coverage_move"`
	// CountDrop: hold when a count for a past year falls with no
	// denunciation or withdrawal to explain it.
	CountDrop bool `toml:"count_drop"`
	// AreaVanished: hold when a country or region published before has no
	// observation any more.
	AreaVanished bool `toml:"area_vanished"`
}

// WatchConfig makes `schedule` also run when new inbox files have
// settled.
type WatchConfig struct {
	Enabled bool   `toml:"enabled"`
	Command string `toml:"command"` // run or ingest
	// SettleSeconds is the quiet time after the last file arrived before
	// the run starts: files arriving together make one run.
	SettleSeconds int `toml:"settle_seconds"`
}

// Settle is SettleSeconds as a duration.
func (c WatchConfig) Settle() time.Duration { return time.Duration(c.SettleSeconds) * time.Second }

// SchedulerConfig tunes the long-running `schedule` process.
type SchedulerConfig struct {
	// GraceSeconds: on SIGTERM, how long a running job may finish before
	// it is aborted.
	GraceSeconds int `toml:"grace_seconds"`
}

// Grace is GraceSeconds as a duration.
func (c SchedulerConfig) Grace() time.Duration { return time.Duration(c.GraceSeconds) * time.Second }

// IngestConfig tunes how the inbox is taken.
type IngestConfig struct {
	// SettleSeconds: a file modified less than this many seconds ago is
	// left for a later run (it may still be being copied). 0 takes every
	// file at once; a file that changes while it is read is always left.
	SettleSeconds int `toml:"settle_seconds"`
}

// SettleDuration is SettleSeconds as a duration.
func (c IngestConfig) SettleDuration() time.Duration {
	return time.Duration(c.SettleSeconds) * time.Second
}

// ReportConfig is the report window.
type ReportConfig struct {
	FirstYear int `toml:"first_year"`
	LastYear  int `toml:"last_year"` // 0: the latest year in the accepted data
}

// ScheduleConfig is one scheduled job.
type ScheduleConfig struct {
	Name     string `toml:"name"`
	Cron     string `toml:"cron"`
	Command  string `toml:"command"`
	Timezone string `toml:"timezone"`
}

// LimitsConfig bounds what a dropped file may cost.
type LimitsConfig struct {
	MaxFileMB     int64 `toml:"max_file_mb"`
	MaxUnpackedMB int64 `toml:"max_unpacked_mb"`
	MaxRows       int   `toml:"max_rows"`
}

// ServerConfig configures the download service.
type ServerConfig struct {
	Addr  string `toml:"addr"`
	Token string `toml:"token"`
}

// RetentionConfig says how many runs to keep under out/runs (0: all).
type RetentionConfig struct {
	KeepRuns int `toml:"keep_runs"`
}

// DefaultConfig is what a workspace without pledgestat.toml uses.
func DefaultConfig() Config {
	return Config{
		Report:    ReportConfig{FirstYear: 2015},
		Schedules: []ScheduleConfig{{Name: "nightly", Cron: "0 2 * * *", Command: "run", Timezone: "UTC"}},
		Limits:    LimitsConfig{MaxFileMB: 100, MaxUnpackedMB: 1024, MaxRows: 1048576},
		Server:    ServerConfig{Addr: "127.0.0.1:8080"},
		Watch:     WatchConfig{Command: "run", SettleSeconds: 60},
		Scheduler: SchedulerConfig{GraceSeconds: 300},
		Retention: RetentionConfig{KeepRuns: DefaultKeepRuns},
		Gates:     DefaultGates(),
	}
}

// DefaultGates are the publish gates of cli.md's defaults.
func DefaultGates() GatesConfig {
	return GatesConfig{Enabled: true, MaxRemovedShare: 0.02, MaxChangedShare: 0.10, MaxCoverageMove: 25, CountDrop: true, AreaVanished: true}
}

// ConfigError is a problem in pledgestat.toml, with its line.
type ConfigError struct {
	File string
	Line int // 0 when unknown
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// MaxConfigBytes bounds pledgestat.toml: a configuration is a few lines.
const MaxConfigBytes = 1 << 20

// Maxima of the numeric keys (documented in DefaultConfigText and the
// README). A value beyond one is refused with its line: larger values
// would overflow when turned into bytes or durations, or switch a guard
// off by wrapping around.
const (
	MaxFileMBLimit     = 10 << 10  // 10 GiB
	MaxUnpackedMBLimit = 64 << 10  // 64 GiB
	MaxRowsLimit       = 100000000 // rows per sheet or CSV file
	MaxSettleSeconds   = 86400     // one day
	MaxKeepRuns        = 100000
	// DefaultKeepRuns is how many runs are kept when pledgestat.toml does
	// not say: nightly runs must not fill the disk by default (the spec's
	// default of 0, keep all, does; docs/decisions.md).
	DefaultKeepRuns = 30
	MaxGraceSeconds = 3600 // one hour
)

// LoadConfig reads a configuration file; a missing file gives the defaults.
// Unknown keys and bad values are refused with their line.
func LoadConfig(path string) (Config, error) {
	raw, err := fsx.ReadRegular(path, MaxConfigBytes)
	if errors.Is(err, os.ErrNotExist) {
		return DefaultConfig(), nil
	}
	var notRegular *fsx.NotRegularError
	var tooBig *fsx.TooBigError
	switch {
	case errors.As(err, &notRegular):
		return Config{}, &ConfigError{File: path, Msg: fmt.Sprintf("it is %s, not a regular file; replace it with a text file", fsx.Kind(notRegular.Mode))}
	case errors.As(err, &tooBig):
		return Config{}, &ConfigError{File: path, Msg: fmt.Sprintf("it is larger than %d KiB; a configuration is a few lines of text", MaxConfigBytes>>10)}
	case err != nil:
		return Config{}, fmt.Errorf("read %s: %w", path, err)
	}
	return ParseConfig(path, raw)
}

// ParseConfig parses configuration text; name is used in messages.
func ParseConfig(name string, raw []byte) (Config, error) {
	cfg := DefaultConfig()
	// Keys a file leaves out keep these values; one it gives, even 0,
	// replaces them.
	parsed := Config{Retention: RetentionConfig{KeepRuns: DefaultKeepRuns}}
	dec := toml.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&parsed); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) && len(strict.Errors) > 0 {
			e := strict.Errors[0]
			line, _ := e.Position()
			return cfg, &ConfigError{File: name, Line: line, Msg: fmt.Sprintf("unknown key %q", strings.Join(e.Key(), "."))}
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			msg := de.Error()
			if m := typeMismatch.FindStringSubmatch(msg); m != nil {
				key := strings.Join(de.Key(), ".")
				if key == "" {
					key = "value"
				}
				msg = fmt.Sprintf("%s: expected %s, found a TOML %s", key, goTypeWords[m[2]], m[1])
			}
			return cfg, &ConfigError{File: name, Line: line, Msg: msg}
		}
		return cfg, &ConfigError{File: name, Msg: err.Error()}
	}
	merge(&cfg, parsed, raw)
	// Keys whose default is not the zero value: present or not.
	var present struct {
		Watch struct {
			Command       *string `toml:"command"`
			SettleSeconds *int    `toml:"settle_seconds"`
		} `toml:"watch"`
		Scheduler struct {
			GraceSeconds *int `toml:"grace_seconds"`
		} `toml:"scheduler"`
		Gates struct {
			Enabled         *bool    `toml:"enabled"`
			MaxRemovedShare *float64 `toml:"max_removed_share"`
			MaxChangedShare *float64 `toml:"max_changed_share"`
			MaxCoverageMove *float64 `toml:"max_coverage_move"`
			CountDrop       *bool    `toml:"count_drop"`
			AreaVanished    *bool    `toml:"area_vanished"`
		} `toml:"gates"`
	}
	if err := toml.Unmarshal(raw, &present); err == nil {
		cfg.Watch.Enabled = parsed.Watch.Enabled
		if present.Watch.Command != nil {
			cfg.Watch.Command = *present.Watch.Command
		}
		if present.Watch.SettleSeconds != nil {
			cfg.Watch.SettleSeconds = *present.Watch.SettleSeconds
		}
		if present.Scheduler.GraceSeconds != nil {
			cfg.Scheduler.GraceSeconds = *present.Scheduler.GraceSeconds
		}
		g := present.Gates
		setIf(&cfg.Gates.Enabled, g.Enabled)
		setIf(&cfg.Gates.MaxRemovedShare, g.MaxRemovedShare)
		setIf(&cfg.Gates.MaxChangedShare, g.MaxChangedShare)
		setIf(&cfg.Gates.MaxCoverageMove, g.MaxCoverageMove)
		setIf(&cfg.Gates.CountDrop, g.CountDrop)
		setIf(&cfg.Gates.AreaVanished, g.AreaVanished)
	}
	if err := cfg.validate(name, raw); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// setIf sets *dst to *v when the file gave v.
func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// merge overlays the keys present in the file on the defaults.
func merge(cfg *Config, parsed Config, raw []byte) {
	if parsed.Report.FirstYear != 0 {
		cfg.Report.FirstYear = parsed.Report.FirstYear
	}
	cfg.Report.LastYear = parsed.Report.LastYear
	if hasTableArray(raw, "schedule") {
		cfg.Schedules = parsed.Schedules
		for i := range cfg.Schedules {
			if cfg.Schedules[i].Command == "" {
				cfg.Schedules[i].Command = "run"
			}
			if cfg.Schedules[i].Timezone == "" {
				cfg.Schedules[i].Timezone = "UTC"
			}
			if cfg.Schedules[i].Name == "" {
				cfg.Schedules[i].Name = fmt.Sprintf("schedule-%d", i+1)
			}
		}
	}
	if parsed.Limits.MaxFileMB != 0 {
		cfg.Limits.MaxFileMB = parsed.Limits.MaxFileMB
	}
	if parsed.Limits.MaxUnpackedMB != 0 {
		cfg.Limits.MaxUnpackedMB = parsed.Limits.MaxUnpackedMB
	}
	if parsed.Limits.MaxRows != 0 {
		cfg.Limits.MaxRows = parsed.Limits.MaxRows
	}
	if parsed.Server.Addr != "" {
		cfg.Server.Addr = parsed.Server.Addr
	}
	cfg.Server.Token = parsed.Server.Token
	cfg.Retention = parsed.Retention
	cfg.Ingest = parsed.Ingest
}

var typeMismatch = regexp.MustCompile(`cannot decode TOML (\w+) into .* of type (\w+)`)

var goTypeWords = map[string]string{"int": "a whole number", "int64": "a whole number", "string": "text in quotes", "bool": "true or false"}

var tableArrayLine = regexp.MustCompile(`(?m)^\s*\[\[\s*([A-Za-z_]+)\s*\]\]`)

func hasTableArray(raw []byte, name string) bool {
	for _, m := range tableArrayLine.FindAllSubmatch(raw, -1) {
		if string(m[1]) == name {
			return true
		}
	}
	return false
}

// lineOf finds the line of key in the n-th (0-based) occurrence of table,
// for messages about values that parse but are wrong.
func lineOf(raw []byte, table string, n int, key string) int {
	lines := strings.Split(string(raw), "\n")
	seen := -1
	in := table == ""
	keyRe := regexp.MustCompile(`^\s*` + regexp.QuoteMeta(key) + `\s*=`)
	headRe := regexp.MustCompile(`^\s*\[\[?\s*([A-Za-z_.]+)\s*\]\]?`)
	for i, l := range lines {
		if m := headRe.FindStringSubmatch(l); m != nil {
			in = m[1] == table
			if in {
				seen++
			}
			continue
		}
		if in && (seen == n || table == "" || n < 0) && keyRe.MatchString(l) {
			return i + 1
		}
	}
	return 0
}

func (c Config) validate(name string, raw []byte) error {
	bad := func(table string, n int, key, format string, args ...any) error {
		return &ConfigError{File: name, Line: lineOf(raw, table, n, key), Msg: fmt.Sprintf(format, args...)}
	}
	if c.Report.FirstYear < 1900 || c.Report.FirstYear > 2100 {
		return bad("report", 0, "first_year", "first_year %d is not a year from 1900 to 2100", c.Report.FirstYear)
	}
	if c.Report.LastYear != 0 && (c.Report.LastYear < c.Report.FirstYear || c.Report.LastYear > 2100) {
		return bad("report", 0, "last_year", "last_year %d must be from first_year (%d) to 2100", c.Report.LastYear, c.Report.FirstYear)
	}
	names := map[string]bool{}
	for i, s := range c.Schedules {
		if names[s.Name] {
			return bad("schedule", i, "name", "schedule name %q is used twice", s.Name)
		}
		names[s.Name] = true
		if _, err := schedules.ParseCron(s.Cron); err != nil {
			return bad("schedule", i, "cron", "schedule %q: cron %q: %v", s.Name, s.Cron, err)
		}
		switch s.Command {
		case "run", "ingest", "build":
		default:
			return bad("schedule", i, "command", "schedule %q: command %q must be run, ingest or build", s.Name, s.Command)
		}
		if _, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "" || s.Timezone == "Local" {
			return bad("schedule", i, "timezone", "schedule %q: timezone %q is not an IANA time zone name such as UTC or Europe/Zurich", s.Name, s.Timezone)
		}
	}
	if c.Limits.MaxFileMB <= 0 || c.Limits.MaxFileMB > MaxFileMBLimit {
		return bad("limits", 0, "max_file_mb", "max_file_mb %d must be from 1 to %d (10 GiB)", c.Limits.MaxFileMB, MaxFileMBLimit)
	}
	if c.Limits.MaxUnpackedMB <= 0 || c.Limits.MaxUnpackedMB > MaxUnpackedMBLimit {
		return bad("limits", 0, "max_unpacked_mb", "max_unpacked_mb %d must be from 1 to %d (64 GiB)", c.Limits.MaxUnpackedMB, MaxUnpackedMBLimit)
	}
	if c.Limits.MaxRows <= 0 || c.Limits.MaxRows > MaxRowsLimit {
		return bad("limits", 0, "max_rows", "max_rows %d must be from 1 to %d", c.Limits.MaxRows, MaxRowsLimit)
	}
	if _, _, err := net.SplitHostPort(c.Server.Addr); err != nil {
		return bad("server", 0, "addr", "addr %q is not HOST:PORT", c.Server.Addr)
	}
	if c.Ingest.SettleSeconds < 0 || c.Ingest.SettleSeconds > MaxSettleSeconds {
		return bad("ingest", 0, "settle_seconds", "settle_seconds %d must be from 0 to %d (one day)", c.Ingest.SettleSeconds, MaxSettleSeconds)
	}
	switch c.Watch.Command {
	case "run", "ingest":
	default:
		return bad("watch", 0, "command", "watch command %q must be run or ingest", c.Watch.Command)
	}
	if c.Watch.SettleSeconds < 0 || c.Watch.SettleSeconds > MaxSettleSeconds {
		return bad("watch", 0, "settle_seconds", "watch settle_seconds %d must be from 0 to %d (one day)", c.Watch.SettleSeconds, MaxSettleSeconds)
	}
	if c.Scheduler.GraceSeconds < 0 || c.Scheduler.GraceSeconds > MaxGraceSeconds {
		return bad("scheduler", 0, "grace_seconds", "grace_seconds %d must be from 0 to %d (one hour)", c.Scheduler.GraceSeconds, MaxGraceSeconds)
	}
	if c.Retention.KeepRuns < 0 || c.Retention.KeepRuns > MaxKeepRuns {
		return bad("retention", 0, "keep_runs", "keep_runs %d must be from 0 (keep all) to %d", c.Retention.KeepRuns, MaxKeepRuns)
	}
	for _, share := range []struct {
		key string
		v   float64
	}{{"max_removed_share", c.Gates.MaxRemovedShare}, {"max_changed_share", c.Gates.MaxChangedShare}} {
		if !(share.v >= 0 && share.v <= 1) {
			return bad("gates", 0, share.key, "%s %g must be a share from 0 to 1 (1 never holds a run)", share.key, share.v)
		}
	}
	if !(c.Gates.MaxCoverageMove >= 0 && c.Gates.MaxCoverageMove <= 100) {
		return bad("gates", 0, "max_coverage_move", "max_coverage_move %g must be from 0 to 100 percentage points (100 never holds a run)", c.Gates.MaxCoverageMove)
	}
	return nil
}

// DefaultConfigText is the commented configuration `init` writes: every
// key, with its default.
const DefaultConfigText = `# pledgestat configuration. Every key is optional; the values shown are the
# defaults. Uncomment a line to change it.

[report]
first_year = 2015          # first time_period published
# last_year = 2025         # default: latest year in the accepted data

# Scheduled jobs for "pledgestat schedule". Without any [[schedule]] table,
# "run" runs every night at 02:00 UTC.
[[schedule]]
name = "nightly"
cron = "0 2 * * *"         # standard 5-field cron; descriptors like @daily accepted
command = "run"            # run | ingest | build
timezone = "UTC"           # IANA name, e.g. Europe/Zurich

[limits]
max_file_mb = 100          # larger files are rejected as too_large (at most 10240)
max_unpacked_mb = 1024     # total unpacked size of a workbook's parts (at most 65536)
max_rows = 1048576         # rows per sheet or CSV file (at most 100000000)

[server]
addr = "127.0.0.1:8080"
# token = "..."            # when set, downloads need "Authorization: Bearer <token>"

[retention]
keep_runs = 30             # newest runs kept under out/runs (out/latest always); 0 keeps all (at most 100000)

[ingest]
settle_seconds = 0         # leave files modified less than this many seconds ago for a later run (at most 86400)

# "pledgestat schedule" can also run when files arrive in the inbox. It polls
# (which works on network shares) and starts a run once no file has arrived
# or changed for settle_seconds, so files dropped together make one run.
[watch]
enabled = false
command = "run"            # run | ingest
settle_seconds = 60        # quiet time after the last file arrived (at most 86400)

[scheduler]
grace_seconds = 300        # on SIGTERM, how long a running job may finish before it is aborted (at most 3600)

# Publish gates: a build breaking a rule is published under out/runs/RUN_ID/
# but out/latest is not switched to it (exit 4); "pledgestat gates" shows
# why, "pledgestat release RUN_ID" publishes it. A first run, or
# "build --no-gates", is never held.
[gates]
enabled = true
max_removed_share = 0.02   # share of the previous run's observations removed (1 turns the rule off)
max_changed_share = 0.10   # share of the previous run's observations whose value changed (1 turns it off)
max_coverage_move = 25     # percentage points a social-protection value may move between runs (100 turns it off)
count_drop = true          # a count for a past year falls with no denunciation or withdrawal to explain it
area_vanished = true       # a country or region published before has no observation any more
`
