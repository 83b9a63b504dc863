package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/internal/parquetio"
	"github.com/ilo-pledge/pledgestat/records"
)

// The snapshot is the current state compacted: one Parquet file per
// domain holding the current records in their order, as of a submission
// number, so that a build reads three files instead of every submission
// ever accepted. The ledger stays the truth: the snapshot says which
// submissions and withdrawals it reflects, the submissions accepted since
// are applied on top, a withdrawal it does not reflect makes it unusable
// (the state is then rebuilt from the submissions), and its row counts
// are checked against the ledger's arithmetic when no withdrawal
// complicates it.
//
// Layout: snapshot.json names the current snapshot folder; each folder
// (snapshot-NNNNNN-TIME) is written whole, fsynced and only then named,
// so a crash while compacting leaves the previous snapshot in force.
// Folders no pointer names are removed when the store is opened.

const (
	snapshotPointer = "snapshot.json"
	snapshotPrefix  = "snapshot-"
	snapshotState   = "state.json"
)

// snapshotStateFile describes one snapshot folder.
type snapshotStateFile struct {
	Format    int            `json:"format"`
	Through   int            `json:"through"`   // the last submission number it reflects
	Withdrawn []int          `json:"withdrawn"` // the withdrawals (numbers up to Through) it reflects
	Rows      map[string]int `json:"rows"`
	Names     string         `json:"names,omitempty"` // what the name columns were built from (Tables' namesID)
	Written   time.Time      `json:"written"`
}

type snapshotPointerFile struct {
	Dir string `json:"dir"`
}

// snapshot is a usable snapshot: its folder and state.
type snapshot struct {
	dir   string
	state snapshotStateFile
}

