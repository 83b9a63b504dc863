package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ilo-pledge/pledgestat/ingest/template"
	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/refdata"
)

func (a *app) templateCommand() *cobra.Command {
	var out string
	names := template.Names()
	c := &cobra.Command{
		Use:       "template " + strings.Join(names, "|") + " [-o FILE]",
		Short:     "write a blank XLSX input template with instructions and drop-down lists",
		Args:      cobra.ExactArgs(1),
		ValidArgs: names,
		RunE: func(c *cobra.Command, args []string) error {
			domain, ok := template.DomainOf(args[0])
			if !ok {
				return withCode(exitUsage, fmt.Errorf("unknown template %q: use %s", args[0], strings.Join(names, ", ")))
			}
			ref, err := refdata.Load()
			if err != nil {
				return withCode(exitFailure, err)
			}
			if out == "" {
				out = "pledgestat-" + args[0] + "-template.xlsx"
			}
			if out == "-" {
				return template.Write(a.rawStdout, domain, ref) // bytes, not text
			}
			if err := fsx.WriteFile(fsx.OS{}, out, 0o644, func(w io.Writer) error { return template.Write(w, domain, ref) }); err != nil {
				return withCode(exitFailure, err)
			}
			fmt.Fprintf(a.stdout, "template written: %s\n", out)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "file to write (default pledgestat-DOMAIN-template.xlsx; - for stdout)")
	return c
}
