package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
	"github.com/ilo-pledge/pledgestat/internal/parquetio"
	"github.com/ilo-pledge/pledgestat/records"
)

// A build takes from the latest run the indicators of the domains whose
// records are unchanged, and publishes what computing every indicator
// publishes: after each step (records of one domain added or superseded,
// nothing new, a submission withdrawn, the years published moving, the
// latest run's file damaged), the build's indicators.csv is, byte for byte, that of a build
// with --recompute of the same store. The domains taken are the ones
// unchanged, and none when the years move or the file does not check out.
func TestTakenIndicatorsAreTheComputedOnes(t *testing.T) {
	ctx := context.Background()
	ws, p := faultWorkspace(t)
	drop(t, ws, "cov.csv", "country,year,value\nFRA,2020,50\nDEU,2020,60\nITA,2021,70\n")
	drop(t, ws, "rat.csv", "country,instrument,ratification_date\nFRA,C097,1954-03-29\nKEN,C143,1979-04-09\n")
	drop(t, ws, "agr.csv", "agreement_id,title,type,parties,date_signed,status,ilo_standards\nA1,Accord,BLA,FRA;MAR,2015-06-01,in_force,yes\n")
	if res, err := p.Execute(ctx, CommandRun, Options{}); err != nil || !res.Published || len(res.Taken) != 0 {
		t.Fatalf("first run: %v, %+v", err, res)
	}
	all := records.Domains()
	others := func(d records.Domain) []records.Domain {
		return slices.DeleteFunc(slices.Clone(all), func(o records.Domain) bool { return o == d })
	}
	for _, step := range []struct {
		when, name, content string
		withdraw            string // a submission withdrawn, by file name
		damage              bool
		taken               []records.Domain
	}{
		{when: "coverage added", name: "cov2.csv", content: "country,year,value\nESP,2020,40\n", taken: others(records.DomainSocialProtection)},
		{when: "an agreement added", name: "agr2.csv", content: "agreement_id,title,type,parties,date_signed,status,ilo_standards\nA2,Other,MOU,ESP;MAR,2018-01-01,in_force,no\n", taken: others(records.DomainBLMA)},
		{when: "nothing new", taken: all},
		{when: "a ratification superseded", name: "rat2.csv", content: "country,instrument,ratification_date\nFRA,C097,1955-01-02\n", taken: others(records.DomainRatification)},
		{when: "an agreement withdrawn", withdraw: "agr2.csv", taken: others(records.DomainBLMA)},
		{when: "the years published move", name: "cov3.csv", content: "country,year,value\nFRA,2023,52\n"},
		{when: "the latest run's file damaged", damage: true},
	} {
		if step.name != "" {
			drop(t, ws, step.name, step.content)
		}
		if step.damage {
			damageIndicators(t, filepath.Join(ws.Latest(), IndicatorsParquet))
		}
		if step.withdraw != "" {
			if _, err := p.Withdraw(ctx, step.withdraw, Options{}); err != nil {
				t.Fatal(err)
			}
		}
		cmd := CommandRun
		if step.name == "" {
			cmd = CommandBuild // a run with nothing new publishes nothing
		}
		// Without the gates: a withdrawal may hold a build, which would
		// leave out/latest where it was.
		res, err := p.Execute(ctx, cmd, Options{NoGates: true})
		if err != nil || !res.Published {
			t.Fatalf("%s: %v, %+v", step.when, err, res)
		}
		if fmt.Sprint(res.Taken) != fmt.Sprint(step.taken) {
			t.Errorf("%s: took the indicators of %v from the latest run, want %v", step.when, res.Taken, step.taken)
		}
		taken := readFile(t, filepath.Join(ws.Latest(), IndicatorsCSV))
		again, err := p.Execute(ctx, CommandBuild, Options{Recompute: true, NoGates: true})
		if err != nil || !again.Published || len(again.Taken) != 0 {
			t.Fatalf("%s, recomputed: %v, %+v", step.when, err, again)
		}
		if computed := readFile(t, filepath.Join(ws.Latest(), IndicatorsCSV)); !bytes.Equal(taken, computed) {
			t.Errorf("%s: the indicators published differ from those computed:\n%s\nwant\n%s", step.when, taken, computed)
		}
		if !bytes.Contains(taken, []byte("\nP4,")) || !bytes.Contains(taken, []byte("\nC1,")) || !bytes.Contains(taken, []byte("\nP3,")) {
			t.Fatalf("%s: the indicators lack a domain's: the test no longer tests that", step.when)
		}
	}
}

