package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ilo-pledge/pledgestat/internal/termsafe"
	"github.com/ilo-pledge/pledgestat/pipeline"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
)

func (a *app) catalogCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "catalog",
		Short: "print the indicator catalog: id, pledge, name, unit, definition",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			ref, err := refdata.Load()
			if err != nil {
				return withCode(exitFailure, err)
			}
			cat := ref.Catalog()
			if asJSON {
				return a.printJSON(cat)
			}
			for _, p := range cat.Pledges {
				fmt.Fprintf(a.stdout, "%s  %s\n", p.Code, p.Name)
				for _, ind := range cat.Indicators {
					if ind.Pledge != p.Code {
						continue
					}
					fmt.Fprintf(a.stdout, "  %-5s %s [%s, %s]\n", ind.ID, ind.Name, ind.Unit, ind.Type)
					fmt.Fprintf(a.stdout, "%s\n", wrap(ind.Definition, 8, 88))
				}
			}
			fmt.Fprintf(a.stdout, "\ncatalog version %s\n", cat.Version)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the catalog with definitions as JSON")
	return c
}

// wrap breaks text into lines of at most width characters, indented.
func wrap(text string, indent, width int) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width-indent {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	pad := strings.Repeat(" ", indent)
	return pad + strings.Join(lines, "\n"+pad)
}

func (a *app) statusCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "status",
		Short: "show the last runs, files waiting in the inbox, files rejected and why, and store totals",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			ws, err := a.openWorkspace()
			if err != nil {
				return err
			}
			rep := pipeline.ReadStatus(c.Context(), ws, a.log, time.Now())
			if asJSON {
				return a.printJSON(rep)
			}
			a.printStatus(rep)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return c
}

func (a *app) printStatus(rep *pipeline.Status) {
	w := a.stdout
	t := termsafe.Text
	fmt.Fprintf(w, "workspace  %s\n", t(rep.Workspace))
	latest := rep.Latest
	if latest == "" {
		latest = "(nothing published yet)"
	}
	fmt.Fprintf(w, "latest     %s\n", t(latest))
	var totals []string
	for _, d := range records.Domains() {
		totals = append(totals, fmt.Sprintf("%d %s", rep.StoreTotals[string(d)], d))
	}
	fmt.Fprintf(w, "store      %d submissions: %s records\n", rep.Submissions, strings.Join(totals, ", "))
	for _, h := range rep.Held {
		fmt.Fprintf(w, "\nHELD: run %s broke a publish gate; out/latest still points to %s\n", t(h.RunID), t(latest))
		printBroken(w, h.Broken)
		fmt.Fprintf(w, "  check it with pledgestat gates %s, publish it with pledgestat release %s [--note TEXT]\n", t(h.RunID), t(h.RunID))
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintf(w, "\nPROBLEMS: %d\n", len(rep.Problems))
		for _, p := range rep.Problems {
			fmt.Fprintf(w, "  %s\n", t(p))
		}
	}
	s := rep.Scheduler
	switch {
	case s.Running && s.Since != nil:
		fmt.Fprintf(w, "scheduler  running (PID %d, since %s)", s.PID, s.Since.Format(time.RFC3339))
	case s.Running:
		fmt.Fprintf(w, "scheduler  running (PID %d)", s.PID)
	default:
		fmt.Fprint(w, "scheduler  not running (start it with: pledgestat schedule)")
	}
	if s.Watch {
		fmt.Fprint(w, "; watching the inbox")
	}
	fmt.Fprintln(w)
	for _, j := range s.Jobs {
		last := "never run"
		if j.LastRun != nil {
			last = "last " + j.LastRun.Format(time.RFC3339)
			if !*j.LastOK {
				last += " (failed)"
			}
		}
		fmt.Fprintf(w, "  job %s: %s at %q (%s), next %s, %s\n", t(j.Name), j.Command, t(j.Cron), j.Timezone, j.Next.Format(time.RFC3339), last)
	}
	fmt.Fprintln(w, "\nlast runs:")
	if len(rep.Runs) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range rep.Runs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\taccepted %d, rejected %d, duplicates %d\t%s\n", t(r.RunID), t(r.Command), t(r.Outcome),
			r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond), r.Accepted, r.Rejected, r.Duplicates, t(r.Error))
	}
	tw.Flush()
	fmt.Fprintf(w, "\ninbox: %d waiting\n", len(rep.Waiting))
	for _, f := range rep.Waiting {
		note := ""
		if f.Settling {
			note = ", settling: changed less than settle_seconds ago"
		}
		if f.Unreadable != "" {
			note += ", CANNOT BE READ: " + f.Unreadable + "; runs leave it in the inbox"
		}
		fmt.Fprintf(w, "  %s (%d bytes%s)\n", t(f.Name), f.Size, t(note))
	}
	if len(rep.Ignored) > 0 {
		fmt.Fprintf(w, "\ninbox, not read: %d\n", len(rep.Ignored))
		for _, e := range rep.Ignored {
			fmt.Fprintf(w, "  %s (%s): %s\n", t(e.Name), e.Kind, t(e.Reason))
		}
	}
	fmt.Fprintf(w, "\nrejected: %d\n", len(rep.Rejected))
	for _, r := range rep.Rejected {
		fmt.Fprintf(w, "  %s (run %s, %s): %s\n", t(r.File), t(r.RunID), plural(r.Errors, "error"), t(r.FirstError))
	}
}
