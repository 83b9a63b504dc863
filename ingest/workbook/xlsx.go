package workbook

import (
	"archive/zip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/ingest/report"
)

// xlsxFile reads a workbook with excelize's streaming row reader.
type xlsxFile struct {
	f        *excelize.File
	path     string
	sheets   []Sheet
	date1904 bool
	limits   Limits
	// styled is true when some cell style shows numbers as dates or
	// percentages; only then is each row also read formatted.
	styled bool
}

// maxXMLInMemory is the size above which excelize spills a sheet's XML to a
// temporary file instead of holding it in memory.
const maxXMLInMemory = 16 << 20

func openXLSX(path string, size int64, limits Limits) (_ File, err error) {
	if p := checkZip(path, limits); p != nil {
		return nil, p
	}
	defer func() {
		if r := recover(); r != nil {
			err = problemf(report.Unreadable, "the workbook is damaged and could not be read (%v); open it in Excel, check it, and save it again as .xlsx", r)
		}
	}()
	opts := excelize.Options{UnzipSizeLimit: limits.MaxUnpackedBytes, UnzipXMLSizeLimit: maxXMLInMemory}
	if opts.UnzipSizeLimit <= 0 {
		opts.UnzipSizeLimit = DefaultLimits().MaxUnpackedBytes
	}
	opts.UnzipXMLSizeLimit = min(opts.UnzipXMLSizeLimit, opts.UnzipSizeLimit)
	f, err := excelize.OpenFile(path, opts)
	if err != nil {
		if f != nil {
			f.Close()
		}
		if errors.Is(err, excelize.ErrWorkbookFileFormat) || errors.Is(err, excelize.ErrWorkbookPassword) {
			return nil, problemf(report.UnsupportedFormat, "the file is not an Excel workbook that can be read (%v); save it from Excel as .xlsx without a password", err)
		}
		return nil, problemf(report.Unreadable, "the workbook could not be read (%v); open it in Excel and save it again as .xlsx", err)
	}
	x := &xlsxFile{f: f, path: path, limits: limits}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		x.date1904 = *props.Date1904
	}
	for _, name := range f.GetSheetList() {
		visible, _ := f.GetSheetVisible(name)
		x.sheets = append(x.sheets, Sheet{Name: name, Hidden: !visible})
	}
	x.styled = hasDateOrPercentStyle(f)
	return x, nil
}

// checkZip inspects the zip directory without unpacking anything: it tells
// other zip-based formats from XLSX and refuses archives whose parts unpack
// to more than the limit (a zip bomb is refused here, in microseconds).
func checkZip(path string, limits Limits) *Problem {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return problemf(report.Unreadable, "the file is damaged or incomplete (%v); it may have been cut off while copying: send it again", err)
	}
	defer zr.Close()
	total := unpacked(zr.File)
	names := map[string]*zip.File{}
	for _, f := range zr.File {
		names[f.Name] = f
	}
	if m, ok := names["mimetype"]; ok && m.UncompressedSize64 < 200 {
		if rc, err := m.Open(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(rc, 200))
			rc.Close()
			if strings.Contains(string(b), "opendocument.spreadsheet") {
				return problemf(report.UnsupportedFormat, "the file is an OpenDocument spreadsheet (.ods); in LibreOffice use File > Save As > Excel 2007-365 (.xlsx)")
			}
		}
	}
	if _, ok := names["xl/workbook.bin"]; ok {
		return problemf(report.UnsupportedFormat, "the file is an Excel binary workbook (.xlsb); in Excel use File > Save As > Excel Workbook (.xlsx)")
	}
	if _, ok := names["xl/workbook.xml"]; !ok {
		what := "a zip archive"
		if _, ok := names["word/document.xml"]; ok {
			what = "a Word document"
		} else if _, ok := names["ppt/presentation.xml"]; ok {
			what = "a PowerPoint presentation"
		}
		return problemf(report.UnsupportedFormat, "the file is %s, not an Excel workbook; put the table in an .xlsx workbook or a .csv file", what)
	}
	if limits.MaxUnpackedBytes > 0 && total > limits.MaxUnpackedBytes {
		return problemf(report.TooLarge, "the workbook's parts unpack to %s, over the limit of %s ([limits] max_unpacked_mb); split it into smaller workbooks", humanBytes(total), humanBytes(limits.MaxUnpackedBytes))
	}
	return nil
}

