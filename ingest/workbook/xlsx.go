package workbook

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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
	// kinds tells, per cell style id, whether numbers show as dates or
	// percentages.
	kinds []numberKind
	// parts maps sheet names to their XML part, sharedStrings is the
	// shared-string table, zipFiles the zip's entries by name; read on
	// first use.
	parts         map[string]string
	zipFiles      map[string]*zip.File
	sharedStrings []string
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
	x.kinds = styleKinds(f)
	return x, nil
}

// openExcelize opens the workbook from the already opened file. excelize
// reads an *os.File in place (its zip directory, then part by part) when
// given a path, but copies any other reader whole into memory; the file's
// descriptor in /proc names the file that was opened, not whatever its
// path names now. A file of at most 1 MiB comes here in memory (the bytes
// ingest hashed, see ingest.ReadTo) and is copied once more: at most a
// mebibyte a reader, for parsing exactly the bytes the hash names.
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
	// Sized to the part as the directory gives it (a styles part is
	// usually a few KiB, and a 64 KiB buffer for each of 600 small
	// workbooks was 40 MB of garbage); the loop reads to the end
	// whatever the directory says.
	buf := make([]byte, max(512, min(64<<10, f.UncompressedSize64+1)))
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

func (x *xlsxFile) Format() Format  { return FormatXLSX }
func (x *xlsxFile) Sheets() []Sheet { return append([]Sheet(nil), x.sheets...) }
func (x *xlsxFile) Date1904() bool  { return x.date1904 }
func (x *xlsxFile) Close() error {
	if err := x.f.Close(); err != nil {
		return fmt.Errorf("close workbook: %w", err)
	}
	return nil
}

// openPart opens a part of the workbook to read it: from the bytes
// excelize unpacked when it opened the workbook, when it holds them in
// memory (a part of at most maxXMLInMemory; its checksum was checked as it
// unpacked it), else from the zip. Unpacking a small workbook's sheet and
// shared strings a second time was a tenth of reading it.
func (x *xlsxFile) openPart(name string, f *zip.File) (io.ReadCloser, error) {
	if v, ok := x.f.Pkg.Load(name); ok {
		if b, ok := v.([]byte); ok {
			return io.NopCloser(bytes.NewReader(b)), nil
		}
	}
	return f.Open()
}

// Walk reads the sheet's rows in one pass over its XML (sheetreader.go),
// which also checks that the XML decodes to its end: a sheet that does not
// is unreadable; formulas without results are returned as
// *UncachedFormulas once every row has been handed to fn.
func (x *xlsxFile) Walk(ctx context.Context, sheet string, fn func(Row) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = problemf(report.Unreadable, "sheet %q is damaged and could not be read (%v); open the workbook in Excel, check it, and save it again", sheet, r)
		}
	}()
	if err := x.readParts(); err != nil {
		return err
	}
	c := sheetCheck{maxSST: -1}
	name, ok := x.parts[sheet]
	if !ok {
		return problemf(report.Unreadable, "sheet %q has no content part listed in the workbook: the file is damaged; open it in Excel and save it again", sheet)
	}
	part, ok := x.zipFiles[name]
	if !ok {
		return problemf(report.Unreadable, "sheet %q: its part %s is missing: the file is damaged; open it in Excel and save it again", sheet, name)
	}
	rc, err := x.openPart(name, part)
	if err != nil {
		return problemf(report.Unreadable, "sheet %q could not be read: %v", sheet, err)
	}
	defer rc.Close()
	r := &sheetReader{tokens: newXMLTokens(rc, partSize(part)), sst: x.sharedStrings, kinds: x.kinds, maxRows: x.limits.MaxRows, sheet: sheet, check: &c}
	if err := concurrentWalk(ctx, sheet, func(emit func(Row) error) error { return r.run(ctx, emit) }, fn); err != nil {
		return err
	}
	c.at = r.describeRef()
	return c.problem(sheet, len(x.sharedStrings))
}
