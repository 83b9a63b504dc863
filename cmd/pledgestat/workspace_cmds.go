package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ilo-pledge/pledgestat/demo"
	"github.com/ilo-pledge/pledgestat/pipeline"
	"github.com/ilo-pledge/pledgestat/workspace"
)

func (a *app) initCommand() *cobra.Command {
	var withDemo bool
	c := &cobra.Command{
		Use:   "init [DIR]",
		Short: "create an empty workspace with a commented pledgestat.toml",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			dir := a.workspaceDir()
			if len(args) == 1 {
				dir = args[0]
			}
			ws, err := workspace.Init(dir)
			if err != nil {
				return withCode(exitFailure, err)
			}
			fmt.Fprintf(a.stdout, "workspace ready: %s\n", ws.Root)
			if withDemo {
				seeded, err := demo.Seed(ws.Inbox())
				if err != nil {
					return withCode(exitFailure, err)
				}
				fmt.Fprintf(a.stdout, "inbox seeded with %d sample files\n", len(seeded))
			}
			fmt.Fprintf(a.stdout, "drop .xlsx and .csv files into %s, then run: pledgestat -w %s run\n", ws.Inbox(), dir)
			return nil
		},
	}
	c.Flags().BoolVar(&withDemo, "demo", false, "seed the inbox with the bundled sample spreadsheets")
	return c
}

// demoMarker marks a workspace demo created, which demo may run again.
const demoMarker = "demo-workspace"

// checkDemoTarget refuses to seed invented data into a real workspace: the
// directory must be new, empty, or a workspace demo created.
func checkDemoTarget(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, ".pledgestat", demoMarker)); err == nil {
		return nil
	}
	return fmt.Errorf("%s is not empty and was not created by pledgestat demo; the demo's invented data must not mix with real data: give a new directory", dir)
}

// selfCommand is how the user can run pledgestat again: the binary's name,
// or "go run ./cmd/pledgestat" when started with go run.
func selfCommand() string {
	exe, err := os.Executable()
	if err == nil && strings.Contains(exe, "go-build") {
		return "go run ./cmd/pledgestat"
	}
	return "pledgestat"
}

func (a *app) demoCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "demo [DIR]",
		Short: "create a workspace seeded with sample spreadsheets, run it, and show where the outputs are",
		Long: `demo creates a workspace (default ./pledgestat-demo) whose inbox holds the
bundled sample spreadsheets (invented data), runs "run" on it and prints where
the outputs are. One sample is broken on purpose, to show a rejection report.
Running demo again drops the samples again: they are recognised as duplicates.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			dir := "pledgestat-demo"
			if len(args) == 1 {
				dir = args[0]
			}
			if err := checkDemoTarget(dir); err != nil {
				return withCode(exitFailure, err)
			}
			ws, err := workspace.Init(dir)
			if err != nil {
				return withCode(exitFailure, err)
			}
			if err := os.WriteFile(filepath.Join(ws.State(), demoMarker), []byte("created by pledgestat demo\n"), 0o644); err != nil {
				return withCode(exitFailure, err)
			}
			if _, err := demo.Seed(ws.Inbox()); err != nil {
				return withCode(exitFailure, err)
			}
			a.workspace = ws.Root
			p, err := a.openPipeline()
			if err != nil {
				return err
			}
			res, err := p.Execute(c.Context(), pipeline.CommandRun, pipeline.Options{Trigger: "demo"})
			if err != nil {
				return withCode(exitFailure, err)
			}
			a.printResult(res)
			out := filepath.Join(ws.Root, "out", "latest")
			fmt.Fprintf(a.stdout, "\nDemo workspace: %s\n", ws.Root)
			fmt.Fprintf(a.stdout, "Outputs:        %s (indicators.parquet, indicators.csv, indicators.xlsx, manifest.json, ...)\n", out)
			if res.Count("rejected") > 0 {
				fmt.Fprintf(a.stdout, "Rejected:       %s (each with its .errors.csv; one sample is broken on purpose)\n", ws.Rejected())
			}
			fmt.Fprintf(a.stdout, "Next:           %s -w %s status\n", selfCommand(), dir)
			fmt.Fprintf(a.stdout, "Why a number:   %s -w %s explain C1.1 Africa 2022 --instrument C097\n", selfCommand(), dir)
			return nil
		},
	}
}
