package transform

import (
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/ilo-pledge/pledgestat/internal/arrowcol"

	"github.com/ilo-pledge/pledgestat/records"
)

// The columns Compute reads of each domain's table.
var (
	ratificationColumns = []string{"country", "instrument", "ratification_date_cell", "denunciation_date_cell", "source_file", "source_sheet", "ratification_date", "denunciation_date"}
	coverageColumns     = []string{"country", "series", "sex", "population", "value_cell", "source_file", "source_sheet", "year", "value"}
	agreementColumns    = append([]string{"type", "status", "source_file", "source_sheet", "source_cell", "signed_year", "in_force_year", "end_year", "parties"}, records.ProvisionFlags()...)
)

// Columns are the columns Compute reads of each domain's table: it may be
// given tables of these columns alone (a build reads no more of the
// snapshot's tables it publishes as they are).
func Columns() map[records.Domain][]string {
	return map[records.Domain][]string{
		records.DomainRatification:     slices.Clone(ratificationColumns),
		records.DomainSocialProtection: slices.Clone(coverageColumns),
		records.DomainBLMA:             slices.Clone(agreementColumns),
	}
}

// yearColumns are the columns of a domain's table its latest year is read
// from: all a table skipped by Compute (Options.Skip) needs to hold.
var yearColumns = map[records.Domain][]string{
	records.DomainRatification:     {"ratification_date", "denunciation_date"},
	records.DomainSocialProtection: {"year"},
	records.DomainBLMA:             {"signed_year", "in_force_year"},
}

// YearColumns are the columns Compute reads of a table it skips.
func YearColumns(d records.Domain) []string { return slices.Clone(yearColumns[d]) }

// latestYear is the latest year of a domain's table, as reading the
// table for its indicators finds it: the latest date of a ratification
// or denunciation, of an observation, of an agreement's signature or
// entry into force.
func latestYear(b arrow.RecordBatch, d records.Domain) (int, error) {
	if b == nil {
		return 0, nil
	}
	latest := 0
	for _, name := range yearColumns[d] {
		col, err := arrowcol.Get[arrow.Array](b, name)
		if err != nil {
			return 0, fmt.Errorf("%s table: %w", d, err)
		}
		switch c := col.(type) {
		case *array.Date32:
			for i := range c.Len() {
				if c.IsValid(i) {
					latest = max(latest, records.Date(c.Value(i)).Year())
				}
			}
		case *array.Int32:
			for i := range c.Len() {
				if c.IsValid(i) {
					latest = max(latest, int(c.Value(i)))
				}
			}
		default:
			return 0, fmt.Errorf("%s table: column %q has type %s", d, name, col.DataType())
		}
	}
	return latest, nil
}
