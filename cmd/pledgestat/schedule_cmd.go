package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ilo-pledge/pledgestat/serve"
	"github.com/ilo-pledge/pledgestat/service"
	"github.com/ilo-pledge/pledgestat/workspace"
)

const scheduleLong = `Runs the [[schedule]] jobs of pledgestat.toml (by default "run" every night
at 02:00 UTC) until stopped, and, with [watch] enabled = true, a run whenever
new inbox files have settled. A job missed while the process was down is run
once at start-up. One run at a time; runs are recorded in the run history with
their trigger ("schedule NAME", "watch").

Signals: SIGTERM or SIGINT take no new run, let the current one finish within
[scheduler] grace_seconds (then abort it cleanly) and exit 0. SIGHUP reads
pledgestat.toml again; a bad file is refused with its line and the schedules in
force go on.

--serve also serves the outputs (as "pledgestat serve") in the same process.

A systemd unit (/etc/systemd/system/pledgestat.service):

  [Unit]
  Description=pledgestat schedules and download service
  After=network-online.target

  [Service]
  User=pledgestat
  ExecStart=/usr/local/bin/pledgestat -w /srv/pledge schedule --serve --log-format json
  ExecReload=/bin/kill -HUP $MAINPID
  Restart=on-failure
  TimeoutStopSec=330

  [Install]
  WantedBy=multi-user.target

Or, without a long-running process, a crontab line (crontab -e):

  0 2 * * * /usr/local/bin/pledgestat -w /srv/pledge run --wait --log-format json >> /var/log/pledgestat.log 2>&1`

func (a *app) scheduleCommand() *cobra.Command {
	var withServe bool
	var addr string
	c := &cobra.Command{
		Use:   "schedule",
		Short: "run the schedules of pledgestat.toml, and watch the inbox, until stopped (--serve also serves)",
		Long:  scheduleLong,
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			p, err := a.openPipeline()
			if err != nil {
				return err
			}
			ws := p.WS
			if err := ws.Ensure(); err != nil {
				return withCode(exitFailure, err)
			}
			// Give the grace period time before the stop backstop.
			a.stopGrace.Store(int64(ws.Config.Scheduler.Grace() + 30*time.Second))
			opts := service.Options{Log: a.log}
			var portal *serve.Server
			if withServe {
				srv, s, err := a.server(ws, p.Ref, addr)
				if err != nil {
					return err
				}
				opts.Server, portal = srv, s
			}
			opts.Reloaded = func(cfg workspace.Config) {
				a.stopGrace.Store(int64(cfg.Scheduler.Grace() + 30*time.Second))
				if portal != nil {
					portal.SetToken(serverToken(cfg))
					if addr == "" && cfg.Server.Addr != ws.Config.Server.Addr {
						a.log.Warn("[server] addr changed: the server keeps listening where it started until pledgestat restarts", "listening", opts.Server.Addr, "configured", cfg.Server.Addr)
					}
				}
			}
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			reload := make(chan struct{})
			go func() {
				for range hup {
					select {
					case reload <- struct{}{}:
					case <-c.Context().Done():
						return
					}
				}
			}()
			opts.Reload = reload
			if err := service.Run(c.Context(), ws, p.Ref, opts); err != nil {
				return withCode(exitFailure, err)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&withServe, "serve", false, "also serve the outputs over HTTP, as pledgestat serve does")
	c.Flags().StringVar(&addr, "addr", "", "with --serve: HOST:PORT to listen on (default [server] addr, 127.0.0.1:8080)")
	return c
}
