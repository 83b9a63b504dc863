package refdata

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/ilo-pledge/pledgestat/internal/textnorm"
)

// AreaType says whether an area is the world, an ILO region or a country.
type AreaType string

// The three area types, in the order outputs are sorted by.
const (
	AreaWorld   AreaType = "world"
	AreaRegion  AreaType = "region"
	AreaCountry AreaType = "country"
)

// WorldCode is ILOSTAT's code for the world.
const WorldCode = "X01"

// KosovoFootnote must accompany every published figure about Kosovo.
const KosovoFootnote = "References to Kosovo shall be understood to be in the context of United Nations Security Council resolution 1244 (1999)."

// Country is a country or territory of the reference table.
type Country struct {
	ISO3      string
	ISO2      string
	M49       string
	NameEN    string
	NameFR    string
	NameES    string
	Region    string // ILOSTAT code of the ILO region, e.g. "X60"
	ILOMember bool
	UNMember  bool
}

// Region is the world or an ILO region.
type Region struct {
	Code   string
	Type   AreaType
	NameEN string
	NameFR string
	NameES string
}

// Countries answers look-ups on the country table.
type Countries struct {
	list      []Country // sorted by ISO3
	byISO3    map[string]int
	byKey     map[string]int // normalised code, name or alias -> index in list
	regions   []Region
	regionKey map[string]int
	names     []nameEntry // every spelling, for suggestions
}

type nameEntry struct {
	key, display string
}

func newCountries(rows, regionRows []row) (*Countries, error) {
	// Sized for the codes, names and aliases of every row: growing the
	// maps was a tenth of loading the reference data, which every command
	// does.
	c := &Countries{byISO3: make(map[string]int, len(rows)), byKey: make(map[string]int, 8*len(rows)), regionKey: map[string]int{}}
	for _, r := range regionRows {
		reg := Region{Code: r.get("code"), Type: AreaType(r.get("type")), NameEN: r.get("name_en"), NameFR: r.get("name_fr"), NameES: r.get("name_es")}
		if reg.Type != AreaWorld && reg.Type != AreaRegion {
			return nil, fmt.Errorf("regions.csv line %d: type %q is not world or region", r.line, reg.Type)
		}
		idx := len(c.regions)
		c.regions = append(c.regions, reg)
		for _, s := range append([]string{reg.Code, reg.NameEN, reg.NameFR, reg.NameES}, splitAliases(r.get("aliases"))...) {
			c.regionKey[textnorm.Key(s)] = idx
		}
	}
	for _, r := range rows {
		member, err := yesNo(r.get("ilo_member"))
		if err != nil {
			return nil, fmt.Errorf("line %d: ilo_member: %w", r.line, err)
		}
		un, err := yesNo(r.get("un_member"))
		if err != nil {
			return nil, fmt.Errorf("line %d: un_member: %w", r.line, err)
		}
		ct := Country{
			ISO3: r.get("iso3"), ISO2: r.get("iso2"), M49: r.get("m49"),
			NameEN: r.get("name_en"), NameFR: r.get("name_fr"), NameES: r.get("name_es"),
			Region: r.get("ilo_region"), ILOMember: member, UNMember: un,
		}
		if len(ct.ISO3) != 3 || ct.NameEN == "" {
			return nil, fmt.Errorf("line %d: iso3 %q or name_en missing", r.line, ct.ISO3)
		}
		if _, ok := c.Region(ct.Region); !ok || ct.Region == WorldCode {
			return nil, fmt.Errorf("line %d: %s has unknown ILO region %q", r.line, ct.ISO3, ct.Region)
		}
		if _, dup := c.byISO3[ct.ISO3]; dup {
			return nil, fmt.Errorf("line %d: %s appears twice", r.line, ct.ISO3)
		}
		c.byISO3[ct.ISO3] = len(c.list)
		c.list = append(c.list, ct)
	}
	sort.Slice(c.list, func(i, j int) bool { return c.list[i].ISO3 < c.list[j].ISO3 })
	for i, ct := range c.list {
		c.byISO3[ct.ISO3] = i
	}
	// Codes first, so that a name can never shadow a code.
	for i, ct := range c.list {
		for _, code := range []string{ct.ISO3, ct.ISO2} {
			if code == "" {
				continue
			}
			if _, err := c.addKey(code, i); err != nil {
				return nil, err
			}
		}
	}
	c.names = make([]nameEntry, 0, 6*len(rows))
	for _, r := range rows {
		i := c.byISO3[r.get("iso3")]
		ct := c.list[i]
		spellings := append([]string{ct.NameEN, ct.NameFR, ct.NameES}, splitAliases(r.get("aliases"))...)
		for _, s := range spellings {
			if s == "" {
				continue
			}
			k, err := c.addKey(s, i)
			if err != nil {
				return nil, err
			}
			c.names = append(c.names, nameEntry{key: k, display: s})
		}
	}
	return c, nil
}

