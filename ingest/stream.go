package ingest

import (
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
// sink received. The batch is reused after Coverage returns.
type CoverageSink interface {
	Coverage(batch []records.CoverageObservation) error
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
	chunks [][]records.CoverageObservation
	count  int
	err    error // the sink's first error: the read stops on it
}

// firstObservation is where a key was first seen, and its value.
type firstObservation struct {
	row   int32
	sheet uint16
	col   uint16
	value float64
}

// firstIndex maps a key's 128-bit hash to its first occurrence in about
// 44 bytes a key, where a Go map of the hash to the occurrence took 85
// (40-byte slots, with growth slack): a million-row file is the case it
// is for. The map holds the first half of the hash and an entry number;
// the entries, in chunks that never move, hold the second half and the
// occurrence. Two keys whose first halves collide (odds about 1 in 30
// million for a million keys) go to a map of whole hashes.
type firstIndex struct {
	byHash    hashTable
	entries   [][]firstEntry
	collision map[[2]uint64]firstObservation
}

// hashTable maps a 64-bit hash to an entry number: open addressing with
// linear probing over two flat arrays, grown at three quarters full. At
// a million keys it holds 12 bytes a slot, about 24 MB, where a Go map of
// the same pairs took 54 (16-byte slots, control bytes, growth slack).
// The hash 0 marks an empty slot; a key whose hash is 0 is stored as 1,
// which only makes its value shared with the hash 1 (the caller checks
// the second half of the hash on every hit).
type hashTable struct {
	keys []uint64
	vals []uint32
	n    int
}

func (h *hashTable) slot(key uint64) int {
	// The keys are hashes already: their low bits are the slot.
	return int(key & uint64(len(h.keys)-1))
}

// get returns the value of key, if the table holds it.
func (h *hashTable) get(key uint64) (uint32, bool) {
	if len(h.keys) == 0 {
		return 0, false
	}
	key = max(key, 1)
	for i := h.slot(key); ; i = (i + 1) & (len(h.keys) - 1) {
		switch h.keys[i] {
		case key:
			return h.vals[i], true
		case 0:
			return 0, false
		}
	}
}

// put sets the value of a key the table does not hold.
func (h *hashTable) put(key uint64, val uint32) {
	if 4*(h.n+1) > 3*len(h.keys) {
		h.grow()
	}
	key = max(key, 1)
	i := h.slot(key)
	for h.keys[i] != 0 {
		i = (i + 1) & (len(h.keys) - 1)
	}
	h.keys[i], h.vals[i] = key, val
	h.n++
}

func (h *hashTable) grow() {
	old, oldVals := h.keys, h.vals
	size := max(2*len(old), 256)
	h.keys, h.vals, h.n = make([]uint64, size), make([]uint32, size), 0
	for i, k := range old {
		if k != 0 {
			h.put(k, oldVals[i])
		}
	}
}

type firstEntry struct {
	h1 uint64
	firstObservation
}

// firstChunk is the size of a chunk of entries.
const firstChunk = 16 << 10

// get returns the first occurrence of a key's hash, if any.
func (x *firstIndex) get(h [2]uint64) (firstObservation, bool) {
	i, ok := x.byHash.get(h[0])
	if !ok {
		return firstObservation{}, false
	}
	if e := &x.entries[i/firstChunk][i%firstChunk]; e.h1 == h[1] {
		return e.firstObservation, true
	}
	f, ok := x.collision[h]
	return f, ok
}

// put records the first occurrence of a key's hash, which get did not
// find.
func (x *firstIndex) put(h [2]uint64, f firstObservation) {
	if _, ok := x.byHash.get(h[0]); ok {
		if x.collision == nil {
			x.collision = map[[2]uint64]firstObservation{}
		}
		x.collision[h] = f
		return
	}
	n := len(x.entries)
	if n == 0 || len(x.entries[n-1]) == cap(x.entries[n-1]) {
		// The first chunk starts small: most files are 50 rows.
		size := firstChunk
		if n == 0 {
			size = 256
		} else if c := cap(x.entries[n-1]); c < firstChunk {
			// Grow the small first chunk in place up to a full one.
			grown := make([]firstEntry, len(x.entries[n-1]), min(4*c, firstChunk))
			copy(grown, x.entries[n-1])
			x.entries[n-1] = grown
			size = 0
		}
		if size > 0 {
			x.entries = append(x.entries, make([]firstEntry, 0, size))
		}
	}
	n = len(x.entries)
	i := (n-1)*firstChunk + len(x.entries[n-1])
	x.entries[n-1] = append(x.entries[n-1], firstEntry{h1: h[1], firstObservation: f})
	x.byHash.put(h[0], uint32(i))
}

func newCoverageStream(sink CoverageSink) *coverageStream {
	return &coverageStream{sink: sink, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
}

type observationKey struct {
	area               string
	year               int
	series, sex, popul string
}

// add passes on an observation read from a row of t, unless it repeats
// one already passed on: the same value is a warning and the repeat is
// dropped; another value is an error on both rows.
func (cs *coverageStream) add(t *table, o records.CoverageObservation) {
	k := observationKey{o.Area, o.Year, o.Series, o.Sex, o.Population}
	h := [2]uint64{maphash.Comparable(cs.seeds[0], k), maphash.Comparable(cs.seeds[1], k)}
	row := rowNum(o.Source.Cell)
	if f, seen := cs.first.get(h); seen {
		cs.repeat(t, o, f, row)
		return
	}
	if n := len(cs.sheets); n == 0 || cs.sheets[n-1] != t.sheet {
		cs.sheets = append(cs.sheets, t.sheet)
	}
	// Row numbers fit 31 bits and columns 16 (Excel's limits are 2^20 and
	// 16,384; a CSV's value column is near the left); a sheet count past
	// 65,535 cannot be a workbook.
	cs.first.put(h, firstObservation{sheet: uint16(len(cs.sheets) - 1), row: int32(row), col: uint16(colNum(o.Source.Cell)), value: o.Value})
	t.records++
	cs.count++
	if cs.sink == nil {
		cs.keep(o)
		return
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
		t.rep.Warnf(report.DuplicateRow, t.sheet, colNum(o.Source.Cell), row, "row %d repeats row %d of sheet %q (%s); the repeat was ignored", row, f.row, firstSheet, what)
		return
	}
	// Named as the sender reads it, with both values: which one is
	// right is theirs to say.
	msg := "sheet %q row %d and sheet %q row %d both give %s, with the values %s and %s; keep only the right one"
	old, cur := strconv.FormatFloat(f.value, 'f', -1, 64), strconv.FormatFloat(o.Value, 'f', -1, 64)
	t.rep.Errorf(report.DuplicateRecord, firstSheet, int(f.col), int(f.row), msg, firstSheet, f.row, t.sheet, row, what, old, cur)
	t.rep.Errorf(report.DuplicateRecord, t.sheet, colNum(o.Source.Cell), row, msg, firstSheet, f.row, t.sheet, row, what, old, cur)
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
	cs.err = cs.sink.Coverage(cs.batch)
	cs.batch = cs.batch[:0]
}

// end flushes what is left and, without a sink, returns the observations
// kept, in order.
func (cs *coverageStream) end() ([]records.CoverageObservation, error) {
	if cs.sink != nil {
		cs.flush()
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
