//go:build crashhook

package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// installTestHooks wraps the workspace's file system with the hooks the
// environment asks for.
func installTestHooks(ws *workspace.Workspace) error {
	if slow := os.Getenv(envSlowList); slow != "" {
		d, err := time.ParseDuration(slow)
		if err != nil {
			return fmt.Errorf("%s=%q: %w", envSlowList, slow, err)
		}
		ws.Pace = func() { time.Sleep(d) }
	}
	crashAt, logPath := os.Getenv(envCrashAt), os.Getenv(envStepsLog)
	if crashAt == "" && logPath == "" {
		return nil
	}
	at := int64(-1)
	if crashAt != "" {
		n, err := strconv.ParseInt(crashAt, 10, 64)
		if err != nil {
			return fmt.Errorf("%s=%q: %w", envCrashAt, crashAt, err)
		}
		at = n
	}
	var logFile *os.File
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		logFile = f
	}
	var strict *fsx.Strict
	if aside := os.Getenv(envStrict); aside != "" {
		strict = &fsx.Strict{FS: ws.FS, Aside: aside}
		ws.FS = strict
	}
	ws.FS = &fsx.Steps{FS: ws.FS, Hook: func(step int64, op, path string) error {
		if logFile != nil {
			fmt.Fprintf(logFile, "%d %s %s\n", step, op, path)
		}
		if step == at {
			if strict != nil {
				// A power cut rather than a kill: what was not synced
				// is lost too.
				if err := strict.Crash(); err != nil {
					fmt.Fprintln(os.Stderr, "strict crash:", err)
					os.Exit(99)
				}
			}
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
		return nil
	}}
	return nil
}
