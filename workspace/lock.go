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

	"golang.org/x/sys/unix"
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
}

func (e *ErrLocked) Error() string {
	if e.Holder.PID == 0 {
		return "another pledgestat run holds the workspace lock"
	}
	return fmt.Sprintf("another pledgestat run holds the workspace lock: PID %d (%s), started %s; wait for it, or use --wait",
		e.Holder.PID, e.Holder.Command, e.Holder.StartedAt.UTC().Format(time.RFC3339))
}

func (w *Workspace) lockPath() string { return filepath.Join(w.State(), "lock") }

// TryLock takes the lock or returns *ErrLocked naming the holder.
func (w *Workspace) TryLock(command string) (*Lock, error) {
	if err := os.MkdirAll(w.State(), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", w.State(), err)
	}
	f, err := os.OpenFile(w.lockPath(), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &ErrLocked{Holder: w.waitHolderInfo()}
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
func (w *Workspace) waitHolderInfo() Holder {
	var h Holder
	for i := 0; i < 20; i++ {
		h = w.lockHolder()
		if h.PID != 0 && unix.Kill(h.PID, 0) == nil {
			return h
		}
		time.Sleep(25 * time.Millisecond)
	}
	return h
}

func (w *Workspace) lockHolder() Holder {
	var h Holder
	data, err := os.ReadFile(w.lockPath())
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
	unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	err := l.f.Close()
	l.f = nil
	return err
}
