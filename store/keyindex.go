package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/records"
)

// The key index lets a submission be accepted without reading the current
// records: what it supersedes is counted from the hashes of the current
// record keys, and an agreement without an id is compared with the
// current agreements without an id (type, parties, year, file). The
// snapshot carries both for its records (keys-DOMAIN.bin, sorted 64-bit
// FNV-1a hashes; agreements-noid.json); the submissions accepted since are
// read and added. Without a usable snapshot the records are read, as
// before. A hash shared by two keys would only miscount a superseded
// figure (never a record), and the ledger check of the next snapshot
// would then set the snapshot aside.

// keyIndex is the current record keys and agreements without an id.
type keyIndex struct {
	descs []records.Descriptor // of the domains it indexes
	keys  map[records.Domain]*keySet
	noid  map[string][]noidAgreement
}

// keySet is a set of key hashes: the snapshot's, sorted as its key index
// file holds them and searched where they lie, and those added since: the
// newest in a small map, merged into a sorted slice once the map holds an
// eighth of it. Building a map of the snapshot's 500,000 keys was a sixth
// of ingesting one small file into a store of 10,000 submissions, and a
// map of the keys a million-row file added took 40 bytes a key, where the
// slice takes 8 (and each key is merged a few times, not sorted anew).
type keySet struct {
	sorted []uint64 // ascending, no repeats: the snapshot's
	merged []uint64 // added, ascending, none in sorted
	recent map[uint64]struct{}
}

func newKeySet() *keySet { return &keySet{recent: map[uint64]struct{}{}} }

// has reports whether the set holds h.
func (k *keySet) has(h uint64) bool {
	if _, ok := slices.BinarySearch(k.sorted, h); ok {
		return true
	}
	if _, ok := slices.BinarySearch(k.merged, h); ok {
		return true
	}
	_, ok := k.recent[h]
	return ok
}

// add puts h in the set.
func (k *keySet) add(h uint64) {
	if k.has(h) {
		return
	}
	k.recent[h] = struct{}{}
	if len(k.recent) > max(4096, len(k.merged)/8) {
		k.merged = mergeAscending(k.merged, slices.Sorted(maps.Keys(k.recent)))
		clear(k.recent)
	}
}

// addAll puts hashes in the set at once: a spilled submission's, a
// million for a large file. It sorts them in place (the caller gives them
// up) and merges them once, where adding them one by one merged the set
// again each time the recent map grew by an eighth: some fifty copies of
// a growing slice and their garbage, at the end of a large ingest, when
// its memory peaks.
func (k *keySet) addAll(hashes []uint64) {
	slices.Sort(hashes)
	hashes = slices.Compact(hashes)
	fresh := hashes[:0] // filtered in place: each is read before its slot is written
	i, j := 0, 0
	for _, h := range hashes {
		for i < len(k.sorted) && k.sorted[i] < h {
			i++
		}
		for j < len(k.merged) && k.merged[j] < h {
			j++
		}
		if i < len(k.sorted) && k.sorted[i] == h || j < len(k.merged) && k.merged[j] == h {
			continue
		}
		if _, ok := k.recent[h]; ok {
			continue
		}
		fresh = append(fresh, h)
	}
	switch {
	case len(k.merged) == 0 && 2*len(fresh) >= cap(fresh):
		// The first added (a large file into a new store): the hashes
		// become the set as they are, not a copy at the peak; unless
		// most were known already, when the copy is the smaller.
		k.merged = fresh
	case len(k.merged) == 0 && len(fresh) > 0:
		k.merged = slices.Clone(fresh)
	case len(fresh) > 0:
		k.merged = mergeAscending(k.merged, fresh)
	}
}

// len is the number of hashes in the set.
func (k *keySet) len() int { return len(k.sorted) + len(k.merged) + len(k.recent) }

// ascending returns the set's hashes in ascending order.
func (k *keySet) ascending() []uint64 {
	return mergeAscending(mergeAscending(k.sorted, k.merged), slices.Sorted(maps.Keys(k.recent)))
}

