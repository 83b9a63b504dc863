package export

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/transform"
)

// benchBatch is an indicator table of about the size a store of 10,000
// submissions publishes: every indicator of the catalog for 200 areas and
// ten years, with sources on the country rows.
func benchBatch(mem memory.Allocator) arrow.RecordBatch {
	res := &transform.Result{FirstYear: 2015, LastYear: 2024}
	for _, ind := range testRef.Catalog().Indicators {
		for a := 0; a < 200; a++ {
			area, kind := fmt.Sprintf("C%02d", a), refdata.AreaCountry
			if a < 10 {
				area, kind = fmt.Sprintf("X%02d", a+1), refdata.AreaRegion
			}
			for y := 2015; y <= 2024; y++ {
				o := transform.Observation{Pledge: ind.Pledge, IndicatorID: ind.ID, IndicatorName: ind.Name,
					RefArea: area, RefAreaName: "Area " + area, RefAreaType: kind, TimePeriod: y, Sex: "T",
					Value: float64(a*y%997) / 10, Unit: ind.Unit}
				if kind == refdata.AreaCountry {
					o.Sources = fmt.Sprintf("file-%d.xlsx!Data!C%d", a, y-2000)
				} else {
					o.Numerator, o.Denominator = f(float64(a)), f(187)
				}
				res.Observations = append(res.Observations, o)
			}
		}
	}
	return res.RecordBatch(mem, map[string]string{MetaRunID: "R1", MetaCatalogVersion: "1"})
}

func BenchmarkWriteWorkbook(b *testing.B) {
	mem := memory.NewGoAllocator()
	batch := benchBatch(mem)
	defer batch.Release()
	// The README lists every accepted input: 10,000 of them, as the
	// store of 10,000 submissions has.
	var inputs []ManifestInput
	for i := range 10_000 {
		inputs = append(inputs, ManifestInput{Name: fmt.Sprintf("%03d-AFG-coverage.xlsx", i), SHA256: fmt.Sprintf("%064x", i), Rows: 50,
			Submission: i + 1, AcceptedAt: time.Date(2026, 1, 2, 3, 4, 5, i, time.UTC)})
	}
	info := WorkbookInfo{RunID: "R1", StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ToolVersion: "bench",
		FirstYear: 2015, LastYear: 2024, Catalog: testRef.Catalog(), ReferenceFiles: testRef.Sources(), Inputs: inputs}
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteWorkbook(context.Background(), io.Discard, batch, info); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(batch.NumRows()), "ns/row")
}
