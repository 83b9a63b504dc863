package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ilo-pledge/pledgestat/internal/termsafe"
	"github.com/ilo-pledge/pledgestat/pipeline"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/transform"
)

func (a *app) explainCommand() *cobra.Command {
	var sex, instrument, runID string
	var asJSON bool
	c := &cobra.Command{
		Use:   "explain INDICATOR REF_AREA YEAR",
		Short: "explain a published value: its formula, every member counted or not and why, and the cells behind them",
		Long: `explain answers "where does this number come from?" from what a run published
(the latest by default): the value with its unit and definition, the formula with
this row's numbers, then every member of the computation — each State of the
denominator counted or not and why, each agreement counted, or the input
observation — with the file, sheet and cell of every fact, the submission that
brought it, when it was accepted, and the earlier values it superseded.
REF_AREA is an ISO3 code, a country's name (English, French or Spanish), or an
ILO region's code or name.`,
		Args: cobra.ExactArgs(3),
		RunE: func(c *cobra.Command, args []string) error {
			year, err := strconv.Atoi(args[2])
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("YEAR %q is not a year", args[2]))
			}
			p, err := a.openPipeline()
			if err != nil {
				return err
			}
			e, err := p.Explainer(c.Context(), runID)
			var nr *pipeline.NoSuchRowError
			if errors.As(err, &nr) {
				return withCode(exitUsage, err)
			}
			if err != nil {
				return withCode(exitFailure, err)
			}
			x, err := e.Explain(c.Context(), transform.Query{IndicatorID: args[0], RefArea: args[1], Year: year, Sex: sex, Instrument: instrument})
			if errors.As(err, &nr) {
				return withCode(exitUsage, err)
			}
			if err != nil {
				return withCode(exitFailure, err)
			}
			if asJSON {
				return a.printJSON(x)
			}
			a.printExplained(x)
			return nil
		},
	}
	c.Flags().StringVar(&sex, "sex", "T", "sex of the row: T, F or M")
	c.Flags().StringVar(&instrument, "instrument", "", "instrument of the row, for indicators per instrument (e.g. C097)")
	c.Flags().StringVar(&runID, "run", "", "the run to explain (default: out/latest)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the explanation as JSON")
	return c
}

func (a *app) printExplained(x *pipeline.Explained) {
	w, t := a.stdout, termsafe.Text
	what := x.IndicatorID + " " + x.RefArea + " (" + x.RefAreaName + ") " + strconv.Itoa(x.TimePeriod) + " sex " + x.Sex
	if x.Instrument != nil {
		what += " " + *x.Instrument
	}
	fmt.Fprintf(w, "%s, run %s\n", t(what), x.RunID)
	fmt.Fprintf(w, "value      %s %s", strconv.FormatFloat(x.Value, 'f', -1, 64), x.Unit)
	if x.Numerator != nil && x.Denominator != nil {
		fmt.Fprintf(w, " (%g of %g)", *x.Numerator, *x.Denominator)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "formula    %s\n", t(x.Formula))
	fmt.Fprintf(w, "definition %s\n", t(x.Definition))
	if x.Note != nil {
		fmt.Fprintf(w, "note       %s\n", t(*x.Note))
	}
	for _, n := range x.Notes {
		fmt.Fprintf(w, "NOTE       %s\n", t(n))
	}
	list := func(title string, items []pipeline.ExplainedItem) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, it := range items {
			mark := "  "
			if it.Counted {
				mark = "+ "
			}
			fmt.Fprintf(w, "%s%s %s: %s\n", mark, t(it.ID), t(it.Name), t(it.Reason))
			for _, f := range it.Facts {
				where := records.Provenance{File: f.File, Sheet: f.Sheet}.Ref(f.Cell)
				from := ""
				if f.Submission > 0 {
					from = fmt.Sprintf(", submission %d", f.Submission)
					if f.AcceptedAt != nil {
						from += " accepted " + f.AcceptedAt.Format("2006-01-02 15:04") + " UTC"
					}
				}
				fmt.Fprintf(w, "      %s %s  (%s%s)\n", f.What, t(f.Value), t(where), from)
				for _, s := range f.Superseded {
					old := records.Provenance{File: s.File, Sheet: s.Sheet}.Ref(s.Cell)
					fmt.Fprintf(w, "        superseded %s (%s, submission %d)\n", t(s.Value), t(old), s.Submission)
				}
			}
		}
	}
	counted := 0
	for _, it := range x.Items {
		if it.Counted {
			counted++
		}
	}
	title := "members"
	if len(x.Items) > 1 {
		title = fmt.Sprintf("members: %d counted (+) of %d", counted, len(x.Items))
	}
	list(title, x.Items)
	list("left out", x.Excluded)
	if len(x.Sources) > 0 && len(x.Items) == 0 {
		fmt.Fprintf(w, "\nsources: %s\n", t(strings.Join(x.Sources, "; ")))
	}
}
