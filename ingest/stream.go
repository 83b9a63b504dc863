package ingest

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"strconv"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/records"
)

// CoverageSink receives a file's social-protection observations while the
// file is read, in order, a batch at a time, so that a million-row ILOSTAT
// extract never exists whole in memory: the store writes them to the
// submission's Parquet as they come. Repeats are dropped before they are
// sent. If the file turns out to have errors, the caller discards what the
// sink received. The sink keeps the batch: the stream starts a new one,
// so that the reading goroutine does not copy each record once more.
type CoverageSink interface {
	Coverage(batch []records.CoverageObservation) error
}

// CoverageRecycler is a CoverageSink that gives back the batches it is
// done with, for the stream to fill again rather than fresh memory (each
// batch 1.6 MB to clear and fault in, 40 MB for 200,000 rows).
type CoverageRecycler interface {
	CoverageSink
	// Spare returns a batch the sink is done with, emptied, or nil.
	Spare() []records.CoverageObservation
}

// coverageBatch is how many observations are handed to a sink at once.
const coverageBatch = 8 << 10

// coverageStream is a file's social-protection observations on their way
// out: repeats (across tables and sheets) found as they come, then
// batches to the sink, or, without one, kept in chunks joined once at the
// end (a slice of 200-byte records doubling its way to a million copies
// and clears gigabytes).
type coverageStream struct {
	sink CoverageSink
	// first is the first occurrence of each record key, by a 128-bit hash
	// of the key (two independent 64-bit hashes): a false repeat needs two
	// colliding hashes (odds about 1 in 10^25 for a million keys).
	seeds  [2]maphash.Seed
	first  firstIndex
	sheets []string
	batch  []records.CoverageObservation
	// full says a full batch went to the sink: the next ones are made
	// whole at once (a file of 50 rows grows its only batch instead).
	full   bool
	chunks [][]records.CoverageObservation
	count  int
	err    error // the sink's first error: the read stops on it
	// pending are the observations read but not yet checked for repeats
	// (add); touched sums the slots settle touched, so that the loads
	// are not optimised away.
	pending []pendingCheck
	touched uint64
	keyBuf  []byte // a key's bytes, for its hashes
}

// firstObservation is where a key was first seen, and its value.
type firstObservation struct {
	row   int32
	sheet uint16
	col   uint16
	value float64
}

func newCoverageStream(sink CoverageSink) *coverageStream {
	return &coverageStream{sink: sink, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
}

// appendKey appends an observation's key (area, year, series, sex,
// population) as bytes that no other key gives: each text is followed by
// its length, so that the key reads back from its end.
func appendKey(b []byte, o records.CoverageObservation) []byte {
	for _, f := range [...]string{o.Area, o.Series, o.Sex, o.Population} {
		b = append(b, f...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(f)))
	}
	return binary.LittleEndian.AppendUint64(b, uint64(o.Year))
}

// add passes on an observation read from a row of t, unless it repeats
// one already passed on: the same value is a warning and the repeat is
// dropped; another value is an error on both rows. The check waits until
// a few observations are pending (settle): looked up one at a time, each
// key's slot was a miss of the processor's caches in turn, a sixth of
// reading a 200,000-row file's rows.
func (cs *coverageStream) add(t *table, o records.CoverageObservation, row int) {
	// The key's bytes hashed twice in one piece each: hashing a struct of
	// its fields hashed each field on its own, ten calls a row.
	cs.keyBuf = appendKey(cs.keyBuf[:0], o)
	h := [2]uint64{maphash.Bytes(cs.seeds[0], cs.keyBuf), maphash.Bytes(cs.seeds[1], cs.keyBuf)}
	if cs.pending == nil {
		cs.pending = make([]pendingCheck, 0, pendingChecks)
	}
	cs.pending = append(cs.pending, pendingCheck{t: t, row: row, h: h, o: o})
	if len(cs.pending) == pendingChecks {
		cs.settle()
	}
}

// pendingChecks is how many observations wait for their repeat check.
const pendingChecks = 64

// pendingCheck is an observation waiting for its repeat check.
type pendingCheck struct {
	t   *table
	row int
	h   [2]uint64
	o   records.CoverageObservation
}

// settle checks the pending observations, in the order they were read.
// Their slots are touched first, all together, so that the processor
// fetches them at once rather than one after the other; the checks that
// follow find them in its cache. A repeat within the pending ones is
// found as before, as each is put before the next is looked up.
func (cs *coverageStream) settle() {
	cs.touched += cs.first.touch(cs.pending)
	for i := range cs.pending {
		if cs.err != nil {
			break // the reading stops at it; what follows is not passed on
		}
		p := &cs.pending[i]
		cs.check(p.t, p.o, p.row, p.h)
	}
	cs.pending = cs.pending[:0]
}

