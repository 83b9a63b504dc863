package transform

import (
	"strconv"

	"fmt"
	"slices"
	"strings"

	"github.com/ilo-pledge/pledgestat/internal/decimal"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
)

// Query names one published observation.
type Query struct {
	IndicatorID, RefArea string
	Year                 int
	Sex                  string // "" is T
	Instrument           string // for indicators per instrument
}

// Explanation is why an observation has its value: the members of its
// computation, each counted or not and why, with the input facts behind
// it. For counts and shares, the items counted number the numerator (the
// value for counts without one) and the items number the denominator.
type Explanation struct {
	Value       float64
	Numerator   *float64
	Denominator *float64
	Formula     string
	Items       []Item
	Excluded    []Item // left out of a denominator (an unknown flag), with why
}

// Item is a member of a computation: a State, an agreement or an input
// observation.
type Item struct {
	Kind    string `json:"kind"` // state, agreement or observation
	ID      string `json:"id"`
	Name    string `json:"name"`
	Counted bool   `json:"counted"`
	Reason  string `json:"reason"`
	Facts   []Fact `json:"facts"`
}

// Fact is an input value an item rests on, with the cell it was read
// from. Key and Domain name the record it belongs to (for its earlier
// versions); SHA256 the submitted file.
type Fact struct {
	What   string         `json:"what"`
	Value  string         `json:"value"`
	Domain records.Domain `json:"-"`
	Key    string         `json:"-"`
	Source records.Provenance
	Cell   string // the cell of this value (Source.Cell is its row's first)
}

// Item kinds.
const (
	KindState       = "state"
	KindAgreement   = "agreement"
	KindObservation = "observation"
)

// Explainer explains observations computed from one set of records, by
// the rules Compute applies to them.
type Explainer struct {
	c    *computation
	ref  *refdata.Reference
	rat  map[string]map[string]records.Ratification // instrument -> country -> record
	cov  []records.CoverageObservation
	agr  []records.Agreement
	rows []agreementRow // agr as Compute reads it
}

// NewExplainer prepares explanations of the observations computed from
// these records over the window first..last (the run's).
func NewExplainer(ref *refdata.Reference, set records.Set, first, last int) *Explainer {
	e := &Explainer{ref: ref, rat: map[string]map[string]records.Ratification{}, cov: set.Coverage, agr: set.Agreements}
	e.c = &computation{ref: ref, areas: newAreas(ref), first: first, last: last}
	for _, r := range set.Ratifications {
		if e.rat[r.Instrument] == nil {
			e.rat[r.Instrument] = map[string]records.Ratification{}
		}
		e.rat[r.Instrument][r.Country] = r
	}
	for _, a := range set.Agreements {
		e.rows = append(e.rows, agreementRow{typ: a.Type, negotiating: a.Status == records.StatusNegotiating,
			signedYear: a.Signed.Year, endYear: a.End.Year, parties: a.Parties})
	}
	return e
}

// Explain explains the observation q whose published value is value.
func (e *Explainer) Explain(q Query) (*Explanation, error) {
	ind, ok := e.ref.Catalog().Indicator(q.IndicatorID)
	if !ok {
		return nil, fmt.Errorf("no indicator %s", q.IndicatorID)
	}
	ar, ok := e.c.areas.byCode[q.RefArea]
	if !ok {
		return nil, fmt.Errorf("no area %s", q.RefArea)
	}
	if q.Sex == "" {
		q.Sex = "T"
	}
	switch ind.Method {
	case refdata.RatificationEach, refdata.RatificationOne, refdata.RatificationBoth:
		return e.ratification(ind, ar, q)
	case refdata.AgreementActive, refdata.AgreementSigned:
		return e.agreementCount(ind, ar, q)
	case refdata.AgreementShare:
		return e.agreementShare(ind, ar, q)
	case refdata.Coverage, refdata.CoverageGap:
		return e.coverage(ind, ar, q)
	}
	return nil, fmt.Errorf("indicator %s: method %q has no explanation", ind.ID, ind.Method)
}

