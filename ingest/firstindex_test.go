package ingest

import (
	"math/rand/v2"
	"os"
	"testing"
)

// The compact index answers as a plain map of whole hashes would: across
// its growth, with entries in memory and in its file, for keys whose first
// hashes share the 32 bits a slot keeps (or are equal) and for the values
// that mark empty slots.
func TestFirstIndexIsAMap(t *testing.T) {
	for _, mem := range []int{defaultMemEntries, 1000, 1} {
		rng := rand.New(rand.NewPCG(1, uint64(mem)))
		dir := t.TempDir()
		x := firstIndex{memEntries: mem, tempDir: dir}
		want := map[[2]uint64]firstObservation{}
		var keys [][2]uint64
		for i := range 60_000 {
			h := [2]uint64{rng.Uint64(), rng.Uint64()}
			switch {
			case i == 5:
				h[0] = 0
			case i == 6:
				h[0] = 1
			case i%1000 == 999:
				// the first hash of an earlier key, the second new
				h[0] = keys[rng.IntN(len(keys))][0]
			case i%1000 == 500:
				// the same 32 bits of the first hash, the rest new
				h[0] = keys[rng.IntN(len(keys))][0]&^0xffffffff | uint64(rng.Uint32())
			}
			if i%777 == 0 && len(keys) > 0 {
				old := keys[rng.IntN(len(keys))]
				if f, ok, err := x.get(old); err != nil || !ok || f != want[old] {
					t.Fatalf("mem %d key %d: got %v %v %v, want %v", mem, i, f, ok, err, want[old])
				}
				continue
			}
			if _, ok, err := x.get(h); ok || err != nil {
				t.Fatalf("mem %d key %d: found before it was put (%v)", mem, i, err)
			}
			f := firstObservation{row: int32(i), sheet: uint16(i % 7), col: uint16(i % 5), value: float64(i) / 3}
			if err := x.put(h, f); err != nil {
				t.Fatal(err)
			}
			want[h] = f
			keys = append(keys, h)
		}
		for h, f := range want {
			if got, ok, err := x.get(h); err != nil || !ok || got != f {
				t.Fatalf("mem %d %x: got %v %v %v, want %v", mem, h, got, ok, err, f)
			}
		}
		if mem < len(want) && x.file == nil {
			t.Fatalf("mem %d: no entry went to the file", mem)
		}
		x.close()
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("mem %d: the index left %d files", mem, len(left))
		}
	}
}

// A file that cannot be written (no temporary folder) stops the read with
// an error rather than losing the index.
func TestFirstIndexFileErrors(t *testing.T) {
	x := firstIndex{memEntries: 2, tempDir: "/nonexistent/pledgestat"}
	var err error
	for i := range 5 {
		if err = x.put([2]uint64{uint64(i) << 32, uint64(i)}, firstObservation{row: int32(i)}); err != nil {
			break
		}
	}
	if err == nil {
		t.Fatal("no error when the index cannot be written")
	}
	x.close()
}

// TestFirstIndexMovesKeysAFewTimes: growing the table moves each key a
// couple of times on average, not five (by quarters from 8 slots, as at
// first).
func TestFirstIndexMovesKeysAFewTimes(t *testing.T) {
	var x firstIndex
	defer x.close()
	x.tempDir = t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	const n = 200_000
	for i := range n {
		if err := x.put([2]uint64{r.Uint64(), uint64(i)}, firstObservation{row: int32(i)}); err != nil {
			t.Fatal(err)
		}
	}
	moved := 0
	for _, p := range x.parts {
		moved += p.moved
	}
	if moved > 2*n {
		t.Errorf("%d keys were moved %d times in all growing the table, over twice each", n, moved)
	}
}
