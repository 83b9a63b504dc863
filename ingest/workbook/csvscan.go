package workbook

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// recordScanner splits delimited text into records the way spreadsheet
// programs write them: fields separated by one ASCII delimiter; records
// ended by LF, CRLF or a lone CR ("CSV (Macintosh)"), in any mix; a field
// in double quotes may hold delimiters, line breaks and doubled quotes.
//
// It is written for this job rather than taken from encoding/csv because
// that reader reads a lone CR as data (two rows become one) and, with lazy
// quotes, lets an unclosed quote swallow the rest of the file into one
// value. Here every line either becomes part of a record or is an error
// that names it.
type recordScanner struct {
	r      *bufio.Reader
	delim  byte
	line   int // physical line of the next byte, from 1
	fields []string
	field  []byte
	widest int // the most fields a record has had so far
	// seen interns short fields: codes, names and sources repeat on every
	// row, and a million rows would otherwise hold a million copies.
	seen map[string]string
	// columns counts, per column, the fields looked up in seen and those
	// found: a column whose values seldom repeat (a value, a note) is not
	// interned after its first internProbe fields, which would cost a
	// lookup each and save nothing.
	columns []internCount
}

// internCount is one column's interning so far.
type internCount struct {
	tried, found int
	off          bool
	// last is the column's last interned field: a column sorted or
	// grouped by it (a country, a series) repeats it row after row, and
	// comparing with it is cheaper than hashing.
	last string
}

const (
	maxInternedLen = 64
	maxInterned    = 1 << 14
	internProbe    = 1024
)

// intern returns the field of column col as a string, the same string as
// an earlier equal short field.
func (s *recordScanner) intern(col int, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxInternedLen {
		return string(b)
	}
	for len(s.columns) <= col {
		s.columns = append(s.columns, internCount{})
	}
	c := &s.columns[col]
	if c.off {
		return string(b)
	}
	c.tried++
	if string(b) == c.last {
		c.found++
		return c.last
	}
	if v, ok := s.seen[string(b)]; ok {
		c.found++
		c.last = v
		return v
	}
	if c.tried >= internProbe && c.found < c.tried/2 {
		c.off = true
	}
	v := string(b)
	if len(s.seen) < maxInterned {
		s.seen[v] = v
	}
	c.last = v
	return v
}

func newRecordScanner(r io.Reader, delim byte) *recordScanner {
	return &recordScanner{r: bufio.NewReaderSize(r, 64<<10), delim: delim, line: 1, seen: map[string]string{}}
}

// csvError is a problem in the text itself, with its line.
type csvError struct {
	Line int
	Msg  string
}

