// Package workspace owns the layout of a pledgestat workspace (cli.md): the
// inbox, archive and rejected folders, the published runs under out/, the
// private state under .pledgestat/, the configuration, the run lock and run
// identifiers. It knows where things live and who may change them, not what
// they contain.
package workspace

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
)

// Workspace is an opened workspace.
type Workspace struct {
	Root   string
	Config Config
	FS     fsx.FS
}

// Open opens the workspace at root, reading its configuration. It does not
// create anything.
func Open(root string) (*Workspace, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", root, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", root, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("workspace %s is not a directory", root)
	}
	cfg, err := LoadConfig(filepath.Join(abs, ConfigName))
	if err != nil {
		return nil, err
	}
	return &Workspace{Root: abs, Config: cfg, FS: fsx.OS{}}, nil
}

// Paths of the layout.
func (w *Workspace) Inbox() string    { return filepath.Join(w.Root, "inbox") }
func (w *Workspace) Rejected() string { return filepath.Join(w.Root, "rejected") }
func (w *Workspace) Archive() string  { return filepath.Join(w.Root, "archive") }
func (w *Workspace) Out() string      { return filepath.Join(w.Root, "out") }
func (w *Workspace) Runs() string     { return filepath.Join(w.Root, "out", "runs") }
func (w *Workspace) Latest() string   { return filepath.Join(w.Root, "out", "latest") }
func (w *Workspace) State() string    { return filepath.Join(w.Root, ".pledgestat") }
func (w *Workspace) StoreDir() string { return filepath.Join(w.State(), "store") }

// IsWorkspace reports whether the directory looks like a workspace: it has
// a pledgestat.toml, an inbox/ or a .pledgestat/. Commands that change
// things refuse other directories, so that a mistyped -w never scaffolds a
// home directory.
func (w *Workspace) IsWorkspace() bool {
	for _, p := range []string{filepath.Join(w.Root, ConfigName), w.Inbox(), w.State()} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// ErrNotWorkspace is returned for a directory that is not a workspace.
var ErrNotWorkspace = errors.New("not a pledgestat workspace")

// Ensure creates the folders of the layout that are missing, in a
// directory that is a workspace.
func (w *Workspace) Ensure() error {
	if !w.IsWorkspace() {
		return fmt.Errorf("%s is %w (it has no pledgestat.toml, inbox/ or .pledgestat/): create one with: pledgestat init %s", w.Root, ErrNotWorkspace, w.Root)
	}
	for _, dir := range []string{w.Inbox(), w.Rejected(), w.Archive(), w.Runs(), w.State()} {
		if err := w.FS.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	return nil
}

// Init creates a workspace at root with every folder and a commented
// configuration; an existing configuration is kept.
func Init(root string) (*Workspace, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("create workspace %s: %w", root, err)
	}
	cfgPath := filepath.Join(root, ConfigName)
	if _, err := os.Stat(cfgPath); errors.Is(err, fs.ErrNotExist) {
		if err := fsx.WriteFile(fsx.OS{}, cfgPath, 0o644, func(wr io.Writer) error {
			_, err := io.WriteString(wr, DefaultConfigText)
			return err
		}); err != nil {
			return nil, err
		}
	}
	w, err := Open(root)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(w.Inbox(), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", w.Inbox(), err)
	}
	return w, w.Ensure()
}

// InboxFile is a file waiting in the inbox.
type InboxFile struct {
	Path    string // absolute
	Name    string // relative to inbox/, forward slashes
	Size    int64
	ModTime time.Time
}

// InboxFiles lists the files waiting, in lexical order of their path under
// inbox/ (the order ingest takes them). Names starting with "~$" or "." are
// editor and system files: left where they are.
func (w *Workspace) InboxFiles() ([]InboxFile, error) {
	var out []InboxFile
	root := w.Inbox()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root && errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipAll
			}
			return err
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~$")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		out = append(out, InboxFile{Path: path, Name: filepath.ToSlash(rel), Size: info.Size(), ModTime: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list inbox: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// FlatName turns a name relative to inbox/ into one file name:
// "ministry/ratif.xlsx" becomes "ministry__ratif.xlsx".
func FlatName(name string) string { return strings.ReplaceAll(name, "/", "__") }

// RejectedPath is where a rejected file goes: rejected/RUN_ID-F.
func (w *Workspace) RejectedPath(runID, name string) string {
	return fsx.FreeName(filepath.Join(w.Rejected(), runID+"-"+FlatName(name)))
}

// ArchivePath is where an accepted file goes: archive/RUN_ID-F.
func (w *Workspace) ArchivePath(runID, name string) string {
	return fsx.FreeName(filepath.Join(w.Archive(), runID+"-"+FlatName(name)))
}

// Rel returns path relative to the workspace root, with forward slashes.
func (w *Workspace) Rel(path string) string {
	rel, err := filepath.Rel(w.Root, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}

// RunRecord is one line of the run history.
type RunRecord struct {
	RunID      string    `json:"run_id"`
	Command    string    `json:"command"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Outcome    string    `json:"outcome"` // ok, rejected (some files), failed
	Accepted   int       `json:"accepted"`
	Rejected   int       `json:"rejected"`
	Duplicates int       `json:"duplicates"`
	Published  bool      `json:"published"`
	Error      string    `json:"error,omitempty"`
	Trigger    string    `json:"trigger,omitempty"` // cli, schedule NAME, api
}

func (w *Workspace) runsLog() string { return filepath.Join(w.State(), "runs.jsonl") }

// RecordRun appends a run to the history.
func (w *Workspace) RecordRun(r RunRecord) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode run record: %w", err)
	}
	if err := w.FS.MkdirAll(w.State(), 0o755); err != nil {
		return err
	}
	return fsx.AppendLine(w.FS, w.runsLog(), line)
}

// RunHistory returns the recorded runs, oldest first. A line cut short by
// a crash is skipped.
func (w *Workspace) RunHistory() ([]RunRecord, error) {
	f, err := os.Open(w.runsLog())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read run history: %w", err)
	}
	defer f.Close()
	var out []RunRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var r RunRecord
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.RunID != "" {
			out = append(out, r)
		}
	}
	return out, sc.Err()
}

// RunIDFormat is the layout of run identifiers: the UTC start time.
const RunIDFormat = "20060102T150405Z"

// NewRunID returns the run identifier for a run starting at t: its UTC time,
// with -2, -3... added if a run already used it. Call it holding the lock.
func (w *Workspace) NewRunID(t time.Time) (string, error) {
	base := t.UTC().Format(RunIDFormat)
	history, err := w.RunHistory()
	if err != nil {
		return "", err
	}
	taken := map[string]bool{}
	for _, r := range history {
		taken[r.RunID] = true
	}
	id := base
	for i := 2; ; i++ {
		_, statErr := os.Lstat(filepath.Join(w.Runs(), id))
		if !taken[id] && errors.Is(statErr, fs.ErrNotExist) {
			return id, nil
		}
		id = fmt.Sprintf("%s-%d", base, i)
	}
}
