package store

import (
	"context"
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

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/internal/parquetio"
	"github.com/ilo-pledge/pledgestat/internal/safego"
	"github.com/ilo-pledge/pledgestat/records"
)

// Packs: the submissions a group files together (WriteAll) share one
// folder, submissions/FIRST-LAST-SHA, with one Parquet file per domain
// holding their records one after another in submission order. Each
// accepted line of the ledger names its pack; the file's metadata lists
// its members and their rows (membersKey), so a member's records are
// found from the file itself and checked against the ledger's counts.
//
// One folder of 600 small submissions was 600 folders, 600 files and 600
// Parquet writers (their schemas, footers and column chunks), a quarter of
// the CPU of a run on 600 small files; a pack is one of each per group of
// up to 64. The crash model is the one of a submission's own folder: the
// pack is written under a temporary name, made durable and renamed into
// place before the ledger names it, and a pack no ledger line names is
// removed on open. A ledger whose last append was cut short names the
// first members only, which are a prefix of the pack: the rows of the
// others are never read.

// membersKey is the key of a pack file's metadata that lists its members:
// "SEQ:ROWS,SEQ:ROWS,..." in submission order.
const membersKey = "pledgestat.members"

// packName is the folder of a pack: the numbers of its first and last
// members and the start of the first one's SHA-256.
func packName(first, last Entry) string {
	return fmt.Sprintf("%06d-%06d-%s", first.Seq, last.Seq, first.SHA256[:12])
}

// validPack reports whether name is a pack's folder that can hold
// submission seq: the ledger is a file a person can edit, and a name is
// joined to a path.
func validPack(name string, seq int) bool {
	parts := strings.Split(name, "-")
	if len(parts) != 3 || len(parts[0]) != 6 || len(parts[1]) != 6 || len(parts[2]) != 12 {
		return false
	}
	first, err1 := strconv.Atoi(parts[0])
	last, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || strings.ContainsAny(parts[0]+parts[1], "+-") {
		return false
	}
	for _, c := range []byte(parts[2]) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return first <= seq && seq <= last
}

// writePack writes the pending submissions' records into the folder tmp,
// made anew, one file per domain that has any, and returns the files'
// paths. The files are not synced: WriteAll makes them durable with the
// folder.
func (s *Store) writePack(tmp string, pending []*Pending) ([]string, error) {
	if err := s.fs.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("clear %s: %w", tmp, err)
	}
	if err := s.fs.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", tmp, err)
	}
	// The names are the run's: every member was prepared with the same.
	names := pending[0].names
	// The domains' files are written on both cores.
	files := make([]string, len(s.domains))
	err := safego.ForEach(len(s.domains), writeWorkers, func(i int) error {
		desc := s.domains[i]
		var all records.Set
		members := make([]string, 0, len(pending))
		for _, p := range pending {
			n := desc.Count(p.set)
			for j := range n {
				desc.AppendOne(&all, p.set, j)
			}
			members = append(members, strconv.Itoa(p.entry.Seq)+":"+strconv.Itoa(n))
		}
		n := desc.Count(all)
		if n == 0 {
			return nil
		}
		md := arrow.NewMetadata([]string{membersKey}, []string{strings.Join(members, ",")})
		path := filepath.Join(tmp, string(desc.Domain)+".parquet")
		err := fsx.WriteUnsynced(s.fs, path, 0o644, func(w io.Writer) error {
			return parquetio.WriteChunked(w, n, storeChunkRows, func(from, to int) arrow.RecordBatch {
				b := desc.Batch(s.mem, desc.Slice(all, from, to), names)
				defer b.Release()
				return array.NewRecordBatch(arrow.NewSchema(b.Schema().Fields(), &md), b.Columns(), b.NumRows())
			})
		})
		if err != nil {
			return fmt.Errorf("store %s: %w", desc.Domain, err)
		}
		files[i] = path
		return nil
	})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(files, func(f string) bool { return f == "" }), nil
}

// parseMembers reads a pack file's member list: each member's number and
// its first row and row count in the file.
func parseMembers(text string) (map[int][2]int, error) {
	out := map[int][2]int{}
	row := 0
	for item := range strings.SplitSeq(text, ",") {
		seqText, rowsText, ok := strings.Cut(item, ":")
		seq, err1 := strconv.Atoi(seqText)
		rows, err2 := strconv.Atoi(rowsText)
		if !ok || err1 != nil || err2 != nil || seq <= 0 || rows < 0 {
			return nil, fmt.Errorf("pack members %q: %q is not SEQ:ROWS", text, item)
		}
		if _, dup := out[seq]; dup {
			return nil, fmt.Errorf("pack members %q: %d twice", text, seq)
		}
		out[seq] = [2]int{row, rows}
		row += rows
	}
	return out, nil
}

