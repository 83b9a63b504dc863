package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
)

// Lock is the workspace's run lock: an OS file lock (flock) on
// .pledgestat/lock, released by the kernel if the holder dies.
type Lock struct {
	f *os.File
}

// Holder describes the process holding the lock.
type Holder struct {
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
	Command   string    `json:"command"`
}

// ErrLocked is returned when another process holds the lock.
type ErrLocked struct {
	Holder Holder
	What   string // "scheduler" for the scheduler lock, "" for the run lock
}

func (e *ErrLocked) Error() string {
	if e.What == "scheduler" {
		return fmt.Sprintf("a pledgestat scheduler already serves this workspace: PID %d, started %s; stop it first (one scheduler per workspace, or every job would run twice)",
			e.Holder.PID, e.Holder.StartedAt.UTC().Format(time.RFC3339))
	}
	if e.Holder.PID == 0 {
		return "another pledgestat run holds the workspace lock"
	}
	return fmt.Sprintf("another pledgestat run holds the workspace lock: PID %d (%s), started %s; wait for it, or use --wait",
		e.Holder.PID, e.Holder.Command, e.Holder.StartedAt.UTC().Format(time.RFC3339))
}

func (w *Workspace) lockPath() string { return filepath.Join(w.State(), "lock") }

func (w *Workspace) schedulerLockPath() string { return filepath.Join(w.State(), "scheduler.lock") }

// TryLock takes the run lock or returns *ErrLocked naming the holder.
func (w *Workspace) TryLock(command string) (*Lock, error) {
	return w.tryLock(w.lockPath(), command)
}

// TrySchedulerLock takes the scheduler lock, held by the one `schedule`
// process that serves the workspace for as long as it runs (a second one
// would run every job twice), or returns *ErrLocked naming the holder.
func (w *Workspace) TrySchedulerLock(description string) (*Lock, error) {
	l, err := w.tryLock(w.schedulerLockPath(), description)
	var locked *ErrLocked
	if errors.As(err, &locked) {
		locked.What = "scheduler"
	}
	return l, err
}

// Scheduler tells whether a `schedule` process serves the workspace, and
// which.
func (w *Workspace) Scheduler() (Holder, bool) {
	f, err := os.OpenFile(w.schedulerLockPath(), os.O_RDONLY, 0)
	if err != nil {
		return Holder{}, false
	}
	defer f.Close()
	if free, err := lockIsFree(f); err == nil && free {
		return Holder{}, false
	}
	return readHolder(w.schedulerLockPath()), true
}

func (w *Workspace) tryLock(path, command string) (*Lock, error) {
	if err := os.MkdirAll(w.State(), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", w.State(), err)
	}
	f, err := openLockFile(path)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, &ErrLocked{Holder: waitHolderInfo(path)}
		}
		return nil, fmt.Errorf("lock workspace: %w", err)
	}
	// One write of a fixed-size record: a reader sees the old holder or
	// the new one, never an empty file.
	h := Holder{PID: os.Getpid(), StartedAt: time.Now().UTC(), Command: command}
	data, _ := json.Marshal(h)
	if len(data) < holderRecordSize {
		data = append(data, []byte(strings.Repeat(" ", holderRecordSize-len(data)))...)
	}
	if _, err := f.WriteAt(data, 0); err == nil {
		f.Truncate(int64(len(data)))
	}
	return &Lock{f: f}, nil
}

// WaitLock takes the lock, waiting for the holder to finish or ctx to end.
func (w *Workspace) WaitLock(ctx context.Context, command string) (*Lock, error) {
	for {
		l, err := w.TryLock(command)
		var locked *ErrLocked
		if !errors.As(err, &locked) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the workspace lock: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitHolderInfo reads the holder's description, which the holder writes
// just after taking the lock: an empty or stale one (a dead PID) is read
// again for a moment.
func waitHolderInfo(path string) Holder {
	var h Holder
	for i := 0; i < 20; i++ {
		h = readHolder(path)
		if h.PID != 0 && processAlive(h.PID) {
			return h
		}
		time.Sleep(25 * time.Millisecond)
	}
	return h
}

func readHolder(path string) Holder {
	var h Holder
	data, err := fsx.ReadRegular(path, 4096)
	if err == nil {
		json.Unmarshal([]byte(strings.TrimSpace(string(data))), &h)
	}
	return h
}

const holderRecordSize = 256

// Release gives the lock up.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	unlockFile(l.f)
	err := l.f.Close()
	l.f = nil
	return err
}
