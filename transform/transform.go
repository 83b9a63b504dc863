// Package transform computes the indicator catalog (spec indicators.md) from
// the normalised domain tables, for the world, the ILO regions and the
// countries, per year.
//
// Indicators are plain Go over the tables' typed Arrow arrays: arrow-go's
// compute package has no group-by, and the rules (member-State
// denominators, "the store is complete per instrument", active agreements,
// unknown flags left out of shares) read more clearly as loops than as
// kernels. transform knows indicators, nothing about files or Excel.
//
// # Adding an indicator
//
//  1. Describe it in refdata/data/catalog.toml (id, pledge, name, unit,
//     type, method and the method's parameters, definition); the catalog
//     test checks the entry, and `pledgestat catalog` lists it.
//  2. If no method computes it yet, add the method's name to refdata's
//     Method constants and its computation here: a case in Compute's
//     switch (a method without one is an error, never skipped) emitting
//     one Observation per area, year and breakdown, with numerator and
//     denominator for counts and shares, and the source cells.
//  3. Compute a few rows by hand in transform_test.go (the hand-computed
//     rows are the real check; cmd/pledgestat's golden file is generated
//     and only guards against change), and add a mutation of its rule to
//     scripts/mutations.txt.
//  4. Document it in the spec's indicators.md and regenerate the golden
//     file (go test ./cmd/pledgestat -run TestEndToEnd -update).
package transform

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/ilo-pledge/pledgestat/internal/safego"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
)

// Inputs are the domain tables of records.Schema; a nil table is empty.
// Compute reads their columns in place: they must not be released before
// it returns. What its result keeps (codes, references) is copied out of
// them, so the tables may be released, from any allocator, once it has.
type Inputs struct {
	Ratification     arrow.RecordBatch
	SocialProtection arrow.RecordBatch
	BLMA             arrow.RecordBatch
}

// Options set the report window; zero values take the defaults.
type Options struct {
	FirstYear int // default 2015
	LastYear  int // default: the latest year in the accepted records
	// MaxYear caps the default last year (the current year): an entry
	// into force scheduled for later is no reason to publish years that
	// have not happened. 0 leaves it uncapped.
	MaxYear int
	// Skip names domains whose indicators are not computed: a build takes
	// them from the latest run, which computed them from the same
	// records. Their tables need hold only YearColumns, from which the
	// window is found as it is without Skip.
	Skip []records.Domain
}

// IndicatorDomain is the domain whose table an indicator is computed
// from, "" for a method Compute does not know.
func IndicatorDomain(ind refdata.Indicator) records.Domain {
	switch ind.Method {
	case refdata.RatificationEach, refdata.RatificationOne, refdata.RatificationBoth:
		return records.DomainRatification
	case refdata.AgreementActive, refdata.AgreementSigned, refdata.AgreementShare:
		return records.DomainBLMA
	case refdata.Coverage, refdata.CoverageGap:
		return records.DomainSocialProtection
	}
	return ""
}

// DefaultFirstYear is the first year published unless configured.
const DefaultFirstYear = 2015

// Observation is one row of the indicators table (outputs.md).
type Observation struct {
	Pledge        string
	IndicatorID   string
	IndicatorName string
	RefArea       string
	RefAreaName   string
	RefAreaType   refdata.AreaType
	TimePeriod    int
	Sex           string
	Instrument    string // empty when not per instrument
	Value         float64
	Unit          string
	Numerator     *float64
	Denominator   *float64
	Note          string
	Sources       string
}

// Result is the computed indicator table.
type Result struct {
	FirstYear, LastYear int // the window; LastYear < FirstYear when there are no years
	Observations        []Observation
}

