package transform

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
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
	rb := array.NewRecordBuilder(mem, schema)
	defer rb.Release()
	rb.Reserve(len(r.Observations))
	strs := func(i int) *array.StringBuilder { return rb.Field(i).(*array.StringBuilder) }
	opt := func(b *array.StringBuilder, s string) {
		if s == "" {
			b.AppendNull()
			return
		}
		b.Append(s)
	}
	optF := func(b *array.Float64Builder, v *float64) {
		if v == nil {
			b.AppendNull()
			return
		}
		b.Append(*v)
	}
	for _, o := range r.Observations {
		strs(0).Append(o.Pledge)
		strs(1).Append(o.IndicatorID)
		strs(2).Append(o.IndicatorName)
		strs(3).Append(o.RefArea)
		strs(4).Append(o.RefAreaName)
		strs(5).Append(string(o.RefAreaType))
		rb.Field(6).(*array.Int32Builder).Append(int32(o.TimePeriod))
		strs(7).Append(o.Sex)
		opt(strs(8), o.Instrument)
		rb.Field(9).(*array.Float64Builder).Append(o.Value)
		strs(10).Append(o.Unit)
		optF(rb.Field(11).(*array.Float64Builder), o.Numerator)
		optF(rb.Field(12).(*array.Float64Builder), o.Denominator)
		opt(strs(13), o.Note)
		opt(strs(14), o.Sources)
	}
	return rb.NewRecordBatch()
}
