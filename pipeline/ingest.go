package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/ilo-pledge/pledgestat/ingest"
	"github.com/ilo-pledge/pledgestat/ingest/annotate"
	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/ingest/workbook"
	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/store"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// ingest takes every inbox file, in lexical order of its path. Each file
// ends in archive/ (accepted, or a duplicate of accepted bytes) or
// rejected/ (with its errors.csv).
//
// Every file follows the same order, so that a crash at any step leaves a
// state the next run completes: (1) the ledger records the intake (the
// outcome decided and where the file goes); (2) reports are written next to
// the destination; (3) the file is renamed there; (4) the records are
// stored and the ledger records the outcome. The ledger never names a
// record whose file is not in the archive.
func (p *Pipeline) ingest(ctx context.Context, log *slog.Logger, st *store.Store, res *Result) error {
	if err := p.repair(ctx, log, st); err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	log.Debug("listing the inbox")
	inbox, err := p.WS.ListInbox(ctx)
	if err != nil {
		return err
	}
	for _, e := range inbox.Ignored {
		log.Warn("not read: "+e.Reason, "entry", e.Name, "kind", e.Kind)
		res.Ignored = append(res.Ignored, e)
	}
	settle := p.WS.Config.Ingest.SettleDuration()
	now := p.Now()
	var files []workspace.InboxFile
	for _, f := range inbox.Files {
		if settle > 0 && now.Sub(f.ModTime) < settle {
			log.Info("settling: the file changed less than settle_seconds ago; it will be taken by a later run", "file", f.Name)
			res.Settling = append(res.Settling, f.Name)
			continue
		}
		files = append(files, f)
	}
	guard, err := p.openReadGuard(inbox.Files)
	if err != nil {
		return err
	}
	guard.plan(files)
	ahead := p.readAhead(ctx, log, st, guard, files)
	defer func() {
		ahead.close()
		if err := guard.close(); err != nil {
			log.Warn("the marker of the files being read could not be updated", "err", err)
		}
	}()
	g := &group{dests: map[string]bool{}, shas: map[string]bool{}}
	defer func() {
		// A run that stops with files waiting in the group (before
		// ahead.close, registered earlier, runs) releases them.
		for _, m := range g.files {
			ahead.done(m.r)
		}
	}()
	flush := func() error {
		err := p.fileGroup(ctx, log, st, res, g)
		for _, m := range g.files {
			ahead.done(m.r)
		}
		g.reset()
		return err
	}
	for i := range files {
		r, err := ahead.next(ctx)
		if err != nil {
			return err
		}
		p.progress(i, len(files), "filing "+r.f.Name)
		m, retry, err := p.member(st, res.RunID, g, r)
		if err == nil && retry {
			// The group has a file of the same bytes or archive name:
			// file the group, then decide again.
			if err := flush(); err != nil {
				ahead.done(r)
				return err
			}
			m, _, err = p.member(st, res.RunID, g, r)
		}
		if err != nil {
			ahead.done(r)
			return err
		}
		if m != nil {
			g.add(m)
			// The group waits for the next file unless it is full or the
			// next file would take it over half the read-ahead budget
			// (the other half reads the next group while this one is
			// filed): the groups are the same in every run of the same
			// files.
			if len(g.files) >= maxGroup || i+1 == len(files) || g.units+fileUnits(guard, files[i+1]) > readUnits/2 {
				if err := flush(); err != nil {
					return err
				}
			}
			continue
		}
		if err := flush(); err != nil {
			ahead.done(r)
			return err
		}
		outcome, err := p.file(ctx, log, st, res, r)
		ahead.done(r)
		if err != nil {
			return err
		}
		if outcome != nil {
			res.Files = append(res.Files, *outcome)
		}
	}
	if err := flush(); err != nil {
		return err
	}
	p.progress(len(files), len(files), "ingest done")
	return nil
}

// readResult is one inbox file read ahead of being filed.
type readResult struct {
	f        workspace.InboxFile
	fd       *os.File
	info     fs.FileInfo
	sub      *ingest.Submission
	spill    *store.Spill // the social-protection records, written while read
	outcome  *FileOutcome // decided while reading: left unread, vanished
	settling string       // why it waits for a later run; "" when it does not
	err      error        // a failure of the run itself (stopped)
	done     chan struct{}
	tokens   int
}

