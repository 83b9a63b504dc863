package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/records"
)

// Group commit: a run that takes many small files accepts them together,
// so that their durable steps are shared. Each file is still numbered,
// counted and recorded in inbox order, one ledger line each; what is
// shared is the fsyncs. Per file they were seven, one after another (the
// intake line, two folders of the move, the Parquet file, its temporary
// folder, submissions/, the accepted line); a group of n shares them:
//
//	RecordAll(intakes)   one ledger write and fsync
//	(moves, then one sync of each folder moved from and to)
//	Prepare each file    in order: number, superseded counts, in-memory state
//	WriteAll(pending)    the group's pack (pack.go): one Parquet file per
//	                     domain, written on both cores and synced, then its
//	                     folder synced, renamed into place, and packs/ synced
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

// writeWorkers is how many domain files of a pack are written at once:
// both cores encode.
const writeWorkers = 2

// WriteAll writes the pending submissions' records durably, two or more
// as one pack (pack.go), a lone one in its own folder: a group shares one
// folder's syncs, where a folder each took most of a group's filing.
func (s *Store) WriteAll(ctx context.Context, pending []*Pending) (err error) {
	if len(pending) == 0 {
		return nil
	}
	defer func() {
		if err != nil {
			s.abort()
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(pending) > 1 {
		return s.writePackDurably(pending)
	}
	p := pending[0]
	if err := s.writeSubmission(s.submissionDir(p.entry.Seq, p.entry.SHA256), p.set, nil, p.names); err != nil {
		return fmt.Errorf("store %s: %w", p.entry.File, err)
	}
	return nil
}

// writePackDurably writes the pending submissions as one pack and puts it
// in place (placeFolder); each pending entry then names the pack.
func (s *Store) writePackDurably(pending []*Pending) error {
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
	name := packName(pending[0].entry, pending[len(pending)-1].entry)
	final := filepath.Join(packs, name)
	tmp := tempSubmissionDir(final)
	if err := s.writePack(tmp, pending); err != nil {
		return fmt.Errorf("store %d submissions from %s: %w", len(pending), pending[0].entry.File, err)
	}
	if err := s.placeFolder(tmp, final); err != nil {
		return err
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
