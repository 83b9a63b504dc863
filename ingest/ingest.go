// Package ingest turns one dropped file into a Submission: the typed records
// of the domains it holds (ratification, social protection, BLMA) with their
// provenance, and a report of every problem found in one pass.
//
// It finds each sheet's table (a header row in the first 30 rows, headers
// matched in English, French or Spanish), reads every row with the value
// parsers, settles what needs the whole column (day/month order, percent
// scale), and applies the record rules of inputs.md. A file with any error
// yields no records. ingest knows spreadsheets and domains, nothing about
// indicators, the store or the workspace.
package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/ingest/values"
	"github.com/ilo-pledge/pledgestat/ingest/workbook"
	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/internal/textnorm"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
)

// HeaderSearchRows is how far down a sheet the header row is looked for.
const HeaderSearchRows = 30

// Reader reads submissions. It is safe for concurrent use.
type Reader struct {
	ref    *refdata.Reference
	limits workbook.Limits
	// open opens a file; tests replace it to make a parser fail.
	open func(src workbook.Source, limits workbook.Limits) (workbook.File, error)
	// now gives today's date, after which no ratification or signature
	// can have happened.
	now func() time.Time
	// specs are the domains the reader recognises: the pledge's three,
	// and those WithDomains added.
	specs []domainSpec
}

// NewReader returns a Reader that checks values against ref and refuses
// files over limits.
func NewReader(ref *refdata.Reference, limits workbook.Limits) *Reader {
	return &Reader{ref: ref, limits: limits, open: workbook.OpenSource, now: time.Now, specs: specs}
}

// WithDomains returns a reader that also recognises and reads the tables
// of domains described by records.NewDescriptor with a FromRow: a domain
// is added by its descriptor alone (TestToyDomainIsReadByItsDescriptor).
func (r *Reader) WithDomains(descs ...records.Descriptor) (*Reader, error) {
	out := *r
	out.specs = append([]domainSpec(nil), r.specs...)
	for _, d := range descs {
		spec, err := descriptorSpec(d)
		if err != nil {
			return nil, err
		}
		out.specs = append(out.specs, spec)
	}
	return &out, nil
}

// Submission is what one file holds.
type Submission struct {
	Name   string // path relative to inbox/, with forward slashes
	SHA256 string
	Size   int64
	Format workbook.Format
	records.Set
	// Streamed is how many social-protection observations went to the
	// CoverageSink given to ReadTo instead of Set.Coverage.
	Streamed int
	Report   *report.Report

	cov *coverageStream
}

// Accepted reports whether the file has no error.
func (s *Submission) Accepted() bool { return !s.Report.HasErrors() }

// ReadFile reads the file at path, submitted under name, following
// symbolic links (validate reads the paths a user names). Problems with
// the file's content are entries of the returned report; the error is for
// failures to read the file at all (it vanished, permission denied).
func (r *Reader) ReadFile(ctx context.Context, path, name string) (*Submission, error) {
	f, st, err := fsx.OpenRegular(path, false)
	if err != nil {
		var nr *fsx.NotRegularError
		if errors.As(err, &nr) {
			sub := &Submission{Name: name, Report: report.New(name)}
			sub.Report.Errorf(report.Unreadable, "", 0, 0, "%s is %s, not a file; only .xlsx and .csv files are read", name, fsx.Kind(nr.Mode))
			return sub, nil
		}
		return nil, err
	}
	defer f.Close()
	return r.Read(ctx, workbook.Source{R: f, Size: st.Size(), Name: path}, name)
}

// Read reads a file's content, submitted under name. Everything, the
// SHA-256 included, is read from src, so that what is accepted is what was
// read even if the file's path is changed meanwhile.
func (r *Reader) Read(ctx context.Context, src workbook.Source, name string) (*Submission, error) {
	return r.ReadTo(ctx, src, name, nil)
}

