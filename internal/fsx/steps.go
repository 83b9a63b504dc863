package fsx

import (
	"io/fs"
	"os"
	"sync/atomic"
)

// Steps wraps an FS and calls Hook before every state change: each file
// opened for writing, write, sync, close of a written file, rename, remove,
// mkdir, symlink and directory sync. The crash tests use it to kill the
// process at a chosen step, and the fault tests to fail one.
type Steps struct {
	FS
	// Hook is called with the step number (from 1), the operation and its
	// path; a non-nil error is returned by the operation instead of doing
	// it.
	Hook  func(step int64, op, path string) error
	count atomic.Int64
}

func (s *Steps) step(op, path string) error {
	n := s.count.Add(1)
	if s.Hook == nil {
		return nil
	}
	return s.Hook(n, op, path)
}

// Count returns the number of steps taken so far.
func (s *Steps) Count() int64 { return s.count.Load() }

// OpenFile counts opening for writing; opening to read is not a step.
func (s *Steps) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	writing := flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_APPEND|os.O_TRUNC) != 0
	if writing {
		if err := s.step("open", name); err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
	}
	f, err := s.FS.OpenFile(name, flag, perm)
	if err != nil || !writing {
		return f, err
	}
	return &stepFile{File: f, s: s}, nil
}

// Rename counts a rename.
func (s *Steps) Rename(oldpath, newpath string) error {
	if err := s.step("rename", newpath); err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return s.FS.Rename(oldpath, newpath)
}

// Remove counts a removal.
func (s *Steps) Remove(name string) error {
	if err := s.step("remove", name); err != nil {
		return &fs.PathError{Op: "remove", Path: name, Err: err}
	}
	return s.FS.Remove(name)
}

// RemoveAll counts a tree removal.
func (s *Steps) RemoveAll(path string) error {
	if err := s.step("removeall", path); err != nil {
		return &fs.PathError{Op: "removeall", Path: path, Err: err}
	}
	return s.FS.RemoveAll(path)
}

// MkdirAll counts a directory creation.
func (s *Steps) MkdirAll(path string, perm fs.FileMode) error {
	if err := s.step("mkdir", path); err != nil {
		return &fs.PathError{Op: "mkdir", Path: path, Err: err}
	}
	return s.FS.MkdirAll(path, perm)
}

// Symlink counts a link creation.
func (s *Steps) Symlink(oldname, newname string) error {
	if err := s.step("symlink", newname); err != nil {
		return &os.LinkError{Op: "symlink", Old: oldname, New: newname, Err: err}
	}
	return s.FS.Symlink(oldname, newname)
}

// SyncDir counts a directory sync.
func (s *Steps) SyncDir(dir string) error {
	if err := s.step("syncdir", dir); err != nil {
		return &fs.PathError{Op: "sync", Path: dir, Err: err}
	}
	return s.FS.SyncDir(dir)
}

type stepFile struct {
	File
	s *Steps
}

func (f *stepFile) Write(p []byte) (int, error) {
	if err := f.s.step("write", f.Name()); err != nil {
		return 0, &fs.PathError{Op: "write", Path: f.Name(), Err: err}
	}
	return f.File.Write(p)
}

func (f *stepFile) Sync() error {
	if err := f.s.step("sync", f.Name()); err != nil {
		return &fs.PathError{Op: "sync", Path: f.Name(), Err: err}
	}
	return f.File.Sync()
}

func (f *stepFile) Close() error {
	if err := f.s.step("close", f.Name()); err != nil {
		f.File.Close()
		return &fs.PathError{Op: "close", Path: f.Name(), Err: err}
	}
	return f.File.Close()
}
