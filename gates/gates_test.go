package gates

import (
	"bytes"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/export"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/transform"
	"github.com/ilo-pledge/pledgestat/workspace"
)

var ref = func() *refdata.Reference {
	r, err := refdata.Load()
	if err != nil {
		panic(err)
	}
	return r
}()

// obs is one indicator row: "C1.1 X06 2020 T C097" and its value.
type obs struct {
	id, area string
	typ      refdata.AreaType
	year     int
	inst     string
	value    float64
}

func table(t *testing.T, mem memory.Allocator, rows []obs) arrow.RecordBatch {
	t.Helper()
	res := &transform.Result{FirstYear: 2015, LastYear: 2024}
	for _, r := range rows {
		ind, ok := ref.Catalog().Indicator(r.id)
		if !ok {
			t.Fatalf("no indicator %s", r.id)
		}
		res.Observations = append(res.Observations, transform.Observation{Pledge: ind.Pledge, IndicatorID: r.id, IndicatorName: ind.Name,
			RefArea: r.area, RefAreaName: r.area, RefAreaType: r.typ, TimePeriod: r.year, Sex: "T", Instrument: r.inst, Value: r.value, Unit: ind.Unit})
	}
	return res.RecordBatch(mem, nil)
}

// base is a published run: C097 counts for Algeria, Morocco, Africa and
// the world; Kenya's coverage; agreements signed in the world.
func base() []obs {
	return []obs{
		{"C1.1", "DZA", refdata.AreaCountry, 2020, "C097", 1},
		{"C1.1", "MAR", refdata.AreaCountry, 2020, "C097", 1},
		{"C1.1", "X06", refdata.AreaRegion, 2020, "C097", 10},
		{"C1.1", "X01", refdata.AreaWorld, 2020, "C097", 50},
		{"P3.1", "KEN", refdata.AreaCountry, 2020, "", 11.5},
		{"P3.1", "KEN", refdata.AreaCountry, 2021, "", 12},
		{"P4.1", "X01", refdata.AreaWorld, 2020, "", 30},
		{"P4.1", "X01", refdata.AreaWorld, 2021, "", 31},
		{"P4.1", "X06", refdata.AreaRegion, 2021, "", 8},
		{"P4.1", "X21", refdata.AreaRegion, 2021, "", 9},
	}
}

func with(rows []obs, edit func(o *obs) bool) []obs {
	var out []obs
	for _, o := range rows {
		if edit(&o) {
			out = append(out, o)
		}
	}
	return out
}

