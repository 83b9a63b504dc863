package transform

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
)

func stringColumns(b arrow.RecordBatch, names ...string) ([]*array.String, error) {
	out := make([]*array.String, len(names))
	for i, n := range names {
		col, err := arrowcol.Get[*array.String](b, n)
		if err != nil {
			return nil, err
		}
		out[i] = col
	}
	return out, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func optValue(a *array.String, i int) string {
	if a.IsNull(i) {
		return ""
	}
	return a.Value(i)
}
