package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/internal/parquetio"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/store"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// A build publishes the same domain tables whichever way it reads the
// store: from every submission (the first build), from the snapshot as it
// is (a build with nothing new copies its files), or from the snapshot
// with submissions since (one that supersedes a record, one that adds).
func TestDomainTablesAreTheRecordsWhateverTheRead(t *testing.T) {
	ctx := context.Background()
	ws, p := faultWorkspace(t)
	// check compares the published domain tables with the records; when
	// the snapshot is current, with its files too.
	check := func(when string, snapshotCurrent bool) {
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
		for _, desc := range records.Descriptors() {
			d := desc.Domain
			want := desc.Batch(mem, set, areaName(p.Ref))
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
			// A table is encoded once: what is published is the current
			// snapshot's file.
			if snapshotCurrent && !bytes.Equal(readFile(t, filepath.Join(ws.Latest(), string(d)+".parquet")), readFile(t, snapshotFile(t, ws, d))) {
				t.Errorf("%s: published %s is not the snapshot's file", when, d)
			}
			want.Release()
		}
	}
	drop(t, ws, "cov.csv", "country,year,value\nFRA,2020,50\nDEU,2020,60\nITA,2021,70\n")
	drop(t, ws, "rat.csv", "country,instrument,ratification_date\nFRA,C097,1954-03-29\nKEN,C143,1979-04-09\n")
	drop(t, ws, "agr.csv", "agreement_id,title,type,parties,date_signed,status\nA1,Accord,BLA,FRA;MAR,2015-06-01,in_force\n")
	for _, step := range []struct {
		when, name, content string
		snapshotCurrent     bool
	}{
		{"first build", "", "", true},
		{"nothing new", "", "", true},
		{"a record superseded", "fix.csv", "country,year,value\nDEU,2020,61\n", false},
		{"records added", "more.csv", "country,year,value\nESP,2019,40\n", false},
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
		check(step.when, step.snapshotCurrent)
	}
	// More submissions than a build merges into the snapshot, all of one
	// domain: the snapshot is rewritten, and the tables it held unchanged
	// are published from its new files, the old ones being removed.
	pointer := filepath.Join(ws.StoreDir(), "snapshot.json")
	before, err := os.ReadFile(pointer)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 33 {
		drop(t, ws, fmt.Sprintf("many-%02d.csv", i), fmt.Sprintf("country,year,value\nFRA,%d,%d\n", 1990+i, i))
	}
	if _, err := p.Execute(ctx, CommandIngest, Options{}); err != nil {
		t.Fatal(err)
	}
	if res, err := p.Execute(ctx, CommandBuild, Options{}); err != nil || !res.Published {
		t.Fatalf("the snapshot rewritten: %v, %+v", err, res)
	}
	if after, _ := os.ReadFile(pointer); string(after) == string(before) {
		t.Fatalf("the snapshot was not rewritten (%s): the test no longer tests that", after)
	}
	check("the snapshot rewritten", true)
}

// A large social-protection file goes to the store while it is read: when
// an error on its last row rejects it, nothing it spilled stays; fixed, it
// is accepted whole.
func TestSpilledFileRejectedLeavesNothing(t *testing.T) {
	ctx := context.Background()
	ws, p := faultWorkspace(t)
	const rows = 70_000 // more than one spilled row group
	var b strings.Builder
	b.WriteString("country,year,value,series,sex,population\n")
	countries := []string{"FRA", "DEU", "ITA", "ESP", "PRT", "BEL", "NLD", "POL", "AUT", "SWE"}
	series := []string{"SOC_CONTIG_TOTAL", "SOC_CONTIG_CHILD", "SOC_CONTIG_MAT", "SOC_CONTIG_DISAB", "SOC_CONTIG_UNE", "SOC_CONTIG_PENSION", "SOC_CONTIG_INJ", "SOC_CONTIG_POOR", "SOC_CONTIG_VULN"}
	n := 0
	for y := 1990; n < rows; y++ {
		for _, c := range countries {
			for _, s := range series {
				for _, sx := range []string{"T", "F", "M"} {
					for _, pop := range []string{"total", "migrants", "non_migrants"} {
						if n < rows {
							fmt.Fprintf(&b, "%s,%d,%d.5,%s,%s,%s\n", c, y, n%100, s, sx, pop)
							n++
						}
					}
				}
			}
		}
	}
	good := b.String()
	drop(t, ws, "big.csv", good+"FRA,2019,150,SOC_CONTIG_TOTAL,T,total\n")
	res, err := p.Execute(ctx, CommandIngest, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || res.Files[0].Outcome != "rejected" {
		t.Fatalf("outcomes: %+v", res.Files)
	}
	if list, _ := os.ReadDir(filepath.Join(ws.StoreDir(), "submissions")); len(list) != 0 {
		t.Errorf("a rejected file left data in the store: %v", list)
	}
	drop(t, ws, "big.csv", good)
	res, err = p.Execute(ctx, CommandIngest, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || res.Files[0].Outcome != "accepted" || res.Files[0].Rows["social_protection"] != rows {
		t.Fatalf("outcomes: %+v", res.Files)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// snapshotFile is the path of the file of domain d of the store's
// snapshot in force.
func snapshotFile(t *testing.T, ws *workspace.Workspace, d records.Domain) string {
	t.Helper()
	var ptr struct{ Dir string }
	if err := json.Unmarshal(readFile(t, filepath.Join(ws.StoreDir(), "snapshot.json")), &ptr); err != nil || ptr.Dir == "" {
		t.Fatalf("snapshot pointer: %v", err)
	}
	return filepath.Join(ws.StoreDir(), ptr.Dir, string(d)+".parquet")
}