// ReadTo is Read handing the social-protection observations to sink as
// they are read (Submission.Streamed counts them) rather than keeping
// them in the submission; a nil sink keeps them. What the sink received
// is to be discarded when the file has errors or ReadTo fails.
func (r *Reader) ReadTo(ctx context.Context, src workbook.Source, name string, sink CoverageSink) (*Submission, error) {
	sub := &Submission{Name: name, Report: report.New(name), cov: newCoverageStream(sink)}
	defer sub.cov.first.close() // end closes it too; this is for the failures before
	sum, whole, err := hashSource(ctx, src)
	if err != nil {
		return nil, err
	}
	sub.SHA256, sub.Size = sum, src.Size
	if whole != nil {
		// The file is in memory already: parse those bytes, the ones
		// hashed, instead of reading it again part by part (a small
		// workbook took 50 reads of the file, as many system calls).
		src.R = bytes.NewReader(whole)
	}
	if err := r.readContent(ctx, src, sub); err != nil {
		return nil, err
	}
	kept, err := sub.cov.end()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	sub.Coverage = kept
	if sink != nil {
		sub.Streamed = sub.cov.count
	}
	sub.cov = nil
	checkAcrossSheets(sub)
	if sub.Report.HasErrors() {
		sub.Set = records.Set{}
	}
	sub.Report.Sort()
	return sub, nil
}

// readContent parses the file under recover: a panic in a parser rejects
// this file as unreadable and never takes the run down.
func (r *Reader) readContent(ctx context.Context, src workbook.Source, sub *Submission) (err error) {
	defer func() {
		if p := recover(); p != nil {
			sub.Report.Errorf(report.Unreadable, "", 0, 0, "the file could not be read: the reader failed on it (%v); please send it to the pledgestat maintainers", p)
			err = nil
		}
	}()
	f, err := r.open(src, r.limits)
	if err != nil {
		return r.fileProblem(sub, "", err)
	}
	defer f.Close()
	sub.Format = f.Format()
	tables := 0
	for _, sheet := range f.Sheets() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if sheet.Hidden && sheet.Name == workbook.TemplateListsSheet {
			sub.Report.Infof(report.SheetIgnored, sheet.Name, 0, 0, "sheet %q holds the drop-down lists of the pledgestat template; not read", sheet.Name)
			continue
		}
		if sheet.Hidden {
			sub.Report.Warnf(report.HiddenSheet, sheet.Name, 0, 0, "sheet %q is hidden, so it was not read; unhide it if it holds data to submit", sheet.Name)
			continue
		}
		found, err := r.readSheet(ctx, f, sheet, sub)
		if err != nil {
			return r.fileProblem(sub, sheet.Name, err)
		}
		if found {
			tables++
		}
	}
	if tables == 0 && !sub.Report.HasErrors() {
		sub.Report.Errorf(report.NoTable, "", 0, 0, "no sheet has a table of ratifications, social-protection coverage or labour migration agreements: no row in the first %d rows of any sheet holds the required headers (e.g. country, instrument, ratification date; or country, year, value; or title, type, origin, destination, date signed)", HeaderSearchRows)
	}
	return nil
}

// fileProblem turns a *workbook.Problem into a report entry and passes
// other errors up.
func (r *Reader) fileProblem(sub *Submission, sheet string, err error) error {
	var p *workbook.Problem
	if errors.As(err, &p) {
		sub.Report.Errorf(p.Code, sheet, 0, 0, "%s", p.Message)
		return nil
	}
	return err
}

// hashChunk is the most of a file hashSource holds at once; a file no
// larger is read whole and its bytes returned.
const hashChunk = 1 << 20

// hashSource computes the SHA-256 of the whole content, checking ctx
// between chunks. A file of at most hashChunk bytes is read in one piece,
// which it returns as whole.
func hashSource(ctx context.Context, src workbook.Source) (sum string, whole []byte, err error) {
	h := sha256.New()
	// Sized to the file: most are a few kilobytes, and clearing a
	// megabyte for each was 5% of a run over 600 small files.
	buf := make([]byte, min(hashChunk, max(src.Size, 1)))
	for off := int64(0); off < src.Size; {
		if err := ctx.Err(); err != nil {
			return "", nil, err
		}
		n, err := src.R.ReadAt(buf[:min(int64(len(buf)), src.Size-off)], off)
		h.Write(buf[:n])
		off += int64(n)
		if err != nil && !(errors.Is(err, io.EOF) && off == src.Size) {
			return "", nil, fmt.Errorf("read %s: %w", src.Name, err)
		}
	}
	if src.Size <= hashChunk {
		whole = buf[:src.Size]
	}
	return hex.EncodeToString(h.Sum(nil)), whole, nil
}

