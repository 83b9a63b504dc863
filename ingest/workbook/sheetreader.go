package workbook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/ingest/report"
)

// The rows of a sheet are read in one pass over its XML: values, the
// number format of each cell (from its style id and excelize's style
// tables: dates and percentages), and the checks that excelize's row
// reader does not make (XML that stops decoding, formulas without a cached
// result, text references past the shared-string table). excelize opens
// the workbook (sheets, visibility, date system, styles) and writes the
// annotated copies; reading rows through it took two passes for styled
// workbooks and a third to check them.

// numberKind is what a cell style's number format shows a number as.
type numberKind uint8

const (
	kindPlain numberKind = iota
	kindDate
	kindPercent
)

// styleKinds maps cell style ids (the s attribute) to their kind.
func styleKinds(f *excelize.File) []numberKind {
	if f.Styles == nil || f.Styles.CellXfs == nil {
		return nil
	}
	custom := map[int]string{}
	if f.Styles.NumFmts != nil {
		for _, nf := range f.Styles.NumFmts.NumFmt {
			if nf != nil {
				custom[nf.NumFmtID] = nf.FormatCode
			}
		}
	}
	kinds := make([]numberKind, len(f.Styles.CellXfs.Xf))
	for i, xf := range f.Styles.CellXfs.Xf {
		if xf.NumFmtID != nil {
			kinds[i] = formatKind(*xf.NumFmtID, custom)
		}
	}
	return kinds
}

// Number formats that show a number as a date or time, or as a
// percentage: the built-in ids, and for custom codes their letters outside
// quotes, brackets and escapes ("0.0%" is a percentage, `0.0"%"` and
// `0.0\%` a number with a literal percent sign).
var (
	builtinDate    = map[int]bool{14: true, 15: true, 16: true, 17: true, 18: true, 19: true, 20: true, 21: true, 22: true, 27: true, 30: true, 36: true, 45: true, 46: true, 47: true, 50: true, 57: true}
	builtinPercent = map[int]bool{9: true, 10: true}
	quotedOrTagged = regexp.MustCompile(`"[^"]*"|\[[^\]]*\]|\\.|_.|\*.`)
)

func formatKind(id int, custom map[int]string) numberKind {
	switch {
	case builtinPercent[id]:
		return kindPercent
	case builtinDate[id]:
		return kindDate
	}
	code, ok := custom[id]
	if !ok {
		return kindPlain
	}
	// The first section is the one positive numbers use.
	section := strings.SplitN(code, ";", 2)[0]
	bare := strings.ToLower(quotedOrTagged.ReplaceAllString(section, ""))
	switch {
	case strings.Contains(bare, "%"):
		return kindPercent
	case strings.ContainsAny(bare, "ymdhs"):
		return kindDate
	}
	return kindPlain
}

