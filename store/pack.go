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
// folder, packs/FIRST-LAST-SHA, with one Parquet file per domain holding
// their records one after another in submission order. Each accepted line
// of the ledger names its pack; the file's metadata lists its members,
// their rows and the start of their SHA-256 (membersKey), so a member's
// records are found from the file itself and checked against the ledger's
// counts and bytes.
//
// Packs are not under submissions/: a pledgestat from before packs
// removes every folder there that it cannot tie to a ledger line, and
// would delete them. Outside it, such a binary fails on a store with packs
// (it finds no folder for those submissions) instead of losing records.
//
// A folder each, 600 small submissions were 600 folders, 600 files and
// 600 Parquet writers (their schemas, footers and column chunks): a
// quarter of the CPU of a run on 600 small files. A pack is one of each
// per group of up to 64. The crash model is the one of a submission's own folder: the
// pack is written under a temporary name, made durable and renamed into
// place before the ledger names it, and a pack no ledger line names is
// removed on open. A ledger whose last append was cut short names the
// first members only, which are a prefix of the pack: the rows of the
// others are never read.

// membersKey is the key of a pack file's metadata that lists its members:
// "SEQ:ROWS:SHA12,..." in submission order (SHA12: the first 12 hex
// digits of the member's SHA-256).
const membersKey = "pledgestat.members"

// packsDir is the folder of the packs in the store.
const packsDir = "packs"

// packName is the folder of a pack: the numbers of its first and last
// members and the start of the first one's SHA-256.
func packName(first, last Entry) string {
	return fmt.Sprintf("%06d-%06d-%s", first.Seq, last.Seq, first.SHA256[:12])
}

// validPack reports whether name is a pack's folder, as packName writes
// it, that can hold submission seq: the ledger is a file a person can
// edit, and a name is joined to a path.
//
// It is asked of every accepted line of the ledger as a store opens, and
// allocates nothing.
func validPack(name string, seq int) bool {
	firstText, rest, ok1 := strings.Cut(name, "-")
	lastText, sha, ok2 := strings.Cut(rest, "-")
	if !ok1 || !ok2 || !isHex12(sha) {
		return false
	}
	first, ok1 := seqNumber(firstText)
	last, ok2 := seqNumber(lastText)
	return ok1 && ok2 && first <= seq && seq <= last
}

