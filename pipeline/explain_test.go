package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/transform"
)

// checkExplainsEveryRow explains every row a run published and checks
// the invariants of cli.md: the items counted number the numerator (the
// value, for counts without one), the items number the denominator, and
// the value recomputed from the items listed is the value published.
func checkExplainsEveryRow(t *testing.T, p *Pipeline) int {
	t.Helper()
	ctx := context.Background()
	e, err := p.Explainer(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	e.st = nil // the facts' earlier versions are checked elsewhere; here, the members
	failures := 0
	for k, row := range e.rows {
		q := transform.Query{IndicatorID: k.indicator, RefArea: k.area, Year: k.year, Sex: k.sex, Instrument: k.instrument}
		x, err := e.Explain(ctx, q)
		if err != nil {
			t.Errorf("%+v: %v", q, err)
			failures++
			continue
		}
		counted := 0.0
		for _, it := range x.Items {
			if it.Counted {
				counted++
			}
		}
		ind, _ := p.Ref.Catalog().Indicator(k.indicator)
		var recomputed float64
		switch ind.Method {
		case refdata.Coverage:
			recomputed, _ = strconv.ParseFloat(x.Items[0].Facts[0].Value, 64)
		case refdata.CoverageGap:
			a, _ := strconv.ParseFloat(x.Items[0].Facts[0].Value, 64)
			b, _ := strconv.ParseFloat(x.Items[1].Facts[0].Value, 64)
			recomputed = a - b
		case refdata.AgreementShare:
			recomputed = 100 * counted / float64(len(x.Items))
		default:
			recomputed = counted
		}
		bad := math.Abs(recomputed-row.Value) > 1e-9
		if row.Numerator != nil && *row.Numerator != counted {
			bad = true
		}
		if row.Denominator != nil && *row.Denominator != float64(len(x.Items)) {
			bad = true
		}
		if row.Numerator == nil && ind.Unit == refdata.UnitCount && counted != row.Value {
			bad = true
		}
		if bad {
			failures++
			if failures <= 10 {
				t.Errorf("%+v: published %g (%v/%v); explained %d counted of %d items, recomputed %g: %s", q, row.Value, row.Numerator, row.Denominator, int(counted), len(x.Items), recomputed, x.Formula)
			}
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d rows not explained exactly", failures, len(e.rows))
	}
	return len(e.rows)
}

func TestExplainEveryDemoRow(t *testing.T) {
	_, p, _ := demoPublished(t)
	if n := checkExplainsEveryRow(t, p); n < 20000 {
		t.Errorf("only %d rows explained", n)
	}
}

var updateExplain = flag.Bool("update", false, "rewrite the golden explanations under testdata/explain/")

// Golden explanations (JSON, with the run id and acceptance times masked)
// of the demo: a count, a share, a social-protection aggregate, a Kosovo
// row with its footnote, and a value whose input was superseded.
func TestExplainGolden(t *testing.T) {
	ws, p, _ := demoPublished(t)
	ctx := context.Background()
	drop(t, ws, "ken-fix.csv", "country,year,value,series,sex,population\nKEN,2016,12.5,SOC_CONTIG_TOTAL,T,total\n")
	if res, err := p.Execute(ctx, CommandRun, Options{}); err != nil || res.Held {
		t.Fatalf("held %v, %v", res.Held, err)
	}
	e, err := p.Explainer(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	mask := regexp.MustCompile(`"(run_id|accepted_at)": "[^"]*"`)
	for name, q := range map[string]transform.Query{
		"count-C1.1-X06-2022-C097":     {IndicatorID: "C1.1", RefArea: "Africa", Year: 2022, Instrument: "c097"},
		"share-P4.3-X01-2020":          {IndicatorID: "P4.3", RefArea: "X01", Year: 2020},
		"aggregate-P3.1-X06-2020":      {IndicatorID: "P3.1", RefArea: "X06", Year: 2020},
		"kosovo-P3.1-XKX-2020":         {IndicatorID: "P3.1", RefArea: "Kosovo", Year: 2020},
		"superseded-P3.1-KEN-2016":     {IndicatorID: "P3.1", RefArea: "KEN", Year: 2016},
		"agreements-P4.2-PHL-2020":     {IndicatorID: "P4.2", RefArea: "Philippines", Year: 2020},
		"both-C2.2-X60-2021":           {IndicatorID: "C2.2", RefArea: "X60", Year: 2021},
		"denounced-C1.1-BEN-2020-C097": {IndicatorID: "C1.1", RefArea: "BEN", Year: 2020, Instrument: "C097"},
	} {
		t.Run(name, func(t *testing.T) {
			x, err := e.Explain(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			data, err := json.MarshalIndent(x, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got := mask.ReplaceAll(data, []byte(`"$1": "…"`))
			path := filepath.Join("testdata", "explain", name+".json")
			if *updateExplain {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./pipeline -run ExplainGolden -update writes it)", err)
			}
			if string(append(got, '\n')) != string(want) {
				t.Errorf("explanation differs from %s (rerun with -update and review the diff)", path)
			}
		})
	}
}

// An old run is explained with its own reasons after later submissions:
// Kenya's 2016 value as the first run published it, from its own file,
// with nothing superseded, though a later file corrected it.
func TestExplainAnOldRun(t *testing.T) {
	ws, p, first := demoPublished(t)
	ctx := context.Background()
	drop(t, ws, "ken-fix.csv", "country,year,value,series,sex,population\nKEN,2016,12.5,SOC_CONTIG_TOTAL,T,total\n")
	if _, err := p.Execute(ctx, CommandRun, Options{}); err != nil {
		t.Fatal(err)
	}
	e, err := p.Explainer(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.Explain(ctx, transform.Query{IndicatorID: "P3.1", RefArea: "KEN", Year: 2016})
	if err != nil {
		t.Fatal(err)
	}
	f := x.Items[0].Facts[0]
	if x.RunID != first || x.Value != 11.5 || f.File != "03_social_protection.xlsx" || f.Cell != "F128" || len(f.Superseded) != 0 {
		t.Errorf("the first run explained as %s: %g from %s!%s, superseded %+v", x.RunID, x.Value, f.File, f.Cell, f.Superseded)
	}
	latest, _ := p.Explainer(ctx, "")
	y, _ := latest.Explain(ctx, transform.Query{IndicatorID: "P3.1", RefArea: "KEN", Year: 2016})
	if y.Value != 12.5 || len(y.Items[0].Facts[0].Superseded) != 1 {
		t.Errorf("the latest run: %g, superseded %+v", y.Value, y.Items[0].Facts[0].Superseded)
	}

	// A withdrawn submission's value was not superseded: it is not listed.
	if _, err := p.Withdraw(ctx, "03_social_protection.xlsx", Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Execute(ctx, CommandBuild, Options{NoGates: true}); err != nil {
		t.Fatal(err)
	}
	after, _ := p.Explainer(ctx, "")
	z, err := after.Explain(ctx, transform.Query{IndicatorID: "P3.1", RefArea: "KEN", Year: 2016})
	if err != nil || z.Value != 12.5 || len(z.Items[0].Facts[0].Superseded) != 0 {
		t.Errorf("after withdrawing the first file: %+v, %v; want 12.5 superseding nothing", z, err)
	}
}

// A row the run did not publish is refused with what is close.
func TestExplainUnknownRows(t *testing.T) {
	_, p, _ := demoPublished(t)
	ctx := context.Background()
	e, err := p.Explainer(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q    transform.Query
		want string
	}{
		{transform.Query{IndicatorID: "C1.9", RefArea: "KEN", Year: 2020}, "did you mean: C1.1"},
		{transform.Query{IndicatorID: "C1.1", RefArea: "Kenia", Year: 2030, Instrument: "C097"}, "year 2015 to 2024"},
		{transform.Query{IndicatorID: "C1.1", RefArea: "KEN", Year: 2020}, "instrument C097, instrument C143"},
		{transform.Query{IndicatorID: "P3.1", RefArea: "Kenyaa", Year: 2020}, "Kenya (KEN)"},
		{transform.Query{IndicatorID: "C1.1", RefArea: "XKX", Year: 2020, Instrument: "C097"}, "not an ILO member State"},
	} {
		_, err := e.Explain(ctx, tc.q)
		var nr *NoSuchRowError
		if !errors.As(err, &nr) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want a NoSuchRowError with %q", tc.q, err, tc.want)
		}
	}
}

// Generated worlds: random ratifications (some denounced), coverage
// observations of countries and regions for every population, and
// agreements of every type, status and flag, in several submissions that
// supersede each other. Every published row is explained exactly.
func TestExplainEveryRowOfGeneratedWorlds(t *testing.T) {
	for seed := range 3 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			ws, p := faultWorkspace(t)
			rng := rand.New(rand.NewPCG(uint64(seed), 11))
			var members []string
			for _, c := range p.Ref.Countries().Members() {
				members = append(members, c.ISO3)
			}
			pick := func(list []string) string { return list[rng.IntN(len(list))] }
			instruments := p.Ref.Catalog().InstrumentsUsed()
			areas := append([]string{"X01", "X06", "X21", "X36", "X40", "X60", "XKX"}, members[:40]...)
			for file := range 3 {
				var rat, cov, agr strings.Builder
				rat.WriteString("country,instrument,ratification_date,status,denunciation_date\n")
				keys := map[string]bool{} // one record per key in a file: a repeat is an error
				for range 150 {
					country, inst := pick(members), pick(instruments)
					if keys[country+inst] {
						continue
					}
					keys[country+inst] = true
					adopted, _ := p.Ref.Instruments().ByCode(inst)
					y := max(1990, adopted.Year) + rng.IntN(max(1, 2025-max(1990, adopted.Year)))
					if rng.IntN(6) == 0 {
						fmt.Fprintf(&rat, "%s,%s,%d-03-01,Denounced,%d-12-31\n", country, inst, y, y+rng.IntN(8))
					} else {
						fmt.Fprintf(&rat, "%s,%s,%d-%02d-%02d,In Force,\n", country, inst, y, 1+rng.IntN(12), 1+rng.IntN(28))
					}
				}
				cov.WriteString("country,year,value,series,sex,population\n")
				seen := map[string]bool{}
				for range 300 {
					line := fmt.Sprintf("%s,%d,%%s,%s,%s,%s\n", pick(areas), 2015+rng.IntN(10), pick([]string{"SOC_CONTIG_TOTAL", "SOC_CONTIG_MAT", "SOC_CONTIG_UNE"}),
						pick([]string{"T", "F", "M"}), pick([]string{"total", "migrants", "non_migrants"}))
					if !seen[line] { // a repeat within a file is an error
						seen[line] = true
						fmt.Fprintf(&cov, line, strconv.FormatFloat(float64(rng.IntN(1000))/10, 'f', -1, 64))
					}
				}
				agr.WriteString("agreement_id,title,type,parties,date_signed,date_end,status," + strings.Join(records.ProvisionFlags(), ",") + "\n")
				for i := range 60 {
					signed := 2005 + rng.IntN(20)
					end := ""
					if rng.IntN(4) == 0 {
						end = strconv.Itoa(signed + 1 + rng.IntN(6))
					}
					var flags []string
					for range records.ProvisionFlags() {
						flags = append(flags, pick([]string{"yes", "no", "partial", "unknown"}))
					}
					status := pick([]string{"negotiating", "signed", "in_force"})
					if end != "" && rng.IntN(2) == 0 {
						status = "expired"
					}
					// Ids repeat across files, never within one: later files
					// supersede earlier agreements.
					fmt.Fprintf(&agr, "A-%d,Agreement %d-%d,%s,%s;%s,%d,%s,%s,%s\n", i+20*file, file, i, pick([]string{"BLA", "MOU", "OTHER", "SSA", "MULTILATERAL_SSA", "REGIONAL_FRAMEWORK"}),
						pick(members), pick(members), signed, end, status, strings.Join(flags, ","))
				}
				drop(t, ws, fmt.Sprintf("%d-rat.csv", file), rat.String())
				drop(t, ws, fmt.Sprintf("%d-cov.csv", file), cov.String())
				drop(t, ws, fmt.Sprintf("%d-agr.csv", file), agr.String())
				res, err := p.Execute(context.Background(), CommandRun, Options{NoGates: true})
				if err != nil {
					t.Fatal(err)
				}
				if n := res.Count(OutcomeAccepted); n != 3 {
					t.Fatalf("file set %d: %d of 3 files accepted: %+v", file, n, res.Files)
				}
			}
			if n := checkExplainsEveryRow(t, p); n < 1000 {
				t.Errorf("only %d rows", n)
			}
		})
	}
}

// Without the workspace's store, a run is still explained from its folder,
// and says that earlier versions are not listed.
func TestExplainWithoutTheStore(t *testing.T) {
	ws, p, _ := demoPublished(t)
	if err := os.Rename(ws.StoreDir(), ws.StoreDir()+".away"); err != nil {
		t.Fatal(err)
	}
	e, err := p.Explainer(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.Explain(context.Background(), transform.Query{IndicatorID: "P3.1", RefArea: "KEN", Year: 2016})
	if err != nil || x.Value != 11.5 || x.Items[0].Facts[0].Cell != "F128" || len(x.Notes) != 1 {
		t.Errorf("explained without the store: %+v, %v", x, err)
	}
}
