package pipeline

import (
	"context"
	"math"
	"strconv"
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
