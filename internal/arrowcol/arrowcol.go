// Package arrowcol reads and builds the columns of Arrow record batches:
// it looks columns up by name, with their concrete types, for the
// packages that read tables (records, transform, export), copies their
// strings out (Strings), and builds batches a column at a time (NewBatch)
// for the packages that make tables (records, transform).
package arrowcol

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Get returns a batch's column by name with its concrete type, or an error
// naming what is wrong.
func Get[T arrow.Array](b arrow.RecordBatch, name string) (T, error) {
	var zero T
	idx := b.Schema().FieldIndices(name)
	if len(idx) != 1 {
		return zero, fmt.Errorf("column %q missing", name)
	}
	col, ok := b.Column(idx[0]).(T)
	if !ok {
		return zero, fmt.Errorf("column %q has type %s", name, b.Column(idx[0]).DataType())
	}
	return col, nil
}

// All returns the named columns, in order.
func All(b arrow.RecordBatch, names ...string) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(names))
	for i, n := range names {
		col, err := Get[arrow.Array](b, n)
		if err != nil {
			return nil, err
		}
		out[i] = col
	}
	return out, nil
}

// StringColumns returns the named string columns, in order.
func StringColumns(b arrow.RecordBatch, names ...string) ([]*array.String, error) {
	out := make([]*array.String, len(names))
	for i, n := range names {
		col, err := Get[*array.String](b, n)
		if err != nil {
			return nil, err
		}
		out[i] = col
	}
	return out, nil
}

// TextColumn is a column of text as a table holds it: a string a row, or
// a dictionary, each row a code into the column's distinct values (a
// table read to be computed with holds its repetitive text so:
// parquetio.ReadCodedColumns).
type TextColumn struct {
	arr    arrow.Array
	plain  *array.String
	codes  []int32
	values *array.String
}

// TextOf reads a as a text column: a string array, or a dictionary of
// strings with Int32 codes.
func TextOf(a arrow.Array) (TextColumn, error) {
	switch c := a.(type) {
	case *array.String:
		return TextColumn{arr: a, plain: c}, nil
	case *array.Dictionary:
		codes, ok1 := c.Indices().(*array.Int32)
		values, ok2 := c.Dictionary().(*array.String)
		if ok1 && ok2 {
			return TextColumn{arr: a, codes: codes.Int32Values(), values: values}, nil
		}
	}
	return TextColumn{}, fmt.Errorf("type %s is not text", a.DataType())
}

// Len is the column's number of rows.
func (c TextColumn) Len() int { return c.arr.Len() }

// IsNull reports whether row i is null.
func (c TextColumn) IsNull(i int) bool { return c.arr.IsNull(i) }

// IsValid reports whether row i is not null.
func (c TextColumn) IsValid(i int) bool { return c.arr.IsValid(i) }

// Value is row i's text, "" for a null; like array.String's, it points
// into the column's buffers.
func (c TextColumn) Value(i int) string {
	if c.plain != nil {
		return c.plain.Value(i)
	}
	if c.arr.IsNull(i) {
		return ""
	}
	return c.values.Value(int(c.codes[i]))
}

// TextColumns returns the named text columns, in order.
func TextColumns(b arrow.RecordBatch, names ...string) ([]TextColumn, error) {
	out := make([]TextColumn, len(names))
	for i, n := range names {
		col, err := Get[arrow.Array](b, n)
		if err != nil {
			return nil, err
		}
		if out[i], err = TextOf(col); err != nil {
			return nil, fmt.Errorf("column %q: %w", n, err)
		}
	}
	return out, nil
}
