package transform

import (
	"slices"

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
