// Package store keeps every accepted submission between runs and answers
// what the current records are.
//
// Storage is deliberately simple and inspectable with standard tools:
//
//   - ledger.jsonl: an append-only log, one JSON event per line (accepted,
//     duplicate, rejected, withdrawn), each line prefixed with its CRC-32 and
//     fsynced before the call returns. A line cut short by a crash is
//     detected by its checksum and dropped on the next open; a damaged line
//     in the middle is corruption and stops the program.
//   - submissions/NNNNNN-SHA/DOMAIN.parquet: the normalised records of each
//     accepted submission, written to a temporary folder, fsynced and renamed
//     into place before the ledger names them. A folder the ledger does not
//     name is the leftover of a crash and is removed on open. Many small
//     submissions share their fsyncs (group commit: Prepare, WriteAll,
//     Commit) and one folder, packs/FIRST-LAST-SHA (pack.go), whose files
//     hold their records one after another.
//
// An append-only log was chosen over an embedded database because the store
// is written once per file and read whole per build, the files are
// immutable, and operators can read, back up and diff them with jq and
// DuckDB. Supersession is computed on read: later submissions of the same
// record key win. The package knows records, not spreadsheets or
// indicators.
package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"iter"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/internal/parquetio"
	"github.com/ilo-pledge/pledgestat/records"
)

// Event kinds of the ledger.
const (
	// EventIntake is written before a file is moved out of the inbox: it
	// names the outcome decided and where the file goes. If the run dies
	// before the completing event (accepted, duplicate, rejected) the next
	// run finds the intake pending and finishes or abandons it.
	EventIntake    = "intake"
	EventAccepted  = "accepted"
	EventDuplicate = "duplicate"
	EventRejected  = "rejected"
	EventAbandoned = "abandoned" // a pending intake whose file never left the inbox
	EventWithdrawn = "withdrawn"
)

// Entry is one ledger event.
type Entry struct {
	Event       string         `json:"event"`
	Outcome     string         `json:"outcome,omitempty"` // for intake: accepted, duplicate or rejected
	Seq         int            `json:"seq,omitempty"`     // submission number (accepted) or the withdrawn one
	Time        time.Time      `json:"time"`
	RunID       string         `json:"run_id,omitempty"`
	File        string         `json:"file,omitempty"` // name relative to inbox/
	SHA256      string         `json:"sha256,omitempty"`
	Size        int64          `json:"size,omitempty"`
	Rows        map[string]int `json:"rows,omitempty"`
	Superseded  map[string]int `json:"superseded,omitempty"`
	StoredAs    string         `json:"stored_as,omitempty"` // where the file went, relative to the workspace
	DuplicateOf int            `json:"duplicate_of,omitempty"`
	Errors      int            `json:"errors,omitempty"`
	Warnings    int            `json:"warnings,omitempty"`
	FirstError  string         `json:"first_error,omitempty"`
	// Pack names the folder of submissions/ that holds an accepted
	// submission's records with those of the others filed in its group
	// (pack.go); "" when it has its own folder.
	Pack string `json:"pack,omitempty"`
}

// Store is the submission store of one workspace. It is not safe for
// concurrent use; the workspace lock serialises processes.
type Store struct {
	fs       fsx.FS
	dir      string
	log      *slog.Logger
	entries  []Entry
	current  *current  // merged records, loaded on first use
	keys     *keyIndex // current record keys, when the records are not loaded
	readOnly bool
	mem      memory.Allocator // of the Arrow buffers the store makes for itself
	// domains are the descriptors of the domains the store holds: every
	// per-domain step goes through them (records.Descriptors unless
	// WithDomains says otherwise).
	domains []records.Descriptor
	// Indexes of the ledger, kept up to date by note.
	bySHA      map[string][]int // SHA-256 -> indexes of accepted entries
	withdrawns map[int]bool     // withdrawn submission numbers
	lastSeq    int
	// reserved is the last submission number Prepare gave out, not yet
	// committed (0 when none is pending).
	reserved int
	damage   []string // ledger lines a read-only view skipped
	// compactAlways makes Compact rewrite the snapshot after any new
	// submission (tests of the compaction itself).
	compactAlways bool
	// submissionsRead counts submissions read back, for the tests that
	// keep acceptance from rereading the store.
	submissionsRead atomic.Int64
	// packsRead counts packs decoded, for the test that keeps a pass over
	// the store from decoding a pack for each of its members.
	packsRead atomic.Int64
	// packsReady is set once packs/ is known to exist durably.
	packsReady bool
}

