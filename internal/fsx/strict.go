package fsx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// ErrCrashed is what every change returns once Strict has crashed.
var ErrCrashed = errors.New("the machine crashed")

// Strict wraps the real file system of a test and remembers everything a
// power cut could still take away, so that Crash takes it away: a file's
// content written since its last Sync, and a directory's entries
// (creations, renames into it, removals) changed since its last SyncDir.
// Pebble's vfs.NewStrictMem is the model; this one works on the disk,
// because pledgestat reads through the os package, by keeping an undo log
// on it. A directory's or file's identity is its inode, so that syncing a
// folder under its new name (a staged run renamed into place) makes what
// was created in it under its old name durable.
//
// It models a file system that orders nothing: a rename is durable once
// the directory it lands in is synced, a new file's content once the file
// is. Removed things are moved aside (into Aside, on the same file
// system) rather than deleted, so that they can be put back.
type Strict struct {
	FS
	// Aside is a directory outside the tree under test, on the same file
	// system, where removed files wait in case a crash brings them back.
	Aside string

	mu      sync.Mutex
	log     []undo
	crashed bool
	n       int
}

// undo is one change a crash reverts unless it was made durable.
type undo struct {
	dirIno  uint64 // the directory whose sync makes it durable (entry changes)
	fileIno uint64 // the file whose sync makes it durable (content changes)
	durable bool
	revert  func() error
}

// Crash reverts every change not made durable, newest first, and makes
// every later change fail with ErrCrashed; what is on disk afterwards is
// what a machine that lost power at this instant would show.
func (s *Strict) Crash() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.crashed = true
	var errs []error
	for i := len(s.log) - 1; i >= 0; i-- {
		if !s.log[i].durable {
			if err := s.log[i].revert(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	s.log = nil
	return errors.Join(errs...)
}

// entry records a change to the entries of path's directory.
func (s *Strict) entry(path string, revert func() error) {
	s.log = append(s.log, undo{dirIno: inode(filepath.Dir(path)), revert: revert})
}

// aside moves path out of the tree; it returns where it went.
func (s *Strict) aside(path string) (string, error) {
	s.n++
	to := filepath.Join(s.Aside, fmt.Sprintf("%06d", s.n))
	if err := os.Rename(path, to); err != nil {
		return "", err
	}
	return to, nil
}

func (s *Strict) check() error {
	if s.crashed {
		return ErrCrashed
	}
	return nil
}

// OpenFile opens a file; opened for writing, what it holds now is kept
// for a crash before its next Sync, and a file it creates is an entry of
// its directory.
func (s *Strict) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	writing := flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_APPEND|os.O_TRUNC) != 0
	if !writing {
		return s.FS.OpenFile(name, flag, perm)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	_, statErr := os.Lstat(name)
	existed := statErr == nil
	var before []byte
	if existed {
		var err error
		if before, err = os.ReadFile(name); err != nil {
			return nil, err
		}
	}
	f, err := s.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	sf := &strictFile{File: f, s: s, path: name, ino: inode(name)}
	if !existed {
		s.entry(name, func() error { return os.Remove(name) })
	}
	sf.keep(before)
	return sf, nil
}

// strictFile keeps a file's content as of its last Sync.
type strictFile struct {
	File
	s    *Strict
	path string
	ino  uint64
}

// keep records content as what a crash restores until the next Sync.
func (f *strictFile) keep(content []byte) {
	path := f.path
	f.s.log = append(f.s.log, undo{fileIno: f.ino, revert: func() error {
		if _, err := os.Lstat(path); err != nil {
			return nil // gone with its directory entry
		}
		return os.WriteFile(path, content, 0o644)
	}})
}

func (f *strictFile) Write(p []byte) (int, error) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	if err := f.s.check(); err != nil {
		return 0, &fs.PathError{Op: "write", Path: f.path, Err: err}
	}
	return f.File.Write(p)
}

func (f *strictFile) Sync() error {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	if err := f.s.check(); err != nil {
		return &fs.PathError{Op: "sync", Path: f.path, Err: err}
	}
	if err := f.File.Sync(); err != nil {
		return err
	}
	for i := range f.s.log {
		if f.s.log[i].fileIno == f.ino {
			f.s.log[i].durable = true
		}
	}
	content, err := os.ReadFile(f.path)
	if err != nil {
		return err
	}
	f.keep(content)
	return nil
}

