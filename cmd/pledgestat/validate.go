package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/ilo-pledge/pledgestat/ingest"
	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/internal/termsafe"
)

func (a *app) validateCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "validate FILE...",
		Short: "check files exactly as ingest would, without changing anything",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			p, err := a.openPipelineFor(true)
			if err != nil {
				return err
			}
			subs, readErr := p.Validate(c.Context(), args)
			// A report that does not reach its reader (a closed pipe, a
			// full disk) is a failure, not a silent success.
			var writeErr error
			if asJSON {
				writeErr = a.validateJSON(subs)
			} else {
				writeErr = a.validateText(subs)
			}
			if writeErr != nil {
				return withCode(exitFailure, fmt.Errorf("write the report: %w", writeErr))
			}
			if readErr != nil {
				return withCode(exitFailure, readErr)
			}
			for _, s := range subs {
				if !s.Accepted() {
					return withCode(exitRejected, nil)
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the reports as JSON on stdout")
	return c
}

type validateOutput struct {
	File     string         `json:"file"`
	SHA256   string         `json:"sha256"`
	Valid    bool           `json:"valid"`
	Rows     map[string]int `json:"rows"`
	Errors   int            `json:"errors"`
	Warnings int            `json:"warnings"`
	Entries  []report.Entry `json:"entries"`
	Notes    []string       `json:"notes,omitempty"`
}

func (a *app) validateJSON(subs []*ingest.Submission) error {
	out := []validateOutput{}
	for _, s := range subs {
		rows := map[string]int{}
		for d, n := range s.Rows() {
			rows[string(d)] = n
		}
		entries := s.Report.Entries
		if entries == nil {
			entries = []report.Entry{}
		}
		out = append(out, validateOutput{File: s.Name, SHA256: s.SHA256, Valid: s.Accepted(), Rows: rows,
			Errors: s.Report.Count(report.Error), Warnings: s.Report.Count(report.Warning), Entries: entries, Notes: s.Report.Notes})
	}
	return a.printJSON(out)
}

// validateText prints each file's report grouped by sheet.
func (a *app) validateText(subs []*ingest.Submission) error {
	w := &errWriter{w: a.stdout}
	for _, s := range subs {
		verdict := "valid"
		if !s.Accepted() {
			verdict = "INVALID: it would be rejected"
		}
		fmt.Fprintf(w, "%s: %s (%s, %s; %s)\n", termsafe.Text(s.Name), verdict, plural(s.Report.Count(report.Error), "error"),
			plural(s.Report.Count(report.Warning), "warning"), rowsText(rowsOf(s)))
		sheet := "\x00"
		for _, e := range s.Report.Entries {
			if e.Sheet != sheet {
				sheet = e.Sheet
				switch {
				case sheet == "" && s.Format == "csv":
					fmt.Fprintln(w, "  file:")
				case sheet == "":
					fmt.Fprintln(w, "  workbook:")
				default:
					fmt.Fprintf(w, "  sheet %s:\n", termsafe.Text(strconv.Quote(sheet)))
				}
			}
			loc := e.Cell
			if loc == "" && e.Row > 0 {
				loc = fmt.Sprintf("row %d", e.Row)
			}
			if loc != "" {
				loc += " "
			}
			fmt.Fprintf(w, "    %s%-7s %s: %s\n", loc, e.Severity, e.Code, termsafe.Text(e.Message))
		}
	}
	return w.err
}

// errWriter keeps the first error of a run of writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func rowsOf(s *ingest.Submission) map[string]int {
	rows := map[string]int{}
	for d, n := range s.Rows() {
		rows[string(d)] = n
	}
	return rows
}
