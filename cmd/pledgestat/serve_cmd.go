package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/serve"
	"github.com/ilo-pledge/pledgestat/workspace"
)

func (a *app) serveCommand() *cobra.Command {
	var addr string
	c := &cobra.Command{
		Use:   "serve",
		Short: "serve the published outputs over HTTP: pages, JSON API, downloads, /healthz, /metrics",
		Long: `Serves the published runs of the workspace until stopped (SIGTERM or SIGINT):

  /                       the latest run: every indicator with its chart, downloads, earlier runs
  /runs/RUN_ID/           an earlier run
  /countries/ISO3         one country: its indicators over time, ratifications, agreements
  /countries?q=NAME       find a country by its English, French or Spanish name
  /files/latest/NAME      a published file (also /files/RUN_ID/NAME), with ETag and Range
  /api/runs, /api/runs/RUN_ID/manifest, /api/catalog, /api/countries/ISO3
  /api/indicators?indicator=&ref_area=&sex=&instrument=&from=&to=&run=&limit=&offset=
  /healthz, /metrics      health (200 when the latest run is readable) and Prometheus metrics

With [server] token set (or PLEDGESTAT_TOKEN in the environment), every route
but /healthz needs "Authorization: Bearer TOKEN".`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			ws, err := a.openWorkspace()
			if err != nil {
				return err
			}
			ref, err := refdata.Load()
			if err != nil {
				return withCode(exitFailure, err)
			}
			srv, _, err := a.server(ws, ref, addr)
			if err != nil {
				return err
			}
			return a.listen(c.Context(), srv)
		},
	}
	c.Flags().StringVar(&addr, "addr", "", "HOST:PORT to listen on (default [server] addr, 127.0.0.1:8080)")
	return c
}

// server makes the HTTP server of a workspace: the address from --addr or
// [server] addr, the token from PLEDGESTAT_TOKEN or [server] token.
func (a *app) server(ws *workspace.Workspace, ref *refdata.Reference, addr string) (*http.Server, *serve.Server, error) {
	if addr == "" {
		addr = ws.Config.Server.Addr
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, nil, withCode(exitUsage, fmt.Errorf("--addr %q is not HOST:PORT", addr))
	}
	s := serve.New(ws, ref, serve.Options{Token: serverToken(ws.Config), Log: a.log})
	return serve.HTTPServer(addr, s), s, nil
}

// serverToken is PLEDGESTAT_TOKEN when set, else [server] token.
func serverToken(cfg workspace.Config) string {
	if env := os.Getenv("PLEDGESTAT_TOKEN"); env != "" {
		return env
	}
	return cfg.Server.Token
}

// listen serves until ctx ends, then shuts down, letting requests in
// flight finish for a few seconds.
func (a *app) listen(ctx context.Context, srv *http.Server) error {
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return withCode(exitFailure, fmt.Errorf("listen on %s: %w", srv.Addr, err))
	}
	a.log.Info("serving", "addr", ln.Addr().String())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		if !errors.Is(err, http.ErrServerClosed) {
			return withCode(exitFailure, fmt.Errorf("serve: %w", err))
		}
		return nil
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	a.log.Info("stopped serving")
	return nil
}
