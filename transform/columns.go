package transform

import "github.com/apache/arrow-go/v18/arrow/array"

func optValue(a *array.String, i int) string {
	if a.IsNull(i) {
		return ""
	}
	return a.Value(i)
}
