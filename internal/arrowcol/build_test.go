package arrowcol

import (
	"strings"
	"testing"
	"unsafe"

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

// A dictionary column of the schema is built as codes into its distinct
// values, in order of first appearance, nulls included: read back, the
// same texts as a string column of the same values.
func TestNewBatchCodesDictionaryColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	coded := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	schema := arrow.NewSchema([]arrow.Field{{Name: "plain", Type: arrow.BinaryTypes.String, Nullable: true}, {Name: "coded", Type: coded, Nullable: true}}, nil)
	values := []string{"FRA", "FRA", "", "DEU", "FRA", "ITA", "ITA", "", "DEU"}
	buf := []byte("xxx")
	b := NewBatch(mem, schema, len(values), func(b *Builder, i int) {
		b.OptStr(values[i])
		// A text that points into a buffer changed afterwards: its code
		// is kept by value.
		copy(buf, values[i])
		b.OptStr(unsafe.String(&buf[0], len(values[i])))
	})
	defer b.Release()
	d, ok := b.Column(1).(*array.Dictionary)
	if !ok {
		t.Fatalf("column is %T", b.Column(1))
	}
	dict := d.Dictionary().(*array.String)
	var got []string
	for i := range dict.Len() {
		got = append(got, dict.Value(i))
	}
	if strings.Join(got, ",") != "FRA,DEU,ITA" {
		t.Errorf("values %v, want FRA,DEU,ITA in order of first appearance", got)
	}
	plain, err := TextOf(b.Column(0))
	if err != nil {
		t.Fatal(err)
	}
	text, err := TextOf(d)
	if err != nil {
		t.Fatal(err)
	}
	for i := range values {
		if text.Value(i) != plain.Value(i) || text.IsNull(i) != plain.IsNull(i) || text.IsNull(i) != (values[i] == "") {
			t.Errorf("row %d: %q null %v, want %q null %v", i, text.Value(i), text.IsNull(i), plain.Value(i), plain.IsNull(i))
		}
	}
}
