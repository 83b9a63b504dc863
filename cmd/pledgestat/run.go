package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ilo-pledge/pledgestat/pipeline"
)

func (a *app) runCommand(cmd pipeline.Command, short string) *cobra.Command {
	var wait bool
	c := &cobra.Command{
		Use:   string(cmd),
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			p, err := a.openPipeline()
			if err != nil {
				return err
			}
			res, err := p.Execute(c.Context(), cmd, pipeline.Options{Wait: wait, Trigger: "cli"})
			if err != nil {
				return withCode(exitFailure, err)
			}
			a.printResult(res)
			if res.Count("rejected") > 0 {
				return withCode(exitRejected, nil)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&wait, "wait", false, "wait for a run already in progress to finish instead of failing")
	return c
}

// printResult tells the user, on stdout, what happened to each file and
// where the outputs are.
func (a *app) printResult(res *pipeline.Result) {
	w := a.stdout
	for _, f := range res.Files {
		switch f.Outcome {
		case "accepted":
			extra := ""
			if n := sumRows(f.Superseded); n > 0 {
				extra = fmt.Sprintf("; supersedes %s of earlier submissions", plural(n, "record"))
			}
			if f.Warnings > 0 {
				extra += "; " + plural(f.Warnings, "warning")
			}
			fmt.Fprintf(w, "accepted   %s (%s%s)\n", f.Name, rowsText(f.Rows), extra)
			for i, n := range f.Notices {
				if i == 10 {
					fmt.Fprintf(w, "           … %d more (pledgestat validate shows them all)\n", len(f.Notices)-10)
					break
				}
				fmt.Fprintf(w, "           warning %s\n", n)
			}
		case "duplicate":
			fmt.Fprintf(w, "duplicate  %s (same bytes as an earlier submission; not counted again)\n", f.Name)
		case "rejected":
			fmt.Fprintf(w, "rejected   %s: %s, first: %s\n           report: %s\n", f.Name, plural(f.Errors, "error"), f.FirstError, f.Report)
			if f.Annotated != "" {
				fmt.Fprintf(w, "           annotated copy: %s\n", f.Annotated)
			}
		}
	}
	if res.Command != pipeline.CommandBuild {
		fmt.Fprintf(w, "run %s: %d accepted, %d rejected, %d duplicate\n", res.RunID, res.Count("accepted"), res.Count("rejected"), res.Count("duplicate"))
	}
	if res.Published {
		fmt.Fprintf(w, "published %s: %s observations (%s); out/latest points to it\n", res.RunDir, fmt.Sprint(res.Indicators), res.Changes)
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
	for _, d := range []string{"ratification", "social_protection", "blma"} {
		if n := rows[d]; n > 0 {
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