// seqNumber reads a submission number as packName writes it: "%06d" of
// a number not below zero (six digits at least, no other zeros in front).
func seqNumber(s string) (int, bool) {
	if len(s) < 6 || (len(s) > 6 && s[0] == '0') {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// isHex12 reports whether s is 12 lowercase hexadecimal digits, the start
// of a SHA-256 as the store writes it.
func isHex12(s string) bool { return len(s) == 12 && lowerHex(s) }

// writePack writes the pending submissions' records into the folder tmp,
// made anew: one file per domain that has any, each synced.
func (s *Store) writePack(tmp string, pending []*Pending) error {
	if err := s.emptyFolder(tmp); err != nil {
		return err
	}
	// The names are the run's: every member was prepared with the same.
	names := pending[0].names
	// The domains' files are written on both cores.
	return safego.ForEach(len(s.domains), writeWorkers, func(i int) error {
		desc := s.domains[i]
		var all records.Set
		members := make([]string, 0, len(pending))
		sets := make([]records.Set, 0, len(pending))
		for _, p := range pending {
			n := desc.Count(p.set)
			sets = append(sets, p.set)
			members = append(members, strconv.Itoa(p.entry.Seq)+":"+strconv.Itoa(n)+":"+p.entry.SHA256[:12])
		}
		desc.AppendAll(&all, sets...)
		n := desc.Count(all)
		if n == 0 {
			return nil
		}
		md := arrow.NewMetadata([]string{membersKey}, []string{strings.Join(members, ",")})
		path := filepath.Join(tmp, string(desc.Domain)+".parquet")
		err := fsx.WriteNew(s.fs, path, 0o644, func(w io.Writer) error {
			return parquetio.WriteChunkedInternal(w, n, storeChunkRows, func(from, to int) arrow.RecordBatch {
				b := desc.Batch(s.mem, desc.Slice(all, from, to), names)
				defer b.Release()
				return array.NewRecordBatch(arrow.NewSchema(b.Schema().Fields(), &md), b.Columns(), b.NumRows())
			})
		})
		if err != nil {
			return fmt.Errorf("store %s: %w", desc.Domain, err)
		}
		return nil
	})
}

// member is one submission of a pack file: its first row in the file, its
// rows and the start of its SHA-256.
type member struct {
	row, rows int
	sha       string
}

// parseMembers reads a pack file's member list, by submission number.
func parseMembers(text string) (map[int]member, error) {
	out := map[int]member{}
	row := 0
	for item := range strings.SplitSeq(text, ",") {
		fields := strings.Split(item, ":")
		if len(fields) != 3 {
			return nil, fmt.Errorf("pack members %q: %q is not SEQ:ROWS:SHA12", text, item)
		}
		seq, err1 := strconv.Atoi(fields[0])
		rows, err2 := strconv.Atoi(fields[1])
		if err1 != nil || err2 != nil || seq <= 0 || rows < 0 || !isHex12(fields[2]) {
			return nil, fmt.Errorf("pack members %q: %q is not SEQ:ROWS:SHA12", text, item)
		}
		if _, dup := out[seq]; dup {
			return nil, fmt.Errorf("pack members %q: %d twice", text, seq)
		}
		out[seq] = member{row: row, rows: rows, sha: fields[2]}
		row += rows
	}
	return out, nil
}

// packContents is what a pack holds of the domains read: each member's
// records and the start of its SHA-256, by submission number.
type packContents struct {
	sets map[int]records.Set
	shas map[int]string
}

// readPack reads the records of the given domains (nil: all) of every
// member of a pack.
func (s *Store) readPack(ctx context.Context, name string, domains map[records.Domain]bool) (packContents, error) {
	s.packsRead.Add(1)
	got := packContents{sets: map[int]records.Set{}, shas: map[int]string{}}
	dir := filepath.Join(s.dir, packsDir, name)
	if _, err := os.Stat(dir); err != nil {
		return got, fmt.Errorf("pack %s is missing: %w", name, err)
	}
	for _, desc := range s.domains {
		if domains != nil && !domains[desc.Domain] {
			continue
		}
		path := filepath.Join(dir, string(desc.Domain)+".parquet")
		var members map[int]member
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
				for seq, m := range members {
					if sha, ok := got.shas[seq]; ok && sha != m.sha {
						return fmt.Errorf("submission %d is listed with bytes %s and %s", seq, sha, m.sha)
					}
					got.shas[seq] = m.sha
				}
			}
			from, to := row, row+int(b.NumRows())
			row = to
			for seq, m := range members {
				lo, hi := max(from, m.row), min(to, m.row+m.rows)
				if lo >= hi {
					continue
				}
				part := b.NewSlice(int64(lo-from), int64(hi-from))
				set := got.sets[seq]
				err := desc.Append(&set, part)
				part.Release()
				if err != nil {
					return err
				}
				got.sets[seq] = set
			}
			return nil
		})
		if errors.Is(err, fs.ErrNotExist) {
			continue // no member has records of the domain (the ledger's counts are checked)
		}
		if err != nil {
			return got, fmt.Errorf("pack %s: %w", name, err)
		}
		total := 0
		for _, m := range members {
			total += m.rows
		}
		if row != total {
			return got, fmt.Errorf("pack %s: %s holds %d rows, its members %d", name, desc.Domain, row, total)
		}
	}
	return got, nil
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
	got   packContents // its sets under the reader's mu once read
	taken map[int]bool // members handed over, under the reader's mu
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
	set, sha, err := r.take(ctx, e)
	if err != nil {
		return records.Set{}, fmt.Errorf("submission %d (%s): %w", e.Seq, e.File, err)
	}
	if sha != "" && sha != e.SHA256[:12] {
		return records.Set{}, fmt.Errorf("submission %d (%s): pack %s lists it with other bytes (%s, the ledger %s)", e.Seq, e.File, e.Pack, sha, e.SHA256[:12])
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
// read again, for a member handed over already), and the start of its
// SHA-256 as the pack lists it ("" if it lists no records of it).
func (r *submissionReader) take(ctx context.Context, e Entry) (records.Set, string, error) {
	for {
		p := r.pack(e.Pack)
		p.once.Do(func() { p.got, p.err = r.s.readPack(ctx, e.Pack, r.domains) })
		if p.err != nil {
			return records.Set{}, "", p.err
		}
		r.mu.Lock()
		if !p.taken[e.Seq] {
			set := p.got.sets[e.Seq]
			delete(p.got.sets, e.Seq)
			if p.taken == nil {
				p.taken = map[int]bool{}
			}
			p.taken[e.Seq] = true
			r.mu.Unlock()
			return set, p.got.shas[e.Seq], nil
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