// UnpackedSize returns the total unpacked size of a zip-based workbook's
// parts, read from its directory.
func UnpackedSize(path string) (int64, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	defer zr.Close()
	return unpacked(zr.File), nil
}

// unpacked sums the sizes the zip directory declares for its parts (the
// reader enforces them while unpacking), capped so as not to overflow.
func unpacked(files []*zip.File) int64 {
	var total uint64
	for _, f := range files {
		total += f.UncompressedSize64
	}
	return int64(min(total, 1<<62))
}

// Number formats that show a number as a date or time, or as a percentage:
// the built-in ids, and for custom codes their letters outside quotes and
// brackets.
var (
	builtinDate    = map[int]bool{14: true, 15: true, 16: true, 17: true, 18: true, 19: true, 20: true, 21: true, 22: true, 27: true, 30: true, 36: true, 45: true, 46: true, 47: true, 50: true, 57: true}
	builtinPercent = map[int]bool{9: true, 10: true}
	quotedOrTagged = regexp.MustCompile(`"[^"]*"|\[[^\]]*\]|\\.`)
)

func hasDateOrPercentStyle(f *excelize.File) bool {
	if f.Styles == nil || f.Styles.CellXfs == nil {
		return false
	}
	custom := map[int]string{}
	if f.Styles.NumFmts != nil {
		for _, nf := range f.Styles.NumFmts.NumFmt {
			if nf != nil {
				custom[nf.NumFmtID] = nf.FormatCode
			}
		}
	}
	for _, xf := range f.Styles.CellXfs.Xf {
		if xf.NumFmtID == nil {
			continue
		}
		id := *xf.NumFmtID
		if builtinDate[id] || builtinPercent[id] {
			return true
		}
		if code, ok := custom[id]; ok {
			bare := strings.ToLower(quotedOrTagged.ReplaceAllString(code, ""))
			if strings.ContainsAny(bare, "ymdhs%") {
				return true
			}
		}
	}
	return false
}

func (x *xlsxFile) Format() Format  { return FormatXLSX }
func (x *xlsxFile) Sheets() []Sheet { return append([]Sheet(nil), x.sheets...) }
func (x *xlsxFile) Date1904() bool  { return x.date1904 }
func (x *xlsxFile) Close() error {
	if err := x.f.Close(); err != nil {
		return fmt.Errorf("close workbook: %w", err)
	}
	return nil
}

// Walk reads the sheet twice in lockstep when the workbook has date or
// percent styles: raw values (exact digits, serial dates) and formatted
// values, whose shape tells which numbers are shown as dates or percentages.
// excelize's streaming reader gives no style ids, and loading the sheet to
// ask for them would hold it all in memory.
func (x *xlsxFile) Walk(ctx context.Context, sheet string, fn func(Row) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = problemf(report.Unreadable, "sheet %q is damaged and could not be read (%v); open the workbook in Excel, check it, and save it again", sheet, r)
		}
	}()
	raw, err := x.f.Rows(sheet)
	if err != nil {
		return problemf(report.Unreadable, "sheet %q could not be read: %v", sheet, err)
	}
	defer raw.Close()
	var shown *excelize.Rows
	if x.styled {
		if shown, err = x.f.Rows(sheet); err != nil {
			return problemf(report.Unreadable, "sheet %q could not be read: %v", sheet, err)
		}
		defer shown.Close()
	}
	rowNum := 0
	for raw.Next() {
		rowNum++
		if x.limits.MaxRows > 0 && rowNum > x.limits.MaxRows {
			return problemf(report.TooLarge, "sheet %q has more than %d rows ([limits] max_rows); split it", sheet, x.limits.MaxRows)
		}
		if rowNum%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		values, err := raw.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return problemf(report.Unreadable, "sheet %q, row %d could not be read: %v", sheet, rowNum, err)
		}
		var formatted []string
		if shown != nil {
			shown.Next()
			if formatted, err = shown.Columns(); err != nil {
				return problemf(report.Unreadable, "sheet %q, row %d could not be read: %v", sheet, rowNum, err)
			}
		}
		if len(values) == 0 {
			continue
		}
		row := Row{Num: rowNum, Cells: make([]Cell, len(values))}
		for i, v := range values {
			c := Cell{Text: v}
			if _, err := strconv.ParseFloat(v, 64); err == nil && v != "" {
				c.Numeric = true
				if i < len(formatted) {
					classify(&c, formatted[i])
				}
			}
			row.Cells[i] = c
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := raw.Error(); err != nil {
		return problemf(report.Unreadable, "sheet %q could not be read to the end: %v", sheet, err)
	}
	return x.checkComplete(sheet, rowNum)
}