// SetAllocator makes the store allocate the Arrow buffers it makes for
// itself (writing and reading submissions, snapshots, spills) from mem;
// tests give a checked allocator and assert that nothing is left.
func (s *Store) SetAllocator(mem memory.Allocator) { s.mem = mem }

// Damage lists the damaged ledger lines a read-only store skipped; a
// writable store refuses to open instead.
func (s *Store) Damage() []string { return append([]string(nil), s.damage...) }

// note indexes one ledger event (read or appended).
func (s *Store) note(e Entry) {
	if s.bySHA == nil {
		s.bySHA, s.withdrawns = map[string][]int{}, map[int]bool{}
	}
	s.entries = append(s.entries, e)
	switch e.Event {
	case EventAccepted:
		s.bySHA[e.SHA256] = append(s.bySHA[e.SHA256], len(s.entries)-1)
		s.lastSeq = max(s.lastSeq, e.Seq)
	case EventWithdrawn:
		s.withdrawns[e.Seq] = true
	}
}

const ledgerName = "ledger.jsonl"

// Option configures a store as it is opened.
type Option func(*Store)

// WithDomains makes the store hold the domains of descs, in that order,
// instead of the pledge's three: a domain is added by its descriptor
// alone (records.NewDescriptor); the toy-domain test does it.
func WithDomains(descs []records.Descriptor) Option {
	return func(s *Store) { s.domains = descs }
}

// rows counts a set's records per domain.
func (s *Store) rows(set records.Set) map[records.Domain]int {
	out := make(map[records.Domain]int, len(s.domains))
	for _, d := range s.domains {
		out[d.Domain] = d.Count(set)
	}
	return out
}

// Open opens (creating if needed) the store in dir, repairing what a crash
// may have left: a torn last ledger line, submission folders the ledger does
// not name, temporary files.
func Open(fsys fsx.FS, dir string, log *slog.Logger, opts ...Option) (*Store, error) {
	if err := fsys.MkdirAll(filepath.Join(dir, "submissions"), 0o755); err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	s := &Store{fs: fsys, dir: dir, log: log, mem: memory.NewGoAllocator(), domains: records.Descriptors()}
	for _, o := range opts {
		o(s)
	}
	if err := s.readLedger(); err != nil {
		return nil, err
	}
	if err := s.removeOrphans(); err != nil {
		return nil, err
	}
	if err := s.removeOldSnapshots(s.inForce()); err != nil {
		return nil, err
	}
	return s, nil
}

// OpenReadOnly opens the store to read it while another process may be
// writing it (status, history): nothing is repaired, a torn last line is
// skipped, and every write fails.
func OpenReadOnly(dir string, log *slog.Logger, opts ...Option) (*Store, error) {
	s := &Store{fs: fsx.OS{}, dir: dir, log: log, readOnly: true, mem: memory.NewGoAllocator(), domains: records.Descriptors()}
	for _, o := range opts {
		o(s)
	}
	if err := s.readLedger(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) ledgerPath() string { return filepath.Join(s.dir, ledgerName) }

func (s *Store) readLedger() error {
	data, err := fsx.ReadRegular(s.ledgerPath(), 1<<40)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read ledger: %w", err)
	}
	// Complete lines only: the last append may have been cut short (no
	// newline; its bytes may even be zeros the file system filled in).
	good := bytes.LastIndexByte(data, '\n') + 1 // bytes of whole lines
	entries, errs := decodeLines(data[:good])
	// The entries are noted in place: the slice decoded is the ledger's.
	s.entries = entries[:0]
	s.bySHA, s.withdrawns = make(map[string][]int, len(entries)/2), map[int]bool{}
	for i := range entries {
		if err := errs[i]; err != nil {
			// A whole line that does not check out is damage, wherever
			// it is. Runs stop on it; a read-only view (status) shows
			// what it can and names the damage.
			damage := fmt.Errorf("ledger %s line %d is corrupt (%v): restore .pledgestat from a backup or contact the maintainers", s.ledgerPath(), i+1, err)
			if !s.readOnly {
				return damage
			}
			s.damage = append(s.damage, damage.Error())
			continue
		}
		s.note(entries[i]) // into entries[j], j <= i: read already
	}
	if good < len(data) && !s.readOnly {
		s.log.Warn("repairing ledger: dropping an incomplete last line left by an interrupted run", "ledger", s.ledgerPath(), "bytes", len(data)-good)
		if err := fsx.WriteFile(s.fs, s.ledgerPath(), 0o644, func(w io.Writer) error {
			_, err := w.Write(data[:good])
			return err
		}); err != nil {
			return fmt.Errorf("repair ledger: %w", err)
		}
	}
	return nil
}

