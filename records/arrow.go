package records

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
)

// provenanceFields are the columns every domain table ends with.
var provenanceFields = []arrow.Field{
	{Name: "source_file", Type: arrow.BinaryTypes.String},
	{Name: "source_sheet", Type: arrow.BinaryTypes.String},
	{Name: "source_cell", Type: arrow.BinaryTypes.String},
	{Name: "source_sha256", Type: arrow.BinaryTypes.String},
}

func str(name string, nullable bool) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: nullable}
}

func date(name string, nullable bool) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.FixedWidthTypes.Date32, Nullable: nullable}
}

func i32(name string, nullable bool) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Int32, Nullable: nullable}
}

// RatificationSchema is the schema of the ratification table.
var RatificationSchema = arrow.NewSchema(append([]arrow.Field{
	str("country", false), str("country_name", false), str("instrument", false),
	date("ratification_date", false), str("status", true), date("denunciation_date", true),
	str("note", true), str("ratification_date_cell", false), str("denunciation_date_cell", true),
}, provenanceFields...), nil)

// SocialProtectionSchema is the schema of the social-protection table.
var SocialProtectionSchema = arrow.NewSchema(append([]arrow.Field{
	str("country", false), str("country_name", false), i32("year", false),
	str("series", false), str("sex", false), str("population", false),
	{Name: "value", Type: arrow.PrimitiveTypes.Float64},
	str("obs_status", true), str("source", true), str("note", true), str("value_cell", false),
}, provenanceFields...), nil)

// BLMASchema is the schema of the agreements table.
var BLMASchema = func() *arrow.Schema {
	fields := []arrow.Field{
		str("agreement_id", true), str("title", false), str("type", false),
		str("origin", true), str("origin_name", true), str("destination", true), str("destination_name", true),
		{Name: "parties", Type: arrow.ListOf(arrow.BinaryTypes.String)},
		{Name: "party_names", Type: arrow.ListOf(arrow.BinaryTypes.String)},
		date("date_signed", true), i32("signed_year", true),
		date("date_in_force", true), i32("in_force_year", true),
		date("date_end", true), i32("end_year", true),
		str("status", true), str("sectors", true),
	}
	for _, f := range provisionFlags {
		fields = append(fields, str(f, false))
	}
	return arrow.NewSchema(append(fields, provenanceFields...), nil)
}()

// builder appends values to the next column of a batch in schema order,
// so that table code reads as one line per column. It lays each column
// out as Arrow does (offsets and bytes, fixed-width values, a validity
// bitmap) in buffers of the batch's allocator, where Arrow's builders
// took about 80 ns a value in checks and calls: building a 16k-row
// batch of observations was a tenth of ingesting a large CSV.
//
// A first pass with a measuring builder (text set) only adds up the bytes
// of text and the list items of each column, so that every buffer is
// reserved at its size once: grown by doubling, they were copied over
// and over (a fifth of the time).
type builder struct {
	cols []*colBuilder
	col  int
	// text and items, when set, count per column what a measuring pass
	// saw; nothing is appended.
	text, items []int
}

func (b *builder) next() *colBuilder {
	c := b.cols[b.col]
	b.col++
	return c
}

// measure counts a value of the next column when b is measuring.
func (b *builder) measure(text, items int) bool {
	if b.text == nil {
		return false
	}
	b.text[b.col] += text
	b.items[b.col] += items
	b.col++
	return true
}

func (b *builder) str(s string) {
	if !b.measure(len(s), 0) {
		b.next().appendString(s)
	}
}

func (b *builder) optStr(s string) {
	if b.measure(len(s), 0) {
		return
	}
	c := b.next()
	if s == "" {
		c.appendNull()
		return
	}
	c.appendString(s)
}

func (b *builder) date(d Date) {
	if !b.measure(0, 0) {
		b.next().appendUint32(uint32(d))
	}
}

func (b *builder) optDate(d Date, valid bool) {
	if b.measure(0, 0) {
		return
	}
	c := b.next()
	if !valid {
		c.appendNull()
		return
	}
	c.appendUint32(uint32(d))
}

func (b *builder) i32(v int) {
	if !b.measure(0, 0) {
		b.next().appendUint32(uint32(int32(v)))
	}
}

