// Package gates holds implausible builds back before anyone downloads
// them: it compares a build's indicators with the run published before it
// and checks the rules of pledgestat.toml's [gates] (cli.md). A build that
// breaks one is published under out/runs/RUN_ID/ with its gates.json, but
// out/latest is not switched to it: the run is held until an operator
// releases it.
//
// The comparison is the one changes.csv makes (export.Diff): an
// observation is removed, changed or added by the same rule in both.
package gates

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ilo-pledge/pledgestat/export"
	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
	"github.com/ilo-pledge/pledgestat/internal/safego"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// The rules, as gates.json names them.
const (
	RuleRemovedShare = "removed_share"
	RuleChangedShare = "changed_share"
	RuleCoverageMove = "coverage_move"
	RuleCountDrop    = "count_drop"
	RuleAreaVanished = "area_vanished"
)

// FileName is the gates report of a run, in its folder (outputs.md).
const FileName = "gates.json"

// maxDetails bounds the examples a check lists; its figure counts all.
const maxDetails = 20

// Check is one rule checked: its figure for this build, its limit, and
// whether the build passed it, with examples of what broke it.
type Check struct {
	Rule    string   `json:"rule"`
	Figure  float64  `json:"figure"`
	Limit   float64  `json:"limit"`
	Passed  bool     `json:"passed"`
	Details []string `json:"details"`
}

// Report is gates.json: whether the build is held, against which run,
// and every rule checked. Skipped says why no rule was checked (a first
// run, gates turned off, build --no-gates).
type Report struct {
	Held        bool    `json:"held"`
	PreviousRun *string `json:"previous_run"`
	Skipped     string  `json:"skipped,omitempty"`
	Checks      []Check `json:"checks"`
}

// Broken returns the checks the build failed.
func (r Report) Broken() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.Passed {
			out = append(out, c)
		}
	}
	return out
}

// Skip is the report of a build whose gates were not checked.
func Skip(previousRun, why string) Report {
	r := Report{Skipped: why, Checks: []Check{}}
	if previousRun != "" {
		r.PreviousRun = &previousRun
	}
	return r
}

// Write writes the report as indented JSON.
func (r Report) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write %s: %w", FileName, err)
	}
	return nil
}

// Read reads a gates.json.
func Read(data []byte) (Report, error) {
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("read %s: %w", FileName, err)
	}
	return r, nil
}

// Build is what the rules need to know about a build beyond its
// indicators.
type Build struct {
	PreviousRun string
	// CurrentYear: counts of earlier years must not fall unexplained.
	CurrentYear int
	// Withdrawn lists the submissions accepted in the previous run and
	// withdrawn since: they explain any count that falls.
	Withdrawn []int
	// Denunciations are the current ratification records' denunciation
	// dates (Denunciations reads them), which explain a count that falls.
	Denunciations Denunciations
}

// Denunciations maps "COUNTRY|INSTRUMENT" to the date its denunciation
// takes effect.
type Denunciations map[string]records.Date

// DenunciationColumns are the columns of the ratification table
// ReadDenunciations reads.
var DenunciationColumns = []string{"country", "instrument", "denunciation_date"}

// ReadDenunciations collects the denunciations of a ratification table.
func ReadDenunciations(b arrow.RecordBatch) (Denunciations, error) {
	out := Denunciations{}
	if b == nil {
		return out, nil
	}
	text, err1 := arrowcol.TextColumns(b, DenunciationColumns[:2]...)
	date, err2 := arrowcol.Get[*array.Date32](b, DenunciationColumns[2])
	for _, err := range []error{err1, err2} {
		if err != nil {
			return nil, fmt.Errorf("ratification table: %w", err)
		}
	}
	country, inst := text[0], text[1]
	for i := range int(b.NumRows()) {
		if date.IsValid(i) {
			out[country.Value(i)+"|"+inst.Value(i)] = records.Date(date.Value(i))
		}
	}
	return out, nil
}

// denouncedBy reports whether the country's ratification of the
// instrument is denounced by the end of year y.
func (d Denunciations) denouncedBy(country, instrument string, y int) bool {
	date, ok := d[country+"|"+instrument]
	return ok && records.DenouncedBy(records.OptionalDate{Date: date, Valid: true}, y)
}

// observation is one published row, as the rules see it.
type observation struct {
	indicator, area, areaType, sex, instrument string
	year                                       int
	value                                      float64
}

func (o observation) String() string {
	s := o.indicator + " " + o.area + " " + strconv.Itoa(o.year) + " " + o.sex
	if o.instrument != "" {
		s += " " + o.instrument
	}
	return s
}

type obsKey struct {
	indicator, area, sex, instrument string
	year                             int
}