// openSnapshot returns the snapshot in force, or nil when there is none or
// it does not match the ledger (then everything is read from the
// submissions, and the next compaction replaces it).
func (s *Store) openSnapshot() *snapshot {
	data, err := fsx.ReadRegular(filepath.Join(s.dir, snapshotPointer), 64<<10)
	if err != nil {
		return nil
	}
	var ptr snapshotPointerFile
	if json.Unmarshal(data, &ptr) != nil || !strings.HasPrefix(ptr.Dir, snapshotPrefix) || strings.ContainsAny(ptr.Dir, `/\`) {
		s.log.Warn("store: the snapshot pointer is damaged; reading every submission", "path", filepath.Join(s.dir, snapshotPointer))
		return nil
	}
	dir := filepath.Join(s.dir, ptr.Dir)
	data, err = fsx.ReadRegular(filepath.Join(dir, snapshotState), 1<<20)
	if err != nil {
		s.log.Warn("store: the snapshot cannot be read; reading every submission", "dir", dir, "err", err)
		return nil
	}
	var st snapshotStateFile
	if json.Unmarshal(data, &st) != nil || st.Format != 1 {
		s.log.Warn("store: the snapshot's state is damaged; reading every submission", "dir", dir)
		return nil
	}
	if !slices.Equal(st.Withdrawn, s.withdrawnThrough(st.Through)) {
		return nil // a withdrawal since: rebuilt from the submissions
	}
	if want, ok := s.ledgerRows(st.Through); ok && !maps2Equal(want, st.Rows) {
		s.log.Warn("store: the snapshot does not match the ledger; reading every submission", "dir", dir, "snapshot", st.Rows, "ledger", want)
		return nil
	}
	return &snapshot{dir: dir, state: st}
}

// withdrawnThrough lists the withdrawn submission numbers up to through.
func (s *Store) withdrawnThrough(through int) []int {
	out := []int{}
	for seq := range s.withdrawn() {
		if seq <= through {
			out = append(out, seq)
		}
	}
	slices.Sort(out)
	return out
}

// ledgerRows is the number of current records per domain after the
// submissions up to through, from the ledger alone; false when a
// withdrawal makes the arithmetic unreliable.
func (s *Store) ledgerRows(through int) (map[string]int, bool) {
	if len(s.withdrawns) > 0 {
		return nil, false
	}
	out := map[string]int{}
	for _, e := range s.entries {
		if e.Event != EventAccepted || e.Seq > through {
			continue
		}
		for d, n := range e.Rows {
			out[d] += n - e.Superseded[d]
		}
	}
	for d, n := range out {
		if n == 0 {
			delete(out, d)
		}
	}
	return out, true
}

func maps2Equal(a, b map[string]int) bool {
	clean := func(m map[string]int) map[string]int {
		out := map[string]int{}
		for k, v := range m {
			if v != 0 {
				out[k] = v
			}
		}
		return out
	}
	a, b = clean(a), clean(b)
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// indexed reports whether the snapshot carries its key index (snapshots
// written before the index existed do not; the next compaction adds it).
func (snap *snapshot) indexed() bool {
	for d, n := range snap.state.Rows {
		if n == 0 {
			continue
		}
		if _, err := os.Stat(filepath.Join(snap.dir, "keys-"+d+".bin")); err != nil {
			return false
		}
	}
	return true
}

// readSnapshot reads a snapshot's records, in order.
func (s *Store) readSnapshot(ctx context.Context, snap *snapshot) (records.Set, error) {
	var set records.Set
	mem := s.mem
	for _, desc := range s.domains {
		if snap.state.Rows[string(desc.Domain)] == 0 {
			continue
		}
		path := filepath.Join(snap.dir, string(desc.Domain)+".parquet")
		if err := parquetio.ReadFile(ctx, path, mem, func(b arrow.RecordBatch) error { return desc.Append(&set, b) }); err != nil {
			return set, fmt.Errorf("snapshot %s: %w", snap.dir, err)
		}
	}
	return set, nil
}

// snapshotRowGroupRows is the row group size of the snapshot's files:
// large, because a build reads a row group as one Arrow batch and a table
// of one batch is used as it is, while one of many is joined into a copy.
// The batches written are slices of the table, so writing holds no more.
const snapshotRowGroupRows = 1 << 20

// Compact writes the current state as the snapshot in force, unless the
// snapshot already reflects every accepted submission and withdrawal with
// the same names. tables is the current state, as Tables returned it: a
// build has it in memory, so compacting only writes it; once the new
// snapshot is in force, tables.File names its files. A failure leaves
// the previous snapshot (or none) in force and costs only speed.
func (s *Store) Compact(ctx context.Context, tables *Tables, namesID string) error {
	if s.readOnly {
		return errors.New("store opened read-only")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if snap := s.openSnapshot(); snap != nil && snap.indexed() && snap.state.Names == namesID && !s.compactionDue(snap) {
		return nil
	}
	idx, err := s.index(ctx)
	if err != nil {
		return err
	}
	if idx == nil {
		cur, err := s.load(ctx)
		if err != nil {
			return err
		}
		idx = newKeyIndex(s.domains)
		idx.add(cur.set())
	}
	state := snapshotStateFile{Format: 1, Through: s.lastSeq, Withdrawn: s.withdrawnThrough(s.lastSeq), Rows: map[string]int{}, Names: namesID, Written: time.Now().UTC()}
	name := fmt.Sprintf("%s%06d-%s", snapshotPrefix, s.lastSeq, strconv.FormatInt(time.Now().UnixNano(), 36))
	tmp := filepath.Join(s.dir, ".tmp-"+name)
	if err := s.fs.MkdirAll(tmp, 0o755); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	for _, desc := range s.domains {
		// A build that stopped waits for its compaction: it goes no
		// further than the table being written.
		if err := ctx.Err(); err != nil {
			s.fs.RemoveAll(tmp)
			return err
		}
		d := desc.Domain
		t := tables.Table(d)
		if t == nil {
			s.fs.RemoveAll(tmp)
			return fmt.Errorf("snapshot: no %s table", d)
		}
		n := int(t.NumRows())
		if n == 0 {
			continue
		}
		if idx.keys[d].len() != n {
			s.fs.RemoveAll(tmp)
			return fmt.Errorf("snapshot: %d %s records but %d keys", n, d, idx.keys[d].len())
		}
		state.Rows[string(d)] = n
		path := filepath.Join(tmp, string(d)+".parquet")
		err := fsx.WriteFile(s.fs, path, 0o644, func(w io.Writer) error {
			if file := tables.File(d); file != "" {
				// The table is the old snapshot's as it is (and may hold
				// only the columns its caller read): copy the file.
				return fsx.CopyTo(w, file)
			}
			return parquetio.WriteChunked(w, n, snapshotRowGroupRows, func(from, to int) arrow.RecordBatch {
				return t.NewSlice(int64(from), int64(to))
			})
		})
		if err != nil {
			s.fs.RemoveAll(tmp)
			return fmt.Errorf("snapshot %s: %w", d, err)
		}
	}
	if err := ctx.Err(); err != nil {
		s.fs.RemoveAll(tmp)
		return err
	}
	if err := s.writeIndex(tmp, idx); err != nil {
		s.fs.RemoveAll(tmp)
		return fmt.Errorf("snapshot: %w", err)
	}
	data, _ := json.MarshalIndent(state, "", "  ")
	if err := fsx.WriteFile(s.fs, filepath.Join(tmp, snapshotState), 0o644, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		s.fs.RemoveAll(tmp)
		return fmt.Errorf("snapshot: %w", err)
	}
	final := filepath.Join(s.dir, name)
	if err := s.fs.Rename(tmp, final); err != nil {
		s.fs.RemoveAll(tmp)
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := s.fs.SyncDir(s.dir); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	ptr, _ := json.Marshal(snapshotPointerFile{Dir: name})
	if err := fsx.WriteFile(s.fs, filepath.Join(s.dir, snapshotPointer), 0o644, func(w io.Writer) error { _, err := w.Write(ptr); return err }); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	// The tables are now the new snapshot's files as they are; the old
	// snapshot's, which some may have named, are removed next.
	for d, n := range state.Rows {
		if n > 0 {
			tables.files[records.Domain(d)] = filepath.Join(final, d+".parquet")
		}
	}
	return s.removeOldSnapshots(name)
}

// A snapshot is rewritten whole (about half a second at 10,000
// submissions), while the submissions accepted since it cost a build
// only their reading and a merge. So it is rewritten when they are many
// or large, not after every build that took a file: a nightly run with
// one new file does not pay for the rewrite.
const (
	maxDeltaSubmissions = 32
	maxDeltaRows        = 20_000 // or a fiftieth of the snapshot's rows, if more
)

// compactionDue reports whether the snapshot should be rewritten: it
// misses more, or larger, submissions than a build reads cheaply.
func (s *Store) compactionDue(snap *snapshot) bool {
	if snap.state.Through == s.lastSeq {
		return false
	}
	if s.compactAlways {
		return true
	}
	withdrawn := s.withdrawn()
	n, rows, total := 0, 0, 0
	for _, r := range snap.state.Rows {
		total += r
	}
	for _, e := range s.entries {
		if e.Event != EventAccepted || e.Seq <= snap.state.Through || withdrawn[e.Seq] {
			continue
		}
		n++
		for _, r := range e.Rows {
			rows += r
		}
	}
	return n > maxDeltaSubmissions || rows > max(maxDeltaRows, total/50)
}

// removeOldSnapshots removes the snapshot folders the pointer does not
// name (a compaction's predecessor, or the leftover of a crash).
func (s *Store) removeOldSnapshots(keep string) error {
	list, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", s.dir, err)
	}
	for _, d := range list {
		if strings.HasPrefix(d.Name(), snapshotPrefix) && d.Name() != keep {
			if err := s.fs.RemoveAll(filepath.Join(s.dir, d.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove old snapshot: %w", err)
			}
		}
	}
	return nil
}

// inForce names the snapshot folder the pointer names, or "".
func (s *Store) inForce() string {
	data, err := fsx.ReadRegular(filepath.Join(s.dir, snapshotPointer), 64<<10)
	if err != nil {
		return ""
	}
	var ptr snapshotPointerFile
	if json.Unmarshal(data, &ptr) != nil {
		return ""
	}
	return ptr.Dir
}
