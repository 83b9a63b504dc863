package store

import (
	"slices"
	"testing"
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
