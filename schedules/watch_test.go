package schedules

import (
	"context"
	"testing"
	"time"
)

// fakeInbox is an inbox the test changes, with a clock it moves.
type fakeInbox struct {
	files map[string]FileState
	now   time.Time
	runs  []int // files present at each run
	busy  bool
}

func (f *fakeInbox) watcher() *Watcher {
	return &Watcher{
		List: func(context.Context) ([]FileState, error) {
			var out []FileState
			for _, s := range f.files {
				out = append(out, s)
			}
			return out, nil
		},
		Run: func(command, trigger string) error {
			if f.busy {
				return ErrBusy
			}
			f.runs = append(f.runs, len(f.files))
			return nil
		},
		Command: "run", Settle: 60 * time.Second, Log: quiet(), Now: func() time.Time { return f.now },
	}
}

func (f *fakeInbox) drop(name string, size int64) {
	f.files[name] = FileState{Name: name, Size: size, ModTime: f.now}
}

func TestWatcherBatchesSettledFiles(t *testing.T) {
	f := &fakeInbox{files: map[string]FileState{}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	w := f.watcher()
	ctx := context.Background()
	step := func(d time.Duration) bool { f.now = f.now.Add(d); return w.Poll1(ctx) }

	if step(0) {
		t.Fatal("ran on an empty inbox")
	}
	// Hundreds of files arrive over 50 s: no run until 60 s after the last.
	for i := 0; i < 300; i++ {
		f.drop(string(rune('a'+i%26))+string(rune('0'+i/26)), int64(i))
		if step(time.Second / 6) {
			t.Fatalf("ran while files were still arriving (file %d)", i)
		}
	}
	if step(59 * time.Second) {
		t.Fatal("ran before the settle time")
	}
	// A run is in progress: nothing is lost, the next poll tries again.
	f.busy = true
	if step(2 * time.Second) {
		t.Fatal("a busy run counted as started")
	}
	f.busy = false
	if !step(time.Second) || len(f.runs) != 1 || f.runs[0] != 300 {
		t.Fatalf("runs = %v, want one run of all 300 files", f.runs)
	}
	// The run took all but one file (left unreadable): it does not start
	// run after run.
	for name := range f.files {
		if name != "a0" {
			delete(f.files, name)
		}
	}
	for i := 0; i < 5; i++ {
		if step(2 * time.Minute) {
			t.Fatalf("a file left in the inbox started another run (%d)", i)
		}
	}
	// A new file starts a run once settled; so does the same file dropped
	// again after it was taken.
	f.drop("late.csv", 10)
	step(time.Second)
	if !step(61*time.Second) || len(f.runs) != 2 {
		t.Fatalf("runs = %v after a new file", f.runs)
	}
	delete(f.files, "late.csv")
	step(time.Second)
	f.files["late.csv"] = FileState{Name: "late.csv", Size: 10, ModTime: f.now.Add(-time.Hour)}
	step(time.Second)
	if !step(61*time.Second) || len(f.runs) != 3 {
		t.Fatalf("runs = %v after the same file was dropped again", f.runs)
	}
}

func TestPollInterval(t *testing.T) {
	for _, tt := range []struct{ settle, want time.Duration }{
		{0, time.Second}, {2 * time.Second, time.Second}, {30 * time.Second, 6 * time.Second}, {time.Hour, 10 * time.Second},
	} {
		if got := (&Watcher{Settle: tt.settle}).PollInterval(); got != tt.want {
			t.Errorf("settle %v: poll %v, want %v", tt.settle, got, tt.want)
		}
	}
}