func encodeLine(e Entry) ([]byte, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode ledger entry: %w", err)
	}
	return []byte(fmt.Sprintf("%08x %s", crc32.ChecksumIEEE(body), body)), nil
}

// decodeLines decodes the ledger's whole lines (data ends with a newline
// or is empty), on every core: decoding the JSON of 20,000 entries was
// most of a status. The entries and errors are in the order of the lines;
// the entries have room for a few more.
func decodeLines(data []byte) ([]Entry, []error) {
	text := string(data) // the entries' strings are cut from it
	starts := make([]int, 0, bytes.Count(data, []byte{'\n'})+1)
	for p := 0; p < len(data); {
		starts = append(starts, p)
		p += bytes.IndexByte(data[p:], '\n') + 1
	}
	starts = append(starts, len(data))
	n := len(starts) - 1
	entries, errs := make([]Entry, n, n+16), make([]error, n)
	workers := min(runtime.GOMAXPROCS(0), n/1024+1)
	per := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for from := 0; from < n; from += per {
		to := min(from+per, n)
		wg.Go(func() {
			var d ledgerDecoder
			for i := from; i < to; i++ {
				start, end := starts[i], starts[i+1]-1 // without the newline
				errs[i] = d.decodeLine(data[start:end], text[start:end], &entries[i])
			}
		})
	}
	wg.Wait()
	return entries, errs
}

// decodeLine decodes a ledger line (without its newline) into e, which
// must be zero. line is b as a string.
func (d *ledgerDecoder) decodeLine(b []byte, line string, e *Entry) error {
	sum, body, ok := bytes.Cut(b, []byte(" "))
	if !ok || len(sum) != 8 {
		return errors.New("no checksum")
	}
	want, ok := checksum(sum)
	if !ok {
		return errors.New("bad checksum")
	}
	if crc32.ChecksumIEEE(body) != want {
		return errors.New("checksum mismatch")
	}
	if !d.fast(body, line[len(sum)+1:], e) {
		*e = Entry{}
		if err := json.Unmarshal(body, e); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
	}
	return e.check()
}

// check refuses an entry no run writes: a line edited by hand (its
// checksum recomputed) must be reported as damage, not read until a short
// hash or a missing number breaks something later.
func (e Entry) check() error {
	switch e.Event {
	case EventIntake, EventDuplicate, EventRejected, EventAbandoned:
	case EventAccepted:
		if e.Seq <= 0 {
			return fmt.Errorf("accepted entry without a submission number (seq %d)", e.Seq)
		}
	case EventWithdrawn:
		if e.Seq <= 0 {
			return fmt.Errorf("withdrawal without a submission number (seq %d)", e.Seq)
		}
		return nil
	default:
		return fmt.Errorf("unknown event %q", e.Event)
	}
	if !isSHA256(e.SHA256) {
		return fmt.Errorf("%s entry: sha256 %q is not 64 lowercase hexadecimal digits", e.Event, e.SHA256)
	}
	if e.Pack != "" && (e.Event != EventAccepted || !validPack(e.Pack, e.Seq)) {
		return fmt.Errorf("%s entry: pack %q is not the folder of a group holding submission %d", e.Event, e.Pack, e.Seq)
	}
	return nil
}

func isSHA256(s string) bool { return len(s) == 64 && lowerHex(s) }

// lowerHex reports whether s is lowercase hexadecimal digits only. It is
// asked of every line of the ledger as a store opens: one table load a
// byte, no branch.
func lowerHex(s string) bool {
	var not byte
	for _, c := range []byte(s) {
		not |= hexValue[c] >> 7
	}
	return not == 0
}