// check passes on one observation unless it repeats one passed on.
func (cs *coverageStream) check(t *table, o records.CoverageObservation, row int, h [2]uint64) {
	f, seen, err := cs.first.get(h)
	if err != nil {
		cs.err = err
		return
	}
	if seen {
		cs.repeat(t, o, f, row)
		return
	}
	if n := len(cs.sheets); n == 0 || cs.sheets[n-1] != t.sheet {
		cs.sheets = append(cs.sheets, t.sheet)
	}
	// Row numbers fit 31 bits and columns 16 (Excel's limits are 2^20 and
	// 16,384; a CSV's value column is near the left); a sheet count past
	// 65,535 cannot be a workbook.
	if err := cs.first.put(h, firstObservation{sheet: uint16(len(cs.sheets) - 1), row: int32(row), col: uint16(max(t.h.firstCol, 1)), value: o.Value}); err != nil {
		cs.err = err
		return
	}
	t.records++
	cs.count++
	if cs.sink == nil {
		cs.keep(o)
		return
	}
	if cs.batch == nil && cs.full {
		if r, ok := cs.sink.(CoverageRecycler); ok {
			cs.batch = r.Spare()
		}
		if cap(cs.batch) < coverageBatch {
			cs.batch = make([]records.CoverageObservation, 0, coverageBatch)
		}
	}
	cs.batch = append(cs.batch, o)
	if len(cs.batch) == coverageBatch {
		cs.flush()
	}
}

// repeat reports an observation whose key was passed on before.
func (cs *coverageStream) repeat(t *table, o records.CoverageObservation, f firstObservation, row int) {
	what := fmt.Sprintf("%s %d %s sex %s %s", o.Area, o.Year, o.Series, o.Sex, o.Population)
	firstSheet := cs.sheets[f.sheet]
	if firstSheet == t.sheet {
		if f.value == o.Value {
			t.rep.Warnf(report.DuplicateRow, t.sheet, t.h.firstCol, row, "row %d repeats the observation of row %d (%s); the repeat was ignored", row, f.row, what)
			return
		}
		t.duplicate(int(f.row), row, what, differences(
			[3]string{"value", strconv.FormatFloat(f.value, 'f', -1, 64), strconv.FormatFloat(o.Value, 'f', -1, 64)}))
		return
	}
	if f.value == o.Value {
		t.rep.Warnf(report.DuplicateRow, t.sheet, max(t.h.firstCol, 1), row, "row %d repeats row %d of sheet %q (%s); the repeat was ignored", row, f.row, firstSheet, what)
		return
	}
	// Named as the sender reads it, with both values: which one is
	// right is theirs to say.
	msg := "sheet %q row %d and sheet %q row %d both give %s, with the values %s and %s; keep only the right one"
	old, cur := strconv.FormatFloat(f.value, 'f', -1, 64), strconv.FormatFloat(o.Value, 'f', -1, 64)
	t.rep.Errorf(report.DuplicateRecord, firstSheet, int(f.col), int(f.row), msg, firstSheet, f.row, t.sheet, row, what, old, cur)
	t.rep.Errorf(report.DuplicateRecord, t.sheet, max(t.h.firstCol, 1), row, msg, firstSheet, f.row, t.sheet, row, what, old, cur)
}

// keep holds an observation in chunks that start small and double, so
// that a 50-row file does not allocate a large block.
func (cs *coverageStream) keep(o records.CoverageObservation) {
	if n := len(cs.chunks); n == 0 || len(cs.chunks[n-1]) == cap(cs.chunks[n-1]) {
		size := 64
		if n > 0 {
			size = min(16<<10, 2*cap(cs.chunks[n-1]))
		}
		cs.chunks = append(cs.chunks, make([]records.CoverageObservation, 0, size))
	}
	last := &cs.chunks[len(cs.chunks)-1]
	*last = append(*last, o)
}

// flush hands the batch to the sink.
func (cs *coverageStream) flush() {
	if len(cs.batch) == 0 || cs.err != nil {
		cs.batch = cs.batch[:0]
		return
	}
	cs.full = cs.full || len(cs.batch) == coverageBatch
	cs.err = cs.sink.Coverage(cs.batch)
	cs.batch = nil // the sink's now
}

// end flushes what is left and, without a sink, returns the observations
// kept, in order.
func (cs *coverageStream) end() ([]records.CoverageObservation, error) {
	// Every table settles its observations as it finishes; a read that
	// stopped before (a sheet that failed) has a rejected file, but none
	// of what it read is left unchecked.
	cs.settle()
	cs.first.close()
	if cs.sink != nil {
		cs.flush()
		return nil, cs.err
	}
	if cs.err != nil {
		return nil, cs.err
	}
	out := make([]records.CoverageObservation, 0, cs.count)
	for i, c := range cs.chunks {
		out = append(out, c...)
		cs.chunks[i] = nil
	}
	cs.chunks = nil
	return out, nil
}
