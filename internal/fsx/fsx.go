// Package fsx is pledgestat's seam over the file system: every state change
// of the workspace (store, ledger, archive moves, published runs) goes
// through an FS, so that tests can inject faults at any step, and through
// the helpers here, which follow one protocol: write a temporary file, fsync
// it, rename it into place, fsync the directory.
package fsx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// File is an open file.
type File interface {
	io.ReadWriteCloser
	Sync() error
	Name() string
}

// FS is the subset of the operating system's file system pledgestat uses
// to change state.
type FS interface {
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	RemoveAll(path string) error
	MkdirAll(path string, perm fs.FileMode) error
	Symlink(oldname, newname string) error
	// SyncDir makes the directory's entries (creations, renames) durable.
	SyncDir(dir string) error
}

// OS is the real file system.
type OS struct{}

// OpenFile opens a file of the operating system.
func (OS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	return os.OpenFile(name, flag, perm)
}

// Rename renames a file.
func (OS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove removes a file or empty directory.
func (OS) Remove(name string) error { return os.Remove(name) }

// RemoveAll removes a tree.
func (OS) RemoveAll(path string) error { return os.RemoveAll(path) }

// MkdirAll creates a directory and its parents.
func (OS) MkdirAll(path string, perm fs.FileMode) error { return os.MkdirAll(path, perm) }

// Symlink creates a symbolic link.
func (OS) Symlink(oldname, newname string) error { return os.Symlink(oldname, newname) }

// SyncDir fsyncs a directory.
func (OS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// tempName returns a hidden temporary name next to path; a leftover one is
// recognisable by its ".tmp-" prefix and removed by the next run.
func tempName(path string) string {
	return filepath.Join(filepath.Dir(path), ".tmp-"+strconv.FormatInt(time.Now().UnixNano(), 36)+"-"+filepath.Base(path))
}

// IsTemp reports whether a directory entry is a leftover temporary file.
func IsTemp(name string) bool {
	return len(name) > 5 && name[:5] == ".tmp-"
}

// CopyTo copies the bytes of the file at path to w.
func CopyTo(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("copy %s: %w", path, err)
	}
	return nil
}

// Names lists the names in a folder in the order the file system gives
// them, without the sort and the entry per name os.ReadDir makes: the
// archive and the store's submissions are listed at every run, 10,000
// names and more.
func Names(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// WriteFile writes a file atomically: write to a temporary file in the same
// directory, fsync, rename over path, fsync the directory. Readers see the
// old content or the new, never a part.
func WriteFile(fsys FS, path string, perm fs.FileMode, write func(w io.Writer) error) error {
	tmp := tempName(path)
	f, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			fsys.Remove(tmp)
		}
	}()
	// Buffered: the Parquet and CSV writers hand over a few bytes at a
	// time, and a write system call for each was ninety per submission.
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := fsys.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	ok = true
	if err := fsys.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("sync directory of %s: %w", path, err)
	}
	return nil
}

// WriteNew writes a new file (it must not exist) and fsyncs it, without
// the temporary name and directory sync of WriteFile: for files in a
// folder no reader sees until it is renamed into place, whose directory
// the caller syncs once for all of them.
func WriteNew(fsys FS, path string, perm fs.FileMode, write func(w io.Writer) error) error {
	f, err := writeNew(fsys, path, perm, write)
	if err != nil {
		return err
	}
	return syncClose(f, path)
}

// writeNew creates path (it must not exist) and writes it, buffered; the
// file is left open.
func writeNew(fsys FS, path string, perm fs.FileMode, write func(w io.Writer) error) (File, error) {
	f, err := fsys.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return f, nil
}

// syncClose makes a written file durable and closes it.
func syncClose(f File, path string) error {
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// ChangedError is returned by Move when the path no longer names the file
// that was read: it was replaced (by another file or a symbolic link)
// after it was opened.
type ChangedError struct{ Path string }

func (e *ChangedError) Error() string {
	return e.Path + " was replaced after it was read"
}

// Move renames src to dst (same file system) and makes both directories
// durable, so that after a crash the file is in exactly one of them.
// Across file systems it copies (see moveAcross). With expect set, only
// that file is moved: if src names another file (it was swapped after
// being read) nothing is moved and a *ChangedError is returned; if it is
// swapped in the instant between the check and the rename, what was moved
// is put back in the inbox folder and the same error is returned.
func Move(fsys FS, src, dst string, expect fs.FileInfo) error {
	synced, err := MoveUnsynced(fsys, src, dst, expect)
	if err != nil || synced {
		return err
	}
	return syncMoves(fsys, src, dst)
}

// syncMoves makes a move from src's folder to dst's durable.
func syncMoves(fsys FS, src, dst string) error {
	if err := fsys.SyncDir(filepath.Dir(dst)); err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Dir(dst), err)
	}
	if err := fsys.SyncDir(filepath.Dir(src)); err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Dir(src), err)
	}
	return nil
}

