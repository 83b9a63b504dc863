package fsx

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func strictTree(t *testing.T) (*Strict, string) {
	t.Helper()
	root := t.TempDir()
	tree, aside := filepath.Join(root, "tree"), filepath.Join(root, "aside")
	os.MkdirAll(tree, 0o755)
	os.MkdirAll(aside, 0o755)
	return &Strict{FS: OS{}, Aside: aside}, tree
}

func content(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "<none>"
	}
	return string(data)
}

func writeAll(t *testing.T, s *Strict, path, text string, sync bool) {
	t.Helper()
	f, err := s.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
}

// What a crash keeps is exactly what was synced: file content by the
// file's sync, entries by their directory's.
func TestStrictForgetsWhatWasNotSynced(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(t *testing.T, s *Strict, dir string)
		want map[string]string // path under dir -> content after the crash
	}{
		{"new file, nothing synced", func(t *testing.T, s *Strict, dir string) {
			writeAll(t, s, filepath.Join(dir, "a"), "x", false)
		}, map[string]string{"a": "<none>"}},
		{"new file synced, its folder not", func(t *testing.T, s *Strict, dir string) {
			writeAll(t, s, filepath.Join(dir, "a"), "x", true)
		}, map[string]string{"a": "<none>"}},
		{"folder synced, the file not", func(t *testing.T, s *Strict, dir string) {
			writeAll(t, s, filepath.Join(dir, "a"), "x", false)
			s.SyncDir(dir)
		}, map[string]string{"a": ""}},
		{"both synced", func(t *testing.T, s *Strict, dir string) {
			writeAll(t, s, filepath.Join(dir, "a"), "x", true)
			s.SyncDir(dir)
		}, map[string]string{"a": "x"}},
		{"a folder renamed into place, its file's content not synced", func(t *testing.T, s *Strict, dir string) {
			s.MkdirAll(filepath.Join(dir, "tmp"), 0o755)
			writeAll(t, s, filepath.Join(dir, "tmp", "a"), "x", false)
			s.SyncDir(filepath.Join(dir, "tmp"))
			s.Rename(filepath.Join(dir, "tmp"), filepath.Join(dir, "final"))
			s.SyncDir(dir)
		}, map[string]string{"final/a": "", "tmp": "<none>"}},
		{"a folder renamed into place before its entries were synced", func(t *testing.T, s *Strict, dir string) {
			s.MkdirAll(filepath.Join(dir, "tmp"), 0o755)
			writeAll(t, s, filepath.Join(dir, "tmp", "a"), "x", true)
			s.Rename(filepath.Join(dir, "tmp"), filepath.Join(dir, "final"))
			s.SyncDir(dir)
		}, map[string]string{"final/a": "<none>", "tmp": "<none>"}},
		{"a file moved out of a folder never synced, into one that is", func(t *testing.T, s *Strict, dir string) {
			s.MkdirAll(filepath.Join(dir, "spill"), 0o755)
			s.MkdirAll(filepath.Join(dir, "sub"), 0o755)
			s.SyncDir(dir)
			writeAll(t, s, filepath.Join(dir, "spill", "a"), "x", true)
			s.Rename(filepath.Join(dir, "spill", "a"), filepath.Join(dir, "sub", "a"))
			s.SyncDir(filepath.Join(dir, "sub"))
		}, map[string]string{"sub/a": "x", "spill/a": "<none>"}},
		// Changes inside folders that are then renamed (an independent
		// review's cases).
		{"rename inside a folder, folder renamed and made durable", func(t *testing.T, s *Strict, dir string) {
			s.MkdirAll(filepath.Join(dir, "tmp"), 0o755)
			writeAll(t, s, filepath.Join(dir, "tmp", "x"), "x", true)
			s.SyncDir(filepath.Join(dir, "tmp"))
			s.Rename(filepath.Join(dir, "tmp", "x"), filepath.Join(dir, "tmp", "y"))
			s.Rename(filepath.Join(dir, "tmp"), filepath.Join(dir, "final"))
			s.SyncDir(dir)
		}, map[string]string{"final/x": "x", "final/y": "<none>"}},
		{"same, a new tmp made after", func(t *testing.T, s *Strict, dir string) {
			s.MkdirAll(filepath.Join(dir, "tmp"), 0o755)
			writeAll(t, s, filepath.Join(dir, "tmp", "x"), "x", true)
			s.SyncDir(filepath.Join(dir, "tmp"))
			s.Rename(filepath.Join(dir, "tmp", "x"), filepath.Join(dir, "tmp", "y"))
			s.Rename(filepath.Join(dir, "tmp"), filepath.Join(dir, "final"))
			s.MkdirAll(filepath.Join(dir, "tmp"), 0o755)
			s.SyncDir(dir)
		}, map[string]string{"final/x": "x", "final/y": "<none>", "tmp/x": "<none>"}},
		{"remove inside a folder, folder renamed and made durable", func(t *testing.T, s *Strict, dir string) {
			s.MkdirAll(filepath.Join(dir, "tmp"), 0o755)
			writeAll(t, s, filepath.Join(dir, "tmp", "a"), "a", true)
			s.SyncDir(filepath.Join(dir, "tmp"))
			s.Remove(filepath.Join(dir, "tmp", "a"))
			s.Rename(filepath.Join(dir, "tmp"), filepath.Join(dir, "final"))
			s.SyncDir(dir)
		}, map[string]string{"final/a": "a"}},
		{"rename over existing, inside renamed folder", func(t *testing.T, s *Strict, dir string) {
			s.MkdirAll(filepath.Join(dir, "tmp"), 0o755)
			writeAll(t, s, filepath.Join(dir, "tmp", "a"), "old", true)
			writeAll(t, s, filepath.Join(dir, "tmp", "b"), "new", true)
			s.SyncDir(filepath.Join(dir, "tmp"))
			s.Rename(filepath.Join(dir, "tmp", "b"), filepath.Join(dir, "tmp", "a"))
			s.Rename(filepath.Join(dir, "tmp"), filepath.Join(dir, "final"))
			s.SyncDir(dir)
		}, map[string]string{"final/a": "old", "final/b": "new"}},
		{"chain of file renames across folders, last durable", func(t *testing.T, s *Strict, dir string) {
			for _, d := range []string{"d1", "d2", "d3"} {
				s.MkdirAll(filepath.Join(dir, d), 0o755)
			}
			s.SyncDir(dir)
			writeAll(t, s, filepath.Join(dir, "d1", "a"), "a", true)
			s.SyncDir(filepath.Join(dir, "d1"))
			s.Rename(filepath.Join(dir, "d1", "a"), filepath.Join(dir, "d2", "b"))
			s.Rename(filepath.Join(dir, "d2", "b"), filepath.Join(dir, "d3", "c"))
			s.SyncDir(filepath.Join(dir, "d3"))
		}, map[string]string{"d3/c": "a"}},
		{"nested: inner folder renamed out of an outer renamed folder", func(t *testing.T, s *Strict, dir string) {
			s.MkdirAll(filepath.Join(dir, "o", "i"), 0o755)
			writeAll(t, s, filepath.Join(dir, "o", "i", "f"), "f", false)
			s.Rename(filepath.Join(dir, "o", "i"), filepath.Join(dir, "i2"))
			s.Rename(filepath.Join(dir, "o"), filepath.Join(dir, "o2"))
			s.SyncDir(dir)
		}, map[string]string{"i2/f": "<none>", "o2": "<none>"}},
		{"file made in a folder, folder renamed, file content unsynced, both dirs synced", func(t *testing.T, s *Strict, dir string) {
			s.MkdirAll(filepath.Join(dir, "tmp"), 0o755)
			writeAll(t, s, filepath.Join(dir, "tmp", "a"), "a", false)
			s.Rename(filepath.Join(dir, "tmp"), filepath.Join(dir, "final"))
			s.SyncDir(filepath.Join(dir, "final"))
			s.SyncDir(dir)
		}, map[string]string{"final/a": ""}},
		{"remove then crash: file durable, removal unsynced", func(t *testing.T, s *Strict, dir string) {
			writeAll(t, s, filepath.Join(dir, "a"), "a", true)
			s.SyncDir(dir)
			s.Remove(filepath.Join(dir, "a"))
		}, map[string]string{"a": "a"}},
		{"removeall of a folder holding an unsynced file, then crash", func(t *testing.T, s *Strict, dir string) {
			s.MkdirAll(filepath.Join(dir, "d"), 0o755)
			s.SyncDir(dir)
			writeAll(t, s, filepath.Join(dir, "d", "a"), "a", true)
			s.RemoveAll(filepath.Join(dir, "d"))
		}, map[string]string{"d/a": "<none>"}},
		{"WriteFile is durable", func(t *testing.T, s *Strict, dir string) {
			WriteFile(s, filepath.Join(dir, "a"), 0o644, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err })
		}, map[string]string{"a": "new"}},
		{"an append not synced", func(t *testing.T, s *Strict, dir string) {
			writeAll(t, s, filepath.Join(dir, "log"), "one\n", true)
			s.SyncDir(dir)
			f, _ := s.OpenFile(filepath.Join(dir, "log"), os.O_WRONLY|os.O_APPEND, 0o644)
			f.Write([]byte("two\n"))
			f.Close()
		}, map[string]string{"log": "one\n"}},
		{"AppendLine is durable", func(t *testing.T, s *Strict, dir string) {
			writeAll(t, s, filepath.Join(dir, "log"), "one\n", true)
			s.SyncDir(dir)
			AppendLine(s, filepath.Join(dir, "log"), []byte("two"))
		}, map[string]string{"log": "one\ntwo\n"}},
		{"rename over a file, folder not synced", func(t *testing.T, s *Strict, dir string) {
			writeAll(t, s, filepath.Join(dir, "old"), "before", true)
			writeAll(t, s, filepath.Join(dir, "new"), "after", true)
			s.SyncDir(dir)
			s.Rename(filepath.Join(dir, "new"), filepath.Join(dir, "old"))
		}, map[string]string{"old": "before", "new": "after"}},
		{"removals not synced", func(t *testing.T, s *Strict, dir string) {
			writeAll(t, s, filepath.Join(dir, "f"), "kept", true)
			s.MkdirAll(filepath.Join(dir, "d", "e"), 0o755)
			writeAll(t, s, filepath.Join(dir, "d", "e", "g"), "deep", true)
			s.SyncDir(filepath.Join(dir, "d", "e"))
			s.SyncDir(filepath.Join(dir, "d"))
			s.SyncDir(dir)
			s.Remove(filepath.Join(dir, "f"))
			s.RemoveAll(filepath.Join(dir, "d"))
		}, map[string]string{"f": "kept", "d/e/g": "deep"}},
		{"folders made, parent not synced", func(t *testing.T, s *Strict, dir string) {
			s.MkdirAll(filepath.Join(dir, "x", "y"), 0o755)
			writeAll(t, s, filepath.Join(dir, "x", "y", "z"), "z", true)
			s.SyncDir(filepath.Join(dir, "x", "y"))
			s.SyncDir(filepath.Join(dir, "x"))
		}, map[string]string{"x/y/z": "<none>"}},
		{"a staged folder renamed into place", func(t *testing.T, s *Strict, dir string) {
			s.MkdirAll(filepath.Join(dir, ".stage"), 0o755)
			writeAll(t, s, filepath.Join(dir, ".stage", "out"), "run", true)
			s.SyncDir(filepath.Join(dir, ".stage"))
			s.Rename(filepath.Join(dir, ".stage"), filepath.Join(dir, "run1"))
			s.SyncDir(dir)
		}, map[string]string{"run1/out": "run", ".stage/out": "<none>"}},
		{"a staged folder renamed, not synced", func(t *testing.T, s *Strict, dir string) {
			s.MkdirAll(filepath.Join(dir, ".stage"), 0o755)
			writeAll(t, s, filepath.Join(dir, ".stage", "out"), "run", true)
			s.Rename(filepath.Join(dir, ".stage"), filepath.Join(dir, "run1"))
			s.SyncDir(filepath.Join(dir, "run1"))
		}, map[string]string{"run1/out": "<none>", ".stage/out": "<none>"}},
		{"a link switched, not synced", func(t *testing.T, s *Strict, dir string) {
			os.Symlink("run1", filepath.Join(dir, "latest"))
			s.Symlink("run2", filepath.Join(dir, ".latest-tmp"))
			s.Rename(filepath.Join(dir, ".latest-tmp"), filepath.Join(dir, "latest"))
		}, map[string]string{"latest": "-> run1", ".latest-tmp": "<none>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, dir := strictTree(t)
			tc.do(t, s, dir)
			if err := s.Crash(); err != nil {
				t.Fatalf("crash: %v", err)
			}
			for rel, want := range tc.want {
				path := filepath.Join(dir, rel)
				got := content(path)
				if target, err := os.Readlink(path); err == nil {
					got = "-> " + target
				}
				if got != want {
					t.Errorf("%s after the crash: %q, want %q", rel, got, want)
				}
			}
			if err := s.MkdirAll(filepath.Join(dir, "later"), 0o755); !errors.Is(err, ErrCrashed) {
				t.Errorf("a change after the crash: %v", err)
			}
		})
	}
}
