// Package publish makes a run's outputs visible atomically. Files are
// written into a hidden staging folder under out/runs, each fsynced; the
// folder is renamed to out/runs/RUN_ID and fsynced; then the out/latest
// symbolic link is switched by renaming a new link over it. Readers of
// out/latest see the previous complete run or the new one, never a part.
package publish

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
)

// File describes one written output.
type File struct {
	Name   string
	SHA256 string
	Bytes  int64
	Rows   int
}

// Staging is a run being written.
type Staging struct {
	fs     fsx.FS
	out    string // out/
	runID  string
	dir    string // staging folder
	files  []File
	closed bool
}

const stagingPrefix = ".staging-"

// Stage starts writing run runID under out/runs.
func Stage(fsys fsx.FS, out, runID string) (*Staging, error) {
	runs := filepath.Join(out, "runs")
	dir := filepath.Join(runs, stagingPrefix+runID)
	if err := fsys.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("clear staging %s: %w", dir, err)
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create staging %s: %w", dir, err)
	}
	return &Staging{fs: fsys, out: out, runID: runID, dir: dir}, nil
}

// Output is one file to write into the staging folder.
type Output struct {
	Name  string
	Rows  int
	Write func(w io.Writer) error
}

// WriteAll writes the outputs, up to workers at once (they are
// independent: both cores compress), and records them in the order given,
// whatever order they finish in. The first failure stops the rest.
func (s *Staging) WriteAll(ctx context.Context, outputs []Output, workers int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	files := make([]File, len(outputs))
	errs := make([]error, len(outputs))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < max(1, workers); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				o := outputs[i]
				f, err := s.write(ctx, o.Name, o.Rows, o.Write)
				if err != nil {
					errs[i] = fmt.Errorf("write %s: %w", o.Name, err)
					cancel()
					continue
				}
				files[i] = f
			}
		}()
	}
	for i := range outputs {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.files = append(s.files, files...)
	return nil
}

// Files lists what was written so far, in order.
func (s *Staging) Files() []File { return append([]File(nil), s.files...) }

type countingHash struct {
	w   io.Writer
	n   int64
	ctx context.Context
}

func (c *countingHash) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Write writes one output file, recording its SHA-256, size and rows.
// Once ctx is done, the next write to the file fails with ctx's error, so
// a long export stops promptly and the staging folder is never committed.
func (s *Staging) Write(ctx context.Context, name string, rows int, write func(w io.Writer) error) (File, error) {
	f, err := s.write(ctx, name, rows, write)
	if err != nil {
		return File{}, err
	}
	s.files = append(s.files, f)
	return f, nil
}

func (s *Staging) write(ctx context.Context, name string, rows int, write func(w io.Writer) error) (File, error) {
	h := sha256.New()
	var counted *countingHash
	err := fsx.WriteFile(s.fs, filepath.Join(s.dir, name), 0o644, func(w io.Writer) error {
		counted = &countingHash{w: io.MultiWriter(w, h), ctx: ctx}
		return write(counted)
	})
	if err != nil {
		return File{}, err
	}
	return File{Name: name, SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: counted.n, Rows: rows}, nil
}

// Commit renames the staging folder to out/runs/RUN_ID and switches
// out/latest to it.
func (s *Staging) Commit() error {
	if err := s.CommitHeld(); err != nil {
		return err
	}
	return SwitchLatest(s.fs, s.out, s.runID)
}

// CommitHeld publishes the staged run under runs/RUN_ID without switching
// out/latest to it: a run held by a publish gate, complete and durable,
// which `release` switches to later.
func (s *Staging) CommitHeld() error {
	runs := filepath.Join(s.out, "runs")
	final := filepath.Join(runs, s.runID)
	if err := s.fs.SyncDir(s.dir); err != nil {
		return fmt.Errorf("sync %s: %w", s.dir, err)
	}
	if err := s.fs.Rename(s.dir, final); err != nil {
		return fmt.Errorf("publish %s: %w", s.runID, err)
	}
	if err := s.fs.SyncDir(runs); err != nil {
		return fmt.Errorf("sync %s: %w", runs, err)
	}
	s.closed = true
	return nil
}

// Abort removes the staging folder.
func (s *Staging) Abort() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.fs.RemoveAll(s.dir)
}

// SwitchLatest points out/latest at runs/RUN_ID with one rename. If the
// switch cannot be made durable (the directory's sync fails after the
// rename), out/latest is put back where it pointed, so that a failed run
// has published nothing, as its exit status says.
func SwitchLatest(fsys fsx.FS, out, runID string) error {
	previous, _ := os.Readlink(filepath.Join(out, "latest"))
	tmp := filepath.Join(out, ".latest-"+runID)
	if err := fsys.RemoveAll(tmp); err != nil {
		return fmt.Errorf("clear %s: %w", tmp, err)
	}
	if err := fsys.Symlink(filepath.Join("runs", runID), tmp); err != nil {
		return fmt.Errorf("link latest: %w", err)
	}
	if err := fsys.Rename(tmp, filepath.Join(out, "latest")); err != nil {
		return fmt.Errorf("switch latest: %w", err)
	}
	if err := fsys.SyncDir(out); err != nil {
		if previous != "" {
			back := filepath.Join(out, ".latest-back-"+runID)
			fsys.RemoveAll(back)
			if fsys.Symlink(previous, back) == nil && fsys.Rename(back, filepath.Join(out, "latest")) == nil {
				return fmt.Errorf("sync %s: %w (out/latest still points to %s)", out, err, previous)
			}
		}
		return fmt.Errorf("sync %s: %w (out/latest may point to the new run %s)", out, err, runID)
	}
	return nil
}

