package arrowcol

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestColumnNulls builds columns with nulls among values, lists included
// (no domain has a null list today), and reads them back.
func TestColumnNulls(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	list := newColumn(mem, arrow.ListOf(arrow.BinaryTypes.String), 3, 3, 3)
	for i, items := range [][]string{{"a", "b"}, nil, {"c"}} {
		if i == 1 {
			list.appendNull()
			continue
		}
		for _, s := range items {
			list.items.appendString(s)
		}
		list.endValue(list.items.n)
	}
	l := list.array().(*array.List)
	defer l.Release()
	if l.Len() != 3 || !l.IsNull(1) || l.IsNull(0) || l.IsNull(2) {
		t.Fatalf("list %v: nulls wrong", l)
	}
	values := l.ListValues().(*array.String)
	for i, want := range []string{"a b", "", "c"} {
		from, to := l.ValueOffsets(i)
		var got []string
		for k := from; k < to; k++ {
			got = append(got, values.Value(int(k)))
		}
		if strings.Join(got, " ") != want {
			t.Errorf("list value %d = %q, want %q", i, got, want)
		}
	}
	dates := newColumn(mem, arrow.FixedWidthTypes.Date32, 3, 0, 0)
	dates.appendUint32(7)
	dates.appendNull()
	dates.appendUint32(9)
	d := dates.array().(*array.Date32)
	defer d.Release()
	if d.Len() != 3 || !d.IsNull(1) || d.Value(0) != 7 || d.Value(2) != 9 {
		t.Errorf("dates: %v", d)
	}
}
