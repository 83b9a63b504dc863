// Command pledgestat turns the spreadsheets statisticians keep on labour
// migration into the indicator datasets of the ILO pledge to the
// International Migration Review Forum 2022. See `pledgestat --help` and
// the README.
//
// This package is thin on purpose: flags, output and exit codes. The work
// is done by package pipeline, which the scheduler and the download service
// call too.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ilo-pledge/pledgestat/internal/memlimit"
	"github.com/ilo-pledge/pledgestat/internal/quietstart"
	"github.com/ilo-pledge/pledgestat/internal/termsafe"
	"github.com/ilo-pledge/pledgestat/internal/version"
	"github.com/ilo-pledge/pledgestat/pipeline"
	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// Exit statuses (cli.md).
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitRejected = 3
	exitHeld     = 4
)

// exitError carries an exit status up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// app holds what every command shares.
type app struct {
	workspace string
	logFormat string
	logLevel  string
	// stdout and stderr escape control characters, so that no text from a
	// user (file names, cell values) can drive the terminal; rawStdout is
	// for bytes (a template written to -), rawStderr for the progress line.
	stdout    io.Writer
	stderr    io.Writer
	rawStdout io.Writer
	rawStderr io.Writer
	log       *slog.Logger
	// stopGrace, when set, is how long the process may take to stop after
	// a signal before the backstop exits it (the scheduler's grace).
	stopGrace atomic.Int64
	// memory moves the memory limit; nil when GOMEMLIMIT fixes it.
	memory *memlimit.Governor
}

// The process's memory limit follows what its work holds
// (internal/memlimit): after each collection it is set to memoryFactor
// times the live heap plus what the runtime holds and cannot return, never
// below memoryFloor. GOMEMLIMIT, when set, replaces it with a fixed limit.
// Until the first collection the collector is off and the limit is
// package quietstart's backstop.
const (
	memoryFloor  = 256 << 20
	memoryFactor = 1.5
)

func main() {
	// The collector has been off since package quietstart was
	// initialised: the first collection waits until the process holds its
	// backstop, so a short command collects nothing.
	var memory *memlimit.Governor
	if os.Getenv("GOMEMLIMIT") == "" {
		memory = memlimit.StartQuiet(memoryFloor, memoryFactor, quietstart.Resume)
	} else {
		quietstart.Resume()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := newApp(os.Stdout, os.Stderr)
	a.memory = memory
	stopProfile := startProfile(os.Getenv("PLEDGESTAT_CPUPROFILE"))
	stopTrace := startTrace(os.Getenv("PLEDGESTAT_TRACE"))
	done := make(chan struct{})
	go backstop(ctx, done, a)
	code := a.execute(ctx, os.Args[1:])
	close(done)
	stop()
	stopTrace()
	stopProfile()
	writeHeapProfile(os.Getenv("PLEDGESTAT_MEMPROFILE"))
	os.Exit(code)
}

// startProfile writes a CPU profile of the whole command to path, when
// set: the benchmark notes' profiles come from it (go tool pprof). It
// returns what ends the profile.
func startProfile(path string) func() {
	return record("PLEDGESTAT_CPUPROFILE", path, pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// startTrace writes an execution trace of the whole command to path, when
// set (go tool trace): which goroutine waits on which, which a CPU profile
// does not show. It returns what ends the trace.
func startTrace(path string) func() {
	return record("PLEDGESTAT_TRACE", path, trace.Start, trace.Stop)
}

// record starts a recording of the command into the file path (none when
// path is empty) and returns what stops it and closes the file; a failure
// is reported on stderr under the variable's name, and the command runs
// on unrecorded.
func record(variable, path string, start func(io.Writer) error, stop func()) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pledgestat:", variable+":", err)
		return func() {}
	}
	if err := start(f); err != nil {
		fmt.Fprintln(os.Stderr, "pledgestat:", variable+":", err)
		f.Close()
		return func() {}
	}
	return func() {
		stop()
		if err := f.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "pledgestat:", variable+":", err)
		}
	}
}

