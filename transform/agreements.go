package transform

import (
	"errors"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
)

// agreementTable is the agreements table as the indicators need it.
// agreementTable is the agreements a computation counts. At 10,000
// submissions it holds 170,000 of them, so a row keeps only what every
// indicator reads; the provision flags and the source cell stay in the
// table's columns, read by row when an indicator needs them.
type agreementTable struct {
	list              []agreementRow
	latest            int
	flags             []arrowcol.TextColumn // aligned with records.ProvisionFlags()
	file, sheet, cell arrowcol.TextColumn
}

type agreementRow struct {
	typ         string
	group       string // the catalog's type group of typ (typeGroups), "" if none
	negotiating bool
	signedYear  int // 0 when unknown
	endYear     int // 0 when it never ends
	parties     []string
	row         int // in the table
}

// flag is an agreement's value of the provision flag of index j in
// records.ProvisionFlags().
func (t *agreementTable) flag(a agreementRow, j int) string { return t.flags[j].Value(a.row) }

// ref is the cell an agreement was read from.
func (t *agreementTable) ref(a agreementRow) string {
	return ref(t.file.Value(a.row), t.sheet.Value(a.row), t.cell.Value(a.row))
}

// active: not negotiating, signed_year ≤ y < end_year (indicators.md). The
// date of entry into force is deliberately ignored.
func (a agreementRow) active(y int) bool {
	return !a.negotiating && a.signedYear != 0 && a.signedYear <= y && (a.endYear == 0 || y < a.endYear)
}

// Agreement type groups of the catalog.
var typeGroups = map[string]map[string]bool{
	"L": {"BLA": true, "MOU": true, "OTHER": true},
	"S": {"SSA": true, "MULTILATERAL_SSA": true},
	"F": {"REGIONAL_FRAMEWORK": true},
}

// typeGroup is the group of typeGroups an agreement type is in, "" if
// none: found once per agreement, not once per agreement and indicator.
func typeGroup(typ string) string {
	for g, types := range typeGroups {
		if types[typ] {
			return g
		}
	}
	return ""
}

func readAgreements(b arrow.RecordBatch) (*agreementTable, error) {
	t := &agreementTable{}
	if b == nil {
		return t, nil
	}
	cols, err := arrowcol.TextColumns(b, "type", "status", "source_file", "source_sheet", "source_cell")
	if err != nil {
		return nil, fmt.Errorf("agreements table: %w", err)
	}
	signed, err1 := arrowcol.Get[*array.Int32](b, "signed_year")
	inForce, err2 := arrowcol.Get[*array.Int32](b, "in_force_year")
	end, err3 := arrowcol.Get[*array.Int32](b, "end_year")
	parties, err4 := arrowcol.Get[*array.List](b, "parties")
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return nil, fmt.Errorf("agreements table: %w", err)
	}
	partyValues, ok := parties.ListValues().(*array.String)
	if !ok {
		return nil, fmt.Errorf("agreements table: parties is not a list of strings")
	}
	flagCols, err := arrowcol.TextColumns(b, records.ProvisionFlags()...)
	if err != nil {
		return nil, fmt.Errorf("agreements table: %w", err)
	}
	typ, status, file, sheet, cell := cols[0], cols[1], cols[2], cols[3], cols[4]
	n := int(b.NumRows())
	t.flags, t.file, t.sheet, t.cell = flagCols, file, sheet, cell
	// One allocation for the rows and one for every row's parties: at
	// 10,000 submissions, growing the list and a slice per row was a third
	// of computing the indicators.
	t.list = make([]agreementRow, 0, n)
	partyNames := make([]string, 0, partyValues.Len())
	str := arrowcol.NewStrings()
	groups := map[string]string{} // type -> typeGroup, for the few types there are
	for i := range n {
		a := agreementRow{typ: str.Of(typ, i), negotiating: status.Value(i) == records.StatusNegotiating, row: i}
		g, ok := groups[a.typ]
		if !ok {
			g = typeGroup(a.typ)
			groups[a.typ] = g
		}
		a.group = g
		if signed.IsValid(i) {
			a.signedYear = int(signed.Value(i))
			t.latest = max(t.latest, a.signedYear)
		}
		if inForce.IsValid(i) {
			t.latest = max(t.latest, int(inForce.Value(i)))
		}
		if end.IsValid(i) {
			a.endYear = int(end.Value(i))
		}
		start, stop := parties.ValueOffsets(i)
		from := len(partyNames)
		for k := start; k < stop; k++ {
			partyNames = append(partyNames, str.Code(partyValues, int(k)))
		}
		if len(partyNames) > from {
			a.parties = partyNames[from:len(partyNames):len(partyNames)]
		}
		t.list = append(t.list, a)
	}
	return t, nil
}

