package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/internal/parquetio"
	"github.com/ilo-pledge/pledgestat/records"
)

// Spill is a submission's social-protection records written to the store
// while its file is read (it is an ingest.CoverageSink), so that a file
// of a million observations is never held in memory: they go to a
// Parquet file in a folder of their own under submissions/, which
// Accept moves into the submission, and Discard removes. Only the hash
// of each record key stays in memory, to count what the submission
// supersedes. A folder left by a crash is an orphan the next Open
// removes. Writing a spill touches no state of the Store, so files read
// ahead of their filing may spill concurrently.
type Spill struct {
	fs    fsx.FS
	dir   string // the spill's folder, made with the first batch
	names records.NameFunc
	mem   memory.Allocator

	f       fsx.File
	w       *parquetio.Writer
	pending []records.CoverageObservation
	hashes  []uint64
	key     []byte // a record's key, hashed; reused
	closed  bool
	err     error

	// Full chunks are encoded and compressed by a goroutine of their own
	// while the file is read on (queue holds one more chunk); written
	// reports its first error and that it ended.
	queue   chan []records.CoverageObservation
	written chan error
	failed  atomic.Pointer[error] // the goroutine's error, seen by Coverage
}

// spillPrefix starts the folder name of a spill under submissions/.
const spillPrefix = ".spill-"

// NewSpill returns an empty spill; nothing is written until records come.
func (s *Store) NewSpill(names records.NameFunc) *Spill {
	var b [8]byte
	rand.Read(b[:])
	return &Spill{fs: s.fs, dir: filepath.Join(s.dir, "submissions", spillPrefix+hex.EncodeToString(b[:])), names: names, mem: s.mem}
}

// Coverage takes a batch of observations (copied: the caller reuses it).
func (sp *Spill) Coverage(batch []records.CoverageObservation) error {
	if e := sp.failed.Load(); e != nil && sp.err == nil {
		sp.err = *e // writing failed (a full disk): stop reading the file
	}
	if sp.err != nil {
		return sp.err
	}
	if sp.closed {
		return errors.New("spill: records after the end")
	}
	for _, o := range batch {
		sp.key = o.AppendKey(sp.key[:0])
		sp.hashes = append(sp.hashes, keyHash(sp.key))
	}
	sp.pending = append(sp.pending, batch...)
	if len(sp.pending) >= spillChunkRows {
		sp.send()
	}
	return sp.err
}

// spillChunkRows is how many records a spill turns into Arrow and writes
// as one row group. Up to three chunks are held at once (one filling, one
// queued, one being written), each record as a Go value and then in
// Arrow builders: at 64k rows those were 70 MB of a 1M-row ingest's
// peak, at 16k they are a quarter, for no measurable time.
const spillChunkRows = 16 << 10

// send hands the pending records to the writing goroutine, starting it
// the first time.
func (sp *Spill) send() {
	if sp.queue == nil {
		if err := sp.fs.MkdirAll(sp.dir, 0o755); err != nil {
			sp.err = fmt.Errorf("spill: %w", err)
			return
		}
		sp.queue, sp.written = make(chan []records.CoverageObservation, 1), make(chan error, 1)
		go func() {
			var err error
			for chunk := range sp.queue {
				if err == nil {
					if err = sp.write(chunk); err != nil {
						sp.failed.Store(&err)
					}
				}
			}
			sp.written <- err
		}()
	}
	sp.queue <- sp.pending
	sp.pending = make([]records.CoverageObservation, 0, spillChunkRows)
}

// wait stops the writing goroutine and returns its error.
func (sp *Spill) wait() error {
	if sp.queue == nil {
		return nil
	}
	close(sp.queue)
	err := <-sp.written
	sp.queue = nil
	return err
}

// write writes records as one row group; only the writing goroutine
// calls it.
func (sp *Spill) write(chunk []records.CoverageObservation) error {
	if len(chunk) == 0 {
		return nil
	}
	if sp.w == nil {
		f, err := sp.fs.OpenFile(sp.path(), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		sp.f = f
		w, err := parquetio.NewWriter(f, records.SocialProtectionSchema)
		if err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		sp.w = w
	}
	b := records.NewCoverageBatch(sp.mem, chunk, sp.names)
	err := sp.w.Write(b)
	b.Release()
	if err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	return nil
}

func (sp *Spill) path() string {
	return filepath.Join(sp.dir, string(records.DomainSocialProtection)+".parquet")
}

// rows is how many records the spill took: one key hash each.
func (sp *Spill) rows() int { return len(sp.hashes) }

// InMemory reports whether the spill has written nothing (its records, if
// any, are still in memory), so that Prepare can take them as any others.
func (sp *Spill) InMemory() bool {
	return sp == nil || (sp.queue == nil && sp.err == nil && !sp.closed)
}

// Take returns the records of a spill that has written nothing, ending
// it; false once anything went to disk (see InMemory).
func (sp *Spill) Take() ([]records.CoverageObservation, bool) {
	if sp == nil {
		return nil, true
	}
	return sp.take()
}

// take returns the records of a spill that has written nothing yet (fewer
// than a row group), ending it; false once anything went to disk.
func (sp *Spill) take() ([]records.CoverageObservation, bool) {
	if sp == nil || sp.queue != nil || sp.err != nil || sp.closed {
		return nil, false
	}
	sp.closed = true
	out := sp.pending
	sp.pending, sp.hashes = nil, nil
	return out, true
}

// finish writes what is pending and the footer, and makes the file
// durable; it returns the file's path ("" when the spill is empty).
func (sp *Spill) finish() (string, error) {
	if sp.err != nil {
		return "", sp.err
	}
	if sp.closed {
		return "", errors.New("spill: finished twice")
	}
	sp.closed = true
	if sp.rows() == 0 {
		return "", nil
	}
	sp.send()
	sp.pending = nil
	if err := sp.wait(); err != nil {
		return "", err
	}
	if sp.err != nil {
		return "", sp.err
	}
	if err := sp.w.Close(); err != nil {
		return "", fmt.Errorf("spill: %w", err)
	}
	if err := sp.f.Sync(); err != nil {
		return "", fmt.Errorf("spill: sync: %w", err)
	}
	if err := sp.f.Close(); err != nil {
		return "", fmt.Errorf("spill: close: %w", err)
	}
	sp.f = nil
	return sp.path(), nil
}

// Discard removes what the spill wrote (the file was rejected, a
// duplicate, or not filed). It is safe after Accept, which leaves nothing
// to remove.
func (sp *Spill) Discard() {
	if sp == nil {
		return
	}
	sp.closed = true
	sp.wait()
	if sp.f != nil {
		sp.f.Close()
		sp.f = nil
	}
	sp.pending, sp.hashes = nil, nil
	sp.fs.RemoveAll(sp.dir)
}