// checkComplete compares the rows read with the sheet's declared dimension:
// excelize's reader stops silently at broken XML, which must not pass for
// the end of the table.
func (x *xlsxFile) checkComplete(sheet string, rowsRead int) error {
	dim, err := x.f.GetSheetDimension(sheet)
	if err != nil || dim == "" {
		return nil
	}
	parts := strings.Split(dim, ":")
	_, lastRow, err := excelize.CellNameToCoordinates(parts[len(parts)-1])
	if err != nil {
		return nil
	}
	if lastRow <= rowsRead || rowsRead == 0 {
		return nil
	}
	// Many writers declare a larger range than they fill; only a sheet
	// whose XML is broken is damaged. Check it, in this rare case only.
	if err := wellFormedSheet(x.path, sheet); err != nil {
		return problemf(report.Unreadable, "sheet %q stops at row %d although it declares rows up to %d: its XML is damaged (%v); open the file in Excel and save it again", sheet, rowsRead, lastRow, err)
	}
	return nil
}

// wellFormedSheet decodes a sheet's XML part to its end, straight from the
// zip: excelize's row reader stops silently at broken XML.
func wellFormedSheet(path, sheet string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return err
	}
	defer zr.Close()
	parts := map[string]*zip.File{}
	for _, f := range zr.File {
		parts[f.Name] = f
	}
	open := func(name string) (io.ReadCloser, error) {
		f, ok := parts[name]
		if !ok {
			return nil, fmt.Errorf("part %s missing", name)
		}
		return f.Open()
	}
	decode := func(name string, v any) error {
		rc, err := open(name)
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
	if err := decode("xl/workbook.xml", &wb); err != nil {
		return err
	}
	if err := decode("xl/_rels/workbook.xml.rels", &rels); err != nil {
		return err
	}
	target := ""
	for _, s := range wb.Sheets {
		if s.Name != sheet {
			continue
		}
		for _, r := range rels.Rels {
			if r.ID == s.ID {
				target = r.Target
			}
		}
	}
	if target == "" {
		return nil // cannot tell: do not accuse the file
	}
	name := strings.TrimPrefix(target, "/")
	if !strings.HasPrefix(name, "xl/") {
		name = "xl/" + name
	}
	rc, err := open(name)
	if err != nil {
		return err
	}
	defer rc.Close()
	dec := xml.NewDecoder(rc)
	for {
		if _, err := dec.RawToken(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

var dateShaped = regexp.MustCompile(`[A-Za-z\p{L}]|\d[/:]\d|\d-\d|\d\.\d+\.\d`)

// classify sets the display hints of a numeric cell from its formatted
// text: "45%" is a percentage; "03-04-19", "4 Mar 2019" or "12:30" are dates
// and times. Thousands separators and decimals ("1,234.5") are neither.
func classify(c *Cell, formatted string) {
	f := strings.TrimSpace(formatted)
	if f == "" || f == c.Text {
		return
	}
	if strings.HasSuffix(f, "%") {
		c.PercentFormat = isFractionPercent(c.Text, f)
		return
	}
	if f == "TRUE" || f == "FALSE" {
		return
	}
	if strings.ContainsAny(f, "Ee") {
		if _, err := strconv.ParseFloat(f, 64); err == nil {
			return
		}
	}
	if dateShaped.MatchString(f) {
		c.DateFormat = true
	}
}

// isFractionPercent tells a real percent format (0.455 shown "45.5%")
// from a number format with a literal percent sign (45.5 shown "45.5%",
// from 0.0"%" or 0.0\%): the shown number is the stored one times 100 in
// the first case, the stored one in the second. Rounding in the format
// ("46%" for 0.4555) is allowed for: the nearer reading wins.
func isFractionPercent(raw, shown string) bool {
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		return false
	}
	num := strings.NewReplacer("%", "", ",", "", " ", "", "\u00a0", "").Replace(shown)
	s, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return true // a percent format we cannot parse: trust the %
	}
	return math.Abs(s-v*100) <= math.Abs(s-v)
}
