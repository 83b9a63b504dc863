package store

import (
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ilo-pledge/pledgestat/records"
)

func TestKeySet(t *testing.T) {
	k := newKeySet()
	k.sorted = []uint64{3, 10, 42}
	for _, h := range []uint64{7, 10, 7, 1} {
		k.add(h)
	}
	if k.len() != 5 {
		t.Errorf("len = %d, want 5 (10 and 7 added twice count once)", k.len())
	}
	for h, want := range map[uint64]bool{1: true, 3: true, 7: true, 10: true, 42: true, 0: false, 11: false, 43: false} {
		if k.has(h) != want {
			t.Errorf("has(%d) = %v, want %v", h, !want, want)
		}
	}
	if got := k.ascending(); !slices.Equal(got, []uint64{1, 3, 7, 10, 42}) {
		t.Errorf("ascending = %v", got)
	}
}

// Many additions, with repeats, across the merges of the recent map into
// the sorted slice: the set answers as a map would.
func TestKeySetAcrossMerges(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	k := newKeySet()
	k.sorted = []uint64{5, 50, 500}
	want := map[uint64]bool{5: true, 50: true, 500: true}
	var added []uint64
	for i := range 60_000 {
		h := rng.Uint64() % 200_000
		if i%5 == 0 && len(added) > 0 {
			h = added[rng.IntN(len(added))]
		}
		k.add(h)
		want[h] = true
		added = append(added, h)
		if i%997 == 0 {
			probe := rng.Uint64() % 200_000
			if k.has(probe) != want[probe] {
				t.Fatalf("after %d additions has(%d) = %v", i, probe, !want[probe])
			}
		}
	}
	if len(k.merged) == 0 {
		t.Fatal("no merge happened")
	}
	if k.len() != len(want) {
		t.Errorf("len = %d, want %d", k.len(), len(want))
	}
	asc := k.ascending()
	if len(asc) != len(want) || !slices.IsSorted(asc) {
		t.Fatalf("ascending: %d values, sorted %v; want %d", len(asc), slices.IsSorted(asc), len(want))
	}
	for _, h := range asc {
		if !want[h] || !k.has(h) {
			t.Fatalf("%d listed but not added", h)
		}
	}
}

// TestKeyHashIsFNV1a keeps the store's key hashes what they were (the
// snapshot's key files hold them): 64-bit FNV-1a of the key, whether it
// comes as a string or as the bytes a spill appends.
func TestKeyHashIsFNV1a(t *testing.T) {
	obs := []records.CoverageObservation{
		{Area: "FRA", Year: 2020, Series: "SOC_CONTIG_TOTAL", Sex: "T", Population: "TOTAL"},
		{Area: "X01", Year: -7, Series: "", Sex: "F", Population: "MIGRANT"},
		{Area: "Côte|d'Ivoire", Year: 1234567890123, Series: "a|b", Sex: "", Population: ""},
		{},
	}
	for _, o := range obs {
		h := fnv.New64a()
		h.Write([]byte(o.Key()))
		if got, want := keyHash(o.Key()), h.Sum64(); got != want {
			t.Errorf("keyHash(%q) = %x, FNV-1a gives %x", o.Key(), got, want)
		}
		if got, want := keyHash(o.AppendKey(nil)), h.Sum64(); got != want {
			t.Errorf("keyHash(AppendKey) of %+v = %x, FNV-1a of Key() gives %x", o, got, want)
		}
	}
}

// Adding hashes at once gives the set that adding them one by one gives:
// repeats among them, and hashes the set holds already (sorted, merged or
// recent), count once.
func TestKeySetAddAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 20 {
		one, all := newKeySet(), newKeySet()
		base := make([]uint64, 0, 100)
		for range 100 {
			base = append(base, rng.Uint64()%5000)
		}
		slices.Sort(base)
		base = slices.Compact(base)
		one.sorted, all.sorted = base, slices.Clone(base)
		for range round * 500 { // merged and recent, on both
			h := rng.Uint64() % 5000
			one.add(h)
			all.add(h)
		}
		batch := make([]uint64, 3000)
		for i := range batch {
			batch[i] = rng.Uint64() % 5000
		}
		for _, h := range batch {
			one.add(h)
		}
		all.addAll(slices.Clone(batch))
		if a, b := one.ascending(), all.ascending(); !slices.Equal(a, b) {
			t.Fatalf("round %d: one by one %d hashes, at once %d", round, len(a), len(b))
		}
		for h := range uint64(5000) {
			if one.has(h) != all.has(h) {
				t.Fatalf("round %d: has(%d) differs", round, h)
			}
		}
	}
}