func (b *builder) optI32(v int, valid bool) {
	if b.measure(0, 0) {
		return
	}
	c := b.next()
	if !valid {
		c.appendNull()
		return
	}
	c.appendUint32(uint32(int32(v)))
}

func (b *builder) f64(v float64) {
	if !b.measure(0, 0) {
		b.next().appendUint64(math.Float64bits(v))
	}
}

func (b *builder) list(items []string) {
	if b.text != nil {
		text := 0
		for _, s := range items {
			text += len(s)
		}
		b.measure(text, len(items))
		return
	}
	c := b.next()
	for _, s := range items {
		c.items.appendString(s)
	}
	c.endValue(c.items.n)
}

func (b *builder) provenance(p Provenance) {
	b.str(p.File)
	b.str(p.Sheet)
	b.str(p.Cell)
	b.str(p.SHA256)
}

// colBuilder is one column being built: for strings and lists the end offset
// of each value and (strings) their bytes; for fixed-width types the
// values' bytes; a validity bitmap once a value is null.
type colBuilder struct {
	typ     arrow.DataType
	n       int // values so far
	nulls   int
	valid   growable // a bit a value, kept from the first null on
	offsets growable // int32 little-endian: strings and lists
	data    growable
	items   *colBuilder // a list's strings
}

// newColumn starts a column of n values, text bytes of text and, for a
// list, items strings.
func newColumn(mem memory.Allocator, typ arrow.DataType, n, text, items int) *colBuilder {
	if text > math.MaxInt32 || items > math.MaxInt32 {
		// Offsets are 32 bits: past them a batch would be wrong, silently
		// (Arrow's own builders only assert it in debug builds).
		panic(fmt.Sprintf("records: %d bytes of text or %d list items in one column of a batch, over 2 GiB", text, items))
	}
	c := &colBuilder{typ: typ, valid: growable{mem: mem}, offsets: growable{mem: mem}, data: growable{mem: mem}}
	switch t := typ.(type) {
	case *arrow.StringType:
		c.offsets.reserve(4 * (n + 1))
		c.offsets.appendUint32(0)
		c.data.reserve(text)
	case *arrow.ListType:
		c.offsets.reserve(4 * (n + 1))
		c.offsets.appendUint32(0)
		c.items = newColumn(mem, t.Elem(), items, text, 0)
	case arrow.FixedWidthDataType:
		if t.BitWidth()%8 != 0 {
			// Booleans are bits: no domain has one, and appendNull
			// would need them.
			panic(fmt.Sprintf("records: no column builder for %s", typ))
		}
		c.data.reserve(n * t.BitWidth() / 8)
	default:
		panic(fmt.Sprintf("records: no column builder for %s", typ))
	}
	return c
}

func (c *colBuilder) appendString(s string) {
	c.data.appendString(s)
	c.endValue(c.data.n)
}

// endValue ends a string or list value at offset end.
func (c *colBuilder) endValue(end int) {
	c.offsets.appendUint32(uint32(int32(end)))
	c.valued()
}

func (c *colBuilder) appendUint32(v uint32) {
	c.data.appendUint32(v)
	c.valued()
}

func (c *colBuilder) appendUint64(v uint64) {
	c.data.appendUint64(v)
	c.valued()
}

// valued counts a value that is not null.
func (c *colBuilder) valued() {
	if c.nulls > 0 {
		c.setValid(c.n)
	}
	c.n++
}

// appendNull adds a null: an empty string or list, a zero value.
func (c *colBuilder) appendNull() {
	if c.nulls == 0 {
		// The first null: every value before it was valid.
		for i := range c.n {
			c.setValid(i)
		}
	}
	c.ensureBits(c.n + 1)
	c.nulls++
	switch {
	case c.items != nil: // a list: empty
		c.offsets.appendUint32(uint32(int32(c.items.n)))
	case c.offsets.n > 0: // a string: empty
		c.offsets.appendUint32(uint32(int32(c.data.n)))
	default: // a fixed-width value: zero
		for range c.typ.(arrow.FixedWidthDataType).BitWidth() / 8 {
			c.data.appendByte(0)
		}
	}
	c.n++
}

func (c *colBuilder) ensureBits(n int) {
	for c.valid.n < (n+7)/8 {
		c.valid.appendByte(0)
	}
}

