// Package workspace owns the layout of a pledgestat workspace (cli.md): the
// inbox, archive and rejected folders, the published runs under out/, the
// private state under .pledgestat/, the configuration, the run lock and run
// identifiers. It knows where things live and who may change them, not what
// they contain.
package workspace

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"unicode/utf8"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
)

// Workspace is an opened workspace.
type Workspace struct {
	Root   string
	Config Config
	FS     fsx.FS
	// Pace, when set, is called for each inbox entry listed. Tests slow it
	// down to stand for a slow disk or network share, and check that a
	// stopped run stops listing.
	Pace func()
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
		if _, err := os.Lstat(dir); err == nil && dir == w.Inbox() {
			continue // an inbox link (a mounted share) is checked when it is listed
		}
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
	Path    string // absolute, as the file system spells it (any bytes)
	Name    string // relative to inbox/, forward slashes, as SafeName shows it
	Size    int64
	ModTime time.Time
	// Info is what the listing saw; the file opened later must be this
	// one (os.SameFile), or it was swapped in the meantime.
	Info fs.FileInfo
}

// InboxEntry is something in the inbox that is not read: a symbolic link,
// a named pipe, a socket or device, or a folder that cannot be listed.
type InboxEntry struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// Inbox is what the inbox holds.
type Inbox struct {
	Files   []InboxFile  // regular files, in the order ingest takes them
	Ignored []InboxEntry // what is not read, and why: reported, never silently skipped
}

// ErrInbox is a problem with the inbox folder itself.
var ErrInbox = errors.New("inbox")

// ListInbox lists what waits in the inbox. Files are in lexical order of
// their path under inbox/ (the order ingest takes them); names starting
// with "~$" or "." are editor and system files, left where they are and not
// listed. An inbox that is a symbolic link to a folder (a mounted share) is
// listed through the link; links and special files inside it are not
// followed but reported in Ignored. Listing checks ctx between entries.
func (w *Workspace) ListInbox(ctx context.Context) (Inbox, error) {
	var out Inbox
	root, err := w.inboxRoot()
	if err != nil || root == "" {
		return out, err
	}
	count := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		count++
		if w.Pace != nil {
			w.Pace()
		}
		if count%256 == 0 || w.Pace != nil {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rel, relErr := filepath.Rel(root, path)
		if relErr != nil {
			return relErr
		}
		name := SafeName(filepath.ToSlash(rel))
		if err != nil {
			if path == root {
				return err
			}
			// A sub-folder that cannot be listed: say so, take the rest.
			out.Ignored = append(out.Ignored, InboxEntry{Name: name, Kind: "folder", Reason: "cannot be listed: " + fsx.Reason(err)})
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if path == root {
			return nil
		}
		base := d.Name()
		if strings.HasPrefix(base, ".") || strings.HasPrefix(base, "~$") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // taken back while listed
		}
		if err != nil {
			out.Ignored = append(out.Ignored, InboxEntry{Name: name, Kind: "file", Reason: "cannot be examined: " + fsx.Reason(err)})
			return nil
		}
		if !info.Mode().IsRegular() {
			out.Ignored = append(out.Ignored, InboxEntry{Name: name, Kind: fsx.Kind(info.Mode()), Reason: ignoredReason(info.Mode())})
			return nil
		}
		out.Files = append(out.Files, InboxFile{Path: path, Name: name, Size: info.Size(), ModTime: info.ModTime(), Info: info})
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		return out, fmt.Errorf("list inbox %s: %w", w.Inbox(), err)
	}
	sort.Slice(out.Files, func(i, j int) bool { return out.Files[i].Name < out.Files[j].Name })
	return out, nil
}

// inboxRoot is the folder to list: inbox/ itself, or the folder an inbox
// link points to. "" means there is no inbox yet.
func (w *Workspace) inboxRoot() (string, error) {
	st, err := os.Lstat(w.Inbox())
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrInbox, w.Inbox(), err)
	}
	if st.IsDir() {
		return w.Inbox(), nil
	}
	if st.Mode()&fs.ModeSymlink == 0 {
		return "", fmt.Errorf("%w: %s is %s, not a folder; move it away and create the folder inbox/", ErrInbox, w.Inbox(), fsx.Kind(st.Mode()))
	}
	target, err := filepath.EvalSymlinks(w.Inbox())
	if err != nil {
		return "", fmt.Errorf("%w: %s is a symbolic link that cannot be followed (%v); mount the share again or point the link at a folder", ErrInbox, w.Inbox(), err)
	}
	tst, err := os.Stat(target)
	if err != nil {
		return "", fmt.Errorf("%w: %s links to %s: %v", ErrInbox, w.Inbox(), target, err)
	}
	if !tst.IsDir() {
		return "", fmt.Errorf("%w: %s links to %s, which is %s, not a folder", ErrInbox, w.Inbox(), target, fsx.Kind(tst.Mode()))
	}
	return target, nil
}