var yearSheet = regexp.MustCompile(`^\s*(19[9][0-9]|20[0-9][0-9]|2100)\s*$`)

// readSheet streams one sheet: it buffers the first rows to find the
// header, then hands every later row to the table reader.
func (r *Reader) readSheet(ctx context.Context, f workbook.File, sheet workbook.Sheet, sub *Submission) (bool, error) {
	sheetYear := 0
	if m := yearSheet.FindStringSubmatch(sheet.Name); m != nil {
		sheetYear, _ = values.IsYearHeader(m[1])
	}
	var buffered []workbook.Row
	var t *table
	start := func() {
		h, ok := r.findHeader(buffered, sheetYear)
		if !ok {
			return
		}
		t = r.newTable(sheet.Name, h, f.Date1904(), sub)
		for _, row := range buffered {
			if row.Num > h.row {
				t.add(row)
			}
		}
	}
	started := false
	err := f.Walk(ctx, sheet.Name, func(row workbook.Row) error {
		if !started {
			if row.Num <= HeaderSearchRows {
				buffered = append(buffered, row)
				return nil
			}
			started = true
			start()
			if t == nil {
				return errNoTable
			}
		}
		t.add(row)
		return sub.cov.err // the sink failed: stop reading
	})
	if errors.Is(err, errNoTable) {
		err = nil
	}
	var uncached *workbook.UncachedFormulas
	if errors.As(err, &uncached) {
		err = nil
	}
	if err != nil {
		return false, err
	}
	if !started {
		start()
	}
	if t == nil {
		if len(buffered) > 0 || started {
			sub.Report.Infof(report.SheetIgnored, sheet.Name, 0, 0, "sheet %q holds no table of a known domain, so it was not read (instructions, notes and lookups are fine)", sheet.Name)
		}
		if uncached != nil {
			sub.Report.Warnf(report.Unreadable, sheet.Name, 0, 0, "sheet %q has %d formulas whose results were never calculated, so they read as empty; if its table was not found because of them, open the workbook in Excel or LibreOffice and save it", sheet.Name, uncached.Count)
		}
		return false, nil
	}
	if uncached != nil {
		t.uncachedFormulas(uncached)
	}
	t.finish()
	return true, nil
}

// uncachedFormulas reports the formula cells of a table's sheet whose
// result was never calculated: read as empty, they would drop or blank
// rows without a word.
func (t *table) uncachedFormulas(u *workbook.UncachedFormulas) {
	const why = "the cell holds a formula whose result was never calculated (the file was written by a program and never saved by a spreadsheet program), so its value cannot be read; open the workbook in Excel or LibreOffice and save it, which stores the results"
	for _, c := range u.Cells {
		t.rep.Errorf(report.Unreadable, t.sheet, c.Col, c.Row, "%s", why)
	}
	if more := u.Count - len(u.Cells); more > 0 {
		t.rep.Errorf(report.Unreadable, t.sheet, 0, 0, "%d more formula cells of sheet %q have no calculated result; %s", more, t.sheet, strings.TrimPrefix(why, "the cell holds a formula whose result was never calculated "))
	}
}

var errNoTable = errors.New("no table in the first rows")

// findHeader picks the header row: the first row holding every required
// column of a domain; failing that, the row holding the most required
// columns of one domain (at least two), whose absent columns are reported.
func (r *Reader) findHeader(rows []workbook.Row, sheetYear int) (header, bool) {
	var best header
	bestFound := 1
	for _, row := range rows {
		var complete []header
		for _, spec := range r.specs {
			h := matchHeader(spec, row, sheetYear)
			if len(h.missing) == 0 {
				complete = append(complete, h)
				continue
			}
			if n := h.requiredFound(); n > bestFound {
				best, bestFound = h, n
			}
		}
		if len(complete) > 0 {
			pick := complete[0]
			for _, h := range complete[1:] {
				if len(h.columns)+len(h.years) > len(pick.columns)+len(pick.years) {
					pick = h
				}
			}
			return pick, true
		}
	}
	return best, bestFound >= 2
}

