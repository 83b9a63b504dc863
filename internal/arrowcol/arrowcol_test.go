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
