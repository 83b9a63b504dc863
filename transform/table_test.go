package transform

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The indicators table holds every observation's fields in the schema's
// columns: optional text and numbers are null when absent, and the
// metadata is the schema's.
func TestRecordBatchColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	two, four := 2.0, 4.0
	res := &Result{Observations: []Observation{
		{Pledge: "P3", IndicatorID: "P3.1", IndicatorName: "Coverage", RefArea: "FRA", RefAreaName: "France", RefAreaType: "country",
			TimePeriod: 2020, Sex: "T", Value: 0.5, Unit: "ratio", Numerator: &two, Denominator: &four, Sources: "a.xlsx!Sheet1!C4"},
		{Pledge: "C1", IndicatorID: "C1.1", IndicatorName: "Ratified", RefArea: "X1", RefAreaName: "World", RefAreaType: "world",
			TimePeriod: 2019, Sex: "T", Instrument: "C097", Value: 1, Unit: "count", Note: "n"},
	}}
	b := res.RecordBatch(mem, map[string]string{"run_id": "R1"})
	defer b.Release()
	if !b.Schema().Equal(arrow.NewSchema(Schema.Fields(), nil)) && len(b.Schema().Fields()) != len(Schema.Fields()) {
		t.Fatalf("schema %v", b.Schema())
	}
	if v, ok := b.Schema().Metadata().GetValue("run_id"); !ok || v != "R1" {
		t.Errorf("metadata run_id = %q", v)
	}
	var got []string
	for row := range int(b.NumRows()) {
		line := ""
		for c, col := range b.Columns() {
			if c > 0 {
				line += "|"
			}
			switch a := col.(type) {
			case *array.String:
				if a.IsNull(row) {
					line += "null"
				} else {
					line += a.Value(row)
				}
			case *array.Int32:
				line += strconv.Itoa(int(a.Value(row)))
			case *array.Float64:
				if a.IsNull(row) {
					line += "null"
				} else {
					line += fmt.Sprint(a.Value(row))
				}
			default:
				t.Fatalf("column %d has type %s", c, col.DataType())
			}
		}
		got = append(got, line)
	}
	want := []string{
		"P3|P3.1|Coverage|FRA|France|country|2020|T|null|0.5|ratio|2|4|null|a.xlsx!Sheet1!C4",
		"C1|C1.1|Ratified|X1|World|world|2019|T|C097|1|count|null|null|n|null",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows\n%q\nwant\n%q", got, want)
	}
	for c, f := range Schema.Fields() {
		if !f.Nullable && b.Column(c).NullN() > 0 {
			t.Errorf("column %s is not nullable and has nulls", f.Name)
		}
	}
}

func BenchmarkRecordBatch(b *testing.B) {
	obs := make([]Observation, 30000)
	for i := range obs {
		n := float64(i)
		obs[i] = Observation{Pledge: "P3", IndicatorID: "P3.1", IndicatorName: "Coverage of social protection", RefArea: "FRA", RefAreaName: "France",
			RefAreaType: "country", TimePeriod: 2000 + i%25, Sex: "T", Value: 0.5, Unit: "ratio", Numerator: &n, Sources: "file.xlsx!Sheet1!C" + strconv.Itoa(i)}
	}
	res := &Result{Observations: obs}
	mem := memory.NewGoAllocator()
	b.ReportAllocs()
	for b.Loop() {
		res.RecordBatch(mem, nil).Release()
	}
}
