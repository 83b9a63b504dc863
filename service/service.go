// Package service is the long-running side of pledgestat: the scheduled
// jobs, the inbox watcher and the download service in one process
// (`pledgestat schedule [--serve]`), reloaded on SIGHUP and stopped cleanly
// on SIGTERM. It wires the parts and owns their lifecycle; the work is done
// by schedules (time), pipeline (runs) and serve (HTTP).
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/ilo-pledge/pledgestat/pipeline"
	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/schedules"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// Options of a service process.
type Options struct {
	Log *slog.Logger
	// Reload receives a value for each SIGHUP: pledgestat.toml is read
	// again; a bad file is refused with its line and the old one kept.
	Reload <-chan struct{}
	// Server, when set, is served alongside the schedules, and stopped
	// with them.
	Server *http.Server
	// Ready, when set, is called once the schedules are started (tests).
	Ready func(*Scheduler)
	// Reloaded, when set, is told each configuration a reload applied, so
	// that what lives outside the service (the server's token, the stop
	// backstop) follows it.
	Reloaded func(workspace.Config)
}

// Scheduler is the running service, for tests and status.
type Scheduler = schedules.Scheduler

// Run serves the workspace until ctx is done: catch-up of missed jobs, the
// jobs on their schedules, the watcher when [watch] enabled is set, and the
// server. On ctx's end it takes no new run, lets the current one finish
// within [scheduler] grace_seconds (then aborts it cleanly), shuts the
// server down and returns nil.
func Run(ctx context.Context, ws *workspace.Workspace, ref *refdata.Reference, opts Options) error {
	log := opts.Log
	lock, err := ws.TrySchedulerLock("schedule")
	if err != nil {
		return err
	}
	defer lock.Release()

	runs := &currentRuns{}
	runs.set(newPipeline(ws, ws.Config, ref, log))
	sched := schedules.New(runs, log, time.Now)
	jobs, err := pipeline.Jobs(ws.Config)
	if err != nil {
		return err
	}
	if err := sched.Start(jobs, ws.Config.Scheduler.Grace()); err != nil {
		return err
	}
	w := &watcher{ws: ws, sched: sched, log: log}
	w.restart(ws.Config)

	serverDone := make(chan error, 1)
	if opts.Server != nil {
		go func() {
			log.Info("serving", "addr", opts.Server.Addr)
			err := opts.Server.ListenAndServe()
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			serverDone <- err
		}()
	}
	if opts.Ready != nil {
		opts.Ready(sched)
	}
	log.Info("schedule started", "workspace", ws.Root, "jobs", len(jobs), "watch", ws.Config.Watch.Enabled)
	for {
		select {
		case <-ctx.Done():
			log.Info("stopping: no new runs; the run in progress may finish", "grace", ws.Config.Scheduler.Grace())
			w.stop()
			sched.Stop()
			if opts.Server != nil {
				shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				opts.Server.Shutdown(shutdown)
				cancel()
			}
			log.Info("stopped")
			return nil
		case err := <-serverDone:
			if err != nil {
				w.stop()
				sched.Stop()
				return fmt.Errorf("serve: %w", err)
			}
		case <-opts.Reload:
			cfg, err := workspace.LoadConfig(filepath.Join(ws.Root, workspace.ConfigName))
			if err != nil {
				log.Error("reload refused: the configuration has an error; the schedules in force go on", "err", err)
				continue
			}
			jobs, err := pipeline.Jobs(cfg)
			if err != nil {
				log.Error("reload refused; the schedules in force go on", "err", err)
				continue
			}
			runs.set(newPipeline(ws, cfg, ref, log))
			sched.Reload(jobs, cfg.Scheduler.Grace())
			w.restart(cfg)
			if opts.Reloaded != nil {
				opts.Reloaded(cfg)
			}
			log.Info("reloaded", "config", filepath.Join(ws.Root, workspace.ConfigName), "jobs", len(jobs), "watch", cfg.Watch.Enabled)
		}
	}
}

// newPipeline makes the pipeline of one configuration: each run reads the
// configuration in force when it starts, never one being replaced.
func newPipeline(ws *workspace.Workspace, cfg workspace.Config, ref *refdata.Reference, log *slog.Logger) *pipeline.Pipeline {
	copy := *ws
	copy.Config = cfg
	return pipeline.New(&copy, ref, log)
}

// currentRuns hands the scheduler the pipeline of the configuration in
// force.
type currentRuns struct {
	mu sync.Mutex
	p  *pipeline.Pipeline
}

func (c *currentRuns) set(p *pipeline.Pipeline) {
	c.mu.Lock()
	c.p = p
	c.mu.Unlock()
}

func (c *currentRuns) get() *pipeline.Pipeline {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.p
}

func (c *currentRuns) Run(ctx context.Context, command, trigger string) error {
	return c.get().Run(ctx, command, trigger)
}

func (c *currentRuns) History() ([]schedules.RunInfo, error) { return c.get().History() }

func (c *currentRuns) RecordPanic(command, trigger string, started time.Time, cause string) error {
	return c.get().RecordPanic(command, trigger, started, cause)
}

// watcher runs the inbox watcher of the configuration in force.
type watcher struct {
	ws     *workspace.Workspace
	sched  *schedules.Scheduler
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

func (w *watcher) restart(cfg workspace.Config) {
	w.stop()
	if !cfg.Watch.Enabled {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan struct{})
	wt := &schedules.Watcher{
		List:    func(ctx context.Context) ([]schedules.FileState, error) { return inboxState(ctx, w.ws) },
		Run:     w.sched.Go,
		Command: cfg.Watch.Command, Settle: cfg.Watch.Settle(), Log: w.log, Now: time.Now,
	}
	w.log.Info("watching the inbox", "settle", cfg.Watch.Settle(), "poll", wt.PollInterval(), "command", cfg.Watch.Command)
	go func() {
		defer close(w.done)
		wt.Loop(ctx)
	}()
}

func (w *watcher) stop() {
	if w.cancel != nil {
		w.cancel()
		<-w.done
		w.cancel = nil
	}
}

func inboxState(ctx context.Context, ws *workspace.Workspace) ([]schedules.FileState, error) {
	in, err := ws.ListInbox(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]schedules.FileState, 0, len(in.Files))
	for _, f := range in.Files {
		out = append(out, schedules.FileState{Name: f.Name, Size: f.Size, ModTime: f.ModTime})
	}
	return out, nil
}