// readSharedStrings reads the shared-string table, of size bytes if known
// (0 if not), decoding it to its end.
func readSharedStrings(r io.Reader, size int64) ([]string, error) {
	dec := newXMLTokens(r, size)
	var out []string
	var b strings.Builder
	depth, closed := 0, false
	inSI, inT, inPhonetic := false, false, 0
	for {
		t, err := dec.next()
		if errors.Is(err, io.EOF) {
			if depth != 0 || !closed {
				return out, io.ErrUnexpectedEOF
			}
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch t.kind {
		case tokenStart:
			depth++
			switch string(t.local) {
			case "si":
				if depth == 2 {
					inSI = true
					b.Reset()
				}
			case "rPh":
				inPhonetic++ // phonetic guides are not part of the text
			case "t":
				inT = inSI && inPhonetic == 0
			}
		case tokenEnd:
			depth--
			switch string(t.local) {
			case "si":
				if depth == 1 && inSI {
					out = append(out, unescapeXstring(b.String()))
					inSI = false
				}
			case "rPh":
				inPhonetic--
			case "t":
				inT = false
			}
			if depth == 0 {
				closed = true
			}
		case tokenText:
			if inT {
				b.Write(t.text)
			}
		}
	}
}

var xstringEscape = regexp.MustCompile(`_x([0-9A-Fa-f]{4})_`)

// unescapeXstring decodes the _xHHHH_ escapes of OOXML strings (a line
// feed is _x000A_ in some writers).
func unescapeXstring(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	return xstringEscape.ReplaceAllStringFunc(s, func(m string) string {
		n, err := strconv.ParseUint(m[2:6], 16, 32)
		if err != nil {
			return m
		}
		return string(rune(n))
	})
}

// sheetReader streams one sheet's rows from its XML.
type sheetReader struct {
	tokens  *xmlTokens
	sst     []string
	kinds   []numberKind
	maxRows int
	sheet   string
	check   *sheetCheck

	depth, rowNum int
	closed        bool
	row           []Cell
	// the cell being read
	col             int
	ref, typ        string
	style           int
	hasF, hasV, inV bool
	inIS, inT       bool
	inPhonetic      int
	v               []byte
}

// run hands every row with a value to fn, in order.
func (s *sheetReader) run(ctx context.Context, fn func(Row) error) error {
	for tokens := 0; ; tokens++ {
		if tokens&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		t, err := s.tokens.next()
		if errors.Is(err, io.EOF) {
			if s.depth != 0 || !s.closed {
				s.check.err = errors.New("the content ends before the sheet does")
			}
			return nil
		}
		if err != nil {
			s.check.err = err
			return nil
		}
		switch t.kind {
		case tokenStart:
			s.depth++
			if err := s.start(t); err != nil {
				return err
			}
		case tokenEnd:
			s.depth--
			if s.depth < 0 {
				s.check.err = errors.New("an element closes that was never opened")
				return nil
			}
			if s.depth == 0 {
				s.closed = true
			}
			if err := s.end(t, fn); err != nil {
				return err
			}
		case tokenText:
			if s.inV || (s.inT && s.inPhonetic == 0) {
				s.v = append(s.v, t.text...)
			}
		}
	}
}

func (s *sheetReader) start(t *xmlToken) error {
	switch string(t.local) {
	case "row":
		s.rowNum++
		if r, ok := atoi(t.attr("r")); ok && r > 0 {
			s.rowNum = r
		}
		if s.maxRows > 0 && s.rowNum > s.maxRows {
			return problemf(report.TooLarge, "sheet %q has more than %d rows ([limits] max_rows); split it", s.sheet, s.maxRows)
		}
		s.row, s.col = s.row[:0], 0
	case "c":
		s.col++
		s.typ, s.style = "", 0
		s.hasF, s.hasV, s.inV, s.inIS, s.v = false, false, false, false, s.v[:0]
		var ref []byte
		for _, a := range t.attrs {
			switch string(a.local) {
			case "r":
				ref = a.value
			case "t":
				s.typ = cellType(a.value)
			case "s":
				s.style, _ = atoi(a.value)
			}
		}
		if len(ref) > 0 {
			if col, ok := refColumn(ref); ok {
				s.col = col
			}
		}
	case "f":
		s.hasF = true
	case "v":
		s.hasV, s.inV, s.v = true, true, s.v[:0]
	case "is":
		s.inIS, s.v = true, s.v[:0]
	case "t":
		s.inT = s.inIS
	case "rPh":
		s.inPhonetic++
	}
	return nil
}

func (s *sheetReader) end(t *xmlToken, fn func(Row) error) error {
	switch string(t.local) {
	case "v":
		s.inV = false
	case "t":
		s.inT = false
	case "rPh":
		s.inPhonetic--
	case "is":
		s.inIS = false
	case "c":
		s.cellDone()
	case "row":
		if len(s.row) == 0 {
			return nil
		}
		row := Row{Num: s.rowNum, Cells: make([]Cell, len(s.row))}
		copy(row.Cells, s.row)
		return fn(row)
	}
	return nil
}

// atoi is strconv.Atoi of b, without making a string of it.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 18 {
		n, err := strconv.Atoi(string(b))
		return n, err == nil
	}
	neg := false
	i := 0
	if b[0] == '+' || b[0] == '-' {
		neg, i = b[0] == '-', 1
		if len(b) == 1 {
			return 0, false
		}
	}
	n := 0
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// cellType is a cell's t attribute, the common ones without an allocation.
func cellType(b []byte) string {
	for _, t := range []string{"s", "n", "str", "inlineStr", "b", "e", "d"} {
		if string(b) == t {
			return t
		}
	}
	return string(b)
}

