package workbook

import (
	"archive/zip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/ingest/report"
)

// UncachedFormulas is returned by Walk for a sheet with formulas whose
// result was never calculated: files written by programs and never opened
// in a spreadsheet program hold the formula only, and excelize reads such a
// cell as empty. The rows were all handed out; the caller decides whether
// the cells matter.
type UncachedFormulas struct {
	Sheet string
	Cells []CellRef // the first MaxListedFormulas of them
	Count int
}

// CellRef is a cell's position, 1-based.
type CellRef struct{ Col, Row int }

func (c CellRef) String() string {
	name, _ := excelize.CoordinatesToCellName(max(c.Col, 1), max(c.Row, 1))
	return name
}

// MaxListedFormulas bounds the cells an UncachedFormulas names.
const MaxListedFormulas = 100

func (u *UncachedFormulas) Error() string {
	first := ""
	if len(u.Cells) > 0 {
		first = u.Cells[0].String()
	}
	return fmt.Sprintf("sheet %q has %d formula cells without a calculated result (first: %s)", u.Sheet, u.Count, first)
}

// sheetCheck is what decoding a sheet's XML to its end found.
type sheetCheck struct {
	err      error  // the XML does not decode to its end
	at       string // the last cell reached before err
	uncached []CellRef
	count    int    // formulas without a cached result
	maxSST   int    // the highest shared-string index a cell uses, -1 for none
	badSST   string // a cell whose shared-string index is not a number
}

func (c sheetCheck) problem(sheet string, sharedStrings int) error {
	switch {
	case c.err != nil:
		where := ""
		if c.at != "" {
			where = " after cell " + c.at
		}
		return problemf(report.Unreadable, "sheet %q is damaged: its content stops decoding%s (%v), so rows may be missing; open the workbook in Excel, check it, and save it again", sheet, where, c.err)
	case c.badSST != "":
		return problemf(report.Unreadable, "sheet %q, cell %s: the cell's text reference is not a number, so the workbook is damaged; open it in Excel and save it again", sheet, c.badSST)
	case c.maxSST >= sharedStrings:
		return problemf(report.Unreadable, "sheet %q refers to text entry %d of the workbook's shared strings, which hold only %d: the workbook is damaged and cells would read as empty; open it in Excel and save it again", sheet, c.maxSST+1, sharedStrings)
	case c.count > 0:
		return &UncachedFormulas{Sheet: sheet, Cells: c.uncached, Count: c.count}
	}
	return nil
}

// readParts maps sheet names to their XML parts and counts the shared
// strings, once.
func (x *xlsxFile) readParts() error {
	if x.partsRead {
		return x.partsErr
	}
	x.partsRead = true
	x.parts, x.sharedStrings, x.partsErr = workbookParts(x.zr)
	return x.partsErr
}

// zipParts indexes a zip's entries by name, with backslashes read as
// slashes as excelize does.
func zipParts(zr *zip.Reader) map[string]*zip.File {
	parts := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		parts[strings.ReplaceAll(f.Name, "\\", "/")] = f
	}
	return parts
}

func workbookParts(zr *zip.Reader) (map[string]string, int, error) {
	parts := zipParts(zr)
	decode := func(name string, v any) error {
		f, ok := parts[name]
		if !ok {
			return fmt.Errorf("part %s is missing", name)
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		return xml.NewDecoder(rc).Decode(v)
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			ID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	damaged := func(what string, err error) error {
		return problemf(report.Unreadable, "the workbook's %s is damaged (%v); open it in Excel and save it again", what, err)
	}
	if err := decode("xl/workbook.xml", &wb); err != nil {
		return nil, 0, damaged("list of sheets", err)
	}
	if err := decode("xl/_rels/workbook.xml.rels", &rels); err != nil {
		return nil, 0, damaged("table of parts", err)
	}
	targets := map[string]string{}
	for _, r := range rels.Rels {
		targets[r.ID] = r.Target
	}
	sheets := map[string]string{}
	for _, s := range wb.Sheets {
		t := targets[s.ID]
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, "/") {
			t = strings.TrimPrefix(t, "/")
		} else {
			t = path.Join("xl", t)
		}
		sheets[s.Name] = t
	}
	n := 0
	for name, f := range parts {
		if strings.EqualFold(name, "xl/sharedStrings.xml") {
			var err error
			if n, err = countSharedStrings(f); err != nil {
				return nil, 0, damaged("table of shared text", err)
			}
		}
	}
	return sheets, n, nil
}

// countSharedStrings decodes the shared-string table to its end and counts
// its entries.
func countSharedStrings(f *zip.File) (int, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	dec := xml.NewDecoder(rc)
	depth, n, closed := 0, 0, false
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			if depth != 0 || !closed {
				return n, io.ErrUnexpectedEOF
			}
			return n, nil
		}
		if err != nil {
			return n, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && t.Name.Local == "si" {
				n++
			}
		case xml.EndElement:
			depth--
			if depth == 0 {
				closed = true
			}
		}
	}
}