func TestRules(t *testing.T) {
	denounced := Denunciations{"DZA|C097": records.DateOf(2020, 12, 31)}
	tests := []struct {
		name   string
		next   []obs
		rules  func(*workspace.GatesConfig)
		build  func(*Build)
		broken []string // rules broken, in order
		detail string   // in the first broken rule's details
	}{
		{name: "same data", next: base()},
		{name: "a normal increment: a new year added", next: append(base(), obs{"P3.1", "KEN", refdata.AreaCountry, 2022, "", 12.5}, obs{"P4.1", "X01", refdata.AreaWorld, 2022, "", 32})},
		{name: "coverage moves 40 points", next: with(base(), func(o *obs) bool {
			if o.id == "P3.1" && o.year == 2021 {
				o.value = 52
			}
			return true
		}), broken: []string{RuleCoverageMove}, detail: "P3.1 KEN 2021 T: 12 → 52 (+40.0 points)"},
		{name: "more than a tenth changed", next: with(base(), func(o *obs) bool {
			if o.id == "P3.1" {
				o.value++
			}
			return true
		}), broken: []string{RuleChangedShare}, detail: "2 (20.0%) of the previous run's observations changed"},
		{name: "coverage moves exactly the limit", next: with(base(), func(o *obs) bool {
			if o.id == "P3.1" && o.year == 2021 {
				o.value = 37
			}
			return true
		}), rules: func(r *workspace.GatesConfig) { r.MaxChangedShare = 1 }},
		{name: "a tenth removed", next: with(base(), func(o *obs) bool { return !(o.id == "P3.1" && o.year == 2020) }),
			broken: []string{RuleRemovedShare}, detail: "1 (10.0%) of the previous run's observations removed"},
		{name: "removals allowed up to the share", next: with(base(), func(o *obs) bool { return !(o.id == "P3.1" && o.year == 2020) }),
			rules: func(r *workspace.GatesConfig) { r.MaxRemovedShare = 0.1 }},
		{name: "a region vanishes", next: with(base(), func(o *obs) bool { return o.area != "X21" }),
			rules: func(r *workspace.GatesConfig) { r.MaxRemovedShare = 1 }, broken: []string{RuleAreaVanished}, detail: "X21"},
		{name: "a past count falls with nothing to explain it", next: with(base(), func(o *obs) bool {
			if o.id == "P4.1" && o.year == 2020 {
				o.value = 29
			}
			return true
		}), broken: []string{RuleCountDrop}, detail: "P4.1 X01 2020 T: 30 → 29"},
		{name: "a count of the current year may fall", next: with(base(), func(o *obs) bool {
			if o.id == "P4.1" && o.year == 2021 && o.area == "X01" {
				o.value = 30
			}
			return true
		}), build: func(b *Build) { b.CurrentYear = 2021 }},
		{name: "a withdrawal explains a fall", next: with(base(), func(o *obs) bool {
			if o.id == "P4.1" && o.year == 2020 {
				o.value = 29
			}
			return true
		}), build: func(b *Build) { b.Withdrawn = []int{4} }},
		{name: "a denunciation explains a country's fall and its region's and the world's", next: with(base(), func(o *obs) bool {
			switch {
			case o.area == "DZA":
				o.value = 0
			case o.id == "C1.1" && (o.area == "X06" || o.area == "X01"):
				o.value--
			}
			return true
		}), rules: func(r *workspace.GatesConfig) { r.MaxChangedShare = 1 }, build: func(b *Build) { b.Denunciations = denounced }},
		{name: "a region falls by more than its countries' denunciations", next: with(base(), func(o *obs) bool {
			switch {
			case o.area == "DZA":
				o.value = 0
			case o.id == "C1.1" && o.area == "X06":
				o.value -= 2
			case o.id == "C1.1" && o.area == "X01":
				o.value--
			}
			return true
		}), rules: func(r *workspace.GatesConfig) { r.MaxChangedShare = 1 }, build: func(b *Build) { b.Denunciations = denounced },
			broken: []string{RuleCountDrop}, detail: "C1.1 X06 2020 T C097: 10 → 8"},
		{name: "a denunciation effective the next year explains nothing", next: with(base(), func(o *obs) bool {
			if o.area == "DZA" {
				o.value = 0
			}
			return true
		}), build: func(b *Build) { b.Denunciations = Denunciations{"DZA|C097": records.DateOf(2021, 1, 1)} }, broken: []string{RuleCountDrop}, detail: "C1.1 DZA 2020 T C097: 1 → 0"},
		{name: "count_drop turned off", next: with(base(), func(o *obs) bool {
			if o.id == "P4.1" && o.year == 2020 {
				o.value = 29
			}
			return true
		}), rules: func(r *workspace.GatesConfig) { r.CountDrop = false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			prev, next := table(t, mem, base()), table(t, mem, tt.next)
			defer prev.Release()
			defer next.Release()
			rules := workspace.DefaultGates()
			if tt.rules != nil {
				tt.rules(&rules)
			}
			b := Build{PreviousRun: "20260101T000000Z", CurrentYear: 2026}
			if tt.build != nil {
				tt.build(&b)
			}
			changes, err := export.Diff([]arrow.RecordBatch{prev}, next)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Evaluate([]arrow.RecordBatch{prev}, next, changes, rules, ref, b)
			if err != nil {
				t.Fatal(err)
			}
			var broken []string
			for _, c := range r.Broken() {
				broken = append(broken, c.Rule)
			}
			if strings.Join(broken, ",") != strings.Join(tt.broken, ",") || r.Held != (len(tt.broken) > 0) {
				t.Fatalf("held %v, broken %v; want %v\n%+v", r.Held, broken, tt.broken, r.Checks)
			}
			if tt.detail != "" && !strings.Contains(strings.Join(r.Broken()[0].Details, "\n"), tt.detail) {
				t.Errorf("details %q lack %q", r.Broken()[0].Details, tt.detail)
			}
			if *r.PreviousRun != b.PreviousRun {
				t.Errorf("previous run %q", *r.PreviousRun)
			}
		})
	}
}

func TestReportRoundTrip(t *testing.T) {
	r := Report{Held: true, Checks: []Check{{Rule: RuleCountDrop, Figure: 1, Limit: 0, Details: []string{"P4.1 X01 2020 T: 30 → 29"}}}}
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"previous_run": null`) {
		t.Errorf("a report without a previous run must say null:\n%s", buf.String())
	}
	back, err := Read(buf.Bytes())
	if err != nil || !back.Held || len(back.Broken()) != 1 || back.Broken()[0].Details[0] != r.Checks[0].Details[0] {
		t.Errorf("read back %+v, %v", back, err)
	}
	if s := Skip("", "a first run"); s.Held || s.Checks == nil || s.PreviousRun != nil {
		t.Errorf("Skip = %+v", s)
	}
}

// Details are capped, the figure counts everything.
func TestDetailsAreCapped(t *testing.T) {
	var r Report
	c := Check{Rule: RuleAreaVanished, Figure: 30}
	for range 30 {
		c.Details = append(c.Details, "X")
	}
	r.add(c)
	if d := r.Checks[0].Details; len(d) != maxDetails+1 || d[maxDetails] != "… and 10 more" || r.Checks[0].Figure != 30 {
		t.Errorf("details %d, last %q", len(d), d[len(d)-1])
	}
}
