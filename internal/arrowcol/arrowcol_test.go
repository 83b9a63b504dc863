package arrowcol

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestGet(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.BinaryTypes.String}, {Name: "n", Type: arrow.PrimitiveTypes.Int32}}, nil)
	rb := array.NewRecordBuilder(mem, schema)
	defer rb.Release()
	rb.Field(0).(*array.StringBuilder).Append("x")
	rb.Field(1).(*array.Int32Builder).Append(7)
	b := rb.NewRecordBatch()
	defer b.Release()
	if s, err := Get[*array.String](b, "a"); err != nil || s.Value(0) != "x" {
		t.Errorf("Get a = %v, %v", s, err)
	}
	if _, err := Get[*array.String](b, "n"); err == nil || !strings.Contains(err.Error(), "int32") {
		t.Errorf("wrong type: %v", err)
	}
	if _, err := All(b, "a", "missing"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing column: %v", err)
	}
	if cols, err := All(b, "n", "a"); err != nil || len(cols) != 2 || cols[0].DataType().ID() != arrow.INT32 {
		t.Errorf("All = %v, %v", cols, err)
	}
}

func TestStringColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.BinaryTypes.String}, {Name: "n", Type: arrow.PrimitiveTypes.Int32}}, nil)
	rb := array.NewRecordBuilder(mem, schema)
	defer rb.Release()
	rb.Field(0).(*array.StringBuilder).Append("x")
	rb.Field(1).(*array.Int32Builder).Append(7)
	b := rb.NewRecordBatch()
	defer b.Release()
	if cols, err := StringColumns(b, "a"); err != nil || len(cols) != 1 || cols[0].Value(0) != "x" {
		t.Errorf("StringColumns(a) = %v, %v", cols, err)
	}
	if _, err := StringColumns(b, "a", "n"); err == nil || !strings.Contains(err.Error(), `"n"`) {
		t.Errorf("a column that is not text: %v", err)
	}
}

// A text column reads a string array and a dictionary of the same values
// alike: the same texts, nulls as "" and null, over a slice too.
func TestTextColumnReadsPlainAndCodedAlike(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	values := []string{"yes", "", "no", "yes", "", "unknown", "yes"}
	null := []bool{false, true, false, false, false, true, false} // "" at 4 is a value
	plainB := array.NewStringBuilder(mem)
	codedB := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}).(*array.BinaryDictionaryBuilder)
	for i, v := range values {
		if null[i] {
			plainB.AppendNull()
			codedB.AppendNull()
			continue
		}
		plainB.Append(v)
		if err := codedB.AppendString(v); err != nil {
			t.Fatal(err)
		}
	}
	plain, coded := plainB.NewArray(), codedB.NewArray()
	plainB.Release()
	codedB.Release()
	defer plain.Release()
	defer coded.Release()
	codedSlice := array.NewSlice(coded, 2, int64(len(values)))
	defer codedSlice.Release()
	for _, tc := range []struct {
		name string
		arr  arrow.Array
		from int
	}{{"plain", plain, 0}, {"coded", coded, 0}, {"coded slice", codedSlice, 2}} {
		c, err := TextOf(tc.arr)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.Len() != len(values)-tc.from {
			t.Errorf("%s: %d rows, want %d", tc.name, c.Len(), len(values)-tc.from)
		}
		for i := range c.Len() {
			want := values[tc.from+i]
			if null[tc.from+i] {
				want = ""
			}
			if c.Value(i) != want || c.IsNull(i) != null[tc.from+i] || c.IsValid(i) == null[tc.from+i] {
				t.Errorf("%s row %d: %q null %v, want %q null %v", tc.name, i, c.Value(i), c.IsNull(i), want, null[tc.from+i])
			}
		}
	}
	ints := array.NewInt32Builder(mem)
	defer ints.Release()
	notText := ints.NewArray()
	defer notText.Release()
	if _, err := TextOf(notText); err == nil {
		t.Error("an int32 column read as text")
	}
}