// MoveUnsynced is Move without the directory syncs, for a group of moves
// made durable together (the caller syncs each folder moved from and to
// once). synced is true when the move was a copy across file systems,
// which is made durable on the way.
func MoveUnsynced(fsys FS, src, dst string, expect fs.FileInfo) (synced bool, err error) {
	if err := fsys.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return false, fmt.Errorf("create %s: %w", filepath.Dir(dst), err)
	}
	if expect != nil && !sameFile(src, expect) {
		return false, &ChangedError{Path: src}
	}
	err = fsys.Rename(src, dst)
	if crossDevice(err) {
		return true, moveAcross(fsys, src, dst, expect)
	}
	if err != nil {
		return false, fmt.Errorf("move %s to %s: %w", src, dst, err)
	}
	if expect != nil && !sameFile(dst, expect) {
		back, ferr := FreeName(src)
		if ferr == nil {
			ferr = fsys.Rename(dst, back)
		}
		if ferr != nil {
			return false, fmt.Errorf("move %s: it was replaced while being moved, and what replaced it could not be put back from %s: %w", src, dst, ferr)
		}
		return false, &ChangedError{Path: src}
	}
	return false, nil
}

// sameFile reports whether path itself (not a link's target) is the file
// described by info.
func sameFile(path string, info fs.FileInfo) bool {
	st, err := os.Lstat(path)
	return err == nil && os.SameFile(st, info)
}

// moveAcross moves a file to another file system (an inbox on a mounted
// share): it copies it beside dst under a temporary name, fsyncs, renames
// it into place, fsyncs the directory, and only then removes src. A crash
// in between leaves the file in both places, never in neither.
func moveAcross(fsys FS, src, dst string, expect fs.FileInfo) error {
	in, st, err := OpenRegular(src, true)
	if err != nil {
		var nr *NotRegularError
		if errors.As(err, &nr) && expect != nil {
			return &ChangedError{Path: src}
		}
		return fmt.Errorf("move %s to %s: %w", src, dst, err)
	}
	defer in.Close()
	if expect != nil && !os.SameFile(st, expect) {
		return &ChangedError{Path: src}
	}
	if err := WriteFile(fsys, dst, st.Mode().Perm()|0o400, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	}); err != nil {
		return fmt.Errorf("move %s to another file system: %w", src, err)
	}
	if !sameFile(src, st) {
		return nil // replaced meanwhile: what is there now is another file, left for a later run
	}
	if err := fsys.Remove(src); err != nil {
		return fmt.Errorf("move %s: copied to %s, but the original could not be removed: %w", src, dst, err)
	}
	if err := fsys.SyncDir(filepath.Dir(src)); err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Dir(src), err)
	}
	return nil
}

// AppendLine appends one line to a file and fsyncs it before returning.
func AppendLine(fsys FS, path string, line []byte) error {
	return AppendLines(fsys, path, [][]byte{line})
}

// AppendLines appends lines to a file in one write and fsyncs once: a
// group commit. A crash can leave a prefix of them, the last one cut.
func AppendLines(fsys FS, path string, lines [][]byte) error {
	if len(lines) == 0 {
		return nil
	}
	f, err := fsys.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	var buf []byte
	for _, line := range lines {
		buf = append(append(buf, line...), '\n')
	}
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return fmt.Errorf("append to %s: %w", path, err)
	}
	return syncClose(f, path)
}

// MaxFreeNameTries bounds the search for a free name: far more than the
// names one run can need, few enough that a directory that answers every
// probe with "exists" cannot hold a run.
const MaxFreeNameTries = 10000

// FreeName returns path if nothing exists there, else path with "-2",
// "-3"... before its extension. Any answer other than "does not exist" or
// "exists" (a name too long, a folder that cannot be searched) is an error:
// retrying cannot change it.
func FreeName(path string) (string, error) {
	ext := filepath.Ext(path)
	stem := path[:len(path)-len(ext)]
	candidate := path
	for i := 2; i <= MaxFreeNameTries+1; i++ {
		_, err := os.Lstat(candidate)
		if errors.Is(err, fs.ErrNotExist) {
			return candidate, nil
		}
		if err != nil {
			return "", fmt.Errorf("find a free name for %s: %w", path, err)
		}
		candidate = stem + "-" + strconv.Itoa(i) + ext
	}
	return "", fmt.Errorf("find a free name for %s: %d names taken", path, MaxFreeNameTries)
}

// Reason is an error's message without the path it names, for a listing
// or report that names the path already ("permission denied").
func Reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
