package export

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/transform"
)

// referenceDiff is Diff by key alone, as it was before the rows were
// compared side by side: the reference the faster Diff must agree with.
func referenceDiff(t *testing.T, prev []arrow.RecordBatch, cur arrow.RecordBatch) []Change {
	t.Helper()
	old, err := readObservations(prev)
	if err != nil {
		t.Fatal(err)
	}
	now, err := readObservations([]arrow.RecordBatch{cur})
	if err != nil {
		t.Fatal(err)
	}
	return diffByKey(old, now, 0)
}

// TestDiffAgreesWithDiffByKey: two runs' tables with values changed, rows
// added and removed anywhere (first, last, in the middle), or in another
// order, give the changes a comparison by key gives.
func TestDiffAgreesWithDiffByKey(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	table := func(obs []transform.Observation) arrow.RecordBatch {
		res := &transform.Result{FirstYear: 2015, LastYear: 2024, Observations: obs}
		return res.RecordBatch(mem, map[string]string{MetaRunID: "R", MetaCatalogVersion: "1"})
	}
	var base []transform.Observation
	for _, ind := range []string{"C1.1", "P3.1", "P4.2"} {
		for a := range 12 {
			for y := 2015; y <= 2024; y++ {
				base = append(base, transform.Observation{Pledge: ind[:2], IndicatorID: ind, RefArea: fmt.Sprintf("C%02d", a), RefAreaType: refdata.AreaCountry,
					TimePeriod: y, Sex: "T", Value: float64(a + y), Unit: "count"})
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		next := make([]transform.Observation, 0, len(base))
		for _, o := range base {
			switch r := rng.IntN(100); {
			case r < 2 && round%3 != 0: // removed
				continue
			case r < 6:
				o.Value += 1 // changed
			}
			next = append(next, o)
			if rng.IntN(100) < 2 && round%3 != 1 { // added after it
				extra := o
				extra.Sex, extra.Value = "F", 7
				next = append(next, extra)
			}
		}
		if round%10 == 9 {
			rng.Shuffle(len(next), func(i, j int) { next[i], next[j] = next[j], next[i] })
		}
		prevObs := base
		if round%50 == 7 {
			prevObs = nil // a first run: all added
		}
		prev, cur := table(prevObs), table(next)
		got, err := Diff([]arrow.RecordBatch{prev}, cur)
		if err != nil {
			t.Fatal(err)
		}
		want := referenceDiff(t, []arrow.RecordBatch{prev}, cur)
		prev.Release()
		cur.Release()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: %d changes, by key %d\nfirst: %+v\nby key: %+v", round, len(got), len(want), first(got), first(want))
		}
	}
}

func first(c []Change) any {
	if len(c) == 0 {
		return nil
	}
	return c[0]
}