func (t *agreementTable) latestYear() int { return t.latest }

// belongs reports whether an agreement belongs to an area: the world always,
// a region if any party is in it, a country if it is a party.
func (c *computation) belongs(a agreementRow, ar area) bool {
	switch ar.typ {
	case refdata.AreaWorld:
		return true
	case refdata.AreaRegion:
		for _, p := range a.parties {
			if c.areas.countries[p].region == ar.code {
				return true
			}
		}
		return false
	}
	for _, p := range a.parties {
		if p == ar.code {
			return true
		}
	}
	return false
}

// agreementAreas returns, for each agreement of the table, the areas it
// belongs to (see belongs) as indices into c.agrAreaList: the world, the
// regions of its parties, its parties; each once. It is computed once per
// computation. The agreement loops then count into slices indexed by
// area rather than maps keyed by code: at 10,000 submissions those
// lookups were most of computing the indicators.
func (c *computation) agreementAreas() [][]int32 {
	if c.agrAreas != nil {
		return c.agrAreas
	}
	index := map[string]int32{}
	indexOf := func(code string) int32 {
		k, ok := index[code]
		if !ok {
			k = int32(len(c.agrAreaList))
			index[code] = k
			ar, known := c.areas.byCode[code]
			if !known {
				ar = area{code: code}
			}
			c.agrAreaList = append(c.agrAreaList, ar)
		}
		return k
	}
	// A party's own area and its region's (-1: none), found once per
	// party code rather than once per agreement.
	type partyAreas struct{ own, region int32 }
	parties := map[string]partyAreas{}
	world := indexOf(c.areas.world.code)
	c.agrAreas = make([][]int32, len(c.agr.list))
	flat := make([]int32, 0, 3*len(c.agr.list))
	for i, a := range c.agr.list {
		from := len(flat)
		flat = append(flat, world)
		for _, p := range a.parties {
			pa, ok := parties[p]
			if !ok {
				pa = partyAreas{own: -1, region: -1}
				if r := c.areas.countries[p].region; r != "" {
					pa.region = indexOf(r)
				}
				pa.own = indexOf(p)
				parties[p] = pa
			}
			// An agreement has a few parties: a linear look for repeats
			// costs less than a map (170,000 agreements at 10,000
			// submissions).
			if pa.region >= 0 && !slices.Contains(flat[from:], pa.region) {
				flat = append(flat, pa.region)
			}
		}
		regions := len(flat)
		for _, p := range a.parties {
			if own := parties[p].own; !slices.Contains(flat[regions:], own) {
				flat = append(flat, own)
			}
		}
		c.agrAreas[i] = flat[from:len(flat):len(flat)]
	}
	c.agrAreaIndex = index
	return c.agrAreas
}

func (c *computation) yearSpan(a agreementRow, signed bool) (from, to int) {
	if a.negotiating || a.signedYear == 0 {
		return 1, 0
	}
	if signed {
		return max(a.signedYear, c.first), min(a.signedYear, c.last)
	}
	to = c.last
	if a.endYear != 0 {
		to = min(to, a.endYear-1)
	}
	return max(a.signedYear, c.first), to
}

// MaxInlineSources is how many input cells the sources of one agreement
// count lists. A country party to thousands of agreements would otherwise
// carry a list of every one in each row and year (up to 90 KB a row at
// 10,000 submissions), so that the published CSV grew with the archive,
// not with the indicators. The rest are named by a last entry of the form
// of moreSources: the agreements counted are the rows of the run's
// blma.parquet, each with its own source cell, by the rule of the
// indicator.
const MaxInlineSources = 50

// moreSources ends a sources list cut at MaxInlineSources.
const moreSources = "+%d more in blma.parquet"

