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