func (c *colBuilder) setValid(i int) {
	c.ensureBits(i + 1)
	c.valid.b[i/8] |= 1 << (i % 8)
}

// array hands the column's buffers to an Arrow array. The bitmap exists
// only once a value was null; a list has no bytes of its own, a
// fixed-width column no offsets.
func (c *colBuilder) array() arrow.Array {
	var validity *memory.Buffer
	if c.nulls > 0 {
		validity = c.valid.finish()
	}
	var bufs []*memory.Buffer
	var children []arrow.ArrayData
	switch c.typ.(type) {
	case *arrow.StringType:
		bufs = []*memory.Buffer{validity, c.offsets.finish(), c.data.finish()}
	case *arrow.ListType:
		child := c.items.array()
		defer child.Release()
		children = []arrow.ArrayData{child.Data()}
		bufs = []*memory.Buffer{validity, c.offsets.finish()}
	default:
		bufs = []*memory.Buffer{validity, c.data.finish()}
	}
	data := array.NewData(c.typ, c.n, bufs, children, c.nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release() // the data holds them now
		}
	}
	defer data.Release()
	return array.MakeFromData(data)
}

// growable is a byte buffer of an Arrow allocator that doubles as it
// fills; its appends are small enough to be inlined.
type growable struct {
	mem memory.Allocator
	buf *memory.Buffer
	b   []byte // buf's bytes, its whole capacity
	n   int
}

func (g *growable) reserve(size int) {
	if size > len(g.b) || g.buf == nil {
		g.grow(size)
	}
}

func (g *growable) grow(size int) {
	if g.buf == nil {
		g.buf = memory.NewResizableBuffer(g.mem)
	}
	if size > len(g.b) {
		g.buf.Reserve(max(size, 2*len(g.b), 64))
		g.b = g.buf.Buf()
	}
}

func (g *growable) appendString(s string) {
	if g.n+len(s) > len(g.b) {
		g.grow(g.n + len(s))
	}
	g.n += copy(g.b[g.n:], s)
}

func (g *growable) appendByte(v byte) {
	if g.n+1 > len(g.b) {
		g.grow(g.n + 1)
	}
	g.b[g.n] = v
	g.n++
}

func (g *growable) appendUint32(v uint32) {
	if g.n+4 > len(g.b) {
		g.grow(g.n + 4)
	}
	binary.LittleEndian.PutUint32(g.b[g.n:], v)
	g.n += 4
}

func (g *growable) appendUint64(v uint64) {
	if g.n+8 > len(g.b) {
		g.grow(g.n + 8)
	}
	binary.LittleEndian.PutUint64(g.b[g.n:], v)
	g.n += 8
}

// finish returns the buffer, sized to what was written (an empty one when
// nothing was), and leaves g empty; the caller releases it.
func (g *growable) finish() *memory.Buffer {
	g.reserve(0)
	b := g.buf
	b.ResizeNoShrink(g.n)
	g.buf, g.b, g.n = nil, nil, 0
	return b
}

// newBatch builds a record batch of n rows, calling row for each.
func newBatch(mem memory.Allocator, schema *arrow.Schema, n int, row func(b *builder, i int)) arrow.RecordBatch {
	m := &builder{text: make([]int, schema.NumFields()), items: make([]int, schema.NumFields())}
	for i := 0; i < n; i++ {
		m.col = 0
		row(m, i)
	}
	b := &builder{cols: make([]*colBuilder, schema.NumFields())}
	for i, f := range schema.Fields() {
		b.cols[i] = newColumn(mem, f.Type, n, m.text[i], m.items[i])
	}
	for i := 0; i < n; i++ {
		b.col = 0
		row(b, i)
	}
	arrays := make([]arrow.Array, len(b.cols))
	for i, c := range b.cols {
		arrays[i] = c.array()
	}
	batch := array.NewRecordBatch(schema, arrays, int64(n))
	for _, a := range arrays {
		a.Release()
	}
	return batch
}

// NameFunc gives the English name of an ISO3 code or ILOSTAT area code.
type NameFunc func(code string) string

