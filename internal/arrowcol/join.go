package arrowcol

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Rows are rows [From, To) of a batch.
type Rows struct {
	Batch    arrow.RecordBatch
	From, To int
}

// RowsOf is rows [from, to) of b.
func RowsOf(b arrow.RecordBatch, from, to int) Rows { return Rows{Batch: b, From: from, To: to} }

// Join builds one batch of schema from the rows given, in order, column by
// column (the batches' columns by position). Rows that are one whole batch
// are that batch's columns, not a copy. The caller releases the batch.
func Join(mem memory.Allocator, schema *arrow.Schema, rows []Rows) (arrow.RecordBatch, error) {
	n := 0
	for _, r := range rows {
		n += r.To - r.From
	}
	if len(rows) == 1 && rows[0].From == 0 && rows[0].To == int(rows[0].Batch.NumRows()) {
		return array.NewRecordBatch(schema, rows[0].Batch.Columns(), int64(n)), nil
	}
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	parts := make([]arrow.Array, 0, len(rows))
	for c := range cols {
		parts = parts[:0]
		for _, r := range rows {
			if r.To > r.From {
				parts = append(parts, array.NewSlice(r.Batch.Column(c), int64(r.From), int64(r.To)))
			}
		}
		var err error
		if len(parts) == 0 {
			cols[c] = array.MakeArrayOfNull(mem, schema.Field(c).Type, 0)
		} else {
			cols[c], err = array.Concatenate(parts, mem)
		}
		for _, p := range parts {
			p.Release()
		}
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", schema.Field(c).Name, err)
		}
	}
	return array.NewRecordBatch(schema, cols, int64(n)), nil
}