// read opens and reads one file: the part of taking a file that several
// files can do at once. It opens the file once without following links,
// checks it is the file the listing saw, and reads everything from that
// descriptor. A file that cannot be opened or read is left in the inbox
// and reported (vanished files are only logged).
func (p *Pipeline) read(ctx context.Context, log *slog.Logger, reader *ingest.Reader, st *store.Store, guard *readGuard, r *readResult) {
	fd, info, err := p.openInboxFile(r.f.Path)
	if err != nil {
		r.outcome = p.left(log, r.f, err)
		return
	}
	if !os.SameFile(info, r.f.Info) {
		fd.Close()
		r.settling = "the file was replaced after the inbox was listed"
		return
	}
	log.Debug("reading", "file", r.f.Name)
	src := workbook.Source{R: fd, Size: info.Size(), Name: r.f.Path}
	// Social-protection observations go to the store as they are read: a
	// million-row extract is never held in memory. They count only if
	// the file is accepted; otherwise the spill is discarded.
	r.spill = st.NewSpill(areaName(p.Ref))
	sub, err := guard.read(ctx, log, reader, r.f, src, r.spill)
	if err != nil {
		fd.Close()
		r.spill.Discard()
		if ctx.Err() != nil {
			r.err = ctx.Err()
			return
		}
		r.outcome = p.left(log, r.f, err)
		return
	}
	r.fd, r.info, r.sub = fd, info, sub
}

// file puts a file that was read where it belongs: archive/ (and the
// store) or rejected/, in the order of the inbox, one file at a time. The
// error is for failures of the workspace itself.
func (p *Pipeline) file(ctx context.Context, log *slog.Logger, st *store.Store, res *Result, r *readResult) (*FileOutcome, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.outcome != nil {
		return r.outcome, nil
	}
	f := r.f
	if r.settling == "" {
		if changed, err := stillWritten(r.fd, r.info, f); err != nil {
			return p.left(log, f, err), nil
		} else if changed {
			r.settling = "the file changed while it was read"
		}
	}
	if r.settling != "" {
		log.Info("settling: "+r.settling+"; it will be taken by a later run", "file", f.Name)
		res.Settling = append(res.Settling, f.Name)
		return nil, nil
	}
	var outcome FileOutcome
	var err error
	if r.sub.Accepted() {
		outcome, err = p.accept(ctx, log, st, res.RunID, f, r.info, r.sub, r.spill)
	} else {
		outcome, err = p.reject(ctx, log, st, res.RunID, f, r.info, r.sub)
	}
	var changed *fsx.ChangedError
	if errors.As(err, &changed) {
		log.Warn("settling: the file was replaced after it was read; nothing was moved and it will be taken by a later run", "file", f.Name)
		res.Settling = append(res.Settling, f.Name)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &outcome, nil
}

// Reading ahead: files are read while the files before them are filed,
// so that parsing overlaps fsyncs and both cores work, and so that many
// small files are ready to be filed as one group. What is read but not
// filed is bounded by readUnits units of readUnit bytes of file (a file
// takes one unit at least); at most readers files are parsed at once.
// Files are filed strictly in inbox order. A file over bigFile, and a
// file a previous run died reading, is read alone (for memory, and so
// that a crash blames the right file).
const (
	readUnits = 128
	readUnit  = 256 << 10
	bigFile   = 64 << 20
)

type readAhead struct {
	results chan *readResult
	tokens  chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup
}

// fileUnits is how many units of the read-ahead budget a file takes: all
// of them for a file read alone.
func fileUnits(guard *readGuard, f workspace.InboxFile) int {
	if f.Size > bigFile || guard.suspect(f.Name) {
		return readUnits
	}
	return int(min(max(1, (f.Size+readUnit-1)/readUnit), readUnits))
}

func (p *Pipeline) readAhead(ctx context.Context, log *slog.Logger, st *store.Store, guard *readGuard, files []workspace.InboxFile) *readAhead {
	a := &readAhead{results: make(chan *readResult, len(files)), tokens: make(chan struct{}, readUnits), stop: make(chan struct{})}
	for i := 0; i < readUnits; i++ {
		a.tokens <- struct{}{}
	}
	// The files are read in inbox order by a pool of readers, each taking
	// the next file as it finishes one: a goroutine a file, racing for a
	// reader's slot, read them in any order, and the first group to file
	// waited for files of later ones.
	work := make(chan *readResult, len(files))
	reader := p.Reader()
	for range runtime.GOMAXPROCS(0) + 1 {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			for r := range work {
				a.read(ctx, func() { p.read(ctx, log, reader, st, guard, r) }, r)
			}
		}()
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer close(work)
		for _, f := range files {
			r := &readResult{f: f, done: make(chan struct{}), tokens: fileUnits(guard, f)}
			for i := 0; i < r.tokens; i++ {
				select {
				case <-a.stop: // checked first: once told to stop, read nothing more
					a.giveBack(i)
					return
				default:
				}
				select {
				case <-a.tokens:
				case <-a.stop:
					a.giveBack(i)
					return
				}
			}
			a.results <- r
			work <- r
		}
	}()
	return a
}