func ignoredReason(m fs.FileMode) string {
	if m&fs.ModeSymlink != 0 {
		return "symbolic links are not followed (what they point to may change or lie outside the workspace); copy the file itself into the inbox"
	}
	return "only regular files are read; copy the file itself into the inbox"
}

// InboxFiles lists the regular files waiting in the inbox (see ListInbox).
func (w *Workspace) InboxFiles() ([]InboxFile, error) {
	in, err := w.ListInbox(context.Background())
	return in.Files, err
}

// SafeName returns a name as text that is valid UTF-8 and holds no control
// or bidirectional-formatting character: each byte of invalid UTF-8 and
// each such character is written %XX per byte. Names are recorded (ledger,
// manifest, provenance) and printed in this form, and files are archived
// under it, so a recorded path always names the file it recorded.
func SafeName(name string) string {
	clean := true
	for _, r := range name {
		if r == utf8.RuneError || unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean && utf8.ValidString(name) {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		if (r == utf8.RuneError && size <= 1) || unsafeRune(r) {
			for _, c := range []byte(name[i : i+max(size, 1)]) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		} else {
			b.WriteString(name[i : i+size])
		}
		i += max(size, 1)
	}
	return b.String()
}

// unsafeRune: control characters (C0, DEL, C1) and the invisible marks
// that reorder or hide text in a terminal.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// FlatName turns a name relative to inbox/ into one file name:
// "ministry/ratif.xlsx" becomes "ministry__ratif.xlsx".
func FlatName(name string) string { return strings.ReplaceAll(name, "/", "__") }

// maxStoredName bounds the names pledgestat gives files in archive/ and
// rejected/, in bytes: file systems allow 255, and room is kept for the
// "-N" of a taken name and the ".annotated.xlsx" of the annotated copy.
const maxStoredName = 200

// StoredName is the file name an inbox file is kept under: RUN_ID-F, with
// F its flattened name. A name too long for the file system keeps its
// start and extension and gets a short hash of the whole, so that two long
// names stay apart.
func StoredName(runID, name string) string {
	full := runID + "-" + FlatName(SafeName(name))
	if len(full) <= maxStoredName {
		return full
	}
	ext := filepath.Ext(full)
	if len(ext) > 16 {
		ext = ""
	}
	sum := sha256.Sum256([]byte(name))
	tag := "~" + hex.EncodeToString(sum[:4])
	keep := maxStoredName - len(ext) - len(tag)
	stem := full[:keep]
	for len(stem) > 0 && !utf8.RuneStart(full[len(stem)]) {
		stem = stem[:len(stem)-1]
	}
	return stem + tag + ext
}

// RejectedPath is where a rejected file goes: rejected/RUN_ID-F.
func (w *Workspace) RejectedPath(runID, name string) (string, error) {
	return fsx.FreeName(filepath.Join(w.Rejected(), StoredName(runID, name)))
}

// ArchivePath is where an accepted file goes: archive/RUN_ID-F.
func (w *Workspace) ArchivePath(runID, name string) (string, error) {
	return fsx.FreeName(filepath.Join(w.Archive(), StoredName(runID, name)))
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
	Trigger    string    `json:"trigger,omitempty"` // cli, schedule NAME, watch
	// BuildSeconds is how long the build phase took (computing and
	// publishing the indicators), for the metrics.
	BuildSeconds float64 `json:"build_seconds,omitempty"`
	// Held: the run's build broke a publish gate (outcome "held");
	// out/latest was not switched to it.
	Held bool `json:"held,omitempty"`
	// Released, for a `release`: the held run switched to, by whom and
	// why.
	Released string `json:"released,omitempty"`
	By       string `json:"by,omitempty"`
	Note     string `json:"note,omitempty"`
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
	f, _, err := fsx.OpenRegular(w.runsLog(), false)
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
	for i := 2; i <= fsx.MaxFreeNameTries+1; i++ {
		_, statErr := os.Lstat(filepath.Join(w.Runs(), id))
		if statErr != nil && !errors.Is(statErr, fs.ErrNotExist) {
			return "", fmt.Errorf("choose a run id: %w", statErr)
		}
		if !taken[id] && statErr != nil {
			return id, nil
		}
		id = fmt.Sprintf("%s-%d", base, i)
	}
	return "", fmt.Errorf("choose a run id: %d ids starting at %s are taken", fsx.MaxFreeNameTries, base)
}