// writeHeapProfile writes the allocations of the whole command to path,
// when set (go tool pprof -sample_index=alloc_space): where a command's
// bytes went, which its peak memory does not say.
func writeHeapProfile(path string) {
	if path == "" {
		return
	}
	runtime.GC() // the profile counts what was allocated up to the last collection
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pledgestat: PLEDGESTAT_MEMPROFILE:", err)
	}
}

// stopGrace is how long a command may take to stop after SIGTERM or
// SIGINT. Every long loop checks its context, so it stops within a second
// or so; the backstop is for work that cannot be interrupted (one huge
// workbook being unzipped). Exiting then is safe: every state change is
// crash-safe (the kill tests prove it) and the kernel releases the lock.
const stopGrace = 10 * time.Second

func backstop(ctx context.Context, done <-chan struct{}, a *app) {
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	grace := stopGrace
	if g := time.Duration(a.stopGrace.Load()); g > 0 {
		grace = g // the scheduler's own grace period, and some
	}
	select {
	case <-done:
	case <-time.After(grace):
		fmt.Fprintf(os.Stderr, "pledgestat: still busy %v after the stop signal; exiting now (nothing half-done is visible; the next run resumes)\n", grace)
		os.Exit(exitFailure)
	}
}

// run executes the command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return newApp(stdout, stderr).execute(ctx, args)
}

func newApp(stdout, stderr io.Writer) *app {
	return &app{stdout: termsafe.NewWriter(stdout), stderr: termsafe.NewWriter(stderr), rawStdout: stdout, rawStderr: stderr}
}

// execute runs the command line and returns the exit status.
func (a *app) execute(ctx context.Context, args []string) int {
	defer a.stdout.(*termsafe.Writer).Flush()
	defer a.stderr.(*termsafe.Writer).Flush()
	stdout, stderr := a.stdout, a.stderr
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "pledgestat:", ee.err)
		}
		return ee.code
	}
	// Anything cobra reports itself (unknown command or flag, wrong
	// arguments) is a usage error.
	fmt.Fprintln(stderr, "pledgestat:", err)
	fmt.Fprintln(stderr, "Run 'pledgestat --help' for usage.")
	return exitUsage
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "pledgestat",
		Short: "Indicators of the ILO pledge to the IMRF 2022, from the spreadsheets statisticians keep",
		Long: `pledgestat reads the spreadsheets statisticians drop into a workspace inbox
(ratifications of ILO conventions, social-protection coverage, bilateral labour
migration agreements), tells them exactly which cell is wrong, keeps what is
accepted, and publishes the indicator catalog as Parquet, CSV and Excel.

Start with:  pledgestat demo`,
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return a.setupLogging()
		},
	}
	root.PersistentFlags().StringVarP(&a.workspace, "workspace", "w", "", "workspace directory (default $PLEDGESTAT_WORKSPACE, else the current directory)")
	root.PersistentFlags().StringVar(&a.logFormat, "log-format", "text", "log format on stderr: text or json")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return err })
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(a.demoCommand(), a.initCommand(), a.validateCommand(),
		a.runCommand(pipeline.CommandIngest, "take every file in inbox/: accept it into the store (archive/) or reject it (rejected/)"),
		a.runCommand(pipeline.CommandBuild, "compute every indicator from the store and publish a new run under out/"),
		a.runCommand(pipeline.CommandRun, "ingest then build: the nightly job"),
		a.gatesCommand(), a.releaseCommand(), a.explainCommand(),
		a.statusCommand(), a.catalogCommand(), a.templateCommand(), a.historyCommand(), a.withdrawCommand(),
		a.scheduleCommand(), a.serveCommand())
	return root
}