func (e *csvError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

type fieldEnd int

const (
	endField fieldEnd = iota + 1
	endRecord
)

// next returns the next record and the physical line it starts on, or
// io.EOF after the last one. The slice is reused by the next call.
func (s *recordScanner) next() ([]string, int, error) {
	if _, err := s.r.Peek(1); err != nil {
		return nil, 0, err
	}
	start := s.line
	s.fields = s.fields[:0]
	if s.plainLine() {
		s.widest = max(s.widest, len(s.fields))
		return s.fields, start, nil
	}
	for {
		end, err := s.readField()
		if err != nil {
			return nil, start, err
		}
		s.fields = append(s.fields, s.intern(len(s.fields), s.field))
		if end == endRecord {
			break
		}
	}
	s.widest = max(s.widest, len(s.fields))
	return s.fields, start, nil
}

// plainLine reads the next record in one step when it is a whole line in
// the buffer without a quote: most lines of a large file. Byte by byte, with a
// call per byte around each field, reading fields was a third of a CSV
// ingest's reading. It reports false, having read nothing, otherwise.
func (s *recordScanner) plainLine() bool {
	buf, _ := s.r.Peek(s.r.Buffered())
	end := bytes.IndexByte(buf, '\n')
	if end < 0 {
		return false
	}
	next := end + 1 // after the line break
	// A CR before the LF ends the line: a CRLF, or a lone CR with the
	// next line after it (the byte after it is buffered: the LF is).
	if cr := bytes.IndexByte(buf[:end], '\r'); cr >= 0 {
		end, next = cr, cr+1
		if buf[cr+1] == '\n' {
			next++
		}
	}
	line := buf[:end]
	if bytes.IndexByte(line, '"') >= 0 {
		return false
	}
	for col := 0; ; col++ {
		i := bytes.IndexByte(line, s.delim)
		if i < 0 {
			s.fields = append(s.fields, s.intern(col, line))
			break
		}
		s.fields = append(s.fields, s.intern(col, line[:i]))
		line = line[i+1:]
	}
	s.line++
	s.r.Discard(next)
	return true
}

// readByte returns the next byte; ok is false at the end of the text.
func (s *recordScanner) readByte() (byte, bool, error) {
	b, err := s.r.ReadByte()
	if errors.Is(err, io.EOF) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return b, true, nil
}

// lineBreak is called after a CR or LF: it counts the line and takes the
// LF of a CRLF.
func (s *recordScanner) lineBreak(b byte) {
	s.line++
	if b == '\r' {
		if next, err := s.r.Peek(1); err == nil && next[0] == '\n' {
			s.r.ReadByte()
		}
	}
}

func (s *recordScanner) readField() (fieldEnd, error) {
	s.field = s.field[:0]
	b, ok, err := s.readByte()
	if err != nil || !ok {
		return endRecord, err
	}
	if b == '"' {
		return s.readQuoted()
	}
	return s.readRest(b)
}

// readRest reads an unquoted field (or what follows a closing quote) from
// its first byte b to the delimiter or the end of the line. A quote here is
// data: 5" screen.
func (s *recordScanner) readRest(b byte) (fieldEnd, error) {
	for {
		switch b {
		case s.delim:
			return endField, nil
		case '\n', '\r':
			s.lineBreak(b)
			return endRecord, nil
		}
		s.field = append(s.field, b)
		// The rest of the field as far as it is buffered, in one step
		// rather than a byte at a time: most of a large file's fields.
		if buf, _ := s.r.Peek(s.r.Buffered()); len(buf) > 0 {
			n := s.plainRun(buf)
			s.field = append(s.field, buf[:n]...)
			s.r.Discard(n)
		}
		var ok bool
		var err error
		if b, ok, err = s.readByte(); err != nil || !ok {
			return endRecord, err
		}
	}
}

// plainRun is the length of buf's leading run of bytes that are neither
// the delimiter nor a line break.
func (s *recordScanner) plainRun(buf []byte) int {
	for i, c := range buf {
		if c == s.delim || c == '\n' || c == '\r' {
			return i
		}
	}
	return len(buf)
}

// readQuoted reads a quoted field after its opening quote. Line breaks
// inside are kept as LF. A quote that is never closed is an error, and so
// is a quoted value whose inner lines look like whole rows: a closing quote
// is missing and later rows would vanish into this value.
func (s *recordScanner) readQuoted() (fieldEnd, error) {
	open := s.line
	lineStart := 0 // where the current inner line starts in s.field
	for {
		b, ok, err := s.readByte()
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, &csvError{Line: open, Msg: "the quoted value that starts on this line is never closed, so the rest of the file would be read as one value; add the missing quote (\")"}
		}
		switch b {
		case '"':
			next, err := s.r.Peek(1)
			if err == nil && next[0] == '"' {
				s.r.ReadByte()
				s.field = append(s.field, '"')
				continue
			}
			return s.afterQuote()
		case '\n', '\r':
			if err := s.checkInnerLine(open, s.field[lineStart:]); err != nil {
				return 0, err
			}
			s.lineBreak(b)
			s.field = append(s.field, '\n')
			lineStart = len(s.field)
		default:
			s.field = append(s.field, b)
		}
	}
}

// checkInnerLine refuses a line inside a quoted value that holds as many
// delimiters as a row of the table: it is a row swallowed by a quote left
// open, not a line of a note.
func (s *recordScanner) checkInnerLine(open int, line []byte) error {
	limit := max(3, s.widest-1)
	if s.widest < 3 || bytes.Count(line, []byte{s.delim}) < limit {
		return nil
	}
	return &csvError{Line: open, Msg: fmt.Sprintf("the quoted value that starts on this line runs on to line %d, which looks like a whole row of the table; a closing quote (\") is probably missing on line %d", s.line, open)}
}

// afterQuote reads what follows a closing quote. Normally the delimiter or
// the end of the line; anything else is kept as data with the quote
// ("5" screen" reads as 5" screen), never as a reason to read on past the
// line.
func (s *recordScanner) afterQuote() (fieldEnd, error) {
	b, ok, err := s.readByte()
	if err != nil || !ok {
		return endRecord, err
	}
	switch b {
	case s.delim:
		return endField, nil
	case '\n', '\r':
		s.lineBreak(b)
		return endRecord, nil
	}
	s.field = append(s.field, '"')
	return s.readRest(b)
}
