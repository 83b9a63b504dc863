package workbook

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/ilo-pledge/pledgestat/ingest/report"
)

// csvFile reads a delimited text file as one sheet.
type csvFile struct {
	src       Source
	limits    Limits
	encoding  Encoding
	delimiter rune
}

// Encoding of a CSV file.
type Encoding string

// Encodings pledgestat recognises (inputs.md).
const (
	UTF8        Encoding = "UTF-8"
	UTF8BOM     Encoding = "UTF-8 with BOM"
	UTF16LE     Encoding = "UTF-16LE"
	UTF16BE     Encoding = "UTF-16BE"
	Windows1252 Encoding = "Windows-1252"
)

// delimiters tried, in order of preference on a tie.
var delimiters = [...]rune{',', ';', '\t', '|'}

func openCSV(src Source, limits Limits) (File, error) {
	enc, err := detectEncoding(src)
	if err != nil {
		return nil, err
	}
	c := &csvFile{src: src, limits: limits, encoding: enc}
	sample, err := c.sample(64 << 10)
	if err != nil {
		return nil, err
	}
	c.delimiter = SniffDelimiter(sample)
	return c, nil
}

// detectEncoding reads the byte-order mark, or failing that checks the whole
// file for valid UTF-8 in one streaming pass; invalid UTF-8 is taken to be
// Windows-1252, which is what spreadsheet programs on Windows export.
func detectEncoding(src Source) (Encoding, error) {
	br := bufio.NewReaderSize(src.reader(), 64<<10)
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		return UTF8BOM, nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return UTF16LE, nil
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return UTF16BE, nil
	}
	valid, err := isUTF8(br)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", src.Name, err)
	}
	if valid {
		return UTF8, nil
	}
	return Windows1252, nil
}

// isUTF8 checks a stream for valid UTF-8 without holding it in memory.
func isUTF8(r io.Reader) (bool, error) {
	buf := make([]byte, 64<<10)
	var carry []byte
	for {
		n, err := r.Read(buf[len(carry):])
		chunk := buf[:len(carry)+n]
		// Keep an incomplete rune at the end for the next round.
		cut := len(chunk)
		for i := 1; i <= utf8.UTFMax && i <= len(chunk); i++ {
			if utf8.RuneStart(chunk[len(chunk)-i]) {
				if !utf8.FullRune(chunk[len(chunk)-i:]) {
					cut = len(chunk) - i
				}
				break
			}
		}
		if errors.Is(err, io.EOF) {
			cut = len(chunk)
		}
		if !utf8.Valid(chunk[:cut]) {
			return false, nil
		}
		carry = append(carry[:0], chunk[cut:]...)
		copy(buf, carry)
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
}

func (c *csvFile) decoder() *encoding.Decoder {
	switch c.encoding {
	case UTF16LE:
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
	case UTF16BE:
		return unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()
	case Windows1252:
		return charmap.Windows1252.NewDecoder()
	case UTF8BOM:
		return unicode.UTF8BOM.NewDecoder()
	}
	return encoding.Nop.NewDecoder()
}

// text returns the file's text as UTF-8. Text that is UTF-8 already (most
// files) is the file's bytes as they are: through a transform.Reader that
// changes nothing, a large file was read again 4 KiB at a time and copied.
func (c *csvFile) text() io.Reader {
	if c.encoding == UTF8 {
		return c.src.reader()
	}
	return transform.NewReader(c.src.reader(), c.decoder())
}

func (c *csvFile) sample(n int64) (string, error) {
	b, err := io.ReadAll(io.LimitReader(c.text(), n))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", c.src.Name, err)
	}
	return string(b), nil
}

// SniffDelimiter picks the delimiter that splits the sample's lines most
// consistently: for each candidate, the field count (two or more) that
// most lines share; the candidate whose count most lines share wins, the
// wider one on a tie. Title lines above the header, decimal commas and
// delimiters inside quoted notes do not fool it. Any line ending (LF, CRLF,
// CR) ends a line.
func SniffDelimiter(sample string) rune {
	// Drop a last line that the sample may have cut in half.
	if i := strings.LastIndexAny(sample, "\r\n"); i > 0 && len(sample) >= 64<<10 {
		sample = sample[:i]
	}
	best, bestLines, bestWidth := ',', 0, 0
	for _, d := range delimiters {
		sc := newRecordScanner(strings.NewReader(sample), byte(d))
		counts := map[int]int{}
		for i := 0; i < 50; i++ {
			rec, _, err := sc.next()
			if err != nil {
				break
			}
			if n := nonEmptyWidth(rec); n >= 2 {
				counts[n]++
			}
		}
		lines, width := 0, 0
		for w, n := range counts {
			if n > lines || n == lines && w > width {
				lines, width = n, w
			}
		}
		if lines > bestLines || lines == bestLines && width > bestWidth {
			best, bestLines, bestWidth = d, lines, width
		}
	}
	return best
}

// nonEmptyWidth is the number of fields up to the last non-empty one.
func nonEmptyWidth(rec []string) int {
	n := len(rec)
	for n > 0 && strings.TrimSpace(rec[n-1]) == "" {
		n--
	}
	return n
}

func (c *csvFile) Format() Format  { return FormatCSV }
func (c *csvFile) Sheets() []Sheet { return []Sheet{{Name: ""}} }
func (c *csvFile) Date1904() bool  { return false }
func (c *csvFile) Close() error    { return nil }

// Walk streams the records. Row.Num is the physical line where each record
// starts, so a quoted field with line breaks does not shift later rows.
func (c *csvFile) Walk(ctx context.Context, _ string, fn func(Row) error) error {
	return concurrentWalk(ctx, "", func(emit func(Row) error) error { return c.scan(ctx, emit) }, fn)
}

// scan decodes the records in order.
func (c *csvFile) scan(ctx context.Context, fn func(Row) error) error {
	sc := newRecordScanner(c.text(), byte(c.delimiter))
	records := 0
	for {
		rec, line, err := sc.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csvError
			if errors.As(err, &pe) {
				return problemf(report.Unreadable, "%s", pe.Error())
			}
			return problemf(report.Unreadable, "the file could not be read as %s text: %v", c.encoding, err)
		}
		records++
		if c.limits.MaxRows > 0 && records > c.limits.MaxRows {
			return problemf(report.TooLarge, "the file has more than %d rows ([limits] max_rows); split it", c.limits.MaxRows)
		}
		if records%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row := Row{Num: line, Cells: make([]Cell, len(rec))}
		for i, v := range rec {
			row.Cells[i] = Cell{Text: v}
		}
		if err := fn(row); err != nil {
			return err
		}
	}
}