func (o observation) key() obsKey { return obsKey{o.indicator, o.area, o.sex, o.instrument, o.year} }

// ObservationColumns are the columns of the indicators tables the rules
// read: a previous run's may be read with these alone.
var ObservationColumns = []string{"indicator_id", "ref_area", "ref_area_type", "sex", "instrument", "value", "time_period"}

func readObservations(batches []arrow.RecordBatch) (map[obsKey]observation, error) {
	n := 0
	for _, b := range batches {
		n += int(b.NumRows())
	}
	out := make(map[obsKey]observation, n)
	// Only the columns the rules read, their codes copied once each (the
	// batches are released after): converting every row whole, names and
	// sources included, was most of the gates' time.
	codes := arrowcol.NewStrings()
	for _, b := range batches {
		str, err1 := arrowcol.StringColumns(b, ObservationColumns[:5]...)
		value, err2 := arrowcol.Get[*array.Float64](b, ObservationColumns[5])
		period, err3 := arrowcol.Get[*array.Int32](b, ObservationColumns[6])
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("indicators table: %w", err)
		}
		id, area, areaType, sex, inst := str[0], str[1], str[2], str[3], str[4]
		for i := range int(b.NumRows()) {
			o := observation{indicator: codes.Code(id, i), area: codes.Code(area, i), areaType: codes.Code(areaType, i), sex: codes.Code(sex, i),
				year: int(period.Value(i)), value: value.Value(i)}
			if inst.IsValid(i) {
				o.instrument = codes.Code(inst, i)
			}
			out[o.key()] = o
		}
	}
	return out, nil
}

// Evaluate checks a build's indicators (cur) against the previous run's
// (prev) under the rules. changes is their comparison as changes.csv
// gives it (export.Diff), which the build has made already: the shares
// are counted from it, so they always agree with changes.csv.
func Evaluate(prev []arrow.RecordBatch, cur arrow.RecordBatch, changes []export.Change, rules workspace.GatesConfig, ref *refdata.Reference, b Build) (Report, error) {
	// The two tables are read side by side. Without a previous run every
	// rule compares with nothing and finds nothing: the build's own
	// observations are not read (a first build's gates took as long as
	// its changes).
	tables := [2][]arrow.RecordBatch{prev, {cur}}
	if len(prev) == 0 {
		tables[1] = nil
	}
	var read [2]map[obsKey]observation
	err := safego.ForEach(2, 2, func(i int) (err error) {
		read[i], err = readObservations(tables[i])
		if err != nil && i == 0 {
			err = fmt.Errorf("previous run: %w", err)
		}
		return err
	})
	if err != nil {
		return Report{}, err
	}
	before, after := read[0], read[1]
	r := Report{Checks: []Check{}}
	if b.PreviousRun != "" {
		r.PreviousRun = &b.PreviousRun
	}
	var removed, changed []string
	for _, c := range changes {
		switch c.Kind {
		case "removed":
			removed = append(removed, changeText(c))
		case "changed":
			changed = append(changed, changeText(c)+": "+c.OldValue+" → "+c.NewValue)
		}
	}
	total := float64(max(len(before), 1))
	r.add(shareCheck(RuleRemovedShare, removed, total, rules.MaxRemovedShare, "of the previous run's observations removed"))
	r.add(shareCheck(RuleChangedShare, changed, total, rules.MaxChangedShare, "of the previous run's observations changed"))
	r.add(coverageMove(before, after, ref, rules.MaxCoverageMove))
	if rules.CountDrop {
		r.add(countDrop(before, after, ref, b))
	}
	if rules.AreaVanished {
		r.add(areaVanished(before, after))
	}
	r.Held = len(r.Broken()) > 0
	return r, nil
}

func (r *Report) add(c Check) {
	if len(c.Details) > maxDetails {
		more := len(c.Details) - maxDetails
		c.Details = append(c.Details[:maxDetails:maxDetails], fmt.Sprintf("… and %d more", more))
	}
	if c.Details == nil {
		c.Details = []string{}
	}
	r.Checks = append(r.Checks, c)
}

func changeText(c export.Change) string {
	s := c.IndicatorID + " " + c.RefArea + " " + c.TimePeriod + " " + c.Sex
	if c.Instrument != "" {
		s += " " + c.Instrument
	}
	return s
}

// shareCheck holds a build when more than limit of the previous run's
// observations are in rows.
func shareCheck(rule string, rows []string, total, limit float64, what string) Check {
	figure := float64(len(rows)) / total
	c := Check{Rule: rule, Figure: round(figure), Limit: limit, Passed: figure <= limit}
	if !c.Passed {
		c.Details = append([]string{fmt.Sprintf("%d (%.1f%%) %s, more than the %.1f%% allowed", len(rows), 100*figure, what, 100*limit)}, rows...)
	}
	return c
}