// table reads the data rows under a header.
type table struct {
	r        *Reader
	sheet    string
	h        header
	date1904 bool
	sub      *Submission
	rep      *report.Report
	ended    bool
	endedAt  int  // the row of the note that ended the table
	dataLost bool // a row below that note looked like data (warned once)
	records  int
	reader   rowReader
	unheaded map[int]bool // workbook columns right of the header with values, reported once
	width    int          // the header's last column with text
	// Parsed vocabularies and countries, per column: the same texts repeat
	// on every row.
	countries memo[refdata.Country]
	codes     map[string]*memo[string]
}

// memo remembers what texts parse to. Only successes are kept, so a
// problem is reported for each cell as it always is; it stops growing at
// maxMemo texts (a column of free text gains nothing from it).
type memo[T any] struct {
	m map[string]T
	// last is the text last found or put, and what it parses to: a
	// column sorted or grouped by it repeats it row after row, and
	// comparing with it is cheaper than hashing.
	last    string
	lastV   T
	hasLast bool
}

const maxMemo = 4096

func (m *memo[T]) get(text string) (T, bool) {
	if m.hasLast && text == m.last {
		return m.lastV, true
	}
	v, ok := m.m[text]
	if ok {
		m.last, m.lastV, m.hasLast = text, v, true
	}
	return v, ok
}

func (m *memo[T]) put(text string, v T) {
	if m.m == nil {
		m.m = map[string]T{}
	}
	if len(m.m) < maxMemo {
		m.m[text] = v
	}
	m.last, m.lastV, m.hasLast = text, v, true
}

// code parses a vocabulary cell (series, sex, population...) with parse,
// once per distinct text of the column.
func (t *table) code(name, text string, parse func(string) (string, *values.Problem)) (string, *values.Problem) {
	m := t.codes[name]
	if m == nil {
		if t.codes == nil {
			t.codes = map[string]*memo[string]{}
		}
		m = &memo[string]{}
		t.codes[name] = m
	}
	if v, ok := m.get(text); ok {
		return v, nil
	}
	v, p := parse(text)
	if p == nil {
		m.put(text, v)
	}
	return v, p
}

// rowReader is the domain-specific part of a table.
type rowReader interface {
	read(t *table, row workbook.Row)
	finish(t *table)
}

func (r *Reader) newTable(sheet string, h header, date1904 bool, sub *Submission) *table {
	t := &table{r: r, sheet: sheet, h: h, date1904: date1904, sub: sub, rep: sub.Report, width: h.lastCol()}
	for _, col := range sortedCols(h.ignored) {
		hint := ""
		if header, column, ok := closestHeader(h.spec, h.ignored[col]); ok {
			hint = fmt.Sprintf("; if it holds the %s column, name it %s", column, report.Quote(header))
		}
		t.rep.Warnf(report.UnknownColumn, sheet, col, h.row, "column header %s is not a %s column, so the column was not read%s", report.Quote(h.ignored[col]), strings.ReplaceAll(string(h.spec.domain), "_", " "), hint)
	}
	for _, col := range sortedCols(h.shadowed) {
		if h.spec.domain == records.DomainSocialProtection && textnorm.Key(h.shadowed[col]) == "indicator" {
			t.rep.Infof(report.UnknownColumn, sheet, col, h.row, "column %s holds the dataset code (ILOSTAT layout); the series is read from classif1", report.Quote(h.shadowed[col]))
			continue
		}
		t.rep.Warnf(report.UnknownColumn, sheet, col, h.row, "column header %s names a column that another header already gives, so this column was not read", report.Quote(h.shadowed[col]))
	}
	for _, name := range h.missing {
		t.rep.Errorf(report.MissingColumn, sheet, 0, h.row, "the %s table whose header is on row %d has no %s column; add it with one of these headers: %s", strings.ReplaceAll(string(h.spec.domain), "_", " "), h.row, name, acceptedHeaders(h.spec, name))
	}
	t.reader = h.spec.newReader()
	return t
}

// acceptedHeaders lists the headers that name a missing column, for
// messages; "origin and destination, or parties" lists all three.
// closestHeader returns the accepted header nearest to an unknown one
// ("Remarques" → "remarks", of the note column), when it is near enough
// to be a variant or a typing error: an edit distance of at most a third
// of its length, compared as textnorm keys.
func closestHeader(spec domainSpec, text string) (header, column string, ok bool) {
	key := textnorm.Key(text)
	if len(key) < 3 {
		return "", "", false
	}
	best := len(key)/3 + 1 // one more than the farthest taken
	for _, c := range spec.columns {
		for _, hd := range c.headers {
			if d := textnorm.EditDistance(key, textnorm.Key(hd), best-1); d < best {
				best, header, column = d, hd, c.name
			}
		}
	}
	return header, column, header != ""
}

