package records

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// SchemaOf returns the Arrow schema of a domain's table; an unknown domain
// is an error.
func SchemaOf(d Domain) (*arrow.Schema, error) {
	switch d {
	case DomainRatification:
		return RatificationSchema, nil
	case DomainSocialProtection:
		return SocialProtectionSchema, nil
	case DomainBLMA:
		return BLMASchema, nil
	}
	return nil, fmt.Errorf("unknown domain %q", d)
}

// KeysOf returns the record key of every row of a domain's table, in row
// order. It reads only the columns a key is made of and builds each key
// with the record type's own Key method, so that a key read from a table
// is the key of the record the table was built from.
func KeysOf(d Domain, b arrow.RecordBatch) ([]string, error) {
	c := &columns{b: b}
	out := make([]string, b.NumRows())
	switch d {
	case DomainRatification:
		country, inst := column[*array.String](c, "country"), column[*array.String](c, "instrument")
		if c.err != nil {
			return nil, fmt.Errorf("ratification table: %w", c.err)
		}
		for i := range out {
			out[i] = Ratification{Country: country.Value(i), Instrument: inst.Value(i)}.Key()
		}
	case DomainSocialProtection:
		area, year := column[*array.String](c, "country"), column[*array.Int32](c, "year")
		series, sex, pop := column[*array.String](c, "series"), column[*array.String](c, "sex"), column[*array.String](c, "population")
		if c.err != nil {
			return nil, fmt.Errorf("social-protection table: %w", c.err)
		}
		for i := range out {
			out[i] = CoverageObservation{Area: area.Value(i), Year: int(year.Value(i)), Series: series.Value(i), Sex: sex.Value(i), Population: pop.Value(i)}.Key()
		}
	case DomainBLMA:
		id, typ := column[*array.String](c, "agreement_id"), column[*array.String](c, "type")
		parties, year := column[*array.List](c, "parties"), column[*array.Int32](c, "signed_year")
		if c.err != nil {
			return nil, fmt.Errorf("agreements table: %w", c.err)
		}
		partyValues, ok := parties.ListValues().(*array.String)
		if !ok {
			return nil, fmt.Errorf("agreements table: parties is not a list of strings")
		}
		for i := range out {
			a := Agreement{AgreementID: aliasOpt(id, i), Type: typ.Value(i)}
			start, end := parties.ValueOffsets(i)
			for k := start; k < end; k++ {
				a.Parties = append(a.Parties, partyValues.Value(int(k)))
			}
			if year.IsValid(i) {
				a.Signed.Year = int(year.Value(i))
			}
			out[i] = a.Key()
		}
	default:
		return nil, fmt.Errorf("unknown domain %q", d)
	}
	return out, nil
}

// aliasOpt is row i of a, "" for a null, pointing into a's buffer: for
// the keys built here only, which are new strings (concatenations) that
// never keep the value itself.
func aliasOpt(a *array.String, i int) string {
	if a.IsNull(i) {
		return ""
	}
	return a.Value(i)
}