// NewRatificationBatch builds the ratification table. The caller releases
// the batch.
func NewRatificationBatch(mem memory.Allocator, rs []Ratification, name NameFunc) arrow.RecordBatch {
	return newBatch(mem, RatificationSchema, len(rs), func(b *builder, i int) {
		r := rs[i]
		b.str(r.Country)
		b.str(name(r.Country))
		b.str(r.Instrument)
		b.date(r.RatificationDate)
		b.optStr(r.Status)
		b.optDate(r.Denunciation.Date, r.Denunciation.Valid)
		b.optStr(r.Note)
		b.str(r.DateCell)
		b.optStr(r.DenunciationCell)
		b.provenance(r.Source)
	})
}

// NewCoverageBatch builds the social-protection table.
func NewCoverageBatch(mem memory.Allocator, obs []CoverageObservation, name NameFunc) arrow.RecordBatch {
	return newBatch(mem, SocialProtectionSchema, len(obs), func(b *builder, i int) {
		o := obs[i]
		b.str(o.Area)
		b.str(name(o.Area))
		b.i32(o.Year)
		b.str(o.Series)
		b.str(o.Sex)
		b.str(o.Population)
		b.f64(o.Value)
		b.optStr(o.ObsStatus)
		b.optStr(o.SourceNote)
		b.optStr(o.Note)
		b.str(o.ValueCell)
		b.provenance(o.Source)
	})
}

// NewAgreementBatch builds the agreements table.
func NewAgreementBatch(mem memory.Allocator, as []Agreement, name NameFunc) arrow.RecordBatch {
	optName := func(code string) string {
		if code == "" {
			return ""
		}
		return name(code)
	}
	return newBatch(mem, BLMASchema, len(as), func(b *builder, i int) {
		a := as[i]
		b.optStr(a.AgreementID)
		b.str(a.Title)
		b.str(a.Type)
		b.optStr(a.Origin)
		b.optStr(optName(a.Origin))
		b.optStr(a.Destination)
		b.optStr(optName(a.Destination))
		b.list(a.Parties)
		names := make([]string, len(a.Parties))
		for j, p := range a.Parties {
			names[j] = name(p)
		}
		b.list(names)
		for _, d := range []PartialDate{a.Signed, a.InForce, a.End} {
			b.optDate(d.Date, d.HasDay)
			b.optI32(d.Year, d.Known())
		}
		b.optStr(a.Status)
		b.optStr(a.Sectors)
		for _, f := range provisionFlags {
			b.str(a.Provision(f))
		}
		b.provenance(a.Source)
	})
}

// columns gives typed access to a batch's columns by name, keeping the
// first error.
type columns struct {
	b   arrow.RecordBatch
	err error
}

func column[T arrow.Array](c *columns, name string) T {
	arr, err := arrowcol.Get[T](c.b, name)
	if err != nil && c.err == nil {
		c.err = err
	}
	return arr
}

type provenanceColumns struct {
	file, sheet, cell, sha *array.String
}

func readProvenance(c *columns) provenanceColumns {
	return provenanceColumns{
		file: column[*array.String](c, "source_file"), sheet: column[*array.String](c, "source_sheet"),
		cell: column[*array.String](c, "source_cell"), sha: column[*array.String](c, "source_sha256"),
	}
}

func (p provenanceColumns) at(str *arrowcol.Strings, i int) Provenance {
	return Provenance{File: str.Code(p.file, i), Sheet: str.Code(p.sheet, i), Cell: arrowcol.Text(p.cell, i), SHA256: str.Code(p.sha, i)}
}

// RatificationsOf reads a ratification table back into records.
func RatificationsOf(b arrow.RecordBatch) ([]Ratification, error) {
	c := &columns{b: b}
	country, inst := column[*array.String](c, "country"), column[*array.String](c, "instrument")
	rdate, status := column[*array.Date32](c, "ratification_date"), column[*array.String](c, "status")
	ddate, note := column[*array.Date32](c, "denunciation_date"), column[*array.String](c, "note")
	dcell, dncell := column[*array.String](c, "ratification_date_cell"), column[*array.String](c, "denunciation_date_cell")
	prov := readProvenance(c)
	if c.err != nil {
		return nil, fmt.Errorf("ratification table: %w", c.err)
	}
	out := make([]Ratification, b.NumRows())
	str := arrowcol.NewStrings()
	for i := range out {
		out[i] = Ratification{
			Country: str.Code(country, i), Instrument: str.Code(inst, i), RatificationDate: Date(rdate.Value(i)),
			Status: str.OptCode(status, i), Note: arrowcol.OptText(note, i), Source: prov.at(str, i),
			DateCell: arrowcol.Text(dcell, i), DenunciationCell: arrowcol.OptText(dncell, i),
		}
		if ddate.IsValid(i) {
			out[i].Denunciation = OptionalDate{Date: Date(ddate.Value(i)), Valid: true}
		}
	}
	return out, nil
}