// agreementCount computes counts of active agreements at the end of the
// year, or of agreements signed during it, of one type group. Countries get
// rows when party to at least one agreement of the group that is not
// negotiating. Each agreement adds itself to the years it counts in, for
// the areas it belongs to: one pass over the agreements, not one per area
// and year.
func (c *computation) agreementCount(ind refdata.Indicator) {
	// A store without any agreement says nothing about agreements: publish
	// no count rather than zeros that read as "none exist".
	if len(c.agr.list) == 0 || c.last < c.first {
		return
	}
	signed := ind.Method == refdata.AgreementSigned
	nYears := c.last - c.first + 1
	areasOf := c.agreementAreas()
	// Indexed by area (c.agrAreaList), as the counts are: maps keyed by
	// area were looked up for every agreement, party and year.
	// area × year, as a difference per year until summed below: an
	// agreement adds one at its first year and takes it off after its
	// last, whatever its length. Counting it in every year it spans was a
	// fifth of a build's computation.
	stride := nYears + 1
	counts := make([]int, len(c.agrAreaList)*stride)
	refs := make([][][]string, len(c.agrAreaList)) // area × year, countries only
	party := make([]bool, len(c.agrAreaList))      // a country party to an agreement that is not negotiating
	for i, a := range c.agr.list {
		if a.group != ind.AgreementTypes {
			continue
		}
		from, to := c.yearSpan(a, signed)
		ref := "" // the agreement's cell, made once it is listed
		for _, k := range areasOf[i] {
			country := c.agrAreaList[k].typ == refdata.AreaCountry
			if country && !a.negotiating {
				party[k] = true
			}
			if from > to {
				continue
			}
			n := counts[int(k)*stride : int(k+1)*stride]
			n[from-c.first]++
			n[to-c.first+1]--
			if !country {
				continue
			}
			r := refs[k]
			if r == nil {
				r = make([][]string, nYears)
				refs[k] = r
			}
			for y := from; y <= to; y++ {
				if len(r[y-c.first]) < MaxInlineSources {
					if ref == "" {
						ref = c.agr.ref(a)
					}
					r[y-c.first] = append(r[y-c.first], ref)
				}
			}
		}
	}
	for k := range c.agrAreaList {
		sumDifferences(counts[k*stride : (k+1)*stride])
	}
	areas := c.areas.aggregates()
	for _, ct := range c.ref.Countries().All() {
		if k, ok := c.agrAreaIndex[ct.ISO3]; ok && party[k] {
			areas = append(areas, c.areas.countries[ct.ISO3])
		}
	}
	for _, y := range c.years() {
		for _, ar := range areas {
			n := 0
			k, counted := c.agrAreaIndex[ar.code]
			if counted {
				n = counts[int(k)*stride+y-c.first]
			}
			var r []string
			if counted && refs[k] != nil && ar.typ == refdata.AreaCountry {
				r = refs[k][y-c.first]
				if n > len(r) {
					r = append(r[:len(r):len(r)], fmt.Sprintf(moreSources, n-len(r)))
				}
			}
			c.emit(ind, ar, y, "T", "", float64(n), nil, nil, r)
		}
	}
}

// agreementShare computes, for the world and the regions, the share of
// labour agreements (L) active at the end of the year whose flag is yes,
// among those whose flag is yes, no or partial; unknown is left out of
// both. No row when the denominator is 0.
func (c *computation) agreementShare(ind refdata.Indicator) {
	if c.last < c.first {
		return
	}
	flag := slices.Index(records.ProvisionFlags(), ind.Flag)
	if flag < 0 {
		return
	}
	nYears := c.last - c.first + 1
	areasOf := c.agreementAreas()
	// area × year, as differences per year until summed, as the counts are
	stride := nYears + 1
	num, den := make([]int, len(c.agrAreaList)*stride), make([]int, len(c.agrAreaList)*stride)
	for i, a := range c.agr.list {
		if a.group != "L" {
			continue
		}
		v := c.agr.flag(a, flag)
		yes := v == records.FlagYes
		if !yes && v != records.FlagNo && v != records.FlagPartial {
			continue
		}
		from, to := c.yearSpan(a, false)
		for _, k := range areasOf[i] {
			if c.agrAreaList[k].typ == refdata.AreaCountry {
				continue // shares are published for the world and the regions
			}
			if from > to {
				continue
			}
			at := int(k)*stride - c.first
			den[at+from]++
			den[at+to+1]--
			if yes {
				num[at+from]++
				num[at+to+1]--
			}
		}
	}
	for k := range c.agrAreaList {
		sumDifferences(num[k*stride : (k+1)*stride])
		sumDifferences(den[k*stride : (k+1)*stride])
	}
	for _, y := range c.years() {
		for _, ar := range c.areas.aggregates() {
			k, ok := c.agrAreaIndex[ar.code]
			if !ok || den[int(k)*stride+y-c.first] == 0 {
				continue
			}
			n, d := num[int(k)*stride+y-c.first], den[int(k)*stride+y-c.first]
			c.emit(ind, ar, y, "T", "", 100*float64(n)/float64(d), ptr(float64(n)), ptr(float64(d)), nil)
		}
	}
}

// sumDifferences turns a row of differences, each year's change from the
// year before, into the row of values.
func sumDifferences(row []int) {
	for y := 1; y < len(row); y++ {
		row[y] += row[y-1]
	}
}
