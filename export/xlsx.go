package export

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
	"github.com/ilo-pledge/pledgestat/internal/safego"
	"github.com/ilo-pledge/pledgestat/refdata"
)

// WorkbookInfo is what the README sheet tells about a run.
type WorkbookInfo struct {
	RunID          string
	StartedAt      time.Time
	ToolVersion    string
	FirstYear      int
	LastYear       int
	Inputs         []ManifestInput
	Catalog        *refdata.Catalog
	ReferenceFiles []refdata.Source
}

// chartRows is the height of a chart, in rows, on its pledge sheet.
const chartRows = 16

// workbook holds the styles of one indicators.xlsx.
type workbook struct {
	ctx                                    context.Context
	f                                      *excelize.File
	header, title, bold, wrap, text, count int
	decimal, year                          int
	// splice puts the pledge sheets' rows into their parts.
	splice *rowSplicer
}

// WriteWorkbook writes indicators.xlsx: a README sheet, then one sheet per
// commitment and pledge (C1, C2, P1 ... P8) with the indicator rows, a
// frozen header row, filters, number formats and a line chart of each
// indicator's world series. It checks ctx as it writes rows.
func WriteWorkbook(ctx context.Context, w io.Writer, batch arrow.RecordBatch, info WorkbookInfo) error {
	f := excelize.NewFile()
	defer f.Close()
	splice, err := newRowSplicer()
	if err != nil {
		return err
	}
	f.SetZipWriter(workbookZip(runtime.GOMAXPROCS(0), splice))
	wb := &workbook{f: f, ctx: ctx, splice: splice}
	if err := wb.styles(); err != nil {
		return err
	}
	rows, err := readIndicatorRows(batch)
	if err != nil {
		return err
	}
	if err := f.SetSheetName("Sheet1", "README"); err != nil {
		return fmt.Errorf("workbook: %w", err)
	}
	byPledge := map[string][]indicatorRow{}
	for _, r := range rows {
		byPledge[r.pledge] = append(byPledge[r.pledge], r)
	}
	for _, p := range info.Catalog.Pledges {
		if _, err := f.NewSheet(p.Code); err != nil {
			return fmt.Errorf("sheet %s: %w", p.Code, err)
		}
	}
	if _, err := f.NewSheet(chartDataSheet); err != nil {
		return fmt.Errorf("sheet %s: %w", chartDataSheet, err)
	}
	// Anything that touches every sheet (visibility, the active tab) must
	// come before the first stream writer: a streamed sheet's views are
	// written when it starts, and once flushed it would be loaded back
	// into memory.
	if err := f.SetSheetVisible(chartDataSheet, false); err != nil {
		return fmt.Errorf("sheet %s: %w", chartDataSheet, err)
	}
	f.SetActiveSheet(0)
	readme, err := wb.readme(info)
	if err != nil {
		return fmt.Errorf("README sheet: %w", err)
	}
	if err := f.SetCellValue(chartDataSheet, "A1", "World series plotted by the charts of the pledge sheets"); err != nil {
		return fmt.Errorf("sheet %s: %w", chartDataSheet, err)
	}
	blocks := map[string][]*worldSeries{}
	// Its title is A1; the blocks start on row 3.
	chartData := &sheetWriter{f: f, sheet: chartDataSheet, row: 3, cols: 1}
	for _, p := range info.Catalog.Pledges {
		blocks[p.Code] = collectWorldSeries(byPledge[p.Code])
		writeChartData(chartData, blocks[p.Code])
	}
	chartData.setDimension()
	if chartData.err != nil {
		return fmt.Errorf("sheet %s: %w", chartDataSheet, chartData.err)
	}
	sheets := []*streamedSheet{readme}
	for _, p := range info.Catalog.Pledges {
		ps, err := wb.startPledgeSheet(p, byPledge[p.Code], batch, blocks[p.Code])
		if err != nil {
			return fmt.Errorf("sheet %s: %w", p.Code, err)
		}
		sheets = append(sheets, &streamedSheet{name: ps.code, sw: ps.sw, rows: len(ps.rows), stream: ps.streamRows})
	}
	if err := streamSheets(ctx, sheets); err != nil {
		return err
	}
	for _, s := range sheets {
		if err := s.sw.Flush(); err != nil {
			return fmt.Errorf("sheet %s: %w", s.name, err)
		}
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return nil
}

func (wb *workbook) styles() error {
	var err error
	mk := func(s *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = wb.f.NewStyle(s)
		return id
	}
	wb.header = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "FFFFFF"}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"1E2DBE"}}, Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}})
	wb.title = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14, Color: "1E2DBE"}})
	wb.bold = mk(&excelize.Style{Font: &excelize.Font{Bold: true}})
	wb.wrap = mk(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	wb.text = mk(&excelize.Style{NumFmt: 49})
	wb.count = mk(&excelize.Style{NumFmt: 1})
	wb.decimal = mk(&excelize.Style{CustomNumFmt: ptr("0.0##")})
	if err != nil {
		return fmt.Errorf("workbook styles: %w", err)
	}
	// Text from users is shown as text even if it begins with "=": mark
	// the text style quotePrefix, Excel's own "this is text" flag.
	if xfs := wb.f.Styles.CellXfs; xfs != nil && wb.text < len(xfs.Xf) {
		t := true
		xfs.Xf[wb.text].QuotePrefix = &t
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// sheetWriter writes cells of one sheet with excelize's cell API and
// keeps the first error, so that a long run of calls is checked once at
// the end without any being ignored.
type sheetWriter struct {
	f     *excelize.File
	sheet string
	row   int
	cols  int // the most values put on a row
	last  int // the last row put
	err   error
}

// put writes values on the next row.
func (sw *sheetWriter) put(values ...any) {
	if sw.err != nil {
		return
	}
	sw.cols = max(sw.cols, len(values))
	sw.last = sw.row
	cell, err := excelize.CoordinatesToCellName(1, sw.row)
	if err == nil {
		err = sw.f.SetSheetRow(sw.sheet, cell, &values)
	}
	sw.err = err
	sw.row++
}

// setDimension records the used range, A1 to the last row and column
// written: excelize leaves it at A1, and readers that trust it (openpyxl
// in read-only mode) would see one row.
func (sw *sheetWriter) setDimension() {
	if sw.err == nil {
		sw.err = sw.f.SetSheetDimension(sw.sheet, "A1:"+cellName(max(sw.cols, 1), max(sw.last, 1)))
	}
}

// readme starts the README sheet: its lines are made here and streamed
// with the pledge sheets, because it lists every accepted input, a row
// per submission of the store, and excelize's cell API would hold them as
// cells and marshal them again when the workbook is written.
func (wb *workbook) readme(info WorkbookInfo) (*streamedSheet, error) {
	s := sheetLines{next: 1}
	s.put("pledgestat: indicators of the ILO pledge to the International Migration Review Forum 2022")
	s.style(1, wb.title)
	s.skip()
	for _, kv := range [][2]string{
		{"Run", info.RunID},
		{"Started (UTC)", info.StartedAt.UTC().Format(time.RFC3339)},
		{"Tool version", info.ToolVersion},
		{"Catalog version", info.Catalog.Version},
		{"Years", fmt.Sprintf("%d to %d", info.FirstYear, info.LastYear)},
	} {
		s.put(kv[0], kv[1])
		s.style(1, wb.bold)
	}
	s.skip()
	s.put("Sheets")
	s.style(1, wb.bold)
	for _, p := range info.Catalog.Pledges {
		s.put(p.Code, p.Name)
	}
	s.skip()
	s.put("Footnote")
	s.style(1, wb.bold)
	s.put("XKX", refdata.KosovoFootnote)
	s.skip()
	s.put("Definitions")
	s.style(1, wb.bold)
	s.put("id", "pledge", "name", "unit", "type", "definition")
	s.style(6, wb.header)
	for _, ind := range info.Catalog.Indicators {
		s.put(ind.ID, ind.Pledge, ind.Name, ind.Unit, ind.Type, ind.Definition)
	}
	s.skip()
	s.put("Sources: input files accepted")
	s.style(1, wb.bold)
	s.put("file", "sha256", "rows", "submission", "accepted (UTC)")
	s.style(5, wb.header)
	for _, in := range info.Inputs {
		s.put(in.Name, in.SHA256, in.Rows, in.Submission, in.AcceptedAt.UTC().Format(time.RFC3339))
		s.style(1, wb.text)
	}
	if len(info.Inputs) == 0 {
		s.put("(none yet)")
	}
	s.skip()
	s.put("Sources: reference data")
	s.style(1, wb.bold)
	for _, src := range info.ReferenceFiles {
		s.put(src.File, src.Source, src.AsOf)
	}
	const sheet = "README"
	if err := wb.f.SetSheetDimension(sheet, "A1:"+cellName(max(s.cols, 1), max(s.last(), 1))); err != nil {
		return nil, err
	}
	sw, err := wb.f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	for _, w := range []struct {
		col   int
		width float64
	}{{1, 24}, {2, 40}, {3, 60}, {6, 100}} {
		if err := sw.SetColWidth(w.col, w.col, w.width); err != nil {
			return nil, err
		}
	}
	// Its first line is streamed by excelize; the rest, from the empty
	// row 2 on, stand in for a placeholder there until the workbook is
	// written (rowSplicer): a store of 10,000 submissions lists 10,000.
	ctx := wb.ctx
	placeholder := wb.splice.placeholder(sheet, func(w io.Writer) error { return s.writeRows(ctx, w, 2) })
	stream := func(context.Context) error {
		for _, l := range s.lines {
			if l.row >= 2 {
				break
			}
			if err := sw.SetRow(cellName(1, l.row), l.cells); err != nil {
				return err
			}
		}
		return sw.SetRow("A2", []any{placeholder})
	}
	return &streamedSheet{name: sheet, sw: sw, rows: len(s.lines), stream: stream}, nil
}

// sheetLines are the rows of a sheet made before it is streamed.
type sheetLines struct {
	next  int // the row the next line goes on (rows count from 1)
	cols  int // the most cells on a line
	lines []sheetLine
}

// sheetLine is one row's cells: values, or excelize.Cell for a styled one.
type sheetLine struct {
	row   int
	cells []any
}

// put adds a line of values on the next row.
func (s *sheetLines) put(values ...any) {
	s.lines = append(s.lines, sheetLine{row: s.next, cells: values})
	s.cols = max(s.cols, len(values))
	s.next++
}

// skip leaves the next row empty.
func (s *sheetLines) skip() { s.next++ }

// last is the last row with a line, 0 if none.
func (s *sheetLines) last() int {
	if len(s.lines) == 0 {
		return 0
	}
	return s.lines[len(s.lines)-1].row
}

// style gives the first n cells of the last line the style, empty ones
// included (a header's fill runs across its columns).
func (s *sheetLines) style(n, style int) {
	l := &s.lines[len(s.lines)-1]
	for i := range n {
		if i == len(l.cells) {
			l.cells = append(l.cells, nil)
		}
		l.cells[i] = excelize.Cell{StyleID: style, Value: l.cells[i]}
	}
}

// writeRows writes the lines from row from on, in the XML of excelize's
// stream writer, 64 KiB at a time, checking ctx before each write.
func (s *sheetLines) writeRows(ctx context.Context, w io.Writer, from int) error {
	cw := newCellWriter(s.cols)
	for i, l := range s.lines {
		if l.row >= from {
			cw.startRow(l.row)
			for c, v := range l.cells {
				if err := cw.anyCell(c, l.row, v); err != nil {
					return err
				}
			}
			cw.endRow()
		}
		if err := cw.flush(ctx, w, i == len(s.lines)-1); err != nil {
			return err
		}
	}
	return nil
}

// indicatorRow is one row of the indicators table, as the workbook needs it.
type indicatorRow struct {
	index               int
	pledge, id, name    string
	area, areaType, sex string
	instrument, unit    string
	year                int
	value               float64
}

func readIndicatorRows(b arrow.RecordBatch) ([]indicatorRow, error) {
	cols, err := arrowcol.All(b, "pledge", "indicator_id", "indicator_name", "ref_area", "ref_area_type", "sex", "instrument", "unit", "time_period", "value")
	if err != nil {
		return nil, fmt.Errorf("indicators table: %w", err)
	}
	str := func(c, r int) string {
		a := cols[c].(*array.String)
		if a.IsNull(r) {
			return ""
		}
		return a.Value(r)
	}
	out := make([]indicatorRow, b.NumRows())
	for r := range out {
		out[r] = indicatorRow{index: r, pledge: str(0, r), id: str(1, r), name: str(2, r), area: str(3, r), areaType: str(4, r),
			sex: str(5, r), instrument: str(6, r), unit: str(7, r),
			year: int(cols[8].(*array.Int32).Value(r)), value: cols[9].(*array.Float64).Value(r)}
	}
	return out, nil
}

// chartDataSheet holds each indicator's world series, which the charts
// plot: a hidden sheet, so that the pledge sheets can be streamed.
const chartDataSheet = "chart_data"

// worldSeries is one indicator's world values by year, one series per
// instrument or sex.
type worldSeries struct {
	id, name string
	years    []int
	series   []seriesKey
	values   map[seriesKey]map[int]float64
	// where the series sit on the chart data sheet
	top int
}

type seriesKey struct{ instrument, sex string }

func collectWorldSeries(rows []indicatorRow) []*worldSeries {
	var out []*worldSeries
	byID := map[string]*worldSeries{}
	for _, r := range rows {
		if r.areaType != string(refdata.AreaWorld) {
			continue
		}
		b := byID[r.id]
		if b == nil {
			b = &worldSeries{id: r.id, name: r.name, values: map[seriesKey]map[int]float64{}}
			byID[r.id] = b
			out = append(out, b)
		}
		k := seriesKey{r.instrument, r.sex}
		if b.values[k] == nil {
			b.values[k] = map[int]float64{}
			b.series = append(b.series, k)
		}
		b.values[k][r.year] = r.value
	}
	for _, b := range out {
		years := map[int]bool{}
		for _, vals := range b.values {
			for y := range vals {
				years[y] = true
			}
		}
		for y := range years {
			b.years = append(b.years, y)
		}
		sort.Ints(b.years)
		sort.Slice(b.series, func(i, j int) bool {
			return b.series[i].instrument+b.series[i].sex < b.series[j].instrument+b.series[j].sex
		})
	}
	return out
}

// writeChartData writes the series of every indicator, one block under the
// other, on the chart data sheet, from sw's next row.
func writeChartData(sw *sheetWriter, blocks []*worldSeries) {
	for _, b := range blocks {
		b.top = sw.row
		head := []any{b.id + " world"}
		for _, s := range b.series {
			head = append(head, seriesLabel(s.instrument, s.sex))
		}
		sw.put(head...)
		for _, y := range b.years {
			line := []any{y}
			for _, s := range b.series {
				if v, ok := b.values[s][y]; ok {
					line = append(line, v)
				} else {
					line = append(line, nil)
				}
			}
			sw.put(line...)
		}
		sw.row++
	}
}

// pledgeSheet is one pledge's sheet, started and waiting for its rows.
type pledgeSheet struct {
	code string
	sw   *excelize.StreamWriter
	rows []indicatorRow
	cols []arrow.Array
	// styles are the cells' styles by column; the value column's depends
	// on the row's unit (valueCol, -1 if the table has none).
	styles                   []int
	valueCol                 int
	decimalStyle, countStyle int
	// placeholder is the text of the row the sheet's rows replace when
	// the workbook is written (rowSplicer).
	placeholder string
}

// startPledgeSheet adds one pledge's charts and filter, with the normal
// API, and starts streaming its sheet: widths, frozen header row and the
// header. Everything that touches the workbook is done here, one sheet
// after another; the rows are then streamed, so memory does not grow with
// the table, and each sheet's only by its own stream writer.
func (wb *workbook) startPledgeSheet(p refdata.Pledge, rows []indicatorRow, batch arrow.RecordBatch, blocks []*worldSeries) (*pledgeSheet, error) {
	f := wb.f
	sheet := p.Code
	schema := batch.Schema()
	ncol := schema.NumFields()
	for i, b := range blocks {
		if err := f.AddChart(sheet, cellName(ncol+2, 1+i*chartRows), wb.chart(b)); err != nil {
			return nil, fmt.Errorf("chart of %s: %w", b.id, err)
		}
	}
	if len(rows) > 0 {
		if err := f.AutoFilter(sheet, "A1:"+cellName(ncol, len(rows)+1), nil); err != nil {
			return nil, err
		}
	}
	// The used range, which the stream writer does not write: readers
	// that trust it (openpyxl in read-only mode) would see one row.
	if err := f.SetSheetDimension(sheet, "A1:"+cellName(ncol, max(len(rows), 1)+1)); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	for i, wdt := range []float64{7, 10, 45, 9, 28, 12, 11, 5, 11, 10, 16, 11, 12, 30, 40} {
		if i < ncol {
			if err := sw.SetColWidth(i+1, i+1, wdt); err != nil {
				return nil, err
			}
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	header := make([]any, ncol)
	for i, fld := range schema.Fields() {
		header[i] = excelize.Cell{StyleID: wb.header, Value: fld.Name}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return nil, err
	}
	ps := &pledgeSheet{code: sheet, sw: sw, rows: rows, cols: batch.Columns(), styles: make([]int, ncol), valueCol: -1,
		decimalStyle: wb.decimal, countStyle: wb.count}
	if len(rows) > 0 {
		ctx := wb.ctx
		ps.placeholder = wb.splice.placeholder(sheet, func(w io.Writer) error { return ps.writeRows(ctx, w) })
	}
	for i, fld := range schema.Fields() {
		switch fld.Name {
		case "time_period", "numerator", "denominator":
			ps.styles[i] = wb.count
		case "sources":
			ps.styles[i] = wb.text
		case "note":
			ps.styles[i] = wb.wrap
		case "value":
			ps.valueCol = i
		}
	}
	return ps, nil
}

// streamedSheet is a sheet whose stream writer is started, waiting for
// its rows.
type streamedSheet struct {
	name   string
	sw     *excelize.StreamWriter
	rows   int
	stream func(ctx context.Context) error
}

// streamSheets writes the sheets' rows, the largest sheets first, one
// sheet per core at a time: a stream writer touches nothing but its own
// sheet, and the rows are most of a workbook's time.
func streamSheets(ctx context.Context, sheets []*streamedSheet) error {
	order := slices.Clone(sheets)
	sort.SliceStable(order, func(a, b int) bool { return order[a].rows > order[b].rows })
	return safego.ForEach(len(order), runtime.GOMAXPROCS(0), func(i int) error {
		if err := order[i].stream(ctx); err != nil {
			return fmt.Errorf("sheet %s: %w", order[i].name, err)
		}
		return nil
	})
}

// streamRows writes the row that stands for the sheet's rows until the
// workbook is written (writeRows), or says there are none.
func (ps *pledgeSheet) streamRows(context.Context) error {
	if len(ps.rows) == 0 {
		return ps.sw.SetRow("A2", []any{"No observation of this pledge in this run: its inputs are not in the store yet."})
	}
	return ps.sw.SetRow("A2", []any{ps.placeholder})
}

// writeRows writes the sheet's rows, from row 2, with every column of the
// table, in the XML of excelize's stream writer, 64 KiB at a time. It
// checks ctx before each write.
func (ps *pledgeSheet) writeRows(ctx context.Context, w io.Writer) error {
	cw := newCellWriter(len(ps.cols))
	for i, r := range ps.rows {
		row := i + 2
		cw.startRow(row)
		for c, col := range ps.cols {
			style := ps.styles[c]
			if c == ps.valueCol {
				style = ps.decimalStyle
				if r.unit == refdata.UnitCount {
					style = ps.countStyle
				}
			}
			cw.arrowCell(c, row, style, col, r.index)
		}
		cw.endRow()
		if err := cw.flush(ctx, w, i == len(ps.rows)-1); err != nil {
			return err
		}
	}
	return nil
}

func cellName(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col, row)
	return name
}

// chart is a line chart of one indicator's world series.
func (wb *workbook) chart(b *worldSeries) *excelize.Chart {
	first, last := b.top+1, b.top+len(b.years)
	c := &excelize.Chart{
		Type:      excelize.Line,
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: b.id + " " + b.name + ", world"}}},
		Legend:    excelize.ChartLegend{Position: "bottom"},
		Format:    excelize.GraphicOptions{OffsetX: 10, OffsetY: 5},
		Dimension: excelize.ChartDimension{Width: 560, Height: 290},
		XAxis:     excelize.ChartAxis{Font: excelize.Font{Color: "404040", Size: 9}},
		YAxis:     excelize.ChartAxis{Font: excelize.Font{Color: "404040", Size: 9}, MajorGridLines: true},
	}
	for i := range b.series {
		col, _ := excelize.ColumnNumberToName(2 + i)
		c.Series = append(c.Series, excelize.ChartSeries{
			Name:       fmt.Sprintf("'%s'!$%s$%d", chartDataSheet, col, b.top),
			Categories: fmt.Sprintf("'%s'!$A$%d:$A$%d", chartDataSheet, first, last),
			Values:     fmt.Sprintf("'%s'!$%s$%d:$%s$%d", chartDataSheet, col, first, col, last),
			Marker:     excelize.ChartMarker{Symbol: "circle", Size: 5},
		})
	}
	return c
}

func seriesLabel(instrument, sex string) string {
	if instrument != "" {
		return instrument
	}
	switch sex {
	case "F":
		return "Female"
	case "M":
		return "Male"
	}
	return "Total"
}