// Compute computes every indicator of the catalog.
func Compute(ctx context.Context, ref *refdata.Reference, in Inputs, opts Options) (*Result, error) {
	var (
		rat                    *ratificationTable
		cov                    *coverageTable
		agr                    *agreementTable
		ratErr, covErr, agrErr error
		wg                     sync.WaitGroup
	)
	// The three tables are independent: each is read on its own core. A
	// table skipped is read as empty, and only its latest year counts,
	// for the window.
	skip := func(d records.Domain, b arrow.RecordBatch) arrow.RecordBatch {
		if slices.Contains(opts.Skip, d) {
			return nil
		}
		return b
	}
	wg.Go(func() {
		defer safego.Catch(&ratErr)
		rat, ratErr = readRatifications(skip(records.DomainRatification, in.Ratification))
	})
	wg.Go(func() {
		defer safego.Catch(&covErr)
		cov, covErr = readCoverage(ctx, skip(records.DomainSocialProtection, in.SocialProtection))
	})
	wg.Go(func() { defer safego.Catch(&agrErr); agr, agrErr = readAgreements(skip(records.DomainBLMA, in.BLMA)) })
	wg.Wait()
	if err := errors.Join(ratErr, covErr, agrErr); err != nil {
		return nil, err
	}
	skippedLatest := 0
	for d, b := range map[records.Domain]arrow.RecordBatch{
		records.DomainRatification: in.Ratification, records.DomainSocialProtection: in.SocialProtection, records.DomainBLMA: in.BLMA,
	} {
		if slices.Contains(opts.Skip, d) {
			y, err := latestYear(b, d)
			if err != nil {
				return nil, err
			}
			skippedLatest = max(skippedLatest, y)
		}
	}
	first := opts.FirstYear
	if first == 0 {
		first = DefaultFirstYear
	}
	last := opts.LastYear
	if last == 0 {
		last = max(rat.latestYear(), cov.latestYear(), agr.latestYear(), skippedLatest)
		if opts.MaxYear > 0 {
			last = min(last, opts.MaxYear)
		}
	}
	base := computation{ref: ref, areas: newAreas(ref), first: first, last: last, rat: rat, cov: cov, agr: agr}
	// Filled once here, the computation's only cache is read-only while
	// the indicators are computed side by side.
	base.agreementAreas()
	var indicators []refdata.Indicator
	for _, ind := range ref.Catalog().Indicators {
		if !slices.Contains(opts.Skip, IndicatorDomain(ind)) {
			indicators = append(indicators, ind)
		}
	}
	parts := make([][]Observation, len(indicators))
	err := safego.ForEach(len(indicators), runtime.GOMAXPROCS(0), func(i int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := base // its out is empty; the rest is shared, read-only
		if err := c.compute(indicators[i]); err != nil {
			return err
		}
		sortObservations(c.out)
		parts[i] = c.out
		return nil
	})
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, err
	}
	// The rows are ordered by indicator first: each indicator's rows,
	// sorted on their own, are put in the order of their ids.
	order := make([]int, len(indicators))
	total := 0
	for i := range order {
		order[i] = i
		total += len(parts[i])
	}
	sort.SliceStable(order, func(a, b int) bool { return indicators[order[a]].ID < indicators[order[b]].ID })
	out := make([]Observation, 0, total)
	for _, i := range order {
		out = append(out, parts[i]...)
	}
	return &Result{FirstYear: first, LastYear: last, Observations: out}, nil
}

// compute appends the observations of one indicator to c.out.
func (c *computation) compute(ind refdata.Indicator) error {
	switch ind.Method {
	case refdata.RatificationEach, refdata.RatificationOne, refdata.RatificationBoth:
		c.ratification(ind)
	case refdata.AgreementActive, refdata.AgreementSigned:
		c.agreementCount(ind)
	case refdata.AgreementShare:
		c.agreementShare(ind)
	case refdata.Coverage:
		c.coverage(ind)
	case refdata.CoverageGap:
		c.coverageGap(ind)
	default:
		return fmt.Errorf("indicator %s: method %q has no computation", ind.ID, ind.Method)
	}
	return nil
}

// computation holds the inputs and output of one Compute call.
type computation struct {
	ref         *refdata.Reference
	areas       *areas
	first, last int
	rat         *ratificationTable
	cov         *coverageTable
	agr         *agreementTable
	out         []Observation
	// The areas of each agreement, once computed: indices into
	// agrAreaList, whose codes agrAreaIndex gives.
	agrAreas     [][]int32
	agrAreaList  []area
	agrAreaIndex map[string]int32
}

