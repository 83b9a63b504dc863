package export

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/xuri/excelize/v2"
)

// The pledge sheets' rows are most of a workbook: at 10,000 submissions,
// 41,000 rows of 15 cells. excelize's stream writer turns each string cell
// into XML through an escaping encoder, a regular expression and three
// allocations, which made the rows four fifths of the workbook's time.
// cellWriter writes the same cells, byte for byte (TestRowsAreExcelizes
// compares them), in a tenth of the time: it takes the escaping excelize
// does only for a string that needs it. The rest of each sheet (header,
// widths, panes, filter, charts) is excelize's; the rows are spliced into
// its sheet part where a placeholder row stands (rowSplicer).

// maxCellChars is the most UTF-16 code units a cell holds; excelize cuts
// longer strings there (TotalCellChars).
const maxCellChars = 32767

// cellWriter appends cells and rows of a sheet part to a buffer.
type cellWriter struct {
	buf []byte
	// columns are the column letters, by index from 0.
	columns []string
	// escaped keeps, for the strings that needed escaping, their XML:
	// they are names that repeat in every row of their area or indicator.
	escaped map[string]string
}

// newCellWriter makes a writer for a sheet of ncol columns.
func newCellWriter(ncol int) *cellWriter {
	cw := &cellWriter{columns: make([]string, ncol), escaped: map[string]string{}}
	for i := range cw.columns {
		cw.columns[i] = columnName(i + 1)
	}
	return cw
}

// columnName is the letters of a column numbered from 1.
func columnName(n int) string {
	var b []byte
	for ; n > 0; n = (n - 1) / 26 {
		b = append([]byte{byte('A' + (n-1)%26)}, b...)
	}
	return string(b)
}

// flushAt is how many bytes of rows are made before they are written.
const flushAt = 64 << 10

// flush writes the rows made so far to w once they reach flushAt, or
// whatever there is when last is set; it checks ctx before each write,
// so that a stopped build stops writing rows.
func (cw *cellWriter) flush(ctx context.Context, w io.Writer, last bool) error {
	if len(cw.buf) < flushAt && !last {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := w.Write(cw.buf); err != nil {
		return err
	}
	cw.buf = cw.buf[:0]
	return nil
}

// startRow opens row r (from 1).
func (cw *cellWriter) startRow(r int) {
	cw.buf = append(cw.buf, `<row r="`...)
	cw.buf = strconv.AppendInt(cw.buf, int64(r), 10)
	cw.buf = append(cw.buf, `">`...)
}

// endRow closes the row.
func (cw *cellWriter) endRow() { cw.buf = append(cw.buf, `</row>`...) }

// startCell opens the cell of column col (from 0) and row r with the style
// and type given ("" for a number); it leaves the tag open for the value.
func (cw *cellWriter) startCell(col, r, style int, typ string) {
	cw.buf = append(cw.buf, `<c r="`...)
	cw.buf = append(cw.buf, cw.columns[col]...)
	cw.buf = strconv.AppendInt(cw.buf, int64(r), 10)
	cw.buf = append(cw.buf, '"')
	if style != 0 {
		cw.buf = append(cw.buf, ` s="`...)
		cw.buf = strconv.AppendInt(cw.buf, int64(style), 10)
		cw.buf = append(cw.buf, '"')
	}
	if typ != "" {
		cw.buf = append(cw.buf, ` t="`...)
		cw.buf = append(cw.buf, typ...)
		cw.buf = append(cw.buf, '"')
	}
	cw.buf = append(cw.buf, '>')
}

// stringCell writes an inline string cell, as excelize's SetRow does.
func (cw *cellWriter) stringCell(col, r, style int, s string) {
	// A UTF-8 string has at least as many bytes as UTF-16 units.
	if len(s) > maxCellChars {
		s = cutUTF16(s, maxCellChars)
	}
	cw.startCell(col, r, style, "inlineStr")
	cw.buf = append(cw.buf, `<is><t`...)
	if s != "" && (edgeSpace(s[0]) || edgeSpace(s[len(s)-1])) {
		cw.buf = append(cw.buf, ` xml:space="preserve"`...)
	}
	cw.buf = append(cw.buf, '>')
	if plainText(s) {
		cw.buf = append(cw.buf, s...)
	} else {
		x, ok := cw.escaped[s]
		if !ok {
			x = escapeCellText(s)
			if len(cw.escaped) < 4096 {
				cw.escaped[s] = x
			}
		}
		cw.buf = append(cw.buf, x...)
	}
	cw.buf = append(cw.buf, `</t></is></c>`...)
}

// arrowCell writes the cell of column col (from 0) and row r with the
// value of row i of a table's column: text as text (a string cell is
// never evaluated), numbers as numbers. A null has no element at all: an
// empty styled cell is a fifth of a row's XML and shows nothing.
func (cw *cellWriter) arrowCell(col, r, style int, a arrow.Array, i int) {
	if a.IsNull(i) {
		return
	}
	switch a := a.(type) {
	case *array.String:
		cw.stringCell(col, r, style, a.Value(i))
	case *array.Float64:
		cw.floatCell(col, r, style, a.Value(i))
	case *array.Int32:
		cw.intCell(col, r, style, int64(a.Value(i)))
	default:
		cw.stringCell(col, r, style, a.ValueStr(i))
	}
}

// anyCell writes a cell of a line of sheetLines as excelize's SetRow
// writes it: an excelize.Cell's style and value, text as text, integers
// and floats as numbers; nothing for a nil, a styled empty element for a
// styled nil. Any other type is an error: excelize writes dates and
// booleans in forms of their own, which no line needs.
func (cw *cellWriter) anyCell(col, r int, v any) error {
	style := 0
	switch c := v.(type) {
	case excelize.Cell:
		style, v = c.StyleID, c.Value
		if v == nil {
			cw.startCell(col, r, style, "")
			cw.buf = append(cw.buf, `</c>`...)
			return nil
		}
	case nil:
		return nil
	}
	switch v := v.(type) {
	case string:
		cw.stringCell(col, r, style, v)
	case int:
		cw.intCell(col, r, style, int64(v))
	case int64:
		cw.intCell(col, r, style, v)
	case float64:
		cw.floatCell(col, r, style, v)
	default:
		return fmt.Errorf("cell %s%d: a value of type %T", cw.columns[col], r, v)
	}
	return nil
}

// intCell writes an integer cell.
func (cw *cellWriter) intCell(col, r, style int, v int64) {
	cw.startCell(col, r, style, "")
	cw.buf = append(cw.buf, `<v>`...)
	cw.buf = strconv.AppendInt(cw.buf, v, 10)
	cw.buf = append(cw.buf, `</v></c>`...)
}

// floatCell writes a number cell; NaN and infinities are strings, as
// excelize writes them.
func (cw *cellWriter) floatCell(col, r, style int, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		cw.stringCell(col, r, style, strconv.FormatFloat(v, 'g', -1, 64))
		return
	}
	cw.startCell(col, r, style, "")
	cw.buf = append(cw.buf, `<v>`...)
	cw.buf = append(cw.buf, formatCellFloat(v)...)
	cw.buf = append(cw.buf, `</v></c>`...)
}