// read reads one file unless the run or the read-ahead has stopped.
func (a *readAhead) read(ctx context.Context, read func(), r *readResult) {
	defer close(r.done)
	if err := ctx.Err(); err != nil {
		r.err = err
		return
	}
	select {
	case <-a.stop:
		r.err = errReadAheadStopped // what was read ahead is dropped
		return
	default:
	}
	read()
}

// errReadAheadStopped marks a file the read-ahead stopped before reading.
var errReadAheadStopped = errors.New("reading ahead stopped")

func (a *readAhead) giveBack(n int) {
	for i := 0; i < n; i++ {
		a.tokens <- struct{}{}
	}
}

// next returns the next file in inbox order once it is read.
func (a *readAhead) next(ctx context.Context) (*readResult, error) {
	select {
	case r := <-a.results:
		<-r.done
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// done releases a filed file's descriptor, spill and slots.
func (a *readAhead) done(r *readResult) {
	if r.fd != nil {
		r.fd.Close()
		r.fd = nil
	}
	r.spill.Discard() // nothing left once accepted
	a.giveBack(r.tokens)
}

// close stops reading ahead and closes what was read but not filed.
func (a *readAhead) close() {
	close(a.stop)
	go func() {
		for r := range a.results {
			<-r.done
			if r.fd != nil {
				r.fd.Close()
			}
			r.spill.Discard()
			a.giveBack(r.tokens)
		}
	}()
	a.wg.Wait()
	close(a.results)
}

// left is the outcome of a file that could not be opened or read: it
// stays in the inbox. A file that vanished (its sender took it back) is
// only noted.
func (p *Pipeline) left(log *slog.Logger, f workspace.InboxFile, err error) *FileOutcome {
	var nr *fsx.NotRegularError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		log.Info("vanished: the file was removed from the inbox before it was read", "file", f.Name)
		return &FileOutcome{Name: f.Name, Outcome: OutcomeVanished}
	case errors.As(err, &nr):
		err = fmt.Errorf("it was replaced by %s after the inbox was listed; only regular files are read", fsx.Kind(nr.Mode))
	case errors.Is(err, fs.ErrPermission):
		err = errors.New("permission denied: give the user pledgestat runs as read access to the file (and write access to its folder); it is taken by the next run")
	}
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Err.Error()
	}
	log.Error("left in the inbox: the file could not be read", "file", f.Name, "reason", msg)
	return &FileOutcome{Name: f.Name, Outcome: OutcomeLeft, FirstError: msg}
}

// maxReadAttempts is how many runs may die while reading the same file
// before it is set aside as unreadable.
const maxReadAttempts = 2

// readGuard records which files are being read, so that a file that kills
// the process (out of memory, a fatal error recover cannot catch) is
// recognised by the next runs instead of stopping every nightly run. The
// marker is not fsynced: it guards against the process dying, not the
// machine. A file a run died reading is read alone in the next runs, so
// that another file read beside it is never blamed.
//
// The marker names the file being read and the next markWindow files of
// the inbox, so that it is written once for many small files (twice a
// file was a fifth of ingesting 600 small files); a file read to the end
// leaves it at the next write. A run that dies blames them all once; the
// next run reads each alone (and writes the marker for it alone), so
// that an innocent file is never blamed twice and only a file that kills
// a run on its own is set aside.
type readGuard struct {
	path     string
	mu       sync.Mutex
	previous map[string]int // attempts recorded by runs that died
	reading  map[string]int // in the marker now: name -> attempts, this run's included
	order    []string       // the files this run reads, in order
	position map[string]int // index of each in order
}

// markWindow is how many files after the one being read the marker names.
const markWindow = 32

