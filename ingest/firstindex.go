package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
)

// firstIndex maps a key's hash (two independent 64-bit hashes) to its
// first occurrence. A million-row file is the case it is for, and its
// memory must not grow with the file more than it must:
//
//   - in memory, one 8-byte slot a key in an open-addressing table (linear
//     probing, filled to four fifths, doubled while small and then grown
//     by a quarter): 32 bits of the first hash, which also place the
//     slot, and the entry's number;
//   - the entries (the second hash and the occurrence: 24 bytes) are kept
//     in memory for the first memEntries keys, and past them appended to
//     a temporary file, read back (24 bytes) when a slot's 32 bits match,
//     which is when a key repeats or, by chance, about once in 16 million
//     probes (a part's slots share the tag's top 8 bits).
//
// A key is compared on 96 bits: a false repeat, for a million keys, has
// odds of about 1 in 10^17. At a million keys it holds about 11 MB where
// keeping the entries in memory took 48 more: a 1M-row extract's peak was
// twice a 200k-row one's. A table doubled at three quarters full was
// half empty just past a doubling, as at a million keys (17 MB): growing
// by a quarter keeps it 64-80% full, for a few more probes.
type firstIndex struct {
	// parts split the table by the tag's top bits, each grown on its
	// own: growing one copies 1/256 of the table, where growing a
	// single table held the old and the new (24 MB at a million keys).
	parts [indexParts]indexPart

	recent []firstEntry // the entries from base on
	base   int
	file   *os.File // the entries before base, entrySize bytes each
	// memEntries is how many entries stay in memory before they go to
	// the file (defaultMemEntries; tests make it small).
	memEntries int
	// tempDir is where the file is made ("" is the system's).
	tempDir string
	buf     []byte
}

type firstEntry struct {
	h1 uint64
	firstObservation
}

const (
	entrySize         = 24
	defaultMemEntries = 64 << 10
)

// indexParts is how many parts the table is split into.
const indexParts = 256

// indexPart is one part of the table: open addressing with linear
// probing, grown when four fifths full (grow). Its size is not a
// power of two: a tag's low 24 bits scale to a slot (slot).
type indexPart struct {
	slots []uint64 // tag<<32 | entry+1; 0 is empty
	n     int
	moved int // keys moved by growing, for the test that bounds it
}

// tag is the part of the first hash a slot keeps: never 0 in a used slot
// (the entry number is stored plus one). Its top 8 bits choose the part,
// its low 24 bits the slot.
func tag(h0 uint64) uint32 { return uint32(h0 >> 32) }

func (x *firstIndex) part(t uint32) *indexPart { return &x.parts[t>>24] }

func (p *indexPart) slot(t uint32) int { return int(uint64(t&0xffffff) * uint64(len(p.slots)) >> 24) }

// next is the slot after i, wrapping around.
func (p *indexPart) next(i int) int {
	if i++; i == len(p.slots) {
		return 0
	}
	return i
}

// get returns the first occurrence of a key's hash, if any.
func (x *firstIndex) get(h [2]uint64) (firstObservation, bool, error) {
	t := tag(h[0])
	p := x.part(t)
	if len(p.slots) == 0 {
		return firstObservation{}, false, nil
	}
	// The table is never full (it grows at four fifths), so an empty
	// slot ends the probe; the bound turns a broken invariant into an
	// error rather than a hang.
	for n, i := 0, p.slot(t); n < len(p.slots); n, i = n+1, p.next(i) {
		s := p.slots[i]
		if s == 0 {
			return firstObservation{}, false, nil
		}
		if uint32(s>>32) != t {
			continue
		}
		e, err := x.entry(int(uint32(s)) - 1)
		if err != nil {
			return firstObservation{}, false, err
		}
		if e.h1 == h[1] {
			return e.firstObservation, true, nil
		}
	}
	return firstObservation{}, false, errors.New("the index of repeated records is full")
}

// touch reads the slot where each pending key's probe starts and
// returns their sum: the loads are independent, so the processor makes
// them together, and the probes that follow find the slots in its cache.
func (x *firstIndex) touch(pending []pendingCheck) uint64 {
	var sum uint64
	for i := range pending {
		t := tag(pending[i].h[0])
		if p := x.part(t); len(p.slots) > 0 {
			sum += p.slots[p.slot(t)]
		}
	}
	return sum
}

