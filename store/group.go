package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/internal/safego"
	"github.com/ilo-pledge/pledgestat/records"
)

// Group commit: a run that takes many small files accepts them together,
// so that their durable steps are shared. Each file is still numbered,
// counted and recorded in inbox order, one ledger line each; what is
// shared is the fsyncs. Per file they were seven, one after another (the
// intake line, two folders of the move, the Parquet file, its temporary
// folder, submissions/, the accepted line); in a group of n they are
// five or six syncs for the whole group:
//
//	RecordAll(intakes)   one ledger write and fsync
//	(moves, then one sync of each folder moved from and to)
//	Prepare each file    in order: number, superseded counts, in-memory state
//	WriteAll(pending)    the group's pack written (pack.go: one Parquet file
//	                     per domain, on both cores), made durable at once
//	                     (fsx.SyncBatch), renamed into place, and
//	                     submissions/ synced
//	Commit(pending, …)   one ledger write and fsync of the accepted lines
//
// A crash anywhere leaves what one file at a time left: intakes without
// an outcome, which the next run's repair finishes from the archived file
// or abandons, and submission folders or packs the ledger does not name,
// which Open removes.

// Pending is an accepted submission that Prepare numbered and counted in
// the store's state, not yet written nor recorded.
type Pending struct {
	entry Entry
	set   records.Set
	names records.NameFunc
}

// Entry is the accepted event Commit will record: its sequence number,
// rows and superseded counts are filled in.
func (p *Pending) Entry() Entry { return p.entry }

// Prepare numbers an accepted submission and counts what it supersedes,
// after the submissions prepared before it. The store's state counts it
// from now on; Commit records it, and a failure before that (of WriteAll
// or Commit) drops every pending submission from the state.
func (s *Store) Prepare(ctx context.Context, e Entry, set records.Set, names records.NameFunc) (*Pending, error) {
	if s.readOnly {
		return nil, errors.New("store opened read-only")
	}
	if err := s.ensureState(ctx); err != nil {
		s.abort()
		return nil, err
	}
	superseded, err := s.supersededBy(ctx, set)
	if err != nil {
		s.abort()
		return nil, err
	}
	e = s.numbered(e, set, superseded)
	s.reserved = e.Seq
	s.count(e.Seq, set)
	return &Pending{entry: e, set: set, names: names}, nil
}

// count puts an accepted submission's records in the state that counts
// supersessions: the records, or their keys.
func (s *Store) count(seq int, set records.Set) {
	if s.current != nil {
		s.current.apply(seq, set)
	}
	if s.keys != nil {
		s.keys.add(set)
	}
}

// numbered fills in an accepted submission's event: the next number, the
// time, its rows per domain and what it supersedes.
func (s *Store) numbered(e Entry, set records.Set, superseded map[string]int) Entry {
	e.Event, e.Seq = EventAccepted, s.nextSeq()
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	e.Rows = map[string]int{}
	for d, n := range s.rows(set) {
		if n > 0 {
			e.Rows[string(d)] = n
		}
	}
	e.Superseded = superseded
	return e
}

// ensureState makes sure the state that counts supersessions is in
// memory (the key index, else the records) before a submission is
// prepared: built later, from the ledger and the folders on disk, it
// would miss the submissions still pending.
func (s *Store) ensureState(ctx context.Context) error {
	if s.current != nil || s.keys != nil {
		return nil
	}
	if s.reserved != 0 {
		return errors.New("store: submissions are pending but their state was dropped")
	}
	if !s.holdsRecords() {
		// Nothing to read: keep the records accepted from now on, so
		// that a build in the same run reads none back (a file too
		// large to keep turns them into the key index, see Accept).
		s.current = newCurrent(s.domains)
		return nil
	}
	if idx, err := s.index(ctx); err != nil || idx != nil {
		return err
	}
	_, err := s.load(ctx)
	return err
}

// Abort drops the submissions prepared and not committed (a group that
// failed before its Commit): the state that counted them is read again
// when next needed.
func (s *Store) Abort() { s.abort() }

// abort drops the pending submissions: the state that counted them is
// read again when next needed.
func (s *Store) abort() {
	s.current, s.keys, s.reserved = nil, nil, 0
}

// writeWorkers is how many submissions WriteAll writes at once: both
// cores encode; nothing waits on a disk until all are written.
const writeWorkers = 2

