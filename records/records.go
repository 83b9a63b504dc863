package records

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Domain names an input domain; the strings are the file stems of the
// published domain tables.
type Domain string

// The three input domains.
const (
	DomainRatification     Domain = "ratification"
	DomainSocialProtection Domain = "social_protection"
	DomainBLMA             Domain = "blma"
)

// Domains returns the input domains in their canonical order.
func Domains() []Domain {
	var out []Domain
	for _, d := range Descriptors() {
		out = append(out, d.Domain)
	}
	return out
}

// Provenance says where a record came from, down to the cell.
type Provenance struct {
	File   string // name of the submitted file, relative to inbox/
	Sheet  string // worksheet name; empty for CSV files
	Cell   string // A1 reference of the first cell of the record's row
	SHA256 string // hex SHA-256 of the submitted file's bytes
}

// Ref renders a cell of the same file and sheet as FILE!SHEET!CELL, the form
// of the indicators' `sources` column.
func (p Provenance) Ref(cell string) string {
	if cell == "" {
		cell = p.Cell
	}
	return p.File + "!" + p.Sheet + "!" + cell
}

// Date is a calendar date without time zone, stored as days since 1970-01-01
// (Arrow's date32).
type Date int32

// DateOf returns the Date of a calendar day.
func DateOf(year int, month time.Month, day int) Date {
	return Date(time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// Year returns d's calendar year.
func (d Date) Year() int { return d.Time().Year() }

// String renders d as YYYY-MM-DD.
func (d Date) String() string { return d.Time().Format("2006-01-02") }

// OptionalDate is a date that may be absent.
type OptionalDate struct {
	Date  Date
	Valid bool
}

// PartialDate is a date that may be known only to the year, as agreement
// dates often are. Year is 0 when nothing is known.
type PartialDate struct {
	Year   int
	Date   Date // meaningful only when HasDay
	HasDay bool
}

// Known reports whether at least the year is known.
func (p PartialDate) Known() bool { return p.Year != 0 }

// Before reports whether p is certainly earlier than q, comparing at the
// precision both have.
func (p PartialDate) Before(q PartialDate) bool {
	if !p.Known() || !q.Known() {
		return false
	}
	if p.HasDay && q.HasDay {
		return p.Date < q.Date
	}
	return p.Year < q.Year
}

// String renders p as YYYY-MM-DD or YYYY.
func (p PartialDate) String() string {
	switch {
	case p.HasDay:
		return p.Date.String()
	case p.Known():
		return fmt.Sprint(p.Year)
	}
	return ""
}

// Ratification of an ILO instrument by a member State.
type Ratification struct {
	Country          string // ISO3
	Instrument       string // "C097", "P029"
	RatificationDate Date
	Status           string // in_force, not_in_force, denounced or empty
	Denunciation     OptionalDate
	Note             string
	Source           Provenance
	DateCell         string // A1 cell of ratification_date
	DenunciationCell string // A1 cell of denunciation_date, if any
}

// Key is the record key (country, instrument).
func (r Ratification) Key() string { return r.Country + "|" + r.Instrument }

// RatifiedAt reports whether the ratification counts at the end of year y
// (RatifiedAtEndOf).
func (r Ratification) RatifiedAt(y int) bool {
	return RatifiedAtEndOf(r.RatificationDate, r.Denunciation, y)
}

// RatifiedAtEndOf is the rule of indicators.md, the one place it is
// written: a ratification counts at the end of year y when it was
// registered on or before 31 December y and not denounced by then (a
// denunciation taking effect on 31 December y ends it for y).
func RatifiedAtEndOf(ratified Date, denounced OptionalDate, y int) bool {
	return ratified <= DateOf(y, time.December, 31) && !DenouncedBy(denounced, y)
}

// DenouncedBy reports whether a denunciation has taken effect by the end
// of year y (on 31 December y included): the half of RatifiedAtEndOf the
// publish gates ask of a denunciation alone.
func DenouncedBy(denounced OptionalDate, y int) bool {
	return denounced.Valid && denounced.Date <= DateOf(y, time.December, 31)
}

// CoverageObservation is one social-protection coverage value.
type CoverageObservation struct {
	Area       string // ISO3 of a country, or ILOSTAT code X01..X60 of an ILO aggregate
	Year       int
	Series     string // SOC_CONTIG_TOTAL, ...
	Sex        string // T, F, M
	Population string // total, migrants, non_migrants
	Value      float64
	ObsStatus  string
	SourceNote string
	Note       string
	Source     Provenance
	ValueCell  string // A1 cell of the value
}

// Key is the record key (country, year, series, sex, population).
func (o CoverageObservation) Key() string {
	var buf [64]byte
	return string(o.AppendKey(buf[:0]))
}

// AppendKey appends Key to dst: the store hashes the key of every
// observation of a streamed file, from a buffer it reuses.
func (o CoverageObservation) AppendKey(dst []byte) []byte {
	dst = append(append(dst, o.Area...), '|')
	dst = append(strconv.AppendInt(dst, int64(o.Year), 10), '|')
	dst = append(append(dst, o.Series...), '|')
	dst = append(append(dst, o.Sex...), '|')
	return append(dst, o.Population...)
}

// ProvisionFlags returns the BLMA provision columns, in their canonical
// order.
func ProvisionFlags() []string { return append([]string(nil), provisionFlags...) }

// Provision is one BLMA provision column (inputs.md): its name, the
// header the input template writes, and the other headers ingest reads
// for it (English first; the name itself is always read).
type Provision struct {
	Flag    string
	Title   string
	Headers []string
}

// provisions is the one list of the provision columns, in their canonical
// order: ingest's headers, the template's columns, the catalog's flag
// indicators and the agreements table all come from it.
var provisions = []Provision{
	{"ilo_standards", "ILO standards", []string{"references ILO standards", "international labour standards"}},
	{"social_dialogue", "Social dialogue", []string{"social partners involved", "social partners"}},
	{"monitoring", "Monitoring", []string{"joint committee or monitoring mechanism", "joint committee", "monitoring mechanism"}},
	{"fair_recruitment", "Fair recruitment", []string{"no recruitment fees or costs charged to workers"}},
	{"skills", "Skills", []string{"skills recognition or development", "skills recognition"}},
	{"social_protection", "Social protection", []string{"social security provisions", "social security"}},
	{"gender", "Gender", []string{"gender-responsive provisions", "gender responsive"}},
	{"domestic_care", "Domestic care", []string{"provisions for domestic or care workers", "domestic or care workers", "domestic workers"}},
	{"climate", "Climate", []string{"just transition, climate or green jobs", "just transition"}},
	{"crisis", "Crisis", []string{"crisis, emergency or repatriation"}},
	{"return_reintegration", "Return reintegration", []string{"return and reintegration"}},
	{"un_support", "UN support", []string{"concluded with ILO, IOM or other UN technical support", "UN technical support"}},
}

// Provisions returns the provision columns in their canonical order.
func Provisions() []Provision {
	out := make([]Provision, len(provisions))
	for i, p := range provisions {
		out[i] = Provision{Flag: p.Flag, Title: p.Title, Headers: append([]string(nil), p.Headers...)}
	}
	return out
}

var provisionFlags = func() []string {
	out := make([]string, len(provisions))
	for i, p := range provisions {
		out[i] = p.Flag
	}
	return out
}()

// Flag values of provision columns.
const (
	FlagYes     = "yes"
	FlagNo      = "no"
	FlagPartial = "partial"
	FlagUnknown = "unknown"
)

// Agreement statuses (inputs.md).
const (
	StatusNegotiating = "negotiating"
)

// Agreement is a bilateral or multilateral labour migration agreement.
type Agreement struct {
	AgreementID string
	Title       string
	Type        string // BLA, MOU, SSA, MULTILATERAL_SSA, REGIONAL_FRAMEWORK, OTHER
	Origin      string // ISO3 or empty
	Destination string // ISO3 or empty
	Parties     []string
	Signed      PartialDate
	InForce     PartialDate
	End         PartialDate
	Status      string
	Sectors     string
	Provisions  []string // aligned with ProvisionFlags()
	Source      Provenance
}

// Key is the record key: agreement_id where given, else (type, sorted
// parties, signed year).
func (a Agreement) Key() string {
	if a.AgreementID != "" {
		return "id|" + strings.ToLower(strings.Join(strings.Fields(a.AgreementID), " "))
	}
	parties := append([]string(nil), a.Parties...)
	sort.Strings(parties)
	year := ""
	if a.Signed.Known() {
		year = fmt.Sprint(a.Signed.Year)
	}
	return "auto|" + a.Type + "|" + strings.Join(parties, ";") + "|" + year
}

// Provision returns the value of a provision flag.
func (a Agreement) Provision(flag string) string {
	for i, f := range provisionFlags {
		if f == flag {
			return a.provisionAt(i)
		}
	}
	return FlagUnknown
}

// provisionAt is the value of the provision flag of index i of
// ProvisionFlags: the tables' columns are built by index, not by looking
// each flag's name up among twelve for every agreement.
func (a Agreement) provisionAt(i int) string {
	if i < len(a.Provisions) {
		return a.Provisions[i]
	}
	return FlagUnknown
}

// SortedParties returns parties de-duplicated and sorted, the form records
// keep.
func SortedParties(parties []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range parties {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// Set holds records of the three domains.
type Set struct {
	Ratifications []Ratification
	Coverage      []CoverageObservation
	Agreements    []Agreement
	// Others holds the records of domains described by NewDescriptor
	// (a slice of the domain's record type each), by domain.
	Others map[Domain]any
}

// Clone returns a copy of s that shares no slice with it: a holder of
// the copy is not affected when s's records are replaced in place.
func (s Set) Clone() Set {
	var out Set
	for _, d := range Descriptors() {
		d.clone(&out, s)
	}
	if len(s.Others) > 0 {
		out.Others = make(map[Domain]any, len(s.Others))
		for d, v := range s.Others {
			rv := reflect.ValueOf(v)
			out.Others[d] = reflect.AppendSlice(reflect.MakeSlice(rv.Type(), 0, rv.Len()), rv).Interface()
		}
	}
	return out
}

// Rows returns the number of records per domain.
func (s Set) Rows() map[Domain]int {
	out := map[Domain]int{}
	for _, d := range Descriptors() {
		out[d.Domain] = d.count(s)
	}
	for d, v := range s.Others {
		out[d] = reflect.ValueOf(v).Len()
	}
	return out
}

// Len returns the number of records of all domains.
func (s Set) Len() int {
	n := 0
	for _, d := range Descriptors() {
		n += d.count(s)
	}
	for _, v := range s.Others {
		n += reflect.ValueOf(v).Len()
	}
	return n
}