// refColumn is the column of a cell reference (A1 style), as
// excelize.CellNameToCoordinates reads it; false when it is none.
func refColumn(ref []byte) (int, bool) {
	letters := 0
	for letters < len(ref) && (ref[letters] >= 'A' && ref[letters] <= 'Z' || ref[letters] >= 'a' && ref[letters] <= 'z') {
		letters++
	}
	digits := ref[letters:]
	if letters == 0 || letters > 3 || len(digits) == 0 || len(digits) > 7 || digits[0] == '0' {
		return excelizeColumn(ref)
	}
	col, row := 0, 0
	for _, c := range ref[:letters] {
		col = col*26 + int(c|0x20-'a') + 1
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return excelizeColumn(ref)
		}
		row = row*10 + int(c-'0')
	}
	if col > excelize.MaxColumns || row > excelize.TotalRows {
		return excelizeColumn(ref)
	}
	return col, true
}

// excelizeColumn is excelize's reading of a reference the quick reading
// does not take.
func excelizeColumn(ref []byte) (int, bool) {
	col, _, err := excelize.CellNameToCoordinates(string(ref))
	return col, err == nil
}

// cellDone turns the cell just read into its value.
func (s *sheetReader) cellDone() {
	c := s.check
	text := string(s.v)
	if s.hasF && (!s.hasV && s.typ != "inlineStr" || s.hasV && text == "" && s.typ != "str" && s.typ != "inlineStr") {
		c.count++
		if len(c.uncached) < MaxListedFormulas {
			c.uncached = append(c.uncached, CellRef{Col: s.col, Row: s.rowNum})
		}
	}
	var cell Cell
	switch s.typ {
	case "s":
		if !s.hasV {
			return
		}
		i, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil || i < 0 {
			if c.badSST == "" {
				c.badSST = CellRef{Col: s.col, Row: s.rowNum}.String()
			}
			return
		}
		c.maxSST = max(c.maxSST, i)
		if i >= len(s.sst) {
			return // reported once the sheet is read
		}
		cell.Text = s.sst[i]
	case "inlineStr":
		cell.Text = unescapeXstring(text)
	case "str", "e", "b", "d":
		cell.Text = text
	default:
		cell.Text = text
		if text != "" {
			if _, err := strconv.ParseFloat(text, 64); err == nil {
				cell.Numeric = true
				// A cell without an s attribute has style 0, whose number
				// format counts too.
				if s.style >= 0 && s.style < len(s.kinds) {
					switch s.kinds[s.style] {
					case kindDate:
						cell.DateFormat = true
					case kindPercent:
						cell.PercentFormat = true
					}
				}
			}
		}
	}
	if cell.Text == "" {
		return
	}
	for len(s.row) < s.col-1 {
		s.row = append(s.row, Cell{})
	}
	if s.col-1 < len(s.row) {
		s.row[s.col-1] = cell
		return
	}
	s.row = append(s.row, cell)
}

// describeRef is the cell a damaged sheet's XML stopped after.
func (s *sheetReader) describeRef() string {
	if s.rowNum == 0 || s.col == 0 {
		return ""
	}
	return fmt.Sprint(CellRef{Col: s.col, Row: s.rowNum})
}