// damageIndicators changes the first value of an indicators file, which
// stays a valid Parquet file of the same columns: only its SHA-256 says
// it is not what was published.
func damageIndicators(t *testing.T, path string) {
	t.Helper()
	mem := memory.NewGoAllocator()
	var batches []arrow.RecordBatch
	err := parquetio.ReadFile(context.Background(), path, mem, func(b arrow.RecordBatch) error {
		b.Retain()
		batches = append(batches, b)
		return nil
	})
	if err != nil || len(batches) != 1 {
		t.Fatalf("read %s: %v (%d batches)", path, err, len(batches))
	}
	b := batches[0]
	defer b.Release()
	idx := b.Schema().FieldIndices("value")[0]
	values := b.Column(idx).(*array.Float64).Float64Values()
	changed := array.NewFloat64Data(array.NewData(arrow.PrimitiveTypes.Float64, len(values),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(append([]float64{values[0] + 1}, values[1:]...)))}, nil, 0, 0))
	cols := slices.Clone(b.Columns())
	cols[idx] = changed
	damaged := array.NewRecordBatch(b.Schema(), cols, b.NumRows())
	var out bytes.Buffer
	if err := parquetio.Write(&out, damaged); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Rows are taken from a table only in the order of outputs.md, each
// indicator's rows in one place: anything else is refused, not spliced.
func TestIndicatorRowsMustBeInOrder(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "indicator_id", Type: arrow.BinaryTypes.String}, {Name: "v", Type: arrow.PrimitiveTypes.Int32}}, nil)
	table := func(ids ...string) arrow.RecordBatch {
		return arrowcol.NewBatch(mem, schema, len(ids), func(b *arrowcol.Builder, i int) { b.Str(ids[i]); b.I32(i) })
	}
	for _, tc := range []struct {
		batches [][]string
		ok      bool
	}{
		{[][]string{{"A", "A", "B", "C"}}, true},
		{[][]string{{"A", "B"}, {"B", "C"}}, true}, // an indicator continued in the next batch
		{[][]string{{"A", "B", "A"}}, false},
		{[][]string{{"B", "A"}}, false},
		{[][]string{{"A", "B"}, {"C"}, {"B"}}, false},
		{[][]string{{"A"}, {"A", "B", "A"}}, false},
	} {
		var batches []arrow.RecordBatch
		for _, ids := range tc.batches {
			batches = append(batches, table(ids...))
		}
		rows, err := indicatorRows(batches)
		if (err == nil) != tc.ok {
			t.Errorf("%v: err = %v, want ok %v", tc.batches, err, tc.ok)
		}
		if tc.ok {
			n := 0
			for _, segs := range rows {
				for _, s := range segs {
					n += s.To - s.From
				}
			}
			if want := len(slices.Concat(tc.batches...)); n != want {
				t.Errorf("%v: %d rows found, want %d", tc.batches, n, want)
			}
		}
		for _, b := range batches {
			b.Release()
		}
	}
}

