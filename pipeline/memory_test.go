package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/demo"
	"github.com/ilo-pledge/pledgestat/internal/arrowcol/arrowcoltest"
	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// Every Arrow buffer a run makes is released by its end, whatever the run
// does: the demo's workbooks and CSVs, a file large enough to spill, a
// build from a snapshot, a withdrawal and a rebuild. Buffers are poisoned
// when freed, so a record or an indicator still pointing into one shows
// as a wrong number in the published files (checked against a run made
// with Go's allocator).
func TestRunsLeaveNoArrowMemory(t *testing.T) {
	ctx := context.Background()
	ref, err := refdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	runAll := func(mem memory.Allocator) *workspace.Workspace {
		ws, err := workspace.Init(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := demo.Seed(ws.Inbox()); err != nil {
			t.Fatal(err)
		}
		var big strings.Builder
		big.WriteString("country,year,value,series\n")
		for i := range 40_000 { // past two chunks of a spill
			fmt.Fprintf(&big, "%s,%d,%d.5,SOC_CONTIG_TOTAL\n", []string{"FRA", "DEU", "ITA", "ESP"}[i%4], 1000+i/4, i%100)
		}
		if err := os.WriteFile(filepath.Join(ws.Inbox(), "big.csv"), []byte(big.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		p := New(ws, ref, quietLog())
		p.Allocator = mem
		steps := []func() error{
			func() error { _, err := p.Execute(ctx, CommandRun, Options{}); return err },
			func() error {
				drop(t, ws, "more.csv", "country,year,value\nFRA,2020,55\n")
				_, err := p.Execute(ctx, CommandRun, Options{})
				return err
			},
			func() error { _, err := p.Withdraw(ctx, "1", Options{}); return err },
			func() error { _, err := p.Execute(ctx, CommandBuild, Options{}); return err },
		}
		for i, step := range steps {
			if err := step(); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		return ws
	}
	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	poisoned := runAll(arrowcoltest.Poisoning(checked))
	if n := checked.CurrentAlloc(); n != 0 {
		t.Errorf("%d bytes of Arrow buffers left allocated after the runs", n)
	}
	plain := runAll(nil)
	for _, name := range []string{"indicators.csv", "changes.csv", "ratification.parquet", "social_protection.parquet", "blma.parquet"} {
		a, errA := os.ReadFile(filepath.Join(poisoned.Latest(), name))
		b, errB := os.ReadFile(filepath.Join(plain.Latest(), name))
		if errA != nil || errB != nil {
			t.Fatalf("%s: %v, %v", name, errA, errB)
		}
		if string(a) != string(b) {
			t.Errorf("%s differs between the poisoned and the plain allocator: something read a released buffer", name)
		}
	}
}
