package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ilo-pledge/pledgestat/publish"
	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/store"
	"github.com/ilo-pledge/pledgestat/workspace"
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

// statusReport is what `status --json` prints.
type statusReport struct {
	Workspace   string                `json:"workspace"`
	Latest      string                `json:"latest_run"`
	Runs        []workspace.RunRecord `json:"runs"`
	Waiting     []waitingFile         `json:"inbox"`
	Rejected    []rejectedFile        `json:"rejected"`
	StoreTotals map[string]int        `json:"store_totals"`
	Submissions int                   `json:"submissions"`
}

type waitingFile struct {
	Name     string    `json:"name"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
	Settling bool      `json:"settling"` // changed less than settle_seconds ago: the next run leaves it
}

type rejectedFile struct {
	File       string    `json:"file"`
	RunID      string    `json:"run_id"`
	StoredAs   string    `json:"stored_as"`
	Errors     int       `json:"errors"`
	FirstError string    `json:"first_error"`
	Time       time.Time `json:"time"`
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
			rep, err := a.status(c, ws)
			if err != nil {
				return withCode(exitFailure, err)
			}
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

func (a *app) status(c *cobra.Command, ws *workspace.Workspace) (*statusReport, error) {
	rep := &statusReport{Workspace: ws.Root, Runs: []workspace.RunRecord{}, Waiting: []waitingFile{}, Rejected: []rejectedFile{}, StoreTotals: map[string]int{}}
	var err error
	if rep.Latest, err = publish.Latest(ws.Out()); err != nil {
		return nil, err
	}
	history, err := ws.RunHistory()
	if err != nil {
		return nil, err
	}
	for i := len(history) - 1; i >= 0 && len(rep.Runs) < 10; i-- {
		rep.Runs = append(rep.Runs, history[i])
	}
	files, err := ws.InboxFiles()
	if err != nil {
		return nil, err
	}
	settle := ws.Config.Ingest.SettleDuration()
	for _, f := range files {
		rep.Waiting = append(rep.Waiting, waitingFile{Name: f.Name, Size: f.Size, Modified: f.ModTime.UTC(),
			Settling: settle > 0 && time.Since(f.ModTime) < settle})
	}
	if _, err := os.Stat(ws.StoreDir()); err == nil {
		st, err := store.OpenReadOnly(ws.StoreDir(), a.log)
		if err != nil {
			return nil, err
		}
		for _, e := range st.Entries() {
			if e.Event != store.EventRejected {
				continue
			}
			if _, err := os.Stat(filepath.Join(ws.Root, filepath.FromSlash(e.StoredAs))); err != nil {
				continue // moved away by an operator
			}
			rep.Rejected = append(rep.Rejected, rejectedFile{File: e.File, RunID: e.RunID, StoredAs: e.StoredAs, Errors: e.Errors, FirstError: e.FirstError, Time: e.Time})
		}
		totals, err := st.Totals(c.Context())
		if err != nil {
			return nil, err
		}
		for d, n := range totals {
			rep.StoreTotals[string(d)] = n
		}
		rep.Submissions = len(st.Accepted())
	}
	return rep, nil
}

func (a *app) printStatus(rep *statusReport) {
	w := a.stdout
	fmt.Fprintf(w, "workspace  %s\n", rep.Workspace)
	latest := rep.Latest
	if latest == "" {
		latest = "(nothing published yet)"
	}
	fmt.Fprintf(w, "latest     %s\n", latest)
	fmt.Fprintf(w, "store      %d submissions: %d ratification, %d social_protection, %d blma records\n\n", rep.Submissions,
		rep.StoreTotals["ratification"], rep.StoreTotals["social_protection"], rep.StoreTotals["blma"])
	fmt.Fprintln(w, "last runs:")
	if len(rep.Runs) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range rep.Runs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\taccepted %d, rejected %d, duplicates %d\t%s\n", r.RunID, r.Command, r.Outcome,
			r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond), r.Accepted, r.Rejected, r.Duplicates, r.Error)
	}
	tw.Flush()
	fmt.Fprintf(w, "\ninbox: %d waiting\n", len(rep.Waiting))
	for _, f := range rep.Waiting {
		note := ""
		if f.Settling {
			note = ", settling: changed less than settle_seconds ago"
		}
		fmt.Fprintf(w, "  %s (%d bytes%s)\n", f.Name, f.Size, note)
	}
	fmt.Fprintf(w, "\nrejected: %d\n", len(rep.Rejected))
	for _, r := range rep.Rejected {
		fmt.Fprintf(w, "  %s (run %s, %s): %s\n", r.File, r.RunID, plural(r.Errors, "error"), r.FirstError)
	}
}
