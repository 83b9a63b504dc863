package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
//
// The reading goroutine only hands batches over: copying them into chunks,
// hashing the keys and encoding happen on the spill's own goroutine, since
// the reader is what an ingest of a large CSV waits for.
type Spill struct {
	fs    fsx.FS
	dir   string // the spill's folder, made with the first batch
	names records.NameFunc
	mem   memory.Allocator

	f      fsx.File
	w      *parquetio.Writer
	n      int                             // records taken
	queued [][]records.CoverageObservation // batches taken, not yet sent
	rows   int                             // in queued
	// hashes are the records' key hashes, which the writing goroutine
	// appends: read only once it has ended (drain).
	hashes []uint64
	key    []byte // a record's key, hashed; the writing goroutine's
	closed bool
	err    error

	// Full chunks are hashed, encoded and compressed by a goroutine of
	// their own while the file is read on (queue holds one more chunk);
	// written reports its first error and that it ended.
	queue   chan [][]records.CoverageObservation
	written chan error
	drained bool                  // the goroutine has ended and its error is in err
	failed  atomic.Pointer[error] // the goroutine's error, seen by Coverage
	// spare are batches written, for the reader to fill again (Spare);
	// made with the writing goroutine (a small file's spill has none).
	spare chan []records.CoverageObservation
	// made says the spill's folder was made (or its making tried): a
	// spill that kept its records in memory, as every small file's does,
	// has nothing on disk to remove.
	made bool
}

// spillPrefix starts the folder name of a spill under submissions/.
const spillPrefix = ".spill-"

// NewSpill returns an empty spill; nothing is written until records come.
func (s *Store) NewSpill(names records.NameFunc) *Spill {
	var b [8]byte
	rand.Read(b[:])
	return &Spill{fs: s.fs, dir: filepath.Join(s.dir, "submissions", spillPrefix+hex.EncodeToString(b[:])), names: names, mem: s.mem}
}

// spareBatches is how many written batches a spill keeps for the reader
// to fill again: those of a chunk and the next.
const spareBatches = 4

// Spare returns a batch written, emptied, for the reader to fill again
// (ingest.CoverageRecycler), or nil when none is (nothing was written, or
// the reader took them all: a nil channel is never ready).
func (sp *Spill) Spare() []records.CoverageObservation {
	select {
	case b := <-sp.spare:
		return b
	default:
		return nil
	}
}

// Coverage takes a batch of observations, which it keeps: the caller
// starts a new one.
func (sp *Spill) Coverage(batch []records.CoverageObservation) error {
	if e := sp.failed.Load(); e != nil && sp.err == nil {
		sp.err = *e // writing failed (a full disk): stop reading the file
	}
	if sp.err != nil {
		return sp.err
	}
	if sp.closed || sp.drained {
		return errors.New("spill: records after the end")
	}
	sp.queued = append(sp.queued, batch)
	sp.rows += len(batch)
	sp.n += len(batch)
	if sp.rows >= spillChunkRows {
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

// send hands the queued batches to the writing goroutine, starting it
// the first time.
func (sp *Spill) send() {
	if sp.queue == nil {
		sp.made = true
		if err := sp.fs.MkdirAll(sp.dir, 0o755); err != nil {
			sp.err = fmt.Errorf("spill: %w", err)
			return
		}
		sp.queue, sp.written = make(chan [][]records.CoverageObservation, 1), make(chan error, 1)
		sp.spare = make(chan []records.CoverageObservation, spareBatches)
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
	sp.queue <- sp.queued
	sp.queued, sp.rows = nil, 0
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

// drain sends what is queued and waits for the writing goroutine to end,
// so that every record is hashed and written; its error stays in err.
// Once drained, the spill takes no more records.
func (sp *Spill) drain() error {
	if sp.drained || sp.err != nil {
		return sp.err
	}
	if len(sp.queued) > 0 {
		if sp.send(); sp.err != nil {
			return sp.err
		}
	}
	if err := sp.wait(); err != nil && sp.err == nil {
		sp.err = err
	}
	sp.drained = true
	return sp.err
}

// write hashes the records' keys and writes them as one row group; only
// the writing goroutine calls it.
func (sp *Spill) write(batches [][]records.CoverageObservation) error {
	rows := 0
	for _, batch := range batches {
		rows += len(batch)
		for _, o := range batch {
			sp.key = o.AppendKey(sp.key[:0])
			sp.hashes = append(sp.hashes, keyHash(sp.key))
		}
	}
	if rows == 0 {
		return nil
	}
	if sp.w == nil {
		f, err := sp.fs.OpenFile(sp.path(), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		sp.f = f
		w, err := parquetio.NewInternalWriter(f, records.SocialProtectionSchema)
		if err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		sp.w = w
	}
	b := records.NewCoverageBatchCoded(sp.mem, batches, sp.names)
	err := sp.w.Write(b)
	b.Release()
	if err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	// The records are in the file: their batches can be filled again.
	for _, batch := range batches {
		select {
		case sp.spare <- batch[:0]:
		default:
		}
	}
	return nil
}

func (sp *Spill) path() string {
	return filepath.Join(sp.dir, string(records.DomainSocialProtection)+".parquet")
}

// taken is how many records the spill took.
func (sp *Spill) taken() int { return sp.n }

// keyHashes returns the key hash of every record the spill took, once
// every record is written (they are the writing goroutine's until then).
func (sp *Spill) keyHashes() ([]uint64, error) {
	if err := sp.drain(); err != nil {
		return nil, err
	}
	return sp.hashes, nil
}

// InMemory reports whether the spill has written nothing (its records, if
// any, are still in memory), so that Prepare can take them as any others.
func (sp *Spill) InMemory() bool {
	return sp == nil || (sp.queue == nil && sp.err == nil && !sp.closed && !sp.drained)
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
	if sp == nil || sp.queue != nil || sp.err != nil || sp.closed || sp.drained {
		return nil, false
	}
	sp.closed = true
	out := slices.Concat(sp.queued...)
	sp.queued, sp.hashes = nil, nil
	return out, true
}

// finish writes what is queued and the footer, and makes the file
// durable; it returns the file's path ("" when the spill is empty).
func (sp *Spill) finish() (string, error) {
	if sp.err != nil {
		return "", sp.err
	}
	if sp.closed {
		return "", errors.New("spill: finished twice")
	}
	if sp.taken() == 0 {
		sp.closed = true
		return "", nil
	}
	if err := sp.drain(); err != nil {
		return "", err
	}
	sp.closed = true
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
	sp.queued, sp.hashes = nil, nil
	if sp.made {
		sp.fs.RemoveAll(sp.dir)
	}
}