// hexValue is the value of a lowercase hexadecimal digit, 0x80 for any
// other byte and 0x90 | the value for an uppercase one.
var hexValue = func() (t [256]byte) {
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = byte(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = byte(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			t[c] = 0x90 | byte(c-'A'+10)
		default:
			t[c] = 0x80
		}
	}
	return t
}()

// checksum reads a line's checksum, eight hexadecimal digits of either
// case (strconv.ParseUint's reading, without its string).
func checksum(sum []byte) (uint32, bool) {
	if len(sum) != 8 {
		return 0, false
	}
	var n uint32
	for _, c := range sum {
		v := hexValue[c]
		if v == 0x80 {
			return 0, false
		}
		n = n<<4 | uint32(v&0x0f)
	}
	return n, true
}

// append writes an event durably, then records it in memory.
func (s *Store) append(e Entry) error {
	if s.readOnly {
		return errors.New("store opened read-only")
	}
	if err := e.check(); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	line, err := encodeLine(e)
	if err != nil {
		return err
	}
	if err := fsx.AppendLine(s.fs, s.ledgerPath(), line); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	s.note(e)
	return nil
}

func (s *Store) submissionDir(seq int, sha string) string {
	return filepath.Join(s.dir, "submissions", submissionName(seq, sha))
}

// submissionName is the name of a submission's own folder under
// submissions/.
func submissionName(seq int, sha string) string { return fmt.Sprintf("%06d-%s", seq, sha[:12]) }

// removeOrphans removes the submission folders and packs no accepted
// ledger line names: what a run that died before its outcomes left.
func (s *Store) removeOrphans() error {
	folders := make(map[string]bool, len(s.entries)/2)
	packs := map[string]bool{}
	for _, e := range s.entries {
		if e.Event != EventAccepted {
			continue
		}
		if e.Pack != "" {
			packs[e.Pack] = true
		} else {
			folders[submissionName(e.Seq, e.SHA256)] = true
		}
	}
	if err := s.removeUnnamed("submissions", folders); err != nil {
		return err
	}
	return s.removeUnnamed(packsDir, packs)
}

// removeUnnamed removes what the folder dir of the store holds and the
// ledger does not name: the leftovers of an interrupted run.
func (s *Store) removeUnnamed(dir string, named map[string]bool) error {
	dir = filepath.Join(s.dir, dir)
	list, err := fsx.Names(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, name := range list {
		if named[name] {
			continue
		}
		s.log.Warn("repairing store: removing submission data no ledger entry names (left by an interrupted run)", "path", filepath.Join(dir, name))
		if err := s.fs.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("remove leftover %s: %w", name, err)
		}
	}
	return nil
}

// PendingIntakes returns intake events that no later event completes: the
// run that wrote them died between deciding and finishing.
func (s *Store) PendingIntakes() []Entry {
	done := map[string]bool{}
	for _, e := range s.entries {
		switch e.Event {
		case EventAccepted, EventDuplicate, EventRejected, EventAbandoned:
			done[e.StoredAs] = true
		}
	}
	var out []Entry
	for _, e := range s.entries {
		if e.Event == EventIntake && !done[e.StoredAs] {
			out = append(out, e)
		}
	}
	return out
}

// Entries returns a copy of the ledger events in order.
func (s *Store) Entries() []Entry { return append([]Entry(nil), s.entries...) }

// All yields the ledger events in order without copying them (a status
// reads 20,000 of them; copying was a fifth of its time).
func (s *Store) All() iter.Seq[Entry] {
	return func(yield func(Entry) bool) {
		for _, e := range s.entries {
			if !yield(e) {
				return
			}
		}
	}
}

// FindAccepted returns the accepted submission with these bytes, if any,
// that has not been withdrawn.
func (s *Store) FindAccepted(sha string) (Entry, bool) {
	for _, i := range s.bySHA[sha] {
		if e := s.entries[i]; !s.withdrawns[e.Seq] {
			return e, true
		}
	}
	return Entry{}, false
}

func (s *Store) withdrawn() map[int]bool {
	if s.withdrawns == nil {
		return map[int]bool{}
	}
	return s.withdrawns
}

func (s *Store) nextSeq() int { return max(s.lastSeq, s.reserved) + 1 }

