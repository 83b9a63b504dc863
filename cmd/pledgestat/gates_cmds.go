package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"

	"github.com/spf13/cobra"

	"github.com/ilo-pledge/pledgestat/gates"
	"github.com/ilo-pledge/pledgestat/internal/termsafe"
	"github.com/ilo-pledge/pledgestat/pipeline"
	"github.com/ilo-pledge/pledgestat/publish"
)

func (a *app) gatesCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "gates [RUN_ID]",
		Short: "show the publish-gate checks of a build: each rule, its figure, its limit, pass or fail",
		Long: `gates prints the publish-gate checks of a run (its gates.json): each rule
of pledgestat.toml's [gates], the build's figure, the limit, and whether it
passed, with examples of what broke it. Without RUN_ID, the newest run.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			p, err := a.openPipeline()
			if err != nil {
				return err
			}
			runID := ""
			if len(args) == 1 {
				runID = args[0]
			} else {
				runs, err := publish.Runs(p.WS.Out())
				if err != nil {
					return withCode(exitFailure, err)
				}
				if len(runs) == 0 {
					return withCode(exitUsage, errors.New("no run has been published yet"))
				}
				runID = runs[0]
			}
			report, err := p.RunGates(runID)
			if errors.Is(err, fs.ErrNotExist) {
				return withCode(exitUsage, fmt.Errorf("run %s has no gates.json (no such run, or built before publish gates existed)", runID))
			}
			if err != nil {
				return withCode(exitFailure, err)
			}
			if asJSON {
				return a.printJSON(report)
			}
			latest, _ := publish.Latest(p.WS.Out())
			a.printGates(runID, latest, report)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print gates.json")
	return c
}

func (a *app) printGates(runID, latest string, r gates.Report) {
	w, t := a.stdout, termsafe.Text
	state := "passed"
	switch {
	case r.Held && latest != runID:
		state = "HELD: out/latest points to " + latest + "; publish it with pledgestat release " + runID
	case r.Held:
		state = "was held, then released"
	case r.Skipped != "":
		state = "not checked: " + r.Skipped
	}
	fmt.Fprintf(w, "run %s: %s\n", t(runID), t(state))
	if r.PreviousRun != nil {
		fmt.Fprintf(w, "compared with run %s\n", t(*r.PreviousRun))
	}
	for _, c := range r.Checks {
		mark := "pass"
		if !c.Passed {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s  %-14s %g (limit %g)\n", mark, c.Rule, c.Figure, c.Limit)
		for _, d := range c.Details {
			fmt.Fprintf(w, "        %s\n", t(d))
		}
	}
}

// printBroken lists the rules a held build broke, with a few examples.
func printBroken(w io.Writer, broken []gates.Check) {
	for _, c := range broken {
		fmt.Fprintf(w, "  broke %s: %g (limit %g)\n", c.Rule, c.Figure, c.Limit)
		for i, d := range c.Details {
			if i == 3 {
				fmt.Fprintf(w, "        …\n")
				break
			}
			fmt.Fprintf(w, "        %s\n", termsafe.Text(d))
		}
	}
}

func (a *app) releaseCommand() *cobra.Command {
	var note string
	var wait bool
	c := &cobra.Command{
		Use:   "release RUN_ID",
		Short: "switch out/latest to a run held by a publish gate, and record who released it and why",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			p, err := a.openPipeline()
			if err != nil {
				return err
			}
			rec, err := p.Release(c.Context(), args[0], note, releaser(), pipeline.Options{Wait: wait, Trigger: "cli"})
			var re *pipeline.ReleaseError
			if errors.As(err, &re) {
				return withCode(exitUsage, err)
			}
			if err != nil {
				return withCode(exitFailure, err)
			}
			fmt.Fprintf(a.stdout, "released %s: out/latest points to it (recorded in the run history as %s by %s)\n", rec.Released, rec.RunID, termsafe.Text(rec.By))
			return nil
		},
	}
	c.Flags().StringVar(&note, "note", "", "why the run is released, for the run history")
	c.Flags().BoolVar(&wait, "wait", false, "wait for a run in progress instead of failing")
	return c
}

// releaser names who runs release: the login name, or $USER.
func releaser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}
