package workbook

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"io"
	"path"
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
	x.zipFiles = zipParts(x.zr)
	x.parts, x.sharedStrings, x.partsErr = workbookParts(x.zipFiles, x.openPart)
	return x.partsErr
}

// partSize is the size a zip entry declares, as a hint (0 past 2^62: a
// declared size can lie, and the readers only size a buffer by it).
func partSize(f *zip.File) int64 {
	if f.UncompressedSize64 > 1<<62 {
		return 0
	}
	return int64(f.UncompressedSize64)
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

func workbookParts(parts map[string]*zip.File, open func(name string, f *zip.File) (io.ReadCloser, error)) (map[string]string, []string, error) {
	decode := func(name string, v any) error {
		f, ok := parts[name]
		if !ok {
			return fmt.Errorf("part %s is missing", name)
		}
		rc, err := open(name, f)
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
		return nil, nil, damaged("list of sheets", err)
	}
	if err := decode("xl/_rels/workbook.xml.rels", &rels); err != nil {
		return nil, nil, damaged("table of parts", err)
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
	var sst []string
	for name, f := range parts {
		if strings.EqualFold(name, "xl/sharedStrings.xml") {
			rc, err := open(name, f)
			if err != nil {
				return nil, nil, damaged("table of shared text", err)
			}
			sst, err = readSharedStrings(rc, partSize(f))
			rc.Close()
			if err != nil {
				return nil, nil, damaged("table of shared text", err)
			}
		}
	}
	return sheets, sst, nil
}
