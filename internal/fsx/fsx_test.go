package fsx

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// WriteFile replaces a file whole or not at all: a write that fails
// leaves the old content and no temporary behind; the new content is
// synced before the rename (the steps say so, in that order).
func TestWriteFileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.csv")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFile(OS{}, path, 0o644, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("a failed write: %v", err)
	}
	if content(path) != "old" {
		t.Errorf("a failed write changed the file: %q", content(path))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a failed write left %d entries", len(entries))
	}
	var ops []string
	steps := &Steps{FS: OS{}, Hook: func(_ int64, op, p string) error {
		ops = append(ops, op)
		return nil
	}}
	if err := WriteFile(steps, path, 0o644, func(w io.Writer) error {
		_, err := io.WriteString(w, "new")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if content(path) != "new" {
		t.Errorf("content %q", content(path))
	}
	want := "open write sync close rename syncdir"
	if got := strings.Join(ops, " "); got != want {
		t.Errorf("steps %q, want %q", got, want)
	}
}

// AppendLine adds one line and syncs it; Move renames, refusing a path
// that no longer names the file that was read.
func TestAppendLineAndMove(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "ledger.jsonl")
	for _, l := range []string{"a", "b"} {
		if err := AppendLine(OS{}, log, []byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	if content(log) != "a\nb\n" {
		t.Errorf("ledger %q", content(log))
	}
	src, dst := filepath.Join(dir, "in.csv"), filepath.Join(dir, "archive", "x", "in.csv")
	os.WriteFile(src, []byte("data"), 0o644)
	read, _ := os.Lstat(src)
	// Another file under the same name (made before the first goes, so
	// that it cannot reuse its inode).
	os.WriteFile(src+".new", []byte("other"), 0o644)
	os.Rename(src+".new", src)
	var changed *ChangedError
	if err := Move(OS{}, src, dst, read); !errors.As(err, &changed) {
		t.Errorf("moving a replaced file: %v", err)
	}
	read, _ = os.Lstat(src)
	if err := Move(OS{}, src, dst, read); err != nil || content(dst) != "other" {
		t.Errorf("move: %v, %q", err, content(dst))
	}
	if _, err := os.Lstat(src); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the source is still there: %v", err)
	}
}

// FreeName returns the name itself when free, else the first free -N
// before the extension.
func TestFreeName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv")
	if got, _ := FreeName(path); got != path {
		t.Errorf("a free name: %s", got)
	}
	os.WriteFile(path, nil, 0o644)
	os.WriteFile(filepath.Join(dir, "r-2.csv"), nil, 0o644)
	if got, _ := FreeName(path); got != filepath.Join(dir, "r-3.csv") {
		t.Errorf("taken twice: %s", got)
	}
	if !IsTemp(".tmp-abc-r.csv") || IsTemp("r.csv") || IsTemp(".tmp-") {
		t.Error("IsTemp")
	}
}

// OpenRegular never blocks and never reads through a refused link;
// ReadRegular bounds what it reads.
func TestOpenRegularRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.csv")
	os.WriteFile(file, []byte("0123456789"), 0o644)
	link := filepath.Join(dir, "link.csv")
	os.Symlink(file, link)
	fifo := filepath.Join(dir, "pipe.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no named pipes here")
	}
	var notRegular *NotRegularError
	for _, tc := range []struct {
		path     string
		noFollow bool
		refused  bool
	}{
		{file, true, false},
		{link, false, false},
		{link, true, true},
		{fifo, false, true},
		{dir, false, true},
	} {
		f, _, err := OpenRegular(tc.path, tc.noFollow)
		if f != nil {
			f.Close()
		}
		if got := errors.As(err, &notRegular); got != tc.refused {
			t.Errorf("OpenRegular(%s, %v): %v", filepath.Base(tc.path), tc.noFollow, err)
		}
	}
	if data, err := ReadRegular(file, 10); err != nil || string(data) != "0123456789" {
		t.Errorf("ReadRegular at its limit: %q %v", data, err)
	}
	var tooBig *TooBigError
	if _, err := ReadRegular(file, 9); !errors.As(err, &tooBig) {
		t.Errorf("ReadRegular over its limit: %v", err)
	}
}