// checkSheet decodes a sheet's XML part to its end, noting formula cells
// without a cached value and the shared strings used. It checks ctx as it
// goes: it is stopped when the walk ends early.
func (x *xlsxFile) checkSheet(ctx context.Context, sheet string) sheetCheck {
	c := sheetCheck{maxSST: -1}
	name, ok := x.parts[sheet]
	if !ok {
		c.err = errors.New("the sheet's part is not listed")
		return c
	}
	f, ok := zipParts(x.zr)[name]
	if !ok {
		c.err = fmt.Errorf("the sheet's part %s is missing", name)
		return c
	}
	rc, err := f.Open()
	if err != nil {
		c.err = err
		return c
	}
	defer rc.Close()
	var s cellScan
	s.check = &c
	c.err = s.run(ctx, xml.NewDecoder(rc))
	c.at = s.ref()
	return c
}

// cellScan follows the cells of a sheet's XML.
type cellScan struct {
	check      *sheetCheck
	depth      int
	closed     bool
	row, col   int
	inCell     bool
	cellRef    string
	cellType   string
	hasF, hasV bool
	inV        bool
	v          []byte
}

func (s *cellScan) ref() string {
	if s.cellRef != "" {
		return s.cellRef
	}
	if s.row == 0 || s.col == 0 {
		return ""
	}
	name, _ := excelize.CoordinatesToCellName(s.col, s.row)
	return name
}

func (s *cellScan) run(ctx context.Context, dec *xml.Decoder) error {
	for tokens := 0; ; tokens++ {
		if tokens%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			if s.depth != 0 || !s.closed {
				return errors.New("the content ends before the sheet does")
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			s.depth++
			s.start(t)
		case xml.EndElement:
			s.depth--
			if s.depth < 0 {
				return errors.New("an element closes that was never opened")
			}
			if s.depth == 0 {
				s.closed = true
			}
			s.end(t)
		case xml.CharData:
			if s.inV {
				s.v = append(s.v, t...)
			}
		}
	}
}

func (s *cellScan) start(t xml.StartElement) {
	switch t.Name.Local {
	case "row":
		s.row++
		s.col = 0
		if r, err := strconv.Atoi(attr(t, "r")); err == nil && r > 0 {
			s.row = r
		}
	case "c":
		s.inCell, s.hasF, s.hasV = true, false, false
		s.col++
		s.cellRef, s.cellType = attr(t, "r"), attr(t, "t")
		if s.cellRef != "" {
			if col, _, err := excelize.CellNameToCoordinates(s.cellRef); err == nil {
				s.col = col
			}
		}
	case "f":
		s.hasF = s.inCell || s.hasF
	case "v":
		if s.inCell {
			s.hasV, s.inV, s.v = true, true, s.v[:0]
		}
	}
}

func (s *cellScan) end(t xml.EndElement) {
	switch t.Name.Local {
	case "v":
		s.inV = false
	case "c":
		if !s.inCell {
			return
		}
		s.inCell = false
		s.cellDone()
	}
}

func (s *cellScan) cellDone() {
	c := s.check
	value := strings.TrimSpace(string(s.v))
	if !s.hasV {
		value = ""
	}
	switch {
	case s.hasF && (!s.hasV || value == "" && s.cellType != "str" && s.cellType != "inlineStr"):
		c.count++
		if len(c.uncached) < MaxListedFormulas {
			c.uncached = append(c.uncached, CellRef{Col: s.col, Row: s.row})
		}
	case s.cellType == "s" && s.hasV:
		i, err := strconv.Atoi(value)
		if err != nil || i < 0 {
			if c.badSST == "" {
				c.badSST = s.ref()
			}
			return
		}
		c.maxSST = max(c.maxSST, i)
	}
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
