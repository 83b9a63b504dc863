package ingest

import (
	"math/rand/v2"
	"testing"
)

// The compact index answers as a plain map of whole hashes would, across
// its chunk boundaries and for keys whose first halves collide.
func TestFirstIndexIsAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var x firstIndex
	want := map[[2]uint64]firstObservation{}
	var keys [][2]uint64
	for i := range 60_000 {
		h := [2]uint64{rng.Uint64(), rng.Uint64()}
		switch {
		case i == 5:
			h[0] = 0 // the empty slot's mark
		case i == 6:
			h[0] = 1 // where 0 is stored
		case i%1000 == 999:
			// the first half of an earlier key, the second half new
			h[0] = keys[rng.IntN(len(keys))][0]
		}
		if i%777 == 0 && len(keys) > 0 {
			// a key seen before: found, not put again
			old := keys[rng.IntN(len(keys))]
			if f, ok := x.get(old); !ok || f != want[old] {
				t.Fatalf("key %d: got %v %v, want %v", i, f, ok, want[old])
			}
			continue
		}
		if _, ok := x.get(h); ok {
			t.Fatalf("key %d: found before it was put", i)
		}
		f := firstObservation{row: int32(i), sheet: uint16(i % 7), col: uint16(i % 5), value: float64(i) / 3}
		x.put(h, f)
		want[h] = f
		keys = append(keys, h)
	}
	for h, f := range want {
		if got, ok := x.get(h); !ok || got != f {
			t.Fatalf("%x: got %v %v, want %v", h, got, ok, f)
		}
	}
	if len(x.collision) == 0 {
		t.Fatal("no collision was exercised")
	}
}