func acceptedHeaders(spec domainSpec, missing string) string {
	wanted := []string{missing}
	if strings.Contains(missing, "parties") {
		wanted = []string{"origin", "destination", "parties"}
	}
	var names []string
	for _, w := range wanted {
		for _, c := range spec.columns {
			if c.name == w {
				names = append(names, c.headers...)
			}
		}
	}
	return strings.Join(names, ", ")
}

func sortedCols(m map[int]string) []int { return slices.Sorted(maps.Keys(m)) }

// add takes one row below the header.
func (t *table) add(row workbook.Row) {
	if t.ended {
		if text := rowText(row); text != "" {
			t.rep.Notes = append(t.rep.Notes, text)
		}
		// The note ends the table (inputs.md), but a row below it that
		// has what a record needs is most likely data put after a note
		// by mistake: say so rather than drop it silently.
		if !t.dataLost && t.looksLikeRecord(row) {
			t.dataLost = true
			t.rep.Warnf(report.Inconsistent, t.sheet, 0, row.Num, "row %d looks like a record but comes after the note on row %d, which ends the table, so it was not read; if it is data, move the note below the last row", row.Num, t.endedAt)
		}
		return
	}
	if t.blank(row) {
		return
	}
	if note, ok := t.footnote(row); ok {
		t.ended, t.endedAt = true, row.Num
		t.rep.Notes = append(t.rep.Notes, note)
		t.rep.Infof(report.FileNote, t.sheet, 0, row.Num, "row %d ends the table (a note below it): %s", row.Num, report.Quote(note))
		return
	}
	t.beyondHeader(row)
	t.reader.read(t, row)
}

// beyondHeader reports values to the right of the header's last column,
// which no column reads. In a CSV file they are extra fields: a delimiter
// inside an unquoted value, or a row shifted, so the row is an error. In a
// workbook they are a column without a header: a warning, once per column.
func (t *table) beyondHeader(row workbook.Row) {
	last := t.width
	for i := last; i < len(row.Cells); i++ {
		text := strings.TrimSpace(row.Cells[i].Text)
		if text == "" {
			continue
		}
		col := i + 1
		if t.sub.Format == workbook.FormatCSV {
			t.rep.Errorf(report.BadValue, t.sheet, col, row.Num, "line %d has a value in field %d (%s) but the header line has only %d fields, so it belongs to no column; quote values that contain the delimiter, or remove the extra field", row.Num, col, report.Quote(text), last)
			return
		}
		if t.unheaded == nil {
			t.unheaded = map[int]bool{}
		}
		if !t.unheaded[col] {
			t.unheaded[col] = true
			t.rep.Warnf(report.UnknownColumn, t.sheet, col, row.Num, "column %s has values (the first here: %s) but no header on row %d, so it was not read; give it a header if it holds data to submit", report.ColumnLetter(col), report.Quote(text), t.h.row)
		}
	}
}

// looksLikeRecord reports whether a row has what a record of the table's
// domain needs (its spec's isRecord).
func (t *table) looksLikeRecord(row workbook.Row) bool {
	filled := func(names ...string) bool {
		for _, n := range names {
			if col, ok := t.h.columns[n]; ok && textnorm.Clean(row.Cell(col).Text) != "" {
				return true
			}
		}
		return false
	}
	yearFilled := false
	for col := range t.h.years {
		yearFilled = yearFilled || textnorm.Clean(row.Cell(col).Text) != ""
	}
	return t.h.spec.isRecord(t.h, filled, yearFilled)
}

// blank reports whether none of the table's columns has a value.
func (t *table) blank(row workbook.Row) bool {
	for _, col := range t.h.columns {
		if textnorm.Clean(row.Cell(col).Text) != "" {
			return false
		}
	}
	for col := range t.h.years {
		if textnorm.Clean(row.Cell(col).Text) != "" {
			return false
		}
	}
	return true
}

var noteWords = map[string]bool{"source": true, "sources": true, "note": true, "notes": true, "nota": true, "notas": true, "fuente": true, "fuentes": true, "remarque": true, "remarques": true}