// coverageMove holds a build when a social-protection value (coverage or
// coverage gap, in points) moves by more than limit points.
func coverageMove(before, after map[obsKey]observation, ref *refdata.Reference, limit float64) Check {
	c := Check{Rule: RuleCoverageMove, Limit: limit}
	type move struct {
		text string
		by   float64
	}
	var moves []move
	for k, o := range after {
		ind, ok := ref.Catalog().Indicator(k.indicator)
		if !ok || (ind.Method != refdata.Coverage && ind.Method != refdata.CoverageGap) {
			continue
		}
		old, ok := before[k]
		if !ok {
			continue
		}
		by := math.Abs(o.value - old.value)
		c.Figure = max(c.Figure, round(by))
		if by > limit {
			moves = append(moves, move{fmt.Sprintf("%s: %s → %s (%+.1f points)", o, export.FormatNumber(old.value), export.FormatNumber(o.value), o.value-old.value), by})
		}
	}
	slices.SortFunc(moves, func(a, b move) int {
		if a.by != b.by {
			return cmp.Compare(b.by, a.by) // the largest moves first
		}
		return strings.Compare(a.text, b.text)
	})
	for _, m := range moves {
		c.Details = append(c.Details, m.text)
	}
	c.Passed = len(moves) == 0
	return c
}

// countDrop holds a build when a count of a year before the current one
// falls and nothing explains it: a withdrawn submission explains every
// fall; a country's ratification count that falls is explained by a
// denunciation of the instrument in force by then, and a region's or the
// world's by the explained falls of its countries.
func countDrop(before, after map[obsKey]observation, ref *refdata.Reference, b Build) Check {
	c := Check{Rule: RuleCountDrop, Limit: 0}
	type fall struct {
		o  observation
		by float64
	}
	var falls []fall
	explained := map[obsKey]float64{} // aggregate key (area = region or world) -> explained fall of its countries
	for k, o := range after {
		old, ok := before[k]
		if !ok || k.year >= b.CurrentYear || o.value >= old.value {
			continue
		}
		ind, ok := ref.Catalog().Indicator(k.indicator)
		if !ok || ind.Unit != refdata.UnitCount {
			continue
		}
		falls = append(falls, fall{o, old.value - o.value})
		if o.areaType != "country" || !denounced(ind, o, b.Denunciations) {
			continue
		}
		by := old.value - o.value
		agg := k
		agg.area = refdata.WorldCode
		explained[agg] += by
		if country, ok := ref.Countries().ByISO3(o.area); ok && country.Region != "" {
			agg.area = country.Region
			explained[agg] += by
		}
	}
	var unexplained []string
	for _, f := range falls {
		ind, _ := ref.Catalog().Indicator(f.o.indicator)
		switch {
		case len(b.Withdrawn) > 0:
		case f.o.areaType == "country" && denounced(ind, f.o, b.Denunciations):
		case f.o.areaType != "country" && explained[f.o.key()] >= f.by:
		default:
			unexplained = append(unexplained, fmt.Sprintf("%s: %s → %s", f.o, export.FormatNumber(f.o.value+f.by), export.FormatNumber(f.o.value)))
		}
	}
	slices.Sort(unexplained)
	c.Figure, c.Details, c.Passed = float64(len(unexplained)), unexplained, len(unexplained) == 0
	return c
}

// denounced reports whether a ratification indicator's country row fell
// because an instrument it counts is denounced by the end of its year.
func denounced(ind refdata.Indicator, o observation, d Denunciations) bool {
	switch ind.Method {
	case refdata.RatificationEach, refdata.RatificationOne, refdata.RatificationBoth:
	default:
		return false
	}
	instruments := ind.Instruments
	if o.instrument != "" {
		instruments = []string{o.instrument}
	}
	for _, inst := range instruments {
		if d.denouncedBy(o.area, inst, o.year) {
			return true
		}
	}
	return false
}

// areaVanished holds a build when an area published before has no
// observation any more.
func areaVanished(before, after map[obsKey]observation) Check {
	c := Check{Rule: RuleAreaVanished, Limit: 0}
	now := map[string]bool{}
	for k := range after {
		now[k.area] = true
	}
	gone := map[string]bool{}
	for k := range before {
		if !now[k.area] {
			gone[k.area] = true
		}
	}
	for a := range gone {
		c.Details = append(c.Details, a)
	}
	slices.Sort(c.Details)
	c.Figure, c.Passed = float64(len(gone)), len(gone) == 0
	return c
}

func round(f float64) float64 { return math.Round(f*1e6) / 1e6 }