type readingMarker struct {
	Reading []readingEntry `json:"reading"`
	// Name and Attempts: the marker of versions that read one file at a
	// time.
	Name     string `json:"name,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
}

type readingEntry struct {
	Name     string `json:"name"`
	Attempts int    `json:"attempts"`
}

// openReadGuard reads the marker of earlier runs. Entries for files no
// longer in the inbox are dropped: a new file that happens to get the same
// name starts with a clean record.
func (p *Pipeline) openReadGuard(inbox []workspace.InboxFile) (*readGuard, error) {
	g := &readGuard{path: filepath.Join(p.WS.State(), "reading.json"), previous: map[string]int{}, reading: map[string]int{}}
	if data, err := fsx.ReadRegular(g.path, 1<<20); err == nil {
		var m readingMarker
		json.Unmarshal(data, &m)
		if m.Name != "" {
			g.previous[m.Name] = m.Attempts
		}
		for _, e := range m.Reading {
			g.previous[e.Name] = e.Attempts
		}
	}
	present := map[string]bool{}
	for _, f := range inbox {
		present[f.Name] = true
	}
	for name := range g.previous {
		if !present[name] {
			delete(g.previous, name)
		}
	}
	return g, nil
}

func (g *readGuard) suspect(name string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.previous[name] > 0
}

// read reads a file under the marker, or sets it aside when runs died
// reading it too often.
func (g *readGuard) read(ctx context.Context, log *slog.Logger, reader *ingest.Reader, f workspace.InboxFile, src workbook.Source, sink ingest.CoverageSink) (*ingest.Submission, error) {
	g.mu.Lock()
	died := g.previous[f.Name]
	if died+1 > maxReadAttempts {
		delete(g.previous, f.Name)
		g.writeLocked()
		g.mu.Unlock()
		log.Error("set aside: pledgestat stopped while reading this file in earlier runs", "file", f.Name, "attempts", died)
		return ingest.Unreadable(ctx, src, f.Name, fmt.Sprintf("pledgestat stopped %d times while reading this file (it ran out of memory or crashed), so it was set aside for the other files to flow; open it in Excel, check it, save it again and send it again, or split it", died))
	}
	err := g.markLocked(f.Name)
	g.mu.Unlock()
	if err != nil {
		return nil, err
	}
	defer func() {
		g.mu.Lock()
		delete(g.reading, f.Name)
		delete(g.previous, f.Name)
		if died > 0 {
			// A file earlier runs died on is cleared at once: a run that
			// dies later, while filing it, must not blame its reading.
			g.writeLocked()
		}
		g.mu.Unlock()
	}()
	return reader.ReadTo(ctx, src, f.Name, sink)
}

// markLocked makes the marker name a file about to be read, unless it
// does already; with it, the files that follow, except those runs died
// on, which are marked alone when their turn comes. Called with mu held.
func (g *readGuard) markLocked(name string) error {
	if _, marked := g.reading[name]; marked {
		return nil
	}
	died := g.previous[name]
	if died > 0 {
		// Read alone (with the whole read-ahead budget): no other file
		// is being read, and those marked ahead are not to be blamed.
		for other := range g.reading {
			if g.previous[other] == 0 {
				delete(g.reading, other)
			}
		}
	}
	g.reading[name] = died + 1
	if died == 0 {
		i, ok := g.position[name]
		for j := i + 1; ok && j < len(g.order) && j <= i+markWindow; j++ {
			next := g.order[j]
			if _, marked := g.reading[next]; !marked && g.previous[next] == 0 {
				g.reading[next] = 1
			}
		}
	}
	return g.writeLocked()
}

// plan gives the guard the files this run reads, in order.
func (g *readGuard) plan(files []workspace.InboxFile) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.order = make([]string, len(files))
	g.position = make(map[string]int, len(files))
	for i, f := range files {
		g.order[i] = f.Name
		g.position[f.Name] = i
	}
}

// close writes the marker once the reading is over: without the files
// read to the end, removed when none is left.
func (g *readGuard) close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for name := range g.reading {
		if g.previous[name] == 0 {
			delete(g.reading, name) // marked ahead, never read: not blamed
		}
	}
	return g.writeLocked()
}

// writeLocked writes the marker: the files being read, and those earlier
// runs died on that are not read yet. Called with mu held.
func (g *readGuard) writeLocked() error {
	var m readingMarker
	for name, n := range g.reading {
		m.Reading = append(m.Reading, readingEntry{name, n})
	}
	for name, n := range g.previous {
		if _, now := g.reading[name]; !now {
			m.Reading = append(m.Reading, readingEntry{name, n})
		}
	}
	if len(m.Reading) == 0 {
		if err := os.Remove(g.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", g.path, err)
		}
		return nil
	}
	sort.Slice(m.Reading, func(i, j int) bool { return m.Reading[i].Name < m.Reading[j].Name })
	data, _ := json.Marshal(m)
	// Written whole then renamed: a process killed while writing never
	// leaves a marker that cannot be read (no fsync: it guards against the
	// process dying, not the machine).
	tmp := g.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", g.path, err)
	}
	if err := os.Rename(tmp, g.path); err != nil {
		return fmt.Errorf("write %s: %w", g.path, err)
	}
	return nil
}

// stillWritten reports whether the file changed since it was listed: its
// size or modification time differ (a sender is still copying it), or its
// path now names another file.
func stillWritten(fd *os.File, opened fs.FileInfo, f workspace.InboxFile) (bool, error) {
	now, err := fd.Stat()
	if err != nil {
		return false, err
	}
	if now.Size() != f.Size || !now.ModTime().Equal(f.ModTime) {
		return true, nil
	}
	cur, err := os.Lstat(f.Path)
	if err != nil {
		return false, err
	}
	return !os.SameFile(cur, opened), nil
}

func (p *Pipeline) accept(ctx context.Context, log *slog.Logger, st *store.Store, runID string, f workspace.InboxFile, read fs.FileInfo, sub *ingest.Submission, spill *store.Spill) (FileOutcome, error) {
	out := FileOutcome{Name: f.Name, SHA256: sub.SHA256, Warnings: sub.Report.Count(report.Warning), Notices: warningNotices(sub.Report)}
	dest, err := p.WS.ArchivePath(runID, f.Name)
	if err != nil {
		return out, err
	}
	out.StoredAs = p.WS.Rel(dest)
	base := store.Entry{RunID: runID, File: f.Name, SHA256: sub.SHA256, Size: sub.Size, StoredAs: out.StoredAs, Warnings: out.Warnings}
	prev, duplicate := st.FindAccepted(sub.SHA256)
	intake := base
	intake.Event, intake.Outcome = store.EventIntake, "accepted"
	if duplicate {
		intake.Outcome, intake.DuplicateOf = "duplicate", prev.Seq
	}
	if err := p.recordAndMove(st, intake, f, read, dest); err != nil {
		return out, err
	}
	if duplicate {
		out.Outcome = "duplicate"
		e := base
		e.Event, e.DuplicateOf = store.EventDuplicate, prev.Seq
		if err := st.Record(e); err != nil {
			return out, err
		}
		log.Info("duplicate: these bytes were already accepted; not counted again", "file", f.Name, "first_submitted_as", prev.File, "submission", prev.Seq, "archived", out.StoredAs)
		return out, nil
	}
	if err := p.similarNotices(ctx, st, sub.Agreements, &out); err != nil {
		return out, err
	}
	entry, err := st.Accept(ctx, base, sub.Set, spill, areaName(p.Ref))
	if err != nil {
		return out, fmt.Errorf("store %s: %w", f.Name, err)
	}
	return p.accepted(ctx, log, out, entry, dest, sub), nil
}

// accepted completes the outcome of a file whose acceptance is recorded:
// its rows and supersessions, the report of its warnings, the log line.
func (p *Pipeline) accepted(ctx context.Context, log *slog.Logger, out FileOutcome, entry store.Entry, dest string, sub *ingest.Submission) FileOutcome {
	out.Outcome, out.Rows, out.Superseded = "accepted", entry.Rows, entry.Superseded
	if out.Warnings > 0 {
		out.Report, out.Annotated = p.warningsReport(ctx, log, out.Name, dest, sub)
	}
	log.Info("accepted", "file", out.Name, "rows", countsText(entry.Rows), "superseded", countsText(entry.Superseded), "warnings", out.Warnings, "archived", out.StoredAs)
	return out
}

// warningsReport writes, beside an accepted file with warnings, what its
// sender needs to read them: archive/RUN_ID-F.report.csv (the columns of
// errors.csv) and, for a workbook, an annotated copy with each warned
// cell filled yellow. Best effort, after the acceptance is recorded: the
// file is accepted whatever happens here, and a run that dies meanwhile
// leaves at most a temporary file the next run removes. It returns the
// paths written, relative to the workspace.
func (p *Pipeline) warningsReport(ctx context.Context, log *slog.Logger, name, dest string, sub *ingest.Submission) (report, annotated string) {
	reportPath := dest + ".report.csv"
	if err := fsx.WriteFile(p.WS.FS, reportPath, 0o644, func(w io.Writer) error { return sub.Report.WriteCSV(w) }); err != nil {
		log.Warn("no report of the warnings of an accepted file", "file", name, "err", err)
		return "", ""
	}
	if sub.Format == workbook.FormatXLSX {
		annotated = p.annotate(ctx, log, name, dest, sub)
	}
	return p.WS.Rel(reportPath), annotated
}

func (p *Pipeline) reject(ctx context.Context, log *slog.Logger, st *store.Store, runID string, f workspace.InboxFile, read fs.FileInfo, sub *ingest.Submission) (FileOutcome, error) {
	dest, err := p.WS.RejectedPath(runID, f.Name)
	if err != nil {
		return FileOutcome{}, err
	}
	reportPath := dest + ".errors.csv"
	out := FileOutcome{Name: f.Name, Outcome: "rejected", SHA256: sub.SHA256, StoredAs: p.WS.Rel(dest), Report: p.WS.Rel(reportPath),
		Errors: sub.Report.Count(report.Error), Warnings: sub.Report.Count(report.Warning)}
	if first, ok := sub.Report.FirstError(); ok {
		out.FirstError = first.Message
		switch {
		case first.Cell != "" && first.Sheet != "":
			out.FirstError = first.Sheet + "!" + first.Cell + ": " + first.Message
		case first.Cell != "":
			out.FirstError = first.Cell + ": " + first.Message
		}
	}
	e := store.Entry{RunID: runID, File: f.Name, SHA256: sub.SHA256, Size: sub.Size,
		StoredAs: out.StoredAs, Errors: out.Errors, Warnings: out.Warnings, FirstError: out.FirstError}
	intake := e
	intake.Event, intake.Outcome = store.EventIntake, "rejected"
	if err := st.Record(intake); err != nil {
		return out, err
	}
	if err := p.WS.FS.MkdirAll(p.WS.Rejected(), 0o755); err != nil {
		return out, fmt.Errorf("create rejected/: %w", err)
	}
	if err := fsx.WriteFile(p.WS.FS, reportPath, 0o644, func(w io.Writer) error { return sub.Report.WriteCSV(w) }); err != nil {
		return out, err
	}
	if err := p.move(st, intake, f, read, dest); err != nil {
		if errors.As(err, new(*fsx.ChangedError)) {
			p.WS.FS.Remove(reportPath)
		}
		return out, err
	}
	// The annotated copy is made from the file in rejected/, after the
	// move: if making it fails or kills the run, the file is already
	// where it belongs and the next run only records it.
	if sub.Format == workbook.FormatXLSX {
		out.Annotated = p.annotate(ctx, log, f.Name, dest, sub)
	}
	e.Event = store.EventRejected
	if err := st.Record(e); err != nil {
		return out, err
	}
	log.Warn("rejected", "file", f.Name, "errors", out.Errors, "first_error", out.FirstError, "report", out.Report)
	return out, nil
}

// recordAndMove records the intake, then moves the file that was read to
// its destination.
func (p *Pipeline) recordAndMove(st *store.Store, intake store.Entry, f workspace.InboxFile, read fs.FileInfo, dest string) error {
	if err := st.Record(intake); err != nil {
		return err
	}
	return p.move(st, intake, f, read, dest)
}

// move moves the file that was read to dest. If the path was given
// another file meanwhile, nothing is moved and the intake is recorded as
// abandoned: the file is taken again by a later run.
func (p *Pipeline) move(st *store.Store, intake store.Entry, f workspace.InboxFile, read fs.FileInfo, dest string) error {
	err := fsx.Move(p.WS.FS, f.Path, dest, read)
	if errors.As(err, new(*fsx.ChangedError)) {
		e := intake
		e.Event, e.Outcome, e.Time = store.EventAbandoned, "", p.Now().UTC()
		if rerr := st.Record(e); rerr != nil {
			return rerr
		}
	}
	return err
}

// repair finishes or abandons the intakes an interrupted run left pending.
// A file already at its destination is finished (its records are read
// again from there and stored); a file still in the inbox is abandoned and
// taken again by this run, its half-written reports removed.
func (p *Pipeline) repair(ctx context.Context, log *slog.Logger, st *store.Store) error {
	if err := p.removeTemporaries(log, p.WS.Rejected(), p.WS.Archive(), p.WS.StoreDir()); err != nil {
		return err
	}
	for _, in := range st.PendingIntakes() {
		dest := filepath.Join(p.WS.Root, filepath.FromSlash(in.StoredAs))
		if _, err := os.Stat(dest); errors.Is(err, fs.ErrNotExist) {
			for _, leftover := range []string{dest + ".errors.csv", dest + ".report.csv", dest + ".annotated.xlsx"} {
				if err := p.WS.FS.Remove(leftover); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			e := in
			e.Event, e.Outcome, e.Time = store.EventAbandoned, "", p.Now().UTC()
			if err := st.Record(e); err != nil {
				return err
			}
			log.Warn("repaired: an interrupted run had not moved this file; it is taken again", "file", in.File)
			continue
		}
		switch in.Outcome {
		case "accepted":
			sub, err := p.Reader().ReadFile(ctx, dest, in.File)
			if err != nil {
				return err
			}
			if !sub.Accepted() || sub.SHA256 != in.SHA256 {
				return fmt.Errorf("%s: the archived file no longer matches its intake (sha %s); restore it from a backup", in.StoredAs, in.SHA256)
			}
			base := in
			base.Event, base.Outcome, base.Time = "", "", p.Now().UTC()
			if _, err := st.Accept(ctx, base, sub.Set, nil, areaName(p.Ref)); err != nil {
				return err
			}
		case "duplicate", "rejected":
			e := in
			e.Event, e.Outcome, e.Time = in.Outcome, "", p.Now().UTC()
			if err := st.Record(e); err != nil {
				return err
			}
		default:
			return fmt.Errorf("ledger: intake of %s has unknown outcome %q", in.File, in.Outcome)
		}
		log.Warn("repaired: finished the intake of a file an interrupted run had moved", "file", in.File, "outcome", in.Outcome, "stored_as", in.StoredAs)
	}
	return nil
}

// removeTemporaries removes the half-written files (".tmp-" prefix) an
// interrupted run left in dirs.
func (p *Pipeline) removeTemporaries(log *slog.Logger, dirs ...string) error {
	for _, dir := range dirs {
		names, err := fsx.Names(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, name := range names {
			if fsx.IsTemp(name) {
				path := filepath.Join(dir, name)
				if err := p.WS.FS.RemoveAll(path); err != nil {
					return err
				}
				log.Warn("repaired: removed a half-written file of an interrupted run", "path", p.WS.Rel(path))
			}
		}
	}
	return nil
}

// displayName is how a file named on the command line is shown and
// recorded: its base name, made safe (workspace.SafeName).
func displayName(path string) string { return workspace.SafeName(filepath.Base(path)) }

// countsText renders per-domain counts for logs: "ratification=6 blma=2".
func countsText(m map[string]int) string {
	var parts []string
	for _, d := range records.Domains() {
		if n := m[string(d)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", d, n))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, " ")
}

// maxAnnotatedUnpacked bounds the workbooks copied with annotations, by
// the unpacked size of their parts: the copy is made with excelize's
// in-memory API, which needs some 30 times that in memory.
const maxAnnotatedUnpacked = 16 << 20

// annotate writes the annotated copy of a workbook (rejected, or accepted
// with warnings), best effort: the .csv report beside it already says
// everything. It returns the copy's path, or "".
func (p *Pipeline) annotate(ctx context.Context, log *slog.Logger, name, rejected string, sub *ingest.Submission) string {
	size, err := workbook.UnpackedSize(rejected)
	if err != nil || size > maxAnnotatedUnpacked {
		log.Info("no annotated copy: the workbook is too large to copy in memory; the .csv report lists every problem", "file", name, "unpacked_bytes", size)
		return ""
	}
	annotated := rejected + ".annotated.xlsx"
	log.Debug("annotating", "file", name, "problems", len(sub.Report.Entries))
	if err := fsx.WriteFile(p.WS.FS, annotated, 0o644, func(w io.Writer) error { return annotate.Workbook(ctx, rejected, sub.Report, w) }); err != nil {
		log.Warn("no annotated copy of the workbook", "file", name, "err", err)
		return ""
	}
	return p.WS.Rel(annotated)
}
