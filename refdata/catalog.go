package refdata

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/pelletier/go-toml/v2"

	"github.com/ilo-pledge/pledgestat/records"
)

// Method names how an indicator is computed (see data/catalog.toml).
type Method string

// The computation methods of the catalog.
const (
	RatificationEach Method = "ratification_each"
	RatificationOne  Method = "ratification_one"
	RatificationBoth Method = "ratification_both"
	AgreementShare   Method = "agreement_share"
	AgreementActive  Method = "agreement_active"
	AgreementSigned  Method = "agreement_signed"
	Coverage         Method = "coverage"
	CoverageGap      Method = "coverage_gap"
)

// Unit of an indicator's value.
const (
	UnitCount            = "count"
	UnitPercent          = "percent"
	UnitPercentagePoints = "percentage_points"
)

// Indicator is one entry of the catalog.
type Indicator struct {
	ID             string   `toml:"id" json:"id"`
	Pledge         string   `toml:"pledge" json:"pledge"`
	Name           string   `toml:"name" json:"name"`
	Unit           string   `toml:"unit" json:"unit"`
	Type           string   `toml:"type" json:"type"`
	Method         Method   `toml:"method" json:"method"`
	Instruments    []string `toml:"instruments" json:"instruments,omitempty"`
	Flag           string   `toml:"flag" json:"flag,omitempty"`
	AgreementTypes string   `toml:"agreement_types" json:"agreement_types,omitempty"`
	Series         string   `toml:"series" json:"series,omitempty"`
	Population     string   `toml:"population" json:"population,omitempty"`
	Definition     string   `toml:"definition" json:"definition"`
}

// Pledge is one of the two overarching commitments or eight pledges.
type Pledge struct {
	Code string `toml:"code" json:"code"`
	Name string `toml:"name" json:"name"`
}

// Catalog is the indicator catalog (spec indicators.md) as data.
type Catalog struct {
	Version      string      `toml:"version" json:"version"`
	BaselineYear int         `toml:"baseline_year" json:"baseline_year"`
	Pledges      []Pledge    `toml:"pledge" json:"pledges"`
	Indicators   []Indicator `toml:"indicator" json:"indicators"`
}

func loadCatalog(instruments *Instruments) (*Catalog, error) {
	raw, err := dataFS.ReadFile("data/catalog.toml")
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	dec := toml.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c Catalog
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	pledges := map[string]bool{}
	for _, p := range c.Pledges {
		pledges[p.Code] = true
	}
	seen := map[string]bool{}
	for _, ind := range c.Indicators {
		if seen[ind.ID] {
			return nil, fmt.Errorf("indicator %s appears twice", ind.ID)
		}
		seen[ind.ID] = true
		if !pledges[ind.Pledge] {
			return nil, fmt.Errorf("indicator %s: unknown pledge %q", ind.ID, ind.Pledge)
		}
		if err := ind.check(instruments); err != nil {
			return nil, fmt.Errorf("indicator %s: %w", ind.ID, err)
		}
	}
	return &c, nil
}

func (ind Indicator) check(instruments *Instruments) error {
	switch ind.Unit {
	case UnitCount, UnitPercent, UnitPercentagePoints:
	default:
		return fmt.Errorf("unknown unit %q", ind.Unit)
	}
	switch ind.Method {
	case RatificationEach, RatificationOne, RatificationBoth:
		if len(ind.Instruments) == 0 || (ind.Method == RatificationOne && len(ind.Instruments) != 1) {
			return fmt.Errorf("method %s needs instruments", ind.Method)
		}
		for _, code := range ind.Instruments {
			if _, ok := instruments.ByCode(code); !ok {
				return fmt.Errorf("unknown instrument %s", code)
			}
		}
	case AgreementShare:
		if !slices.Contains(records.ProvisionFlags(), ind.Flag) {
			return fmt.Errorf("unknown provision flag %q", ind.Flag)
		}
	case AgreementActive, AgreementSigned:
		if ind.AgreementTypes != "L" && ind.AgreementTypes != "S" && ind.AgreementTypes != "F" {
			return fmt.Errorf("agreement_types %q is not L, S or F", ind.AgreementTypes)
		}
	case Coverage, CoverageGap:
		if ind.Series == "" || (ind.Method == Coverage && ind.Population == "") {
			return fmt.Errorf("method %s needs series and population", ind.Method)
		}
	default:
		return fmt.Errorf("unknown method %q", ind.Method)
	}
	return nil
}

// Indicator returns the catalog entry with that id.
func (c *Catalog) Indicator(id string) (Indicator, bool) {
	for _, ind := range c.Indicators {
		if ind.ID == id {
			return ind, true
		}
	}
	return Indicator{}, false
}

// PledgeName returns the name of a commitment or pledge.
func (c *Catalog) PledgeName(code string) string {
	for _, p := range c.Pledges {
		if p.Code == code {
			return p.Name
		}
	}
	return ""
}

// InstrumentsUsed lists every instrument code the catalog names, in order of
// first mention.
func (c *Catalog) InstrumentsUsed() []string {
	var out []string
	seen := map[string]bool{}
	for _, ind := range c.Indicators {
		for _, code := range ind.Instruments {
			if !seen[code] {
				seen[code] = true
				out = append(out, code)
			}
		}
	}
	return out
}