// put records the first occurrence of a key's hash, which get did not
// find.
func (x *firstIndex) put(h [2]uint64, f firstObservation) error {
	idx := x.base + len(x.recent)
	if idx+1 > math.MaxUint32 {
		return errors.New("more than 4 billion distinct records in one file")
	}
	if x.memEntries == 0 {
		x.memEntries = defaultMemEntries
	}
	if len(x.recent) == x.memEntries {
		if err := x.spill(); err != nil {
			return err
		}
	}
	if x.recent == nil {
		// Most files are 50 rows: start small.
		x.recent = make([]firstEntry, 0, min(256, x.memEntries))
	}
	x.recent = append(x.recent, firstEntry{h1: h[1], firstObservation: f})
	t := tag(h[0])
	p := x.part(t)
	if 5*(p.n+1) > 4*len(p.slots) {
		p.grow()
	}
	p.insert(uint64(t)<<32 | uint64(idx+1))
	p.n++
	return nil
}

func (p *indexPart) insert(s uint64) {
	i := p.slot(uint32(s >> 32))
	for p.slots[i] != 0 {
		i = p.next(i)
	}
	p.slots[i] = s
}

// doubleBelow is the part size under which a part doubles rather than
// grows by a quarter: every growth moves each key to a new slot, and by
// quarters from 8 slots the keys of a 200k-row file were moved five times
// over (a seventh of reading its rows). Doubling to 1,024 slots a part
// holds at most 2 MB; the quarters keep the large tables full.
const doubleBelow = 1024

func (p *indexPart) grow() {
	old := p.slots
	size := max(len(old)+len(old)/4, 8)
	if len(old) < doubleBelow {
		size = max(2*len(old), 8)
	}
	p.slots = make([]uint64, size)
	p.moved += p.n
	for _, s := range old {
		if s != 0 {
			p.insert(s)
		}
	}
}

// entry returns entry number i, from memory or the file.
func (x *firstIndex) entry(i int) (firstEntry, error) {
	if i >= x.base {
		return x.recent[i-x.base], nil
	}
	var b [entrySize]byte
	if _, err := x.file.ReadAt(b[:], int64(i)*entrySize); err != nil {
		return firstEntry{}, fmt.Errorf("read the index of repeated records: %w", err)
	}
	return decodeEntry(b[:]), nil
}

// spill appends the entries in memory to the file.
func (x *firstIndex) spill() error {
	if x.file == nil {
		f, err := os.CreateTemp(x.tempDir, "pledgestat-first-*")
		if err != nil {
			return fmt.Errorf("index of repeated records: %w", err)
		}
		// Unlinked at once where the system allows it: a run that dies
		// leaves nothing behind.
		if runtime.GOOS != "windows" {
			os.Remove(f.Name())
		}
		x.file = f
	}
	if need := len(x.recent) * entrySize; cap(x.buf) < need {
		x.buf = make([]byte, need)
	}
	x.buf = x.buf[:len(x.recent)*entrySize]
	for i, e := range x.recent {
		putEntry(x.buf[i*entrySize:], e)
	}
	if _, err := x.file.WriteAt(x.buf, int64(x.base)*entrySize); err != nil {
		return fmt.Errorf("write the index of repeated records: %w", err)
	}
	x.base += len(x.recent)
	x.recent = x.recent[:0]
	return nil
}

// close removes the file, if any.
func (x *firstIndex) close() {
	if x.file != nil {
		name := x.file.Name()
		x.file.Close()
		os.Remove(name) // already gone but on Windows
		x.file = nil
	}
	x.parts, x.recent = [indexParts]indexPart{}, nil
}

// putEntry encodes e in b's first entrySize bytes, as decodeEntry reads it.
func putEntry(b []byte, e firstEntry) {
	_ = b[entrySize-1]
	binary.LittleEndian.PutUint64(b, e.h1)
	binary.LittleEndian.PutUint32(b[8:], uint32(e.row))
	binary.LittleEndian.PutUint16(b[12:], e.sheet)
	binary.LittleEndian.PutUint16(b[14:], e.col)
	binary.LittleEndian.PutUint64(b[16:], math.Float64bits(e.value))
}

func decodeEntry(b []byte) firstEntry {
	return firstEntry{h1: binary.LittleEndian.Uint64(b), firstObservation: firstObservation{
		row:   int32(binary.LittleEndian.Uint32(b[8:])),
		sheet: binary.LittleEndian.Uint16(b[12:]),
		col:   binary.LittleEndian.Uint16(b[14:]),
		value: math.Float64frombits(binary.LittleEndian.Uint64(b[16:])),
	}}
}