// footnote recognises a row that ends the table: its only non-empty cells
// are in the first two columns and start with Source, Note, Nota, Fuente,
// Remarque or "*".
func (t *table) footnote(row workbook.Row) (string, bool) {
	var texts []string
	for i, c := range row.Cells {
		text := textnorm.Clean(c.Text)
		if text == "" {
			continue
		}
		col := i + 1
		if col > 2 && col > t.h.firstCol+1 {
			return "", false
		}
		texts = append(texts, text)
	}
	if len(texts) == 0 {
		return "", false
	}
	first := texts[0]
	words := textnorm.Words(first)
	if strings.HasPrefix(first, "*") || (len(words) > 0 && noteWords[words[0]]) {
		return strings.Join(texts, " "), true
	}
	return "", false
}

func rowText(row workbook.Row) string {
	var texts []string
	for _, c := range row.Cells {
		if s := textnorm.Clean(c.Text); s != "" {
			texts = append(texts, s)
		}
	}
	return strings.Join(texts, " ")
}

// finish lets the domain reader settle its columns and emit records, then
// reports what was read.
func (t *table) finish() {
	t.reader.finish(t)
	// The table's last observations are checked for repeats now: its
	// count of records is reported below.
	t.sub.cov.settle()
	what := "records"
	if t.records == 1 {
		what = "record"
	}
	t.rep.Infof(report.TableRead, t.sheet, 0, t.h.row, "%s table with its header on row %d: %d %s without error", strings.ReplaceAll(string(t.h.spec.domain), "_", " "), t.h.row, t.records, what)
}

// field is one cell of a row under a named column.
type field struct {
	cell   workbook.Cell
	text   string // cleaned text: trimmed, inner runs of spaces folded
	raw    string // trimmed only: free text is kept verbatim
	col    int    // 0 when the table has no such column
	header string // the header as written, for messages
}

func (f field) present() bool { return f.col > 0 }

func (t *table) field(row workbook.Row, name string) field {
	return t.fieldAt(row, t.column(name))
}

// fieldColumn is where a named field of a table's rows is. A reader of many
// rows finds its columns once: finding them by name was two map lookups
// a field, nine fields a row.
type fieldColumn struct {
	col    int    // 0 when the table has no such column
	header string // the header as written, for messages
}

// column finds the column of a field.
func (t *table) column(name string) fieldColumn {
	col, ok := t.h.columns[name]
	if !ok {
		return fieldColumn{}
	}
	header := t.h.texts[col]
	if header == "" {
		header = name
	}
	return fieldColumn{col: col, header: header}
}

// fieldAt is the field of a row in column c.
func (t *table) fieldAt(row workbook.Row, c fieldColumn) field {
	if c.col <= 0 {
		return field{}
	}
	cell := row.Cell(c.col)
	f := field{cell: cell, text: cell.Text, raw: cell.Text, col: c.col, header: c.header}
	// Most cells are clean already, and both readings are the text.
	if f.text != "" && !textnorm.IsClean(f.text) {
		f.text, f.raw = textnorm.Clean(cell.Text), strings.TrimSpace(cell.Text)
	}
	return f
}

// errorAt reports an error on a field's cell; the message is prefixed with
// the column it is in. A field whose column the table lacks gets nothing:
// the missing column is reported once, on the header.
func (t *table) errorAt(row int, f field, p *values.Problem) {
	if !f.present() {
		return
	}
	t.rep.Errorf(p.Code, t.sheet, f.col, row, "%s: %s", f.header, p.Message)
}

// provenance of a record read from a row.
func (t *table) provenance(row int) records.Provenance {
	return t.sourceAt(cellRef(max(t.h.firstCol, 1), row))
}

// sourceAt is the provenance of a record whose row starts at cell.
func (t *table) sourceAt(cell string) records.Provenance {
	return records.Provenance{File: t.sub.Name, Sheet: t.sheet, Cell: cell, SHA256: t.sub.SHA256}
}

func cellRef(col, row int) string {
	if col <= 0 {
		return ""
	}
	var buf [16]byte
	return string(appendCellRef(buf[:0], col, row))
}