func (e *Explainer) ratification(ind refdata.Indicator, ar area, q Query) (*Explanation, error) {
	codes := ind.Instruments
	if ind.Method != refdata.RatificationBoth {
		if !slices.Contains(ind.Instruments, q.Instrument) {
			return nil, fmt.Errorf("indicator %s is per instrument: give one of %s", ind.ID, strings.Join(ind.Instruments, ", "))
		}
		codes = []string{q.Instrument}
	}
	var members []area
	for _, m := range e.c.areas.members {
		if ar.typ == refdata.AreaWorld || m.region == ar.code || m.code == ar.code {
			members = append(members, m)
		}
	}
	x := &Explanation{}
	for _, m := range members {
		it := Item{Kind: KindState, ID: m.code, Name: m.name, Counted: true, Facts: []Fact{}}
		var why []string
		for _, code := range codes {
			r, ok := e.rat[code][m.code]
			if !ok {
				it.Counted = false
				why = append(why, "no ratification of "+code)
				continue
			}
			counts := r.RatifiedAt(q.Year) // records.RatifiedAtEndOf, as Compute applies it
			it.Counted = it.Counted && counts
			switch {
			case counts:
				why = append(why, code+" ratified "+r.RatificationDate.String())
			case r.RatificationDate.Year() > q.Year:
				why = append(why, fmt.Sprintf("%s not ratified yet: ratified %s", code, r.RatificationDate))
			default:
				why = append(why, fmt.Sprintf("%s denounced %s", code, r.Denunciation.Date))
			}
			it.Facts = append(it.Facts, Fact{What: "ratification_date", Value: r.RatificationDate.String(), Domain: records.DomainRatification, Key: r.Key(), Source: r.Source, Cell: r.DateCell})
			if r.Denunciation.Valid {
				it.Facts = append(it.Facts, Fact{What: "denunciation_date", Value: r.Denunciation.Date.String(), Domain: records.DomainRatification, Key: r.Key(), Source: r.Source, Cell: r.DenunciationCell})
			}
		}
		it.Reason = strings.Join(why, "; ")
		x.Items = append(x.Items, it)
	}
	n := 0.0
	for _, it := range x.Items {
		if it.Counted {
			n++
		}
	}
	what := strings.Join(codes, " and ")
	if ar.typ == refdata.AreaCountry {
		x.Value = n
		verb := "had ratified"
		if n == 0 {
			verb = "had not ratified"
		}
		x.Formula = fmt.Sprintf("%s %s %s at 31 Dec %d: %g", ar.name, verb, what, q.Year, n)
		return x, nil
	}
	den := float64(len(members))
	x.Value, x.Numerator, x.Denominator = n, ptr(n), ptr(den)
	x.Formula = fmt.Sprintf("%g of %g member States of %s had ratified %s at 31 Dec %d", n, den, ar.name, what, q.Year)
	return x, nil
}

// agreementItem is an agreement as an explanation lists it.
func (e *Explainer) agreementItem(i int) Item {
	a := e.agr[i]
	id := a.AgreementID
	if id == "" {
		id = a.Key()
	}
	desc := fmt.Sprintf("%s %s, parties %s, signed %s", a.Type, a.Title, strings.Join(a.Parties, ", "), a.Signed)
	if a.End.Known() {
		desc += ", ended " + a.End.String()
	}
	if a.Status != "" {
		desc += ", status " + a.Status
	}
	return Item{Kind: KindAgreement, ID: id, Name: a.Title, Facts: []Fact{{What: "agreement", Value: desc, Domain: records.DomainBLMA, Key: a.Key(), Source: a.Source, Cell: a.Source.Cell}}}
}

func (e *Explainer) agreementCount(ind refdata.Indicator, ar area, q Query) (*Explanation, error) {
	group := typeGroups[ind.AgreementTypes]
	signed := ind.Method == refdata.AgreementSigned
	x := &Explanation{}
	for _, i := range e.agreementsIn(group, ar, q.Year, signed) {
		a := e.rows[i]
		it := e.agreementItem(i)
		it.Counted = true
		if signed {
			it.Reason = fmt.Sprintf("signed in %d", a.signedYear)
		} else {
			it.Reason = fmt.Sprintf("signed in %d, not ended by the end of %d", a.signedYear, q.Year)
		}
		x.Items = append(x.Items, it)
	}
	x.Value = float64(len(x.Items))
	verb := "active at the end of"
	if signed {
		verb = "signed in"
	}
	x.Formula = fmt.Sprintf("%d agreements of types %s %s %d belong to %s", len(x.Items), typeList(group), verb, q.Year, ar.name)
	return x, nil
}

