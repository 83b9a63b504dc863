package transform

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
)

// Schema is the indicators table schema (outputs.md).
var Schema = arrow.NewSchema([]arrow.Field{
	{Name: "pledge", Type: arrow.BinaryTypes.String},
	{Name: "indicator_id", Type: arrow.BinaryTypes.String},
	{Name: "indicator_name", Type: arrow.BinaryTypes.String},
	{Name: "ref_area", Type: arrow.BinaryTypes.String},
	{Name: "ref_area_name", Type: arrow.BinaryTypes.String},
	{Name: "ref_area_type", Type: arrow.BinaryTypes.String},
	{Name: "time_period", Type: arrow.PrimitiveTypes.Int32},
	{Name: "sex", Type: arrow.BinaryTypes.String},
	{Name: "instrument", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "value", Type: arrow.PrimitiveTypes.Float64},
	{Name: "unit", Type: arrow.BinaryTypes.String},
	{Name: "numerator", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "denominator", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "sources", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// RecordBatch builds the indicators table; meta becomes the schema's
// metadata. The caller releases the batch.
func (r *Result) RecordBatch(mem memory.Allocator, meta map[string]string) arrow.RecordBatch {
	schema := Schema
	if len(meta) > 0 {
		md := arrow.MetadataFrom(meta)
		schema = arrow.NewSchema(Schema.Fields(), &md)
	}
	obs := r.Observations
	return arrowcol.NewBatch(mem, schema, len(obs), func(b *arrowcol.Builder, i int) {
		o := &obs[i]
		b.Str(o.Pledge)
		b.Str(o.IndicatorID)
		b.Str(o.IndicatorName)
		b.Str(o.RefArea)
		b.Str(o.RefAreaName)
		b.Str(string(o.RefAreaType))
		b.I32(o.TimePeriod)
		b.Str(o.Sex)
		b.OptStr(o.Instrument)
		b.F64(o.Value)
		b.Str(o.Unit)
		b.OptF64(deref(o.Numerator))
		b.OptF64(deref(o.Denominator))
		b.OptStr(o.Note)
		b.OptStr(o.Sources)
	})
}

// deref is a float and whether there is one.
func deref(v *float64) (float64, bool) {
	if v == nil {
		return 0, false
	}
	return *v, true
}