// mergeAscending merges two ascending slices that share no value.
func mergeAscending(a, b []uint64) []uint64 {
	out := make([]uint64, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] < b[j] {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// noidAgreement is what a notice about an agreement without an id needs.
type noidAgreement struct {
	Year int    `json:"year"`
	File string `json:"file"`
}

// keyHash is the 64-bit FNV-1a hash of a record key, written out so that
// it allocates nothing (hash/fnv's hasher escapes through io.Writer): it
// is taken for every record a submission holds.
func keyHash[K string | []byte](key K) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= fnvPrime
	}
	return h
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// noidKey groups agreements without an id by type and parties.
func noidKey(a records.Agreement) string { return a.Type + "|" + strings.Join(a.Parties, ";") }

func newKeyIndex(descs []records.Descriptor) *keyIndex {
	idx := &keyIndex{descs: descs, keys: map[records.Domain]*keySet{}, noid: map[string][]noidAgreement{}}
	for _, d := range descs {
		idx.keys[d.Domain] = newKeySet()
	}
	return idx
}

// add records a set's keys and agreements without an id.
func (idx *keyIndex) add(set records.Set) {
	for _, desc := range idx.descs {
		keys := idx.keys[desc.Domain]
		for i, n := 0, desc.Count(set); i < n; i++ {
			keys.add(keyHash(desc.Key(set, i)))
		}
	}
	for _, a := range set.Agreements {
		if a.AgreementID == "" {
			idx.addNoID(a)
		}
	}
}

// addNoID records an agreement without an id; one of the same type,
// parties and year is the same record (its key), which it supersedes.
func (idx *keyIndex) addNoID(a records.Agreement) {
	k := noidKey(a)
	for i, b := range idx.noid[k] {
		if b.Year == a.Signed.Year {
			idx.noid[k][i].File = a.Source.File
			return
		}
	}
	idx.noid[k] = append(idx.noid[k], noidAgreement{Year: a.Signed.Year, File: a.Source.File})
}

// supersededBy counts, per domain, the records of set whose key is
// current.
func (idx *keyIndex) supersededBy(set records.Set) map[string]int {
	out := map[string]int{}
	for _, desc := range idx.descs {
		keys := idx.keys[desc.Domain]
		for i, n := 0, desc.Count(set); i < n; i++ {
			if keys.has(keyHash(desc.Key(set, i))) {
				out[string(desc.Domain)]++
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// similar returns the current agreements without an id of a's type and
// parties but another signature year.
func (idx *keyIndex) similar(a records.Agreement) []records.Agreement {
	var out []records.Agreement
	for _, b := range idx.noid[noidKey(a)] {
		if b.Year != a.Signed.Year {
			out = append(out, records.Agreement{Type: a.Type, Parties: a.Parties, Signed: records.PartialDate{Year: b.Year}, Source: records.Provenance{File: b.File}})
		}
	}
	return out
}

// index returns the key index, built once from the snapshot and the
// submissions accepted since; later acceptances add to it. nil when there
// is no usable snapshot with an index: then the records are loaded once
// (a build needs them anyway) and kept up to date.
func (s *Store) index(ctx context.Context) (*keyIndex, error) {
	if s.keys != nil {
		return s.keys, nil
	}
	idx, through := s.snapshotIndex()
	if idx == nil {
		return nil, nil
	}
	err := s.eachSubmissionAfter(ctx, through, func(_ Entry, set records.Set) error {
		idx.add(set)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.keys = idx
	return idx, nil
}

// snapshotIndex reads the key index beside the snapshot in force and the
// submission number it reflects; nil when there is no usable snapshot or
// it was written before the index existed.
func (s *Store) snapshotIndex() (*keyIndex, int) {
	snap := s.openSnapshot()
	if snap == nil {
		return nil, 0
	}
	idx := newKeyIndex(s.domains)
	for _, desc := range s.domains {
		keys, err := snap.keyHashes(desc.Domain)
		if err != nil {
			return nil, 0
		}
		idx.keys[desc.Domain] = keys
	}
	if data, err := fsx.ReadRegular(filepath.Join(snap.dir, "agreements-noid.json"), 1<<30); err == nil {
		if json.Unmarshal(data, &idx.noid) != nil {
			return nil, 0
		}
	} else if snap.state.Rows[string(records.DomainBLMA)] > 0 {
		return nil, 0
	}
	return idx, snap.state.Through
}

// writeIndex writes a key index beside its snapshot.
func (s *Store) writeIndex(dir string, idx *keyIndex) error {
	write := func(name string, data []byte) error {
		return fsx.WriteFile(s.fs, filepath.Join(dir, name), 0o644, func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		})
	}
	for d, keys := range idx.keys {
		if keys.len() == 0 {
			continue
		}
		hashes := keys.ascending()
		data := make([]byte, 8*len(hashes))
		for i, h := range hashes {
			binary.LittleEndian.PutUint64(data[8*i:], h)
		}
		if err := write("keys-"+string(d)+".bin", data); err != nil {
			return fmt.Errorf("key index: %w", err)
		}
	}
	data, err := json.Marshal(idx.noid)
	if err != nil {
		return err
	}
	return write("agreements-noid.json", data)
}