// agreementsIn returns the agreements of a type group that count for an
// area in year y, by Compute's rules: belonging to the area (belongs),
// and active at the end of y or, with signed, signed in it (yearSpan).
func (e *Explainer) agreementsIn(group map[string]bool, ar area, y int, signed bool) []int {
	var out []int
	for i, a := range e.rows {
		if !group[a.typ] || !e.c.belongs(a, ar) {
			continue
		}
		if from, to := e.c.yearSpan(a, signed); from <= y && y <= to {
			out = append(out, i)
		}
	}
	return out
}

func typeList(group map[string]bool) string {
	var out []string
	for t := range group {
		out = append(out, t)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func (e *Explainer) agreementShare(ind refdata.Indicator, ar area, q Query) (*Explanation, error) {
	group := typeGroups["L"]
	flag := slices.Index(records.ProvisionFlags(), ind.Flag)
	if flag < 0 || ar.typ == refdata.AreaCountry {
		return nil, fmt.Errorf("indicator %s is published for the world and the regions only", ind.ID)
	}
	x := &Explanation{}
	for _, i := range e.agreementsIn(group, ar, q.Year, false) {
		v := e.agr[i].Provisions[flag]
		it := e.agreementItem(i)
		it.Facts = append(it.Facts, Fact{What: ind.Flag, Value: v, Domain: records.DomainBLMA, Key: e.agr[i].Key(), Source: e.agr[i].Source, Cell: e.agr[i].Source.Cell})
		switch v {
		case records.FlagYes:
			it.Counted, it.Reason = true, ind.Flag+" = yes"
		case records.FlagNo, records.FlagPartial:
			it.Reason = ind.Flag + " = " + v
		default:
			it.Reason = ind.Flag + " unknown: left out of the numerator and the denominator"
			x.Excluded = append(x.Excluded, it)
			continue
		}
		x.Items = append(x.Items, it)
	}
	n, d := 0.0, float64(len(x.Items))
	for _, it := range x.Items {
		if it.Counted {
			n++
		}
	}
	if d == 0 {
		return nil, fmt.Errorf("no labour agreement of %s is active at the end of %d with %s known: no share is published", ar.name, q.Year, ind.Flag)
	}
	x.Value, x.Numerator, x.Denominator = 100*n/d, ptr(n), ptr(d)
	x.Formula = fmt.Sprintf("%g of %g labour agreements (BLA, MOU, OTHER) active at the end of %d with a party in %s have %s = yes (%d with it unknown left out): %s%%",
		n, d, q.Year, ar.name, ind.Flag, len(x.Excluded), strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", x.Value), "0"), "."))
	return x, nil
}

func (e *Explainer) coverage(ind refdata.Indicator, ar area, q Query) (*Explanation, error) {
	find := func(population string) (records.CoverageObservation, bool) {
		for _, o := range e.cov {
			if o.Area == q.RefArea && o.Year == q.Year && o.Sex == q.Sex && o.Series == ind.Series && o.Population == population {
				return o, true
			}
		}
		return records.CoverageObservation{}, false
	}
	item := func(o records.CoverageObservation) Item {
		reason := "the value given"
		if ar.typ != refdata.AreaCountry {
			reason = "the aggregate published by the ILO, as given"
		}
		return Item{Kind: KindObservation, ID: o.Area, Name: fmt.Sprintf("%s, %s, %d, sex %s", o.Series, o.Population, o.Year, o.Sex), Counted: true, Reason: reason,
			Facts: []Fact{{What: "value", Value: num(o.Value), Domain: records.DomainSocialProtection, Key: o.Key(), Source: o.Source, Cell: o.ValueCell}}}
	}
	if ind.Method == refdata.Coverage {
		o, ok := find(ind.Population)
		if !ok {
			return nil, fmt.Errorf("no %s observation of %s %d (%s)", ind.Series, ar.name, q.Year, q.Sex)
		}
		return &Explanation{Value: o.Value, Items: []Item{item(o)},
			Formula: fmt.Sprintf("%s, %d, sex %s: %s percent, as given in %s", ar.name, q.Year, q.Sex, num(o.Value), o.Source.Ref(o.ValueCell))}, nil
	}
	non, ok1 := find("non_migrants")
	mig, ok2 := find("migrants")
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("the gap needs both migrants' and non-migrants' %s of %s %d (%s)", ind.Series, ar.name, q.Year, q.Sex)
	}
	v := decimal.Round15(non.Value - mig.Value)
	return &Explanation{Value: v, Items: []Item{item(non), item(mig)},
		Formula: fmt.Sprintf("non-migrants %s − migrants %s = %s percentage points", num(non.Value), num(mig.Value), num(v))}, nil
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
