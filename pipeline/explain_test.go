package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

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
		bad := math.Abs(recomputed-row.value) > 1e-9
		if row.num != nil && *row.num != counted {
			bad = true
		}
		if row.den != nil && *row.den != float64(len(x.Items)) {
			bad = true
		}
		if row.num == nil && ind.Unit == refdata.UnitCount && counted != row.value {
			bad = true
		}
		if bad {
			failures++
			if failures <= 10 {
				t.Errorf("%+v: published %g (%v/%v); explained %d counted of %d items, recomputed %g: %s", q, row.value, row.num, row.den, int(counted), len(x.Items), recomputed, x.Formula)
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
