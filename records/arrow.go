package records

import (
	"fmt"

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

// provenance appends the four provenance columns every table ends with.
func provenance(b *arrowcol.Builder, p Provenance) {
	b.Str(p.File)
	b.Str(p.Sheet)
	b.Str(p.Cell)
	b.Str(p.SHA256)
}

// NameFunc gives the English name of an ISO3 code or ILOSTAT area code.
type NameFunc func(code string) string

// NewRatificationBatch builds the ratification table. The caller releases
// the batch.
func NewRatificationBatch(mem memory.Allocator, rs []Ratification, name NameFunc) arrow.RecordBatch {
	return arrowcol.NewBatch(mem, RatificationSchema, len(rs), func(b *arrowcol.Builder, i int) {
		r := rs[i]
		b.Str(r.Country)
		b.Str(name(r.Country))
		b.Str(r.Instrument)
		b.Date32(int32(r.RatificationDate))
		b.OptStr(r.Status)
		b.OptDate32(int32(r.Denunciation.Date), r.Denunciation.Valid)
		b.OptStr(r.Note)
		b.Str(r.DateCell)
		b.OptStr(r.DenunciationCell)
		provenance(b, r.Source)
	})
}

// NewCoverageBatch builds the social-protection table.
func NewCoverageBatch(mem memory.Allocator, obs []CoverageObservation, name NameFunc) arrow.RecordBatch {
	return NewCoverageBatchOf(mem, [][]CoverageObservation{obs}, name)
}

// NewCoverageBatchOf is NewCoverageBatch of the observations of several
// slices, in order, as if joined (without joining them).
func NewCoverageBatchOf(mem memory.Allocator, parts [][]CoverageObservation, name NameFunc) arrow.RecordBatch {
	return coverageBatch(mem, SocialProtectionSchema, parts, name)
}

// NewCoverageBatchCoded is NewCoverageBatchOf with its repetitive text
// (area, series, sex, population, status, source and provenance but the
// cell) as dictionaries of text, coded as they come: for the store's
// Parquet writer, which writes them as the text they stand for. Copying
// every row's file name, SHA-256 and series into the batch, then hashing
// them again into the file's dictionaries, was a third of storing a
// 200,000-row file.
func NewCoverageBatchCoded(mem memory.Allocator, parts [][]CoverageObservation, name NameFunc) arrow.RecordBatch {
	return coverageBatch(mem, socialProtectionCoded, parts, name)
}

// socialProtectionCoded is SocialProtectionSchema with its repetitive
// text columns coded.
var socialProtectionCoded = func() *arrow.Schema {
	coded := map[string]bool{"country": true, "country_name": true, "series": true, "sex": true, "population": true,
		"obs_status": true, "source": true, "source_file": true, "source_sheet": true, "source_sha256": true}
	fields := SocialProtectionSchema.Fields()
	for i, f := range fields {
		if coded[f.Name] {
			fields[i].Type = arrowcol.CodedText() // Fields is a copy
		}
	}
	return arrow.NewSchema(fields, nil)
}()

func coverageBatch(mem memory.Allocator, schema *arrow.Schema, parts [][]CoverageObservation, name NameFunc) arrow.RecordBatch {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	part, from := 0, 0 // rows are visited in order, once or more
	// Each area's name is looked up once a batch (rows are visited twice,
	// and a country's name in the reference data by value): looking it up
	// for every row was a tenth of a spill's time.
	names := map[string]string{}
	area, areaName := "", ""
	return arrowcol.NewBatch(mem, schema, n, func(b *arrowcol.Builder, i int) {
		if i < from {
			part, from = 0, 0
		}
		for i-from >= len(parts[part]) {
			from += len(parts[part])
			part++
		}
		o := parts[part][i-from]
		if o.Area != area || areaName == "" {
			n, ok := names[o.Area]
			if !ok {
				n = name(o.Area)
				names[o.Area] = n
			}
			area, areaName = o.Area, n
		}
		b.Str(o.Area)
		b.Str(areaName)
		b.I32(o.Year)
		b.Str(o.Series)
		b.Str(o.Sex)
		b.Str(o.Population)
		b.F64(o.Value)
		b.OptStr(o.ObsStatus)
		b.OptStr(o.SourceNote)
		b.OptStr(o.Note)
		b.Str(o.ValueCell)
		provenance(b, o.Source)
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
	return arrowcol.NewBatch(mem, BLMASchema, len(as), func(b *arrowcol.Builder, i int) {
		a := as[i]
		b.OptStr(a.AgreementID)
		b.Str(a.Title)
		b.Str(a.Type)
		b.OptStr(a.Origin)
		b.OptStr(optName(a.Origin))
		b.OptStr(a.Destination)
		b.OptStr(optName(a.Destination))
		b.List(a.Parties)
		names := make([]string, len(a.Parties))
		for j, p := range a.Parties {
			names[j] = name(p)
		}
		b.List(names)
		for _, d := range []PartialDate{a.Signed, a.InForce, a.End} {
			b.OptDate32(int32(d.Date), d.HasDay)
			b.OptI32(d.Year, d.Known())
		}
		b.OptStr(a.Status)
		b.OptStr(a.Sectors)
		for i := range provisionFlags {
			b.Str(a.provisionAt(i))
		}
		provenance(b, a.Source)
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