func (a *app) setupLogging() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return withCode(exitUsage, fmt.Errorf("--log-level %q: use debug, info, warn or error", a.logLevel))
	}
	opts := &slog.HandlerOptions{Level: level}
	switch a.logFormat {
	case "text":
		a.log = slog.New(slog.NewTextHandler(a.stderr, opts))
	case "json":
		a.log = slog.New(slog.NewJSONHandler(a.stderr, opts))
	default:
		return withCode(exitUsage, fmt.Errorf("--log-format %q: use text or json", a.logFormat))
	}
	return nil
}

// workspaceDir resolves -w, $PLEDGESTAT_WORKSPACE, then the current
// directory.
func (a *app) workspaceDir() string {
	if a.workspace != "" {
		return a.workspace
	}
	if env := os.Getenv("PLEDGESTAT_WORKSPACE"); env != "" {
		return env
	}
	return "."
}

// openWorkspace opens the workspace; a bad configuration, a missing
// directory or one that is not a workspace is a usage error (exit 2, with
// the init hint), refused the same way by every command before anything
// runs.
func (a *app) openWorkspace() (*workspace.Workspace, error) {
	return a.openWorkspaceFor(false)
}

// implicitWorkspace reports whether the workspace is the current directory
// by default, neither -w nor $PLEDGESTAT_WORKSPACE naming one.
func (a *app) implicitWorkspace() bool {
	return a.workspace == "" && os.Getenv("PLEDGESTAT_WORKSPACE") == ""
}

// openWorkspaceFor is openWorkspace; with anywhere, a current directory
// that is not a workspace is taken with the default configuration, when
// no workspace was named: validate checks a file wherever its sender is.
func (a *app) openWorkspaceFor(anywhere bool) (*workspace.Workspace, error) {
	dir := a.workspaceDir()
	ws, err := workspace.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, withCode(exitUsage, fmt.Errorf("no workspace at %s (the directory does not exist): create one with: pledgestat init %s", dir, dir))
	}
	if err != nil {
		var ce *workspace.ConfigError
		if errors.As(err, &ce) {
			return nil, withCode(exitUsage, err)
		}
		return nil, withCode(exitFailure, err)
	}
	if !ws.IsWorkspace() && !(anywhere && a.implicitWorkspace()) {
		return nil, withCode(exitUsage, fmt.Errorf("%s is %w (it has no pledgestat.toml, inbox/ or .pledgestat/): create one with: pledgestat init %s", dir, workspace.ErrNotWorkspace, dir))
	}
	return ws, nil
}

// printJSON prints v as indented JSON on stdout, without HTML escaping.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return withCode(exitFailure, err)
	}
	return nil
}

// openPipeline opens the workspace and reference data.
func (a *app) openPipeline() (*pipeline.Pipeline, error) {
	return a.openPipelineFor(false)
}

// openPipelineFor is openPipeline, the workspace opened by
// openWorkspaceFor(anywhere).
func (a *app) openPipelineFor(anywhere bool) (*pipeline.Pipeline, error) {
	ws, err := a.openWorkspaceFor(anywhere)
	if err != nil {
		return nil, err
	}
	if err := installTestHooks(ws); err != nil {
		return nil, withCode(exitUsage, err)
	}
	ref, err := refdata.Load()
	if err != nil {
		return nil, withCode(exitFailure, err)
	}
	p := pipeline.New(ws, ref, a.log)
	if f, ok := a.rawStderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.Progress = a.progress
	}
	return p, nil
}

// progress shows long work on a terminal, on one line.
func (a *app) progress(done, total int, what string) {
	line := []rune(termsafe.Text(fmt.Sprintf("[%d/%d] %s", done, total, what)))
	if len(line) > 78 {
		line = append(line[:77], '…')
	}
	fmt.Fprintf(a.rawStderr, "\r\033[K%s", string(line))
	if done == total {
		fmt.Fprint(a.rawStderr, "\r\033[K")
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