// readPack reads the records of the given domains (nil: all) of every
// member of a pack, by submission number.
func (s *Store) readPack(ctx context.Context, name string, domains map[records.Domain]bool) (map[int]records.Set, error) {
	s.packsRead.Add(1)
	sets := map[int]records.Set{}
	dir := filepath.Join(s.dir, "submissions", name)
	for _, desc := range s.domains {
		if domains != nil && !domains[desc.Domain] {
			continue
		}
		path := filepath.Join(dir, string(desc.Domain)+".parquet")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			continue // no member has records of the domain (the ledger's counts are checked)
		}
		var members map[int][2]int
		row := 0
		err := parquetio.ReadFile(ctx, path, s.mem, func(b arrow.RecordBatch) error {
			if members == nil {
				text, ok := b.Schema().Metadata().GetValue(membersKey)
				if !ok {
					return fmt.Errorf("no %s in the file's metadata", membersKey)
				}
				var err error
				if members, err = parseMembers(text); err != nil {
					return err
				}
			}
			from, to := row, row+int(b.NumRows())
			row = to
			for seq, m := range members {
				lo, hi := max(from, m[0]), min(to, m[0]+m[1])
				if lo >= hi {
					continue
				}
				part := b.NewSlice(int64(lo-from), int64(hi-from))
				set := sets[seq]
				err := desc.Append(&set, part)
				part.Release()
				if err != nil {
					return err
				}
				sets[seq] = set
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("pack %s: %w", name, err)
		}
		total := 0
		for _, m := range members {
			total = max(total, m[0]+m[1])
		}
		if row != total {
			return nil, fmt.Errorf("pack %s: %s holds %d rows, its members %d", name, desc.Domain, row, total)
		}
	}
	return sets, nil
}

// packsKept is how many packs a submissionReader keeps read: its callers
// go through the ledger in order, at most a window at a time.
const packsKept = 2

// submissionReader reads submissions' records for one pass over the
// store (a load, a history): a pack is read once for all its members, not
// once for each, and each member's records are handed over once, so that
// what the reader holds shrinks as they are taken. Safe for concurrent
// use.
type submissionReader struct {
	s       *Store
	domains map[records.Domain]bool // nil: all
	mu      sync.Mutex
	packs   []*packRead // most recently asked for last
}

// packRead is one pack's records, read once.
type packRead struct {
	name  string
	once  sync.Once
	sets  map[int]records.Set // under the reader's mu once read
	taken map[int]bool        // members handed over, under the reader's mu
	err   error
}

func (s *Store) newSubmissionReader(domains map[records.Domain]bool) *submissionReader {
	return &submissionReader{s: s, domains: domains}
}

// read returns the records one submission brought, of the reader's
// domains.
func (r *submissionReader) read(ctx context.Context, e Entry) (records.Set, error) {
	if e.Pack == "" {
		return r.s.readFolder(ctx, e, r.domains)
	}
	r.s.submissionsRead.Add(1)
	set, err := r.take(ctx, e)
	if err != nil {
		return records.Set{}, fmt.Errorf("submission %d (%s): %w", e.Seq, e.File, err)
	}
	for _, desc := range r.s.domains {
		if r.domains != nil && !r.domains[desc.Domain] {
			continue
		}
		if got, want := desc.Count(set), e.Rows[string(desc.Domain)]; got != want {
			return records.Set{}, fmt.Errorf("submission %d (%s): pack %s holds %d %s records of it, the ledger says %d", e.Seq, e.File, e.Pack, got, desc.Domain, want)
		}
	}
	return set, nil
}

// take hands over a member's records from its pack, read if need be (or
// read again, for a member handed over already).
func (r *submissionReader) take(ctx context.Context, e Entry) (records.Set, error) {
	for {
		p := r.pack(e.Pack)
		p.once.Do(func() { p.sets, p.err = r.s.readPack(ctx, e.Pack, r.domains) })
		if p.err != nil {
			return records.Set{}, p.err
		}
		r.mu.Lock()
		if !p.taken[e.Seq] {
			set := p.sets[e.Seq]
			delete(p.sets, e.Seq)
			if p.taken == nil {
				p.taken = map[int]bool{}
			}
			p.taken[e.Seq] = true
			r.mu.Unlock()
			return set, nil
		}
		r.forget(p)
		r.mu.Unlock()
	}
}

// pack returns the reader's entry for a pack, made if need be; the
// oldest is let go when more than packsKept are kept.
func (r *submissionReader) pack(name string) *packRead {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, p := range r.packs {
		if p.name == name {
			r.packs = append(append(r.packs[:i:i], r.packs[i+1:]...), p)
			return p
		}
	}
	p := &packRead{name: name}
	r.packs = append(r.packs, p)
	if len(r.packs) > packsKept {
		r.packs = r.packs[1:]
	}
	return p
}

// forget drops a pack from the reader (under mu): the next member asked
// for reads it again.
func (r *submissionReader) forget(p *packRead) {
	r.packs = slices.DeleteFunc(r.packs, func(q *packRead) bool { return q == p })
}