func (c *computation) years() []int {
	var ys []int
	for y := c.first; y <= c.last; y++ {
		ys = append(ys, y)
	}
	return ys
}

// emit appends an observation of ind for an area.
func (c *computation) emit(ind refdata.Indicator, area area, year int, sex, instrument string, value float64, num, den *float64, sources []string) {
	o := Observation{
		Pledge: ind.Pledge, IndicatorID: ind.ID, IndicatorName: ind.Name,
		RefArea: area.code, RefAreaName: area.name, RefAreaType: area.typ,
		TimePeriod: year, Sex: sex, Instrument: instrument, Value: value, Unit: ind.Unit,
		Numerator: num, Denominator: den, Sources: strings.Join(sources, ";"),
	}
	if area.code == "XKX" {
		o.Note = refdata.KosovoFootnote
	}
	c.out = append(c.out, o)
}

func ptr(v float64) *float64 { return &v }

// area is the world, an ILO region or a country.
type area struct {
	code, name string
	typ        refdata.AreaType
	region     string // for countries
	member     bool
}

// areas indexes the reference areas.
type areas struct {
	world     area
	regions   []area
	byCode    map[string]area
	members   []area // ILO member States, by ISO3
	countries map[string]area
}

func newAreas(ref *refdata.Reference) *areas {
	a := &areas{byCode: map[string]area{}, countries: map[string]area{}}
	for _, r := range ref.Countries().Regions() {
		ar := area{code: r.Code, name: r.NameEN, typ: r.Type}
		a.byCode[r.Code] = ar
		if r.Type == refdata.AreaWorld {
			a.world = ar
		} else {
			a.regions = append(a.regions, ar)
		}
	}
	for _, ct := range ref.Countries().All() {
		ar := area{code: ct.ISO3, name: ct.NameEN, typ: refdata.AreaCountry, region: ct.Region, member: ct.ILOMember}
		a.byCode[ct.ISO3] = ar
		a.countries[ct.ISO3] = ar
		if ct.ILOMember {
			a.members = append(a.members, ar)
		}
	}
	return a
}

// aggregates returns the world followed by the regions.
func (a *areas) aggregates() []area { return append([]area{a.world}, a.regions...) }

// areaRank is the order of the area types in the published tables.
func areaRank(t refdata.AreaType) int {
	switch t {
	case refdata.AreaWorld:
		return 0
	case refdata.AreaRegion:
		return 1
	}
	return 2
}

// compareObservations orders rows by indicator_id, ref_area_type (world,
// region, country), ref_area, time_period, sex, instrument (outputs.md).
func compareObservations(a, b *Observation) int {
	if c := strings.Compare(a.IndicatorID, b.IndicatorID); c != 0 {
		return c
	}
	if c := cmp.Compare(areaRank(a.RefAreaType), areaRank(b.RefAreaType)); c != 0 {
		return c
	}
	if c := strings.Compare(a.RefArea, b.RefArea); c != 0 {
		return c
	}
	if c := cmp.Compare(a.TimePeriod, b.TimePeriod); c != 0 {
		return c
	}
	if c := strings.Compare(a.Sex, b.Sex); c != 0 {
		return c
	}
	return strings.Compare(a.Instrument, b.Instrument)
}

// sortObservations puts rows in the order of compareObservations, rows
// alike kept in the order they came. It sorts their positions, then
// moves each row once: a stable sort of the rows themselves moved each
// 200-byte row O(log n) times, a sixth of the computation.
func sortObservations(obs []Observation) {
	sorted := true
	for i := 1; i < len(obs) && sorted; i++ {
		sorted = compareObservations(&obs[i-1], &obs[i]) <= 0
	}
	if sorted {
		return
	}
	order := make([]int32, len(obs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(i, j int32) int { return compareObservations(&obs[i], &obs[j]) })
	moved := make([]Observation, len(obs))
	for k, i := range order {
		moved[k] = obs[i]
	}
	copy(obs, moved)
}