// NotLinkError: out/latest is something other than the symbolic link
// publish maintains (someone made it a folder or a file).
type NotLinkError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotLinkError) Error() string {
	return fmt.Sprintf("%s is %s, not the symbolic link pledgestat maintains", e.Path, fsx.Kind(e.Mode))
}

// Latest returns the run out/latest points at, or "" when none. Anything
// but a link there is a *NotLinkError.
func Latest(out string) (string, error) {
	path := filepath.Join(out, "latest")
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read out/latest: %w", err)
	}
	if st.Mode()&fs.ModeSymlink == 0 {
		return "", &NotLinkError{Path: path, Mode: st.Mode()}
	}
	target, err := os.Readlink(path)
	if err != nil {
		return "", fmt.Errorf("read out/latest: %w", err)
	}
	return filepath.Base(target), nil
}

// RepairLatest makes sure out/latest is the link publish maintains, or
// absent, before a build spends its time: a folder or file put there is
// moved aside to out/latest.moved-N (never deleted; its new path is
// returned) so that the next publish can switch the link. If it cannot be
// moved (a mount point), the error says what to do.
func RepairLatest(fsys fsx.FS, out string) (string, error) {
	_, err := Latest(out)
	var nl *NotLinkError
	if !errors.As(err, &nl) {
		return "", nil
	}
	aside, ferr := fsx.FreeName(filepath.Join(out, "latest.moved"))
	if ferr == nil {
		ferr = fsys.Rename(nl.Path, aside)
	}
	if ferr == nil {
		ferr = fsys.SyncDir(out)
	}
	if ferr != nil {
		return "", fmt.Errorf("%w; it could not be moved aside (%v): move it away, and pledgestat recreates the link at the next build", nl, ferr)
	}
	return aside, nil
}

// Runs lists the published runs, newest first by start time
// (CompareRunIDs); folders not named like a run are not runs.
func Runs(out string) ([]string, error) {
	list, err := os.ReadDir(filepath.Join(out, "runs"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	var ids []string
	for _, d := range list {
		// Only run folders: a folder of another name is not a run, so
		// retention neither counts nor removes it.
		if _, _, ok := splitRunID(d.Name()); d.IsDir() && ok {
			ids = append(ids, d.Name())
		}
	}
	slices.SortFunc(ids, func(a, b string) int { return CompareRunIDs(b, a) })
	return ids, nil
}

// CompareRunIDs orders run identifiers by when the runs started: by their
// UTC time, then by the number a second run in the same second takes
// (…Z, …Z-2, …Z-9, …Z-10). Compared as strings, …Z-10 would come before
// …Z-9, and retention would remove the newer run. Names of another form
// sort after those of the form, as strings.
func CompareRunIDs(a, b string) int {
	ta, na, oka := splitRunID(a)
	tb, nb, okb := splitRunID(b)
	switch {
	case oka && okb:
		if c := strings.Compare(ta, tb); c != 0 {
			return c
		}
		return cmp.Compare(na, nb)
	case oka:
		return -1
	case okb:
		return 1
	}
	return strings.Compare(a, b)
}

// splitRunID splits a run identifier into its time and its number (1 for
// the first run of a second).
func splitRunID(id string) (string, int, bool) {
	const timeLen = len("20060102T150405Z")
	if len(id) < timeLen || id[timeLen-1] != 'Z' {
		return "", 0, false
	}
	t, rest := id[:timeLen], id[timeLen:]
	if rest == "" {
		return t, 1, true
	}
	if rest[0] != '-' || len(rest) > 8 {
		return "", 0, false
	}
	n, err := strconv.Atoi(rest[1:])
	if err != nil || n < 2 {
		return "", 0, false
	}
	return t, n, true
}

// CleanStaging removes staging folders and link temporaries a crashed run
// left; it returns what it removed.
func CleanStaging(fsys fsx.FS, out string) ([]string, error) {
	var removed []string
	for _, dir := range []string{filepath.Join(out, "runs"), out} {
		list, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return removed, fmt.Errorf("list %s: %w", dir, err)
		}
		for _, d := range list {
			if strings.HasPrefix(d.Name(), stagingPrefix) || strings.HasPrefix(d.Name(), ".latest-") || fsx.IsTemp(d.Name()) {
				p := filepath.Join(dir, d.Name())
				if err := fsys.RemoveAll(p); err != nil {
					return removed, fmt.Errorf("remove %s: %w", p, err)
				}
				removed = append(removed, p)
			}
		}
	}
	return removed, nil
}