// appendCellRef appends the A1 reference of a cell to dst.
func appendCellRef(dst []byte, col, row int) []byte {
	var letters [8]byte
	i := len(letters)
	for col > 0 {
		col--
		i--
		letters[i] = byte('A' + col%26)
		col /= 26
	}
	return strconv.AppendInt(append(dst, letters[i:]...), int64(row), 10)
}

// rowCellRefs are the references of a row's first cell and of its value
// cell, made in one allocation: two a row were a tenth of reading a
// million-row CSV file's rows.
func rowCellRefs(firstCol, valueCol, row int) (first, value string) {
	var buf [32]byte
	b := appendCellRef(buf[:0], firstCol, row)
	n := len(b)
	if valueCol > 0 {
		b = appendCellRef(b, valueCol, row)
	}
	s := string(b)
	return s[:n], s[n:]
}

func itoa(n int) string { return strconv.Itoa(n) }

// rowNum extracts the row number of an A1 reference.
func rowNum(cell string) int {
	i := strings.IndexFunc(cell, unicode.IsDigit)
	if i < 0 {
		return 0
	}
	n, _ := strconv.Atoi(cell[i:])
	return n
}

// duplicate reports two rows with the same record key and different values,
// on both rows (inputs.md, "record keys").
func (t *table) duplicate(first, second int, what, diff string) {
	msg := "rows %d and %d both give the record %s with different values (%s); keep only the right one"
	t.rep.Errorf(report.DuplicateRecord, t.sheet, t.h.firstCol, first, msg, first, second, what, diff)
	t.rep.Errorf(report.DuplicateRecord, t.sheet, t.h.firstCol, second, msg, first, second, what, diff)
}

// differences describes how two versions of a record differ:
// "ratification_date 2019-03-04 / 2020-03-04".
func differences(pairs ...[3]string) string {
	var out []string
	for _, p := range pairs {
		if p[1] != p[2] {
			a, b := p[1], p[2]
			if a == "" {
				a = "(empty)"
			}
			if b == "" {
				b = "(empty)"
			}
			out = append(out, p[0]+" "+a+" / "+b)
		}
	}
	return strings.Join(out, "; ")
}

// future reports a date after today: a ratification registered or an
// agreement signed in the future is a typing error.
func (t *table) future(d records.Date) bool {
	// Today in UTC, like every date pledgestat records: a machine whose
	// zone is already in tomorrow must not accept tomorrow's date.
	now := t.r.now().UTC()
	return d > records.DateOf(now.Year(), now.Month(), now.Day())
}

// missingCountry reports a missing-value marker in a country cell, where
// "NA" (any case) is Namibia's code, not a marker (inputs.md).
func missingCountry(text string) bool {
	return values.Missing(text) && !strings.EqualFold(strings.TrimSpace(text), "na")
}

// country reads a country cell. "NA" is Namibia, every other missing
// marker is a missing value.
func (t *table) country(row int, f field) (refdata.Country, bool) {
	if missingCountry(f.text) {
		t.errorAt(row, f, &values.Problem{Code: report.MissingValue, Message: "the country is missing; expected an ISO code or a country name"})
		return refdata.Country{}, false
	}
	if c, ok := t.countries.get(f.text); ok {
		return c, true
	}
	c, ok := t.r.ref.Countries().Lookup(f.text)
	if !ok {
		t.errorAt(row, f, t.unknownCountry(f.text))
		return refdata.Country{}, false
	}
	t.countries.put(f.text, c)
	return c, true
}

func (t *table) unknownCountry(text string) *values.Problem {
	msg := fmt.Sprintf("%s is not a known country or territory; expected an ISO 3166 code or an English, French or Spanish name", report.Quote(text))
	if s := t.r.ref.Countries().Suggest(text, 3); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, ", ") + "?"
	}
	return &values.Problem{Code: report.UnknownCountry, Message: msg}
}

// Unreadable returns the submission of a file that is rejected without
// being read (it stopped earlier runs): its hash and one unreadable entry.
func Unreadable(ctx context.Context, src workbook.Source, name, message string) (*Submission, error) {
	sub := &Submission{Name: name, Report: report.New(name)}
	sum, _, err := hashSource(ctx, src)
	if err != nil {
		return nil, err
	}
	sub.SHA256, sub.Size = sum, src.Size
	sub.Report.Errorf(report.Unreadable, "", 0, 0, "%s", message)
	return sub, nil
}