// CoverageOf reads a social-protection table back into records.
func CoverageOf(b arrow.RecordBatch) ([]CoverageObservation, error) {
	c := &columns{b: b}
	area, year := column[*array.String](c, "country"), column[*array.Int32](c, "year")
	series, sex, pop := column[*array.String](c, "series"), column[*array.String](c, "sex"), column[*array.String](c, "population")
	value := column[*array.Float64](c, "value")
	obsStatus, source, note := column[*array.String](c, "obs_status"), column[*array.String](c, "source"), column[*array.String](c, "note")
	vcell := column[*array.String](c, "value_cell")
	prov := readProvenance(c)
	if c.err != nil {
		return nil, fmt.Errorf("social-protection table: %w", c.err)
	}
	out := make([]CoverageObservation, b.NumRows())
	str := arrowcol.NewStrings()
	for i := range out {
		out[i] = CoverageObservation{
			Area: str.Code(area, i), Year: int(year.Value(i)), Series: str.Code(series, i), Sex: str.Code(sex, i),
			Population: str.Code(pop, i), Value: value.Value(i), ObsStatus: str.OptCode(obsStatus, i),
			SourceNote: arrowcol.OptText(source, i), Note: arrowcol.OptText(note, i), Source: prov.at(str, i), ValueCell: arrowcol.Text(vcell, i),
		}
	}
	return out, nil
}

// AgreementsOf reads an agreements table back into records.
func AgreementsOf(b arrow.RecordBatch) ([]Agreement, error) {
	c := &columns{b: b}
	id, title, typ := column[*array.String](c, "agreement_id"), column[*array.String](c, "title"), column[*array.String](c, "type")
	origin, dest := column[*array.String](c, "origin"), column[*array.String](c, "destination")
	parties := column[*array.List](c, "parties")
	dates := [3]*array.Date32{column[*array.Date32](c, "date_signed"), column[*array.Date32](c, "date_in_force"), column[*array.Date32](c, "date_end")}
	years := [3]*array.Int32{column[*array.Int32](c, "signed_year"), column[*array.Int32](c, "in_force_year"), column[*array.Int32](c, "end_year")}
	status, sectors := column[*array.String](c, "status"), column[*array.String](c, "sectors")
	flags := make([]*array.String, len(provisionFlags))
	for j, f := range provisionFlags {
		flags[j] = column[*array.String](c, f)
	}
	prov := readProvenance(c)
	if c.err != nil {
		return nil, fmt.Errorf("agreements table: %w", c.err)
	}
	partyValues, ok := parties.ListValues().(*array.String)
	if !ok {
		return nil, fmt.Errorf("agreements table: parties is not a list of strings")
	}
	out := make([]Agreement, b.NumRows())
	str := arrowcol.NewStrings()
	for i := range out {
		a := Agreement{
			AgreementID: arrowcol.OptText(id, i), Title: arrowcol.Text(title, i), Type: str.Code(typ, i),
			Origin: str.OptCode(origin, i), Destination: str.OptCode(dest, i),
			Status: str.OptCode(status, i), Sectors: arrowcol.OptText(sectors, i), Source: prov.at(str, i),
			Provisions: make([]string, len(provisionFlags)),
		}
		start, end := parties.ValueOffsets(i)
		for k := start; k < end; k++ {
			a.Parties = append(a.Parties, str.Code(partyValues, int(k)))
		}
		pd := [3]*PartialDate{&a.Signed, &a.InForce, &a.End}
		for k := range pd {
			if years[k].IsValid(i) {
				pd[k].Year = int(years[k].Value(i))
			}
			if dates[k].IsValid(i) {
				pd[k].Date, pd[k].HasDay = Date(dates[k].Value(i)), true
			}
		}
		for j := range provisionFlags {
			a.Provisions[j] = str.Code(flags[j], i)
		}
		out[i] = a
	}
	return out, nil
}
