package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ilo-pledge/pledgestat/internal/hugeheap"
	"github.com/ilo-pledge/pledgestat/internal/quietstart"
	"github.com/ilo-pledge/pledgestat/internal/termsafe"
	"github.com/ilo-pledge/pledgestat/pipeline"
	"github.com/ilo-pledge/pledgestat/records"
)

func (a *app) runCommand(cmd pipeline.Command, short string) *cobra.Command {
	var wait, noGates, recompute bool
	c := &cobra.Command{
		Use:   string(cmd),
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			a.prepareBatchMemory()
			p, err := a.openPipeline()
			if err != nil {
				return err
			}
			res, err := p.Execute(c.Context(), cmd, pipeline.Options{Wait: wait, Trigger: "cli", NoGates: noGates, Recompute: recompute})
			if err != nil && c.Context().Err() != nil {
				return withCode(exitFailure, errors.New("interrupted by a stop signal: the run stopped where it was; nothing is published half, every file is in one place, and the next run takes up what remains"))
			}
			if err != nil {
				return withCode(exitFailure, err)
			}
			a.printResult(res)
			switch {
			case res.Held:
				return withCode(exitHeld, nil)
			case res.NeedsAttention():
				return withCode(exitRejected, nil)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&wait, "wait", false, "wait for a run already in progress to finish instead of failing")
	if cmd != pipeline.CommandIngest {
		c.Flags().BoolVar(&noGates, "no-gates", false, "publish the build whatever the publish gates say (never held)")
		c.Flags().BoolVar(&recompute, "recompute", false, "compute every indicator from the store, taking none from the latest run where a domain's records are unchanged")
	}
	return c
}

// hugeReserve is how much of the heap is advised for huge pages (package
// hugeheap): more than a build of 10,000 submissions holds at its peak
// (225 MiB). Larger work maps memory beyond it without the advice.
const hugeReserve = 512 << 20

// batchMinGoal is the heap a batch command lets grow before it collects,
// while its live heap is small (memlimit.KeepGoalAbove, which bounds the
// goal at 4 times the live heap): a run over 600 small files, with 3–15
// MiB live, collected 67 times at GOGC's pace, 28 times with it.
const batchMinGoal = 64 << 20

// prepareBatchMemory readies the heap for a batch command: huge pages, and
// fewer collections while little is live. The floor is left out when the
// user set GOGC or GOMEMLIMIT: they chose the collector's pace themselves
// (GOGC=50 to hold less memory would otherwise be overridden).
func (a *app) prepareBatchMemory() {
	a.adviseHugePages()
	if a.memory == nil || os.Getenv("GOGC") != "" {
		return
	}
	if a.memory.KeepGoalAbove(batchMinGoal, quietstart.Percent()) {
		a.log.Debug("heap goal kept above", "bytes", batchMinGoal)
	}
}

// adviseHugePages asks for the heap of a batch command (ingest, build,
// run) to be backed by huge pages; PLEDGESTAT_HUGE_PAGES=off turns it off.
// Short commands (validate, status) do without: advising touches the
// runtime's records of the reserved block, about 400 page faults, which
// is about what a short command would save. The scheduler does without
// too: in a process that stays, the kernel refills the huge pages the
// runtime gives back, and an idle scheduler held 2–4 times the memory.
func (a *app) adviseHugePages() {
	if os.Getenv("PLEDGESTAT_HUGE_PAGES") == "off" {
		a.log.Debug("heap advice", "huge_pages", false, "why", "PLEDGESTAT_HUGE_PAGES=off")
		return
	}
	advised, why, err := hugeheap.Advise(hugeReserve)
	switch {
	case err != nil:
		a.log.Debug("heap advice", "huge_pages", false, "err", err)
	case !advised:
		a.log.Debug("heap advice", "huge_pages", false, "why", why)
	default:
		a.log.Debug("heap advice", "huge_pages", true)
	}
}

// printResult tells the user, on stdout, what happened to each file and
// where the outputs are.
func (a *app) printResult(res *pipeline.Result) {
	w := a.stdout
	t := termsafe.Text
	for _, f := range res.Files {
		switch f.Outcome {
		case pipeline.OutcomeAccepted:
			extra := ""
			if n := sumRows(f.Superseded); n > 0 {
				extra = fmt.Sprintf("; supersedes %s of earlier submissions", plural(n, "record"))
			}
			if f.Warnings > 0 {
				extra += "; " + plural(f.Warnings, "warning")
			}
			fmt.Fprintf(w, "accepted   %s (%s%s)\n", t(f.Name), rowsText(f.Rows), extra)
			for i, n := range f.Notices {
				if i == 10 {
					more := "pledgestat validate shows them all"
					if f.Report != "" {
						more = "the report lists them all"
					}
					fmt.Fprintf(w, "           … %d more (%s)\n", len(f.Notices)-10, more)
					break
				}
				fmt.Fprintf(w, "           warning %s\n", t(n))
			}
			if f.Report != "" {
				fmt.Fprintf(w, "           report: %s\n", t(f.Report))
			}
			if f.Annotated != "" {
				fmt.Fprintf(w, "           annotated copy: %s\n", t(f.Annotated))
			}
		case pipeline.OutcomeDuplicate:
			fmt.Fprintf(w, "duplicate  %s (same bytes as an earlier submission; not counted again)\n", t(f.Name))
		case pipeline.OutcomeRejected:
			fmt.Fprintf(w, "rejected   %s: %s, first: %s\n           report: %s\n", t(f.Name), plural(f.Errors, "error"), t(f.FirstError), t(f.Report))
			if f.Annotated != "" {
				fmt.Fprintf(w, "           annotated copy: %s\n", t(f.Annotated))
			}
		case pipeline.OutcomeLeft:
			fmt.Fprintf(w, "left       %s: could not be read (%s); it stays in the inbox\n", t(f.Name), t(f.FirstError))
		case pipeline.OutcomeVanished:
			fmt.Fprintf(w, "vanished   %s: removed from the inbox before it was read\n", t(f.Name))
		}
	}
	for _, e := range res.Ignored {
		fmt.Fprintf(w, "ignored    %s (%s): %s\n", t(e.Name), e.Kind, e.Reason)
	}
	for _, name := range res.Settling {
		fmt.Fprintf(w, "settling   %s: still changing; a later run takes it\n", t(name))
	}
	if res.Command != pipeline.CommandBuild {
		fmt.Fprintf(w, "run %s: %d accepted, %d rejected, %d duplicate", res.RunID, res.Count(pipeline.OutcomeAccepted), res.Count(pipeline.OutcomeRejected), res.Count(pipeline.OutcomeDuplicate))
		if n := res.Count(pipeline.OutcomeLeft); n > 0 {
			fmt.Fprintf(w, ", %d left unread", n)
		}
		if n := len(res.Ignored); n > 0 {
			fmt.Fprintf(w, ", %d ignored", n)
		}
		fmt.Fprintln(w)
	}
	switch {
	case res.UpToDate != "" && res.Held:
		fmt.Fprintf(w, "nothing new since run %s, which is HELD by a publish gate and waits for release (pledgestat gates %s; pledgestat release %s)\n", res.UpToDate, res.UpToDate, res.UpToDate)
	case res.UpToDate != "":
		fmt.Fprintf(w, "nothing new since run %s: out/latest is up to date\n", res.UpToDate)
	}
	switch {
	case res.Published && res.Held:
		fmt.Fprintf(w, "HELD %s: %s observations (%s), complete, but out/latest still points to the previous run\n", t(res.RunDir), fmt.Sprint(res.Indicators), res.Changes)
		if res.Gates != nil {
			printBroken(w, res.Gates.Broken())
		}
		fmt.Fprintf(w, "check it (pledgestat gates %s), then publish it with pledgestat release %s [--note TEXT], or fix the input and run again\n", res.RunID, res.RunID)
	case res.Published:
		fmt.Fprintf(w, "published %s: %s observations (%s); out/latest points to it\n", t(res.RunDir), fmt.Sprint(res.Indicators), res.Changes)
	}
}

func sumRows(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func rowsText(rows map[string]int) string {
	s := ""
	for _, d := range records.Domains() {
		if n := rows[string(d)]; n > 0 {
			if s != "" {
				s += ", "
			}
			s += fmt.Sprintf("%d %s", n, d)
		}
	}
	if s == "" {
		return "no rows"
	}
	return s + " rows"
}
