package workbook

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/ingest/report"
)

// xlsxFile reads a workbook with excelize's streaming row reader, and
// checks each sheet's XML itself (see sheetcheck.go): excelize's reader
// stops silently where the XML stops decoding.
type xlsxFile struct {
	f        *excelize.File
	src      Source
	zr       *zip.Reader
	sheets   []Sheet
	date1904 bool
	limits   Limits
	// styled is true when some cell style shows numbers as dates or
	// percentages; only then is each row also read formatted.
	styled bool
	// parts maps sheet names to their XML part, sharedStrings counts the
	// shared-string table; both read on first use.
	parts         map[string]string
	sharedStrings int
	partsErr      error
	partsRead     bool
}

// maxXMLInMemory is the size above which excelize spills a sheet's XML to a
// temporary file instead of holding it in memory.
const maxXMLInMemory = 16 << 20

// Bounds on the parts excelize holds whole in memory (every part but the
// worksheets and a large shared-string table) and on the markup of those it
// parses into structures when the workbook is opened. Excel itself keeps
// styles under 64,000 cell formats (some 300,000 elements); a styles part
// of millions of entries is made to exhaust memory, not by a spreadsheet
// program.
const (
	maxWholePart      = 64 << 20
	maxParsedElements = 2_000_000
)

func openXLSX(src Source, limits Limits) (_ File, err error) {
	zr, err := zip.NewReader(src.R, src.Size)
	if err != nil {
		return nil, problemf(report.Unreadable, "the file is damaged or incomplete (%v); it may have been cut off while copying: send it again", err)
	}
	if p := checkZip(zr, limits); p != nil {
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
	f, err := openExcelize(src, opts)
	if err != nil {
		if f != nil {
			f.Close()
		}
		if errors.Is(err, excelize.ErrWorkbookFileFormat) || errors.Is(err, excelize.ErrWorkbookPassword) {
			return nil, problemf(report.UnsupportedFormat, "the file is not an Excel workbook that can be read (%v); save it from Excel as .xlsx without a password", err)
		}
		return nil, problemf(report.Unreadable, "the workbook could not be read (%v); open it in Excel and save it again as .xlsx", err)
	}
	x := &xlsxFile{f: f, src: src, zr: zr, limits: limits}
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

// openExcelize opens the workbook from the already opened file. excelize
// reads an *os.File in place (its zip directory, then part by part) when
// given a path, but copies any other reader whole into memory; the file's
// descriptor in /proc names the file that was opened, not whatever its
// path names now.
func openExcelize(src Source, opts excelize.Options) (*excelize.File, error) {
	if f, ok := src.R.(*os.File); ok {
		fdPath := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
		if st, err := os.Stat(fdPath); err == nil {
			if own, err := f.Stat(); err == nil && os.SameFile(st, own) {
				return excelize.OpenFile(fdPath, opts)
			}
		}
	}
	return excelize.OpenReader(io.NewSectionReader(src.R, 0, src.Size), opts)
}

// checkZip inspects the zip directory without unpacking anything: it tells
// other zip-based formats from XLSX and refuses archives whose parts unpack
// to more than the limits (a zip bomb is refused here, in microseconds).
func checkZip(zr *zip.Reader, limits Limits) *Problem {
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
	for _, f := range zr.File {
		if f.UncompressedSize64 > maxWholePart && !streamedPart(f.Name) {
			return problemf(report.TooLarge, "the workbook's part %s unpacks to %s, over the %s pledgestat reads for a part other than a sheet; remove what it holds (pivot tables, images, embedded objects) or copy the data alone into a new workbook", f.Name, humanBytes(int64(min(f.UncompressedSize64, 1<<62))), humanBytes(maxWholePart))
		}
	}
	for _, name := range []string{"xl/styles.xml", "xl/calcChain.xml"} {
		if f, ok := names[name]; ok {
			if n, err := countElements(f); err == nil && n > maxParsedElements {
				return problemf(report.TooLarge, "the workbook's part %s holds more than %d entries (Excel keeps far fewer); open the workbook in Excel, clear unused cell styles, and save it again", name, maxParsedElements)
			}
		}
	}
	return nil
}

// streamedPart: parts excelize reads as a stream, or spills to a temporary
// file, when they are large.
func streamedPart(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasPrefix(lower, "xl/worksheets/sheet") || lower == "xl/sharedstrings.xml"
}

// countElements counts the tags of a part without parsing it.
func countElements(f *zip.File) (int, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	buf := make([]byte, 64<<10)
	n := 0
	for {
		k, err := rc.Read(buf)
		n += bytes.Count(buf[:k], []byte("<"))
		if n > maxParsedElements {
			return n, nil
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
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
		total += min(f.UncompressedSize64, 1<<62)
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
//
// Meanwhile the sheet's XML is decoded to its end by checkSheet, on the
// other core: excelize's reader ends silently where the XML stops
// decoding, and gives formulas without a cached result as empty cells. A
// sheet that is not whole is unreadable; formulas without results are
// returned as *UncachedFormulas once every row has been handed to fn.
func (x *xlsxFile) Walk(ctx context.Context, sheet string, fn func(Row) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = problemf(report.Unreadable, "sheet %q is damaged and could not be read (%v); open the workbook in Excel, check it, and save it again", sheet, r)
		}
	}()
	if err := x.readParts(); err != nil {
		return err
	}
	checkCtx, stopCheck := context.WithCancel(ctx)
	defer stopCheck()
	checked := make(chan sheetCheck, 1)
	go func() { checked <- x.checkSheet(checkCtx, sheet) }()

	if err := x.walkRows(ctx, sheet, fn); err != nil {
		return err
	}
	var c sheetCheck
	select {
	case c = <-checked:
	case <-ctx.Done():
		return ctx.Err()
	}
	return c.problem(sheet, x.sharedStrings)
}

func (x *xlsxFile) walkRows(ctx context.Context, sheet string, fn func(Row) error) error {
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
	return nil
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