// WriteAll writes the pending submissions' records, two or more as one
// pack (pack.go), a lone one in its own folder, and makes them durable
// together: the files and folders with one SyncBatch
// (one syncfs where the system allows: an fsync each was most of a
// group's filing), then, once renamed into place, with one sync of
// submissions/.
func (s *Store) WriteAll(ctx context.Context, pending []*Pending) (err error) {
	if len(pending) == 0 {
		return nil
	}
	defer func() {
		if err != nil {
			s.abort()
		}
	}()
	if len(pending) > 1 {
		return s.writePackDurably(ctx, pending)
	}
	// Begun before the first write, so that a syncfs hears of a write-back
	// error of any of them.
	batch, err := s.fs.BeginSync(filepath.Join(s.dir, "submissions"))
	if err != nil {
		return fmt.Errorf("store submissions: %w", err)
	}
	defer batch.Close()
	final := make([]string, len(pending))
	temps := make([]string, len(pending))
	for i, p := range pending {
		final[i] = s.submissionDir(p.entry.Seq, p.entry.SHA256)
		temps[i] = tempSubmissionDir(final[i])
	}
	written := make([][]string, len(pending))
	err = safego.ForEach(len(pending), writeWorkers, func(i int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := pending[i]
		files, err := s.writeSubmissionFiles(temps[i], p.set, nil, p.names, false)
		if err != nil {
			return fmt.Errorf("store %s: %w", p.entry.File, err)
		}
		written[i] = files
		return nil
	})
	if err != nil {
		return err
	}
	if err := batch.Sync(slices.Concat(written...), temps); err != nil {
		return fmt.Errorf("store submissions: %w", err)
	}
	for i, p := range pending {
		if err := s.fs.Rename(temps[i], final[i]); err != nil {
			return fmt.Errorf("store %s: %w", p.entry.File, err)
		}
	}
	if err := s.fs.SyncDir(filepath.Join(s.dir, "submissions")); err != nil {
		return fmt.Errorf("store submissions: %w", err)
	}
	return nil
}

// writePackDurably writes the pending submissions as one pack, makes it
// durable, renames it into place and syncs packs/; each pending entry then
// names the pack.
func (s *Store) writePackDurably(ctx context.Context, pending []*Pending) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	packs := filepath.Join(s.dir, packsDir)
	if !s.packsReady {
		// Made durable once: the pack's own sync would not keep a
		// folder the store's entries lost.
		if err := s.fs.MkdirAll(packs, 0o755); err != nil {
			return fmt.Errorf("store packs: %w", err)
		}
		if err := s.fs.SyncDir(s.dir); err != nil {
			return fmt.Errorf("store packs: %w", err)
		}
		s.packsReady = true
	}
	batch, err := s.fs.BeginSync(packs)
	if err != nil {
		return fmt.Errorf("store packs: %w", err)
	}
	defer batch.Close()
	name := packName(pending[0].entry, pending[len(pending)-1].entry)
	final := filepath.Join(packs, name)
	tmp := tempSubmissionDir(final)
	files, err := s.writePack(tmp, pending)
	if err != nil {
		return fmt.Errorf("store %d submissions from %s: %w", len(pending), pending[0].entry.File, err)
	}
	if err := batch.Sync(files, []string{tmp}); err != nil {
		return fmt.Errorf("store packs: %w", err)
	}
	if err := s.fs.Rename(tmp, final); err != nil {
		return fmt.Errorf("store packs: %w", err)
	}
	if err := s.fs.SyncDir(packs); err != nil {
		return fmt.Errorf("store packs: %w", err)
	}
	for _, p := range pending {
		p.entry.Pack = name
	}
	return nil
}

// Commit records the written pending submissions, in order, and other
// events of the same files (abandoned moves), in one durable append.
func (s *Store) Commit(pending []*Pending, others ...Entry) error {
	entries := make([]Entry, 0, len(pending)+len(others))
	for _, p := range pending {
		entries = append(entries, p.entry)
	}
	entries = append(entries, others...)
	if err := s.RecordAll(entries); err != nil {
		s.abort()
		return err
	}
	s.reserved = 0
	return nil
}

// RecordAll appends events in one write and one fsync: the intakes of a
// group, or its outcomes.
func (s *Store) RecordAll(entries []Entry) error {
	if s.readOnly {
		return errors.New("store opened read-only")
	}
	lines := make([][]byte, 0, len(entries))
	for i := range entries {
		e := &entries[i]
		if e.Time.IsZero() {
			e.Time = time.Now().UTC()
		}
		if e.Event == EventWithdrawn {
			return errors.New("store: a withdrawal is recorded alone")
		}
		if err := e.check(); err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		line, err := encodeLine(*e)
		if err != nil {
			return err
		}
		lines = append(lines, line)
	}
	if err := fsx.AppendLines(s.fs, s.ledgerPath(), lines); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	for _, e := range entries {
		s.note(e)
	}
	return nil
}
