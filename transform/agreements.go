package transform

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
)

// agreementTable is the agreements table as the indicators need it.
type agreementTable struct {
	list   []agreementRow
	latest int
}

type agreementRow struct {
	typ         string
	negotiating bool
	signedYear  int // 0 when unknown
	endYear     int // 0 when it never ends
	parties     []string
	flags       map[string]string
	ref         string
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

func readAgreements(b arrow.RecordBatch) (*agreementTable, error) {
	t := &agreementTable{}
	if b == nil {
		return t, nil
	}
	cols, err := stringColumns(b, "type", "status", "source_file", "source_sheet", "source_cell")
	if err != nil {
		return nil, fmt.Errorf("agreements table: %w", err)
	}
	signed, err1 := arrowcol.Get[*array.Int32](b, "signed_year")
	inForce, err2 := arrowcol.Get[*array.Int32](b, "in_force_year")
	end, err3 := arrowcol.Get[*array.Int32](b, "end_year")
	parties, err4 := arrowcol.Get[*array.List](b, "parties")
	if err := firstErr(err1, err2, err3, err4); err != nil {
		return nil, fmt.Errorf("agreements table: %w", err)
	}
	partyValues, ok := parties.ListValues().(*array.String)
	if !ok {
		return nil, fmt.Errorf("agreements table: parties is not a list of strings")
	}
	flagCols, err := stringColumns(b, records.ProvisionFlags()...)
	if err != nil {
		return nil, fmt.Errorf("agreements table: %w", err)
	}
	typ, status, file, sheet, cell := cols[0], cols[1], cols[2], cols[3], cols[4]
	for i := 0; i < int(b.NumRows()); i++ {
		a := agreementRow{typ: typ.Value(i), negotiating: optValue(status, i) == records.StatusNegotiating,
			flags: map[string]string{}, ref: ref(file.Value(i), sheet.Value(i), cell.Value(i))}
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
		for k := start; k < stop; k++ {
			a.parties = append(a.parties, partyValues.Value(int(k)))
		}
		for j, f := range records.ProvisionFlags() {
			a.flags[f] = flagCols[j].Value(i)
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

// agreementCount computes counts of active agreements at the end of the
// year, or of agreements signed during it, of one type group. Countries get
// rows when party to at least one agreement of the group that is not
// negotiating.
func (c *computation) agreementCount(ind refdata.Indicator) {
	// A store without any agreement says nothing about agreements: publish
	// no count rather than zeros that read as "none exist".
	if len(c.agr.list) == 0 {
		return
	}
	group := typeGroups[ind.AgreementTypes]
	var pool []agreementRow
	parties := map[string]bool{}
	for _, a := range c.agr.list {
		if !group[a.typ] {
			continue
		}
		pool = append(pool, a)
		if !a.negotiating {
			for _, p := range a.parties {
				parties[p] = true
			}
		}
	}
	areas := c.areas.aggregates()
	for _, ct := range c.ref.Countries().All() {
		if parties[ct.ISO3] {
			areas = append(areas, c.areas.countries[ct.ISO3])
		}
	}
	counted := func(a agreementRow, y int) bool {
		if ind.Method == refdata.AgreementSigned {
			return !a.negotiating && a.signedYear == y
		}
		return a.active(y)
	}
	for _, y := range c.years() {
		for _, ar := range areas {
			n := 0
			var refs []string
			for _, a := range pool {
				if counted(a, y) && c.belongs(a, ar) {
					n++
					if ar.typ == refdata.AreaCountry {
						refs = append(refs, a.ref)
					}
				}
			}
			c.emit(ind, ar, y, "T", "", float64(n), nil, nil, refs)
		}
	}
}

// agreementShare computes, for the world and the regions, the share of
// labour agreements (L) active at the end of the year whose flag is yes,
// among those whose flag is yes, no or partial; unknown is left out of
// both. No row when the denominator is 0.
func (c *computation) agreementShare(ind refdata.Indicator) {
	group := typeGroups["L"]
	for _, y := range c.years() {
		for _, ar := range c.areas.aggregates() {
			num, den := 0, 0
			for _, a := range c.agr.list {
				if !group[a.typ] || !a.active(y) || !c.belongs(a, ar) {
					continue
				}
				switch a.flags[ind.Flag] {
				case records.FlagYes:
					num++
					den++
				case records.FlagNo, records.FlagPartial:
					den++
				}
			}
			if den == 0 {
				continue
			}
			c.emit(ind, ar, y, "T", "", 100*float64(num)/float64(den), ptr(float64(num)), ptr(float64(den)), nil)
		}
	}
}
