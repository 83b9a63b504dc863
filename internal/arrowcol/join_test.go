package arrowcol

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Joining rows gives exactly them, in order: a whole table as it is,
// part of one as that part, several as their concatenation.
func TestJoinGivesTheRowsInOrder(t *testing.T) {
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int32}}, nil)
	b := array.NewInt32Builder(mem)
	b.AppendValues([]int32{0, 1, 2, 3, 4, 5}, nil)
	col := b.NewArray()
	table := array.NewRecordBatch(schema, []arrow.Array{col}, 6)
	defer table.Release()
	for _, tc := range []struct {
		name string
		segs []Rows
		want []int32
	}{
		{"whole", []Rows{RowsOf(table, 0, 6)}, []int32{0, 1, 2, 3, 4, 5}},
		{"a part", []Rows{RowsOf(table, 1, 4)}, []int32{1, 2, 3}},
		{"parts", []Rows{RowsOf(table, 4, 6), RowsOf(table, 0, 1), RowsOf(table, 2, 2)}, []int32{4, 5, 0}},
		{"none", nil, nil},
	} {
		got, err := Join(mem, schema, tc.segs)
		if err != nil {
			t.Fatal(err)
		}
		values := got.Column(0).(*array.Int32).Int32Values()
		if len(values) != len(tc.want) || int(got.NumRows()) != len(tc.want) {
			t.Fatalf("%s: %v (%d rows), want %v", tc.name, values, got.NumRows(), tc.want)
		}
		for i := range values {
			if values[i] != tc.want[i] {
				t.Fatalf("%s: %v, want %v", tc.name, values, tc.want)
			}
		}
		got.Release()
	}
}
