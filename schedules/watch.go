package schedules

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// FileState is what the watcher sees of an inbox file.
type FileState struct {
	Name    string
	Size    int64
	ModTime time.Time
}

// Watcher polls the inbox and starts a run once files have arrived and
// none has arrived or changed for the settle time, so files dropped
// together make one run. It polls rather than subscribing to file events:
// polling works on network shares, where inotify does not. A file is not
// missed while a run is in progress (the watcher tries again at its next
// poll), and a file the run left in the inbox (unreadable, still being
// written) does not start run after run: only files new or changed since
// the last run's start count.
type Watcher struct {
	// List returns the files waiting in the inbox.
	List func(ctx context.Context) ([]FileState, error)
	// Run starts a run; ErrBusy means one is in progress.
	Run     func(command, trigger string) error
	Command string
	Settle  time.Duration
	// Poll is how often the inbox is listed (default: a fifth of Settle,
	// from 1 to 10 seconds).
	Poll time.Duration
	Log  *slog.Logger
	Now  func() time.Time

	seen       map[string]FileState // the inbox at the last poll
	tried      map[string]FileState // the files present when the last run started
	lastChange time.Time
}

// WatchTrigger is how runs started by the watcher are recorded.
const WatchTrigger = "watch"

// PollInterval is the interval Loop uses.
func (w *Watcher) PollInterval() time.Duration {
	if w.Poll > 0 {
		return w.Poll
	}
	return min(max(w.Settle/5, time.Second), 10*time.Second)
}

// Loop polls until ctx is done.
func (w *Watcher) Loop(ctx context.Context) {
	tick := time.NewTicker(w.PollInterval())
	defer tick.Stop()
	for {
		w.Poll1(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Poll1 lists the inbox once and starts a run if files have settled. It
// reports whether a run was started.
func (w *Watcher) Poll1(ctx context.Context) bool {
	files, err := w.List(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.Log.Warn("watch: the inbox could not be listed", "err", err)
		}
		return false
	}
	now := w.Now()
	current := make(map[string]FileState, len(files))
	for _, f := range files {
		current[f.Name] = f
	}
	if changed(w.seen, current) {
		w.lastChange = now
	}
	w.seen = current
	// A file the last run took is forgotten once it leaves the inbox, so
	// the same file dropped again is new.
	for name, old := range w.tried {
		if cur, ok := current[name]; !ok || !same(cur, old) {
			delete(w.tried, name)
		}
	}
	fresh := 0
	for name := range current {
		if _, ok := w.tried[name]; !ok {
			fresh++
		}
	}
	if fresh == 0 || now.Sub(w.lastChange) < w.Settle {
		return false
	}
	w.Log.Info("watch: files have settled; starting a run", "files", fresh, "command", w.Command)
	err = w.Run(w.Command, WatchTrigger)
	if errors.Is(err, ErrBusy) {
		return false // the next poll tries again
	}
	w.tried = current
	return true
}

func same(a, b FileState) bool {
	return a.Name == b.Name && a.Size == b.Size && a.ModTime.Equal(b.ModTime)
}

func changed(a, b map[string]FileState) bool {
	if len(a) != len(b) {
		return true
	}
	for name, f := range b {
		if old, ok := a[name]; !ok || !same(old, f) {
			return true
		}
	}
	return false
}
