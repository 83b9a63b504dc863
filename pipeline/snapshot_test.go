package pipeline

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/internal/parquetio"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/store"
)

// A build publishes the same domain tables whichever way it reads the
// store: from every submission (the first build), from the snapshot as it
// is (a build with nothing new copies its files), or from the snapshot
// with submissions since (one that supersedes a record, one that adds).
func TestDomainTablesAreTheRecordsWhateverTheRead(t *testing.T) {
	ctx := context.Background()
	ws, p := faultWorkspace(t)
	check := func(when string) {
		t.Helper()
		st, err := store.OpenReadOnly(ws.StoreDir(), quietLog())
		if err != nil {
			t.Fatal(err)
		}
		set, err := st.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mem := memory.NewGoAllocator()
		for _, d := range records.Domains() {
			want := set.Batch(mem, d, areaName(p.Ref))
			var got []arrow.RecordBatch
			err := parquetio.ReadFile(ctx, filepath.Join(ws.Latest(), string(d)+".parquet"), mem, func(b arrow.RecordBatch) error {
				b.Retain()
				got = append(got, b)
				return nil
			})
			if err != nil {
				t.Fatalf("%s: %s: %v", when, d, err)
			}
			rows := 0
			for _, b := range got {
				if !array.RecordEqual(b, want.NewSlice(int64(rows), int64(rows)+b.NumRows())) {
					t.Errorf("%s: published %s differs from the records at rows %d+:\n%v\nwant %v", when, d, rows, b, want)
				}
				rows += int(b.NumRows())
				b.Release()
			}
			if rows == 0 {
				t.Errorf("%s: no %s record: the test's files were not accepted", when, d)
			}
			if rows != int(want.NumRows()) {
				t.Errorf("%s: published %s has %d rows, the records %d", when, d, rows, want.NumRows())
			}
			want.Release()
		}
	}
	drop(t, ws, "cov.csv", "country,year,value\nFRA,2020,50\nDEU,2020,60\nITA,2021,70\n")
	drop(t, ws, "rat.csv", "country,instrument,ratification_date\nFRA,C097,1954-03-29\nKEN,C143,1979-04-09\n")
	drop(t, ws, "agr.csv", "agreement_id,title,type,parties,date_signed,status\nA1,Accord,BLA,FRA;MAR,2015-06-01,in_force\n")
	for _, step := range []struct {
		when, name, content string
	}{
		{"first build", "", ""},
		{"nothing new", "", ""},
		{"a record superseded", "fix.csv", "country,year,value\nDEU,2020,61\n"},
		{"records added", "more.csv", "country,year,value\nESP,2019,40\n"},
	} {
		if step.name != "" {
			drop(t, ws, step.name, step.content)
		}
		if _, err := p.Execute(ctx, CommandIngest, Options{}); err != nil {
			t.Fatal(err)
		}
		res, err := p.Execute(ctx, CommandBuild, Options{})
		if err != nil || !res.Published {
			t.Fatalf("%s: %v, %+v", step.when, err, res)
		}
		check(step.when)
	}
}