// Over a random history of files of every domain (records added and
// superseded, in years inside and after the window) and withdrawals, each
// build publishes what computing every indicator publishes.
func TestTakenIndicatorsOverRandomHistories(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			ws, p := faultWorkspace(t)
			rng := rand.New(rand.NewPCG(seed, 7))
			countries := []string{"FRA", "DEU", "ESP", "MAR", "KEN", "PHL"}
			var accepted []string
			took := 0
			for step := range 10 {
				switch op := rng.IntN(10); {
				case op < 2 && len(accepted) > 1:
					i := rng.IntN(len(accepted))
					if _, err := p.Withdraw(ctx, accepted[i], Options{}); err != nil {
						t.Fatal(err)
					}
					accepted = slices.Delete(accepted, i, i+1)
				default:
					name := fmt.Sprintf("s%02d.csv", step)
					var content string
					c := func() string { return countries[rng.IntN(len(countries))] }
					switch rng.IntN(3) {
					case 0:
						content = fmt.Sprintf("country,year,value\n%s,%d,%d\n%s,%d,%d\n", c(), 2016+rng.IntN(8), rng.IntN(100), c(), 2016+rng.IntN(9), rng.IntN(100))
					case 1:
						content = fmt.Sprintf("country,instrument,ratification_date\n%s,C097,%d-0%d-1%d\n", c(), 1950+rng.IntN(70), 1+rng.IntN(9), rng.IntN(9))
					default:
						a, b := c(), c()
						if a == b {
							b = "QAT"
						}
						content = fmt.Sprintf("agreement_id,title,type,parties,date_signed,status,ilo_standards\nA%d,Accord,BLA,%s;%s,%d-06-01,in_force,%s\n",
							rng.IntN(4), a, b, 2010+rng.IntN(14), []string{"yes", "no", "partial", "unknown"}[rng.IntN(4)])
					}
					drop(t, ws, name, content)
					res, err := p.Execute(ctx, CommandIngest, Options{})
					if err != nil {
						t.Fatal(err)
					}
					if res.Count(OutcomeAccepted) == 1 {
						accepted = append(accepted, name)
					}
				}
				res, err := p.Execute(ctx, CommandBuild, Options{NoGates: true})
				if err != nil || !res.Published {
					t.Fatalf("step %d: %v, %+v", step, err, res)
				}
				took += len(res.Taken)
				taken := readFile(t, filepath.Join(ws.Latest(), IndicatorsCSV))
				if _, err := p.Execute(ctx, CommandBuild, Options{Recompute: true, NoGates: true}); err != nil {
					t.Fatal(err)
				}
				if computed := readFile(t, filepath.Join(ws.Latest(), IndicatorsCSV)); !bytes.Equal(taken, computed) {
					t.Fatalf("step %d (took %v): the indicators published differ from those computed", step, res.Taken)
				}
			}
			if took == 0 {
				t.Fatal("no build took any domain's indicators: the test no longer tests that")
			}
		})
	}
}

// Indicators are taken only from a run the same executable built: another
// build of the code (whose release number may be the same) computes them
// again, and so does an executable whose build ID cannot be read.
func TestIndicatorsTakenOnlyFromTheSameBuild(t *testing.T) {
	ctx := context.Background()
	ws, p := faultWorkspace(t)
	drop(t, ws, "cov.csv", "country,year,value\nFRA,2020,50\n")
	drop(t, ws, "rat.csv", "country,instrument,ratification_date\nFRA,C097,1954-03-29\n")
	// A nightly run with nothing new builds after another build of the
	// tool (its outputs may differ), and then takes nothing from the run
	// before; the next one finds nothing new.
	for _, step := range []struct {
		build      string
		taken      int
		nothingNew bool
	}{{"A", 0, false}, {"A", 0, true}, {"B", 0, false}, {"B", 0, true}, {"", 0, false}, {"", 0, true}} {
		p.buildID = func() string { return step.build }
		res, err := p.Execute(ctx, CommandRun, Options{})
		if err != nil || (res.UpToDate != "") != step.nothingNew || (!step.nothingNew && !res.Published) {
			t.Fatalf("run, build %q: %v, %+v", step.build, err, res)
		}
		if len(res.Taken) != step.taken {
			t.Errorf("run, build %q: took %v from the latest run, want %d domains", step.build, res.Taken, step.taken)
		}
		// build always builds: from the run the same build made, it takes
		// every domain, unless the build ID is unknown.
		want := 3
		if step.build == "" {
			want = 0
		}
		res, err = p.Execute(ctx, CommandBuild, Options{})
		if err != nil || !res.Published || len(res.Taken) != want {
			t.Fatalf("build %q: %v, took %v, want %d domains", step.build, err, res.Taken, want)
		}
	}
}