// Rename renames; a crash before the target's directory is synced moves
// it back and brings back what it replaced.
func (s *Strict) Rename(oldpath, newpath string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	if _, err := os.Lstat(oldpath); err != nil {
		return s.FS.Rename(oldpath, newpath)
	}
	replaced := ""
	if info, err := os.Lstat(newpath); err == nil && !info.IsDir() {
		if replaced, err = s.aside(newpath); err != nil {
			return err
		}
	}
	if err := s.FS.Rename(oldpath, newpath); err != nil {
		if replaced != "" {
			os.Rename(replaced, newpath)
		}
		return err
	}
	s.entry(newpath, func() error {
		if err := os.Rename(newpath, oldpath); err != nil {
			return err
		}
		if replaced != "" {
			return os.Rename(replaced, newpath)
		}
		return nil
	})
	return nil
}

// Remove removes a file or an empty directory; a crash before its
// directory is synced brings it back.
func (s *Strict) Remove(name string) error {
	return s.removeAll(name, true)
}

// RemoveAll removes a tree; a crash before its directory is synced
// brings it back.
func (s *Strict) RemoveAll(path string) error {
	return s.removeAll(path, false)
}

func (s *Strict) removeAll(path string, one bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return &fs.PathError{Op: "remove", Path: path, Err: err}
	}
	info, err := os.Lstat(path)
	if err != nil {
		if one {
			return s.FS.Remove(path)
		}
		return nil
	}
	if one && info.IsDir() {
		if entries, err := os.ReadDir(path); err != nil || len(entries) > 0 {
			return s.FS.Remove(path) // the error a non-empty folder gives
		}
	}
	to, err := s.aside(path)
	if err != nil {
		return err
	}
	s.entry(path, func() error { return os.Rename(to, path) })
	return nil
}

// MkdirAll creates the missing folders of path, each an entry of its
// parent.
func (s *Strict) MkdirAll(path string, perm fs.FileMode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return &fs.PathError{Op: "mkdir", Path: path, Err: err}
	}
	var missing []string
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); err == nil || p == filepath.Dir(p) {
			break
		}
		missing = append(missing, p)
	}
	if err := s.FS.MkdirAll(path, perm); err != nil {
		return err
	}
	for i := len(missing) - 1; i >= 0; i-- {
		dir := missing[i]
		s.entry(dir, func() error { return os.RemoveAll(dir) })
	}
	return nil
}

// Symlink creates a link, an entry of its directory.
func (s *Strict) Symlink(oldname, newname string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return &os.LinkError{Op: "symlink", Old: oldname, New: newname, Err: err}
	}
	if err := s.FS.Symlink(oldname, newname); err != nil {
		return err
	}
	s.entry(newname, func() error { return os.Remove(newname) })
	return nil
}

// SyncAll makes the content of the files, and the changes to the
// directories' entries, durable, as a Sync of each file and a SyncDir of
// each directory do.
func (s *Strict) SyncAll(files, dirs []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return &fs.PathError{Op: "sync", Path: "", Err: err}
	}
	if err := s.FS.SyncAll(files, dirs); err != nil {
		return err
	}
	durable := map[uint64]bool{}
	for _, f := range files {
		if ino := inode(f); ino != 0 {
			durable[ino] = true
		}
	}
	dirIno := map[uint64]bool{}
	for _, d := range dirs {
		if ino := inode(d); ino != 0 {
			dirIno[ino] = true
		}
	}
	for i := range s.log {
		if durable[s.log[i].fileIno] || dirIno[s.log[i].dirIno] {
			s.log[i].durable = true
		}
	}
	return nil
}

// SyncDir makes the changes to dir's entries durable.
func (s *Strict) SyncDir(dir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return &fs.PathError{Op: "sync", Path: dir, Err: err}
	}
	if err := s.FS.SyncDir(dir); err != nil {
		return err
	}
	ino := inode(dir)
	for i := range s.log {
		if s.log[i].dirIno == ino && ino != 0 {
			s.log[i].durable = true
		}
	}
	return nil
}