// Accept stores an accepted submission's records and records the event. e
// describes the submission (file, SHA-256, size, run, stored_as); Accept
// fills in its sequence number, rows and superseded counts.
//
// spill, when not nil, holds the submission's social-protection records,
// written while its file was read; set then holds none. Accept moves the
// spill's file into the submission.
func (s *Store) Accept(ctx context.Context, e Entry, set records.Set, spill *Spill, names records.NameFunc) (Entry, error) {
	if s.readOnly {
		return e, errors.New("store opened read-only")
	}
	if s.reserved != 0 {
		return e, errors.New("store: a submission accepted alone while a group is pending")
	}
	if spill != nil && spill.taken() > 0 && len(set.Coverage) > 0 {
		return e, errors.New("store: social-protection records both spilled and in memory")
	}
	if kept, ok := spill.take(); ok {
		// A small file's records never left memory: store them as any
		// other records (no spill file, no extra fsyncs).
		set.Coverage, spill = kept, nil
	}
	superseded, err := s.supersededBy(ctx, set)
	if err != nil {
		return e, err
	}
	if n, err := s.spillSuperseded(ctx, spill); err != nil {
		return e, err
	} else if n > 0 {
		if superseded == nil {
			superseded = map[string]int{}
		}
		superseded[string(records.DomainSocialProtection)] += n
	}
	e = s.numbered(e, set, superseded)
	spilled := spill != nil && spill.taken() > 0
	if spilled {
		e.Rows[string(records.DomainSocialProtection)] = spill.taken()
	}
	dir := s.submissionDir(e.Seq, e.SHA256)
	if err := s.writeSubmission(dir, set, spill, names); err != nil {
		return e, err
	}
	if err := s.append(e); err != nil {
		return e, err
	}
	if s.current != nil && spilled {
		// Too many records to keep in memory: keep their keys instead
		// (the key index), and let a build read the records from disk.
		s.keys, s.current = s.current.index(), nil
	}
	s.count(e.Seq, set)
	if s.keys != nil && spilled {
		// The spill is done with its hashes (finished, so drained):
		// they are sorted in place.
		s.keys.keys[records.DomainSocialProtection].addAll(spill.hashes)
	}
	return e, nil
}

// spillSuperseded counts the spilled records whose key is current, by
// their key hashes (as the key index does).
func (s *Store) spillSuperseded(ctx context.Context, spill *Spill) (int, error) {
	if spill == nil || spill.taken() == 0 {
		return 0, nil
	}
	hashes, err := spill.keyHashes()
	if err != nil {
		return 0, err
	}
	if s.current == nil && s.keys == nil && !s.holdsRecords() {
		return 0, nil
	}
	var current *keySet
	if s.current == nil {
		idx, err := s.index(ctx)
		if err != nil {
			return 0, err
		}
		if idx != nil {
			current = idx.keys[records.DomainSocialProtection]
		}
	}
	if current == nil {
		cur, err := s.load(ctx)
		if err != nil {
			return 0, err
		}
		current = newKeySet()
		for _, k := range cur.keys(records.DomainSocialProtection) {
			current.add(keyHash(k))
		}
	}
	n := 0
	for _, h := range hashes {
		if current.has(h) {
			n++
		}
	}
	return n, nil
}

// supersededBy counts what a set would supersede: from the records when
// they are loaded, else from the key index, else by loading them.
func (s *Store) supersededBy(ctx context.Context, set records.Set) (map[string]int, error) {
	if s.current == nil && s.keys == nil && !s.holdsRecords() {
		return nil, nil // nothing to supersede: no need to load, nor to keep, anything
	}
	if s.current == nil {
		idx, err := s.index(ctx)
		if err != nil {
			return nil, err
		}
		if idx != nil {
			return idx.supersededBy(set), nil
		}
	}
	cur, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	return cur.supersededBy(set), nil
}

// Record appends a non-accepting event (duplicate, rejected, withdrawn).
func (s *Store) Record(e Entry) error {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	if e.Event == EventWithdrawn {
		s.current, s.keys = nil, nil // recompute without it
	}
	return s.append(e)
}

// storeChunkRows is how many records are turned into Arrow at a time when
// a submission is stored: a million-row file never exists twice in memory.
const storeChunkRows = 64 << 10

