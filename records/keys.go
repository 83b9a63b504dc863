package records

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// SchemaOf returns the Arrow schema of a domain's table; an unknown domain
// is an error.
func SchemaOf(d Domain) (*arrow.Schema, error) {
	desc, err := Describe(d)
	if err != nil {
		return nil, err
	}
	return desc.Schema, nil
}

// KeysOf returns the record key of every row of a domain's table, in row
// order; an unknown domain is an error.
func KeysOf(d Domain, b arrow.RecordBatch) ([]string, error) {
	desc, err := Describe(d)
	if err != nil {
		return nil, err
	}
	return desc.Keys(b)
}

// The keys of each domain's table read only the columns a key is made of
// and build each key with the record type's own Key method, so that a key
// read from a table is the key of the record the table was built from.

func ratificationKeys(b arrow.RecordBatch) ([]string, error) {
	c := &columns{b: b}
	out := make([]string, b.NumRows())
	country, inst := column[*array.String](c, "country"), column[*array.String](c, "instrument")
	if c.err != nil {
		return nil, fmt.Errorf("ratification table: %w", c.err)
	}
	for i := range out {
		out[i] = Ratification{Country: country.Value(i), Instrument: inst.Value(i)}.Key()
	}
	return out, nil
}

func coverageKeys(b arrow.RecordBatch) ([]string, error) {
	c := &columns{b: b}
	out := make([]string, b.NumRows())
	area, year := column[*array.String](c, "country"), column[*array.Int32](c, "year")
	series, sex, pop := column[*array.String](c, "series"), column[*array.String](c, "sex"), column[*array.String](c, "population")
	if c.err != nil {
		return nil, fmt.Errorf("social-protection table: %w", c.err)
	}
	for i := range out {
		out[i] = CoverageObservation{Area: area.Value(i), Year: int(year.Value(i)), Series: series.Value(i), Sex: sex.Value(i), Population: pop.Value(i)}.Key()
	}
	return out, nil
}

func agreementKeys(b arrow.RecordBatch) ([]string, error) {
	c := &columns{b: b}
	out := make([]string, b.NumRows())
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
