package arrowcol

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// Strings copies strings out of Arrow string columns. A string Value
// returns points into the column's buffer: kept after the batch is
// released, it would read memory an allocator other than Go's may have
// given to something else. Records and indicator rows outlive the batches
// they are read from, so every string they keep goes through Strings.
//
// Codes (countries, instruments, series, files, sheets) repeat on most
// rows and are copied once each (Code); text that is mostly unique (cell
// references, titles, notes) is copied every time (Text), since keeping a
// table of it would cost more than the copies.
type Strings struct {
	codes map[string]string
}

// NewStrings returns an empty copier.
func NewStrings() *Strings { return &Strings{codes: map[string]string{}} }

// Code returns row i of a as a string of its own, shared with the earlier
// rows of the same value.
func (s *Strings) Code(a *array.String, i int) string {
	return s.intern(a.Value(i))
}

// OptCode is Code, with "" for a null.
func (s *Strings) OptCode(a *array.String, i int) string {
	if a.IsNull(i) {
		return ""
	}
	return s.intern(a.Value(i))
}

func (s *Strings) intern(v string) string {
	if c, ok := s.codes[v]; ok { // a lookup with the aliasing string copies nothing
		return c
	}
	c := strings.Clone(v)
	s.codes[c] = c
	return c
}

// Text returns row i of a as a string of its own.
func Text(a *array.String, i int) string { return strings.Clone(a.Value(i)) }

// OptText is Text, with "" for a null.
func OptText(a *array.String, i int) string {
	if a.IsNull(i) {
		return ""
	}
	return strings.Clone(a.Value(i))
}

// Of is Code of a text column's row.
func (s *Strings) Of(c TextColumn, i int) string { return s.intern(c.Value(i)) }