// writeSubmission writes a submission's own folder: its domain tables
// into a temporary folder, then in place (placeFolder).
func (s *Store) writeSubmission(dir string, set records.Set, spill *Spill, names records.NameFunc) error {
	tmp := tempSubmissionDir(dir)
	if err := s.writeSubmissionFiles(tmp, set, spill, names); err != nil {
		return err
	}
	return s.placeFolder(tmp, dir)
}

// emptyFolder makes the folder tmp anew: empty, whatever a crash left in
// it.
func (s *Store) emptyFolder(tmp string) error {
	if err := s.fs.RemoveAll(tmp); err != nil {
		return fmt.Errorf("clear %s: %w", tmp, err)
	}
	if err := s.fs.MkdirAll(tmp, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	return nil
}

// placeFolder puts a folder of records, its files written and synced
// under the temporary name tmp, in place as final: its entries synced
// once, after all its files, then the rename made durable by syncing
// final's parent.
func (s *Store) placeFolder(tmp, final string) error {
	if err := s.fs.SyncDir(tmp); err != nil {
		return fmt.Errorf("store %s: %w", filepath.Base(final), err)
	}
	if err := s.fs.Rename(tmp, final); err != nil {
		return fmt.Errorf("store %s: %w", filepath.Base(final), err)
	}
	if err := s.fs.SyncDir(filepath.Dir(final)); err != nil {
		return fmt.Errorf("store %s: %w", filepath.Base(final), err)
	}
	return nil
}

// tempSubmissionDir is the name a submission's folder is written under.
// No file in it has a temporary name of its own: nobody reads the folder
// before it is renamed into place, and Open removes one a crash left.
func tempSubmissionDir(dir string) string {
	return filepath.Join(filepath.Dir(dir), ".tmp-"+filepath.Base(dir))
}

// writeSubmissionFiles writes the domain tables, each file synced, and
// moves the spilled records into the folder tmp, made anew.
func (s *Store) writeSubmissionFiles(tmp string, set records.Set, spill *Spill, names records.NameFunc) error {
	if err := s.emptyFolder(tmp); err != nil {
		return err
	}
	mem := s.mem
	for _, desc := range s.domains {
		n := desc.Count(set)
		if n == 0 {
			continue
		}
		path := filepath.Join(tmp, string(desc.Domain)+".parquet")
		err := fsx.WriteNew(s.fs, path, 0o644, func(w io.Writer) error {
			return parquetio.WriteChunkedInternal(w, n, storeChunkRows, func(from, to int) arrow.RecordBatch {
				return desc.Batch(mem, desc.Slice(set, from, to), names)
			})
		})
		if err != nil {
			return fmt.Errorf("store %s: %w", desc.Domain, err)
		}
	}
	if spill != nil {
		path, err := spill.finish()
		if err != nil {
			return err
		}
		if path != "" {
			if err := s.fs.Rename(path, filepath.Join(tmp, filepath.Base(path))); err != nil {
				return fmt.Errorf("store spilled records: %w", err)
			}
			s.fs.Remove(spill.dir) // empty now
		}
	}
	return nil
}

// Current returns the current records: every accepted, not withdrawn
// submission applied in order, later records superseding earlier ones with
// the same key. Records keep the order of their first appearance.
func (s *Store) Current(ctx context.Context) (records.Set, error) {
	cur, err := s.load(ctx)
	if err != nil {
		return records.Set{}, err
	}
	return cur.set(), nil
}

func (s *Store) load(ctx context.Context) (*current, error) {
	if s.current != nil {
		return s.current, nil
	}
	cur := newCurrent(s.domains)
	through := 0
	if snap := s.openSnapshot(); snap != nil {
		set, err := s.readSnapshot(ctx, snap)
		if err == nil {
			err = cur.applyChecked(ctx, 0, set)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			s.log.Warn("store: the snapshot cannot be read; reading every submission", "err", err)
			cur = newCurrent(s.domains)
		} else {
			through = snap.state.Through
		}
	}
	err := s.eachSubmissionAfter(ctx, through, func(e Entry, set records.Set) error {
		return cur.applyChecked(ctx, e.Seq, set)
	})
	if err != nil {
		return nil, err
	}
	s.current = cur
	return cur, nil
}

// eachSubmissionAfter reads, in order, every accepted and not withdrawn
// submission numbered after through, and hands each one's records to fn.
func (s *Store) eachSubmissionAfter(ctx context.Context, through int, fn func(Entry, records.Set) error) error {
	withdrawn := s.withdrawn()
	reader := s.newSubmissionReader(nil)
	for _, e := range s.entries {
		if e.Event != EventAccepted || withdrawn[e.Seq] || e.Seq <= through {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		set, err := reader.read(ctx, e)
		if err != nil {
			return err
		}
		if err := fn(e, set); err != nil {
			return err
		}
	}
	return nil
}

// readFolder returns the records of the given domains (nil: all) of a
// submission in its own folder. Safe to call from several goroutines.
func (s *Store) readFolder(ctx context.Context, e Entry, domains map[records.Domain]bool) (records.Set, error) {
	s.submissionsRead.Add(1)
	var set records.Set
	dir := s.submissionDir(e.Seq, e.SHA256)
	mem := s.mem
	for _, desc := range s.domains {
		if e.Rows[string(desc.Domain)] == 0 || (domains != nil && !domains[desc.Domain]) {
			continue
		}
		path := filepath.Join(dir, string(desc.Domain)+".parquet")
		err := parquetio.ReadFile(ctx, path, mem, func(b arrow.RecordBatch) error { return desc.Append(&set, b) })
		if err != nil {
			return set, fmt.Errorf("submission %d (%s): %w", e.Seq, e.File, err)
		}
	}
	return set, nil
}

// SimilarAgreements returns the current agreements without an id that
// have the type and parties of a but another signature year: a correction
// of the year creates a new record key, so the old record stays counted.
func (s *Store) SimilarAgreements(ctx context.Context, a records.Agreement) ([]records.Agreement, error) {
	if a.AgreementID != "" {
		return nil, nil
	}
	if s.current == nil {
		idx, err := s.index(ctx)
		if err != nil {
			return nil, err
		}
		if idx != nil {
			return idx.similar(a), nil
		}
	}
	cur, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	var out []records.Agreement
	for _, b := range cur.recs.Agreements {
		if b.AgreementID == "" && b.Type == a.Type && strings.Join(b.Parties, ";") == strings.Join(a.Parties, ";") && b.Signed.Year != a.Signed.Year {
			out = append(out, b)
		}
	}
	return out, nil
}

// Totals returns the number of current records per domain.
//
// Without withdrawals the totals follow from the ledger alone: each
// accepted submission recorded its rows and how many of them superseded a
// current record, so the count is the rows less those superseded, with no
// record read (status stays fast however long the history). A withdrawal
// can bring superseded records back, so then the records are read.
func (s *Store) Totals(ctx context.Context) (map[records.Domain]int, error) {
	if len(s.withdrawns) == 0 {
		totals := map[records.Domain]int{}
		for _, d := range s.domains {
			totals[d.Domain] = 0
		}
		for _, e := range s.entries {
			if e.Event != EventAccepted {
				continue
			}
			for d, n := range e.Rows {
				totals[records.Domain(d)] += n - e.Superseded[d]
			}
		}
		return totals, nil
	}
	cur, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	totals := map[records.Domain]int{}
	for _, k := range cur.domains {
		totals[k.desc.Domain] = len(k.order)
	}
	return totals, nil
}

// holdsRecords reports whether any accepted submission is not withdrawn.
func (s *Store) holdsRecords() bool {
	withdrawn := s.withdrawn()
	for _, e := range s.entries {
		if e.Event == EventAccepted && !withdrawn[e.Seq] {
			return true
		}
	}
	return false
}

// Accepted returns the accepted, not withdrawn submissions in order.
func (s *Store) Accepted() []Entry {
	withdrawn := s.withdrawn()
	out := make([]Entry, 0, len(s.entries)/2) // an intake and an outcome a file
	for _, e := range s.entries {
		if e.Event == EventAccepted && !withdrawn[e.Seq] {
			out = append(out, e)
		}
	}
	// The ledger numbers submissions as it accepts them: the order is
	// the ledger's already, unless a hand-made ledger says otherwise.
	bySeq := func(a, b Entry) int { return cmp.Compare(a.Seq, b.Seq) }
	if !slices.IsSortedFunc(out, bySeq) {
		slices.SortStableFunc(out, bySeq)
	}
	return out
}
