package fsx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
	// paths are where the change's things are now: a file or folder made,
	// a file whose content changed, a rename's target and source, a
	// removal's place. follow keeps them current as folders are renamed
	// (a submission written under a temporary name, renamed into place),
	// so that what a folder never made durable is undone where the folder
	// is. self marks paths[0] as the file itself, which follows its own
	// renames too: its content goes where it goes.
	paths  []string
	self   bool
	revert func(paths []string) error
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
		if u := &s.log[i]; !u.durable {
			if err := u.revert(u.paths); err != nil {
				errs = append(errs, err)
			}
		}
	}
	s.log = nil
	return errors.Join(errs...)
}

// entry records a change to the entries of the directory of paths[0].
func (s *Strict) entry(paths []string, revert func(paths []string) error) {
	s.log = append(s.log, undo{dirIno: inode(filepath.Dir(paths[0])), paths: paths, revert: revert})
}

// made records the making of path (a file, folder or link), an entry of
// its directory, undone where path is then.
func (s *Strict) made(path string) {
	s.entry([]string{path}, func(p []string) error { return unmake(p[0]) })
}

// follow moves from oldpath to newpath the paths of the changes not yet
// durable: everything under the folder oldpath, and the content of the
// file oldpath. The making of oldpath itself, or a rename of it, stays
// where it happened: once the thing has left, a rename its new folder
// made durable keeps it there, and undoing that rename brings it back to
// where the earlier change is undone.
func (s *Strict) follow(oldpath, newpath string) {
	for i := range s.log {
		u := &s.log[i]
		if u.durable {
			continue
		}
		for j, p := range u.paths {
			if p == oldpath && u.self && j == 0 || strings.HasPrefix(p, oldpath+string(filepath.Separator)) {
				u.paths[j] = newpath + p[len(oldpath):]
			}
		}
	}
}

// unmake undoes the making of path: a thing that is not there any more
// left by a rename that stays.
func unmake(path string) error {
	if err := os.RemoveAll(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// aside moves path out of the tree; it returns where it went.
func (s *Strict) aside(path string) (string, error) {
	s.n++
	to := filepath.Join(s.Aside, fmt.Sprintf("%06d", s.n))
	if err := os.Rename(path, to); err != nil {
		return "", err
	}
	s.follow(path, to)
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
		s.made(name)
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
	f.s.log = append(f.s.log, undo{fileIno: f.ino, paths: []string{f.path}, self: true, revert: func(p []string) error {
		if _, err := os.Lstat(p[0]); err != nil {
			return nil // gone with its directory entry
		}
		return os.WriteFile(p[0], content, 0o644)
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
	f.s.markDurable(map[uint64]bool{f.ino: true}, nil)
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
	s.follow(oldpath, newpath)
	s.entry([]string{newpath, oldpath}, func(p []string) error {
		if _, err := os.Lstat(p[0]); errors.Is(err, fs.ErrNotExist) && replaced == "" {
			return nil // renamed on by a rename that stays
		}
		if err := os.Rename(p[0], p[1]); err != nil {
			return err
		}
		s.follow(p[0], p[1]) // Crash holds the lock
		if replaced != "" {
			if err := os.Rename(replaced, p[0]); err != nil {
				return err
			}
			s.follow(replaced, p[0])
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
	s.entry([]string{path}, func(p []string) error {
		if err := os.Rename(to, p[0]); err != nil {
			return err
		}
		s.follow(to, p[0]) // Crash holds the lock
		return nil
	})
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
		s.made(dir)
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
	s.made(newname)
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
	s.markDurable(nil, inodes(dir))
	return nil
}

// inodes are the inodes of paths, as a set (one that cannot be read is
// left out: it names nothing a sync could make durable).
func inodes(paths ...string) map[uint64]bool {
	set := make(map[uint64]bool, len(paths))
	for _, p := range paths {
		if ino := inode(p); ino != 0 {
			set[ino] = true
		}
	}
	return set
}

// markDurable marks the changes a sync makes durable: the content of the
// files, and the entries of the directories, of these inodes.
func (s *Strict) markDurable(files, dirs map[uint64]bool) {
	for i := range s.log {
		if u := &s.log[i]; u.fileIno != 0 && files[u.fileIno] || u.dirIno != 0 && dirs[u.dirIno] {
			u.durable = true
		}
	}
}