// edgeSpace is a byte that, first or last in a string, makes excelize
// mark the text's spaces as preserved.
func edgeSpace(b byte) bool { return b == '\t' || b == '\n' || b == '\r' || b == ' ' }

// plainText reports whether s is written as it is: printable ASCII with
// nothing XML escapes, no '_' (which could start one of Excel's _xHHHH_
// escapes) and short enough not to be cut.
func plainText(s string) bool {
	if len(s) > maxCellChars {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f:
			return false
		case c == '"' || c == '&' || c == '\'' || c == '<' || c == '>' || c == '_':
			return false
		}
	}
	return true
}

// escapeCellText is the escaping of excelize's trimCellValue (v2.11.1)
// for a string no longer than a cell holds: escaped as encoding/xml
// escapes it but for line feeds, then Excel's own escape of anything that
// reads as _xHHHH_.
func escapeCellText(s string) string {
	if s != "" {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s))
		s = strings.ReplaceAll(b.String(), "&#xA;", "\n")
	}
	return escapeBSTR(s)
}

// cutUTF16 is s cut to at most units UTF-16 code units.
func cutUTF16(s string, units int) string {
	n := 0
	for i, r := range s {
		if n += utf16.RuneLen(r); n > units {
			return s[:i]
		}
	}
	return s
}

var (
	bstrPattern       = regexp.MustCompile(`_x[a-fA-F\d]{4}_`)
	bstrEscapePattern = regexp.MustCompile(`x[a-fA-F\d]{4}_`)
)

// escapeBSTR is excelize's bstrMarshal (v2.11.1): text that Excel would
// read as an escaped character, _xHHHH_, gets its underscore escaped.
func escapeBSTR(s string) (result string) {
	matches, l, cursor := bstrPattern.FindAllStringSubmatchIndex(s, -1), len(s), 0
	for _, match := range matches {
		result += s[cursor:match[0]]
		subStr := s[match[0]:match[1]]
		if subStr == "_x005F_" {
			cursor = match[1]
			if match[1]+6 <= l && bstrEscapePattern.MatchString(s[match[1]:match[1]+6]) {
				_, err := strconv.Unquote(`"\u` + s[match[1]+1:match[1]+5] + `"`)
				if err == nil {
					result += subStr + "x005F" + subStr
					continue
				}
			}
			result += subStr + "x005F_"
			continue
		}
		if bstrPattern.MatchString(subStr) {
			cursor = match[1]
			if _, err := strconv.Unquote(`"\u` + s[match[0]+2:match[1]-1] + `"`); err == nil {
				result += "_x005F" + subStr
				continue
			}
		}
	}
	if cursor < l {
		result += s[cursor:]
	}
	return result
}

// formatCellFloat is excelize's formatCellFloat with automatic precision
// (v2.11.1): the shortest decimal form, cut to Excel's 15 significant
// digits.
func formatCellFloat(value float64) string {
	str := strconv.FormatFloat(value, 'f', -1, 64)
	if math.Abs(value) == math.MaxFloat64 {
		return str
	}
	const maxPrec = 15
	decimal := strings.IndexByte(str, '.')
	significant := 0
	for idx := range str {
		if str[idx] < '0' || str[idx] > '9' || significant == 0 && str[idx] == '0' {
			continue
		}
		significant++
		if significant <= maxPrec {
			continue
		}
		if decimal >= 0 && idx > decimal {
			return strings.TrimSuffix(str[:idx], ".")
		}
		if decimal < 0 {
			decimal = len(str)
		}
		truncated := []byte(str[:decimal])
		for ; idx < len(truncated); idx++ {
			truncated[idx] = '0'
		}
		return string(truncated)
	}
	return str
}