// addKey indexes a spelling of a country and returns its key.
func (c *Countries) addKey(s string, idx int) (string, error) {
	k := textnorm.Key(s)
	if k == "" {
		return "", fmt.Errorf("spelling %q of %s is empty once normalised", s, c.list[idx].ISO3)
	}
	if prev, ok := c.byKey[k]; ok && prev != idx {
		return "", fmt.Errorf("spelling %q names both %s and %s", s, c.list[prev].ISO3, c.list[idx].ISO3)
	}
	if _, ok := c.regionKey[k]; ok {
		return "", fmt.Errorf("spelling %q of %s is also a region", s, c.list[idx].ISO3)
	}
	c.byKey[k] = idx
	return k, nil
}

func yesNo(s string) (bool, error) {
	switch s {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, fmt.Errorf("%q is not yes or no", s)
}

// All returns every country and territory, sorted by ISO3.
func (c *Countries) All() []Country { return append([]Country(nil), c.list...) }

// ByISO3 returns the country with that ISO3 code.
func (c *Countries) ByISO3(iso3 string) (Country, bool) {
	i, ok := c.byISO3[iso3]
	if !ok {
		return Country{}, false
	}
	return c.list[i], true
}

// Lookup finds a country from any accepted spelling: ISO3, ISO2, ILOSTAT code
// or an English, French or Spanish name or variant. Matching is exact after
// normalisation (textnorm.Key), never fuzzy.
func (c *Countries) Lookup(text string) (Country, bool) {
	i, ok := c.byKey[textnorm.Key(text)]
	if !ok && strings.Contains(text, " & ") {
		// "Saint Vincent & the Grenadines": & is "and" (and "et", "y").
		// Only between words, and only to reach a name: "K&" must not
		// become the code "KY".
		for _, and := range []string{" and ", " et ", " y "} {
			k := textnorm.Key(strings.ReplaceAll(text, " & ", and))
			if i, ok = c.byKey[k]; ok && len(k) > 3 {
				break
			}
			ok = false
		}
	}
	if !ok {
		return Country{}, false
	}
	return c.list[i], true
}

// LookupRegion finds the world or an ILO region by ILOSTAT code or name.
func (c *Countries) LookupRegion(text string) (Region, bool) {
	i, ok := c.regionKey[textnorm.Key(text)]
	if !ok {
		return Region{}, false
	}
	return c.regions[i], true
}

// Region returns the world or ILO region with that ILOSTAT code.
func (c *Countries) Region(code string) (Region, bool) {
	for _, r := range c.regions {
		if r.Code == code {
			return r, true
		}
	}
	return Region{}, false
}

// Regions returns the world followed by the ILO regions, in code order.
func (c *Countries) Regions() []Region { return append([]Region(nil), c.regions...) }

// Members returns the ILO member States, sorted by ISO3.
func (c *Countries) Members() []Country {
	var out []Country
	for _, ct := range c.list {
		if ct.ILOMember {
			out = append(out, ct)
		}
	}
	return out
}

// Suggest returns up to n known spellings closest to text, best first, for
// an unknown_country message. It never matches anything by itself.
func (c *Countries) Suggest(text string, n int) []string {
	k := textnorm.Key(text)
	if k == "" || n <= 0 {
		return nil
	}
	type scored struct {
		display string
		iso3    string
		dist    int
	}
	// A suggestion must be close: at most a third of the letters edited,
	// or the typed text two thirds or more of the start of the name.
	limit := max(1, len(k)/3)
	best := map[string]scored{}
	for _, e := range c.names {
		d := textnorm.EditDistance(k, e.key, limit)
		if len(k) >= 4 && 3*len(k) > 2*len(e.key) && strings.HasPrefix(e.key, k) {
			d = min(d, 1)
		}
		if d > limit {
			continue
		}
		i := c.byKey[e.key]
		iso3 := c.list[i].ISO3
		if prev, ok := best[iso3]; !ok || d < prev.dist {
			best[iso3] = scored{display: c.list[i].NameEN, iso3: iso3, dist: d}
		}
	}
	list := make([]scored, 0, len(best))
	for _, s := range best {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].dist != list[j].dist {
			return list[i].dist < list[j].dist
		}
		return list[i].iso3 < list[j].iso3
	})
	var out []string
	for i := 0; i < len(list) && i < n; i++ {
		out = append(out, list[i].display+" ("+list[i].iso3+")")
	}
	return out
}

// MemberCount returns the number of ILO member States in an area (the world
// or an ILO region).
func (c *Countries) MemberCount(area string) int {
	n := 0
	for _, ct := range c.list {
		if ct.ILOMember && (area == WorldCode || ct.Region == area) {
			n++
		}
	}
	return n
}

// String renders a country as "Name (ISO3)" for messages.
func (ct Country) String() string { return ct.NameEN + " (" + ct.ISO3 + ")" }

// atoiOr returns the integer in s, or def.
func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}
