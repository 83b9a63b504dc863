package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ilo-pledge/pledgestat/pipeline"
	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/store"
)

func (a *app) withdrawCommand() *cobra.Command {
	var wait bool
	c := &cobra.Command{
		Use:   "withdraw SUBMISSION",
		Short: "remove a submission's records from the next build (its file stays in archive/)",
		Long: `withdraw removes the records of one accepted submission from the next builds.
SUBMISSION is its number (see status or history), at least 8 characters of its
SHA-256, or its file name. Records it had superseded become current again.
Its file stays in archive/; nothing is deleted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			p, err := a.openPipeline()
			if err != nil {
				return err
			}
			e, err := p.Withdraw(c.Context(), args[0], pipeline.Options{Wait: wait})
			if err != nil {
				return withCode(exitFailure, err)
			}
			fmt.Fprintf(a.stdout, "withdrawn: submission %d (%s, archived as %s); run pledgestat build to publish without it\n", e.Seq, e.File, e.StoredAs)
			return nil
		},
	}
	c.Flags().BoolVar(&wait, "wait", false, "wait for a run in progress instead of failing")
	return c
}

func (a *app) historyCommand() *cobra.Command {
	var country, key string
	var asJSON bool
	c := &cobra.Command{
		Use:   "history (--country X | --key KEY)",
		Short: "show how records changed across submissions",
		Long: `history lists every version of the matching records, submission by
submission, and marks the version builds use. --country takes any spelling
(ISO3, ISO2, name) or an ILOSTAT area code; for agreements it matches any
party. --key takes a record key as history prints it, e.g. FRA|C097.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if country == "" && key == "" {
				return withCode(exitUsage, fmt.Errorf("give --country or --key"))
			}
			ws, err := a.openWorkspace()
			if err != nil {
				return err
			}
			f := store.Filter{Key: key}
			if country != "" {
				ref, err := refdata.Load()
				if err != nil {
					return withCode(exitFailure, err)
				}
				if ct, ok := ref.Countries().Lookup(country); ok {
					f.Area = ct.ISO3
				} else if r, ok := ref.Countries().LookupRegion(country); ok {
					f.Area = r.Code
				} else {
					return withCode(exitUsage, fmt.Errorf("--country %q is not a known country or area", country))
				}
			}
			if _, err := os.Stat(ws.StoreDir()); err != nil {
				return withCode(exitFailure, fmt.Errorf("no store in %s yet: run pledgestat ingest first", ws.Root))
			}
			st, err := store.OpenReadOnly(ws.StoreDir(), a.log)
			if err != nil {
				return withCode(exitFailure, err)
			}
			revs, err := st.History(c.Context(), f)
			if err != nil {
				return withCode(exitFailure, err)
			}
			if asJSON {
				if revs == nil {
					revs = []store.Revision{}
				}
				return a.printJSON(revs)
			}
			a.printHistory(revs)
			return nil
		},
	}
	c.Flags().StringVar(&country, "country", "", "country (any spelling) or ILOSTAT area code")
	c.Flags().StringVar(&key, "key", "", "record key, e.g. FRA|C097 or FRA|2020|SOC_CONTIG_TOTAL|T|total")
	c.Flags().BoolVar(&asJSON, "json", false, "print the revisions as JSON")
	return c
}

func (a *app) printHistory(revs []store.Revision) {
	if len(revs) == 0 {
		fmt.Fprintln(a.stdout, "no record matches")
		return
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	last := ""
	for _, r := range revs {
		id := string(r.Domain) + " " + r.Key
		if id != last {
			fmt.Fprintf(tw, "%s\n", id)
			last = id
		}
		mark := " "
		switch {
		case r.Withdrawn:
			mark = "w"
		case r.Current:
			mark = "*"
		}
		fmt.Fprintf(tw, "  %s #%d\t%s\t%s!%s\t%s\n", mark, r.Seq, r.Time, r.File, r.Cell, values(r.Values))
	}
	tw.Flush()
	fmt.Fprintln(a.stdout, "\n* the version builds use; w withdrawn")
}

func values(v map[string]string) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		if v[k] != "" && v[k] != "unknown" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + v[k]
	}
	return strings.Join(parts, " ")
}
