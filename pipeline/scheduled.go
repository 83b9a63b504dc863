package pipeline

import (
	"context"
	"time"

	"github.com/ilo-pledge/pledgestat/schedules"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// The pipeline is what the scheduler runs (schedules.Runs): the same
// Execute the CLI calls, waiting for another process's run instead of
// failing, so a nightly job made while someone runs by hand happens after.

// Run runs a command for the scheduler and records it with trigger.
func (p *Pipeline) Run(ctx context.Context, command, trigger string) error {
	_, err := p.Execute(ctx, Command(command), Options{Wait: true, Trigger: trigger})
	return err
}

// History returns the recorded runs for the scheduler's catch-up.
func (p *Pipeline) History() ([]schedules.RunInfo, error) {
	history, err := p.WS.RunHistory()
	if err != nil {
		return nil, err
	}
	out := make([]schedules.RunInfo, 0, len(history))
	for _, r := range history {
		out = append(out, schedules.RunInfo{Command: r.Command, Trigger: r.Trigger, StartedAt: r.StartedAt})
	}
	return out, nil
}

// RecordPanic records a run that died in a panic as failed, under a run
// id of its own: the panicked Execute released the lock as it unwound but
// could not record itself.
func (p *Pipeline) RecordPanic(command, trigger string, started time.Time, cause string) error {
	lock, err := p.lock(context.Background(), command, Options{Wait: true})
	if err != nil {
		return err
	}
	defer lock.Release()
	id, err := p.WS.NewRunID(started)
	if err != nil {
		return err
	}
	return p.WS.RecordRun(workspace.RunRecord{RunID: id, Command: command, StartedAt: started.UTC(), FinishedAt: p.Now().UTC(),
		Outcome: "failed", Error: cause, Trigger: trigger})
}

var _ schedules.Runs = (*Pipeline)(nil)
