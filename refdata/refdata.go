// Package refdata owns the reference data pledgestat ships: countries and
// territories with their codes, names, ILO region and ILO membership; the ILO
// regions; the ILO instruments; and the indicator catalog.
//
// The data are plain files under data/, embedded with go:embed, each opening
// with its source and as-of date. The package loads them, checks them, and
// answers look-ups; it knows nothing about spreadsheets or indicators' maths.
package refdata

import (
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ilo-pledge/pledgestat/internal/safego"
)

//go:embed data/countries.csv data/regions.csv data/instruments.csv data/catalog.toml
var dataFS embed.FS

// Reference is the loaded, immutable reference data. It is safe for
// concurrent use once Load has returned.
type Reference struct {
	countries   *Countries
	instruments *Instruments
	catalog     *Catalog
	sources     []Source
}

// Source describes where one reference table comes from.
type Source struct {
	File   string // file name under data/
	Source string // the "# source:" line
	AsOf   string // the "# as_of:" line
}

// Load parses and checks every embedded table. It fails only if the shipped
// data are broken, which the package's tests rule out.
func Load() (*Reference, error) {
	ref := &Reference{}
	// The countries and the instruments with the catalog are loaded side
	// by side: every command loads them first, a validate of one small
	// workbook among them, whose 50 ms this was a tenth of.
	var (
		countrySrc, regionSrc Source
		countryErr            error
		done                  = make(chan struct{})
	)
	go func() {
		defer close(done)
		defer safego.Catch(&countryErr)
		countrySrc, regionSrc, countryErr = ref.loadCountries()
	}()
	instrumentSrc, instrumentErr := ref.loadInstruments()
	<-done
	if err := errors.Join(countryErr, instrumentErr); err != nil {
		return nil, err
	}
	ref.sources = []Source{countrySrc, regionSrc, instrumentSrc,
		{File: "catalog.toml", Source: "ILO pledge to the International Migration Review Forum 2022; pledgestat spec indicators.md", AsOf: "catalog version " + ref.catalog.Version}}
	return ref, nil
}

// loadCountries loads the regions and the countries.
func (ref *Reference) loadCountries() (countrySrc, regionSrc Source, err error) {
	regionRows, regionSrc, err := readTable("regions.csv")
	if err != nil {
		return countrySrc, regionSrc, err
	}
	countryRows, countrySrc, err := readTable("countries.csv")
	if err != nil {
		return countrySrc, regionSrc, err
	}
	if ref.countries, err = newCountries(countryRows, regionRows); err != nil {
		return countrySrc, regionSrc, fmt.Errorf("countries.csv: %w", err)
	}
	return countrySrc, regionSrc, nil
}

// loadInstruments loads the instruments and the catalog, which names them.
func (ref *Reference) loadInstruments() (Source, error) {
	instrumentRows, instrumentSrc, err := readTable("instruments.csv")
	if err != nil {
		return instrumentSrc, err
	}
	if ref.instruments, err = newInstruments(instrumentRows); err != nil {
		return instrumentSrc, fmt.Errorf("instruments.csv: %w", err)
	}
	if ref.catalog, err = loadCatalog(ref.instruments); err != nil {
		return instrumentSrc, fmt.Errorf("catalog.toml: %w", err)
	}
	return instrumentSrc, nil
}

// Countries gives the country and territory table.
func (r *Reference) Countries() *Countries { return r.countries }

// Instruments gives the ILO instruments table.
func (r *Reference) Instruments() *Instruments { return r.instruments }

// Catalog gives the indicator catalog.
func (r *Reference) Catalog() *Catalog { return r.catalog }

// Sources lists where each shipped table comes from, for README sheets and
// manifests.
func (r *Reference) Sources() []Source { return append([]Source(nil), r.sources...) }

// row is one CSV record addressed by header name. The header's index is
// shared by the rows of a table: a map per row was a third of loading the
// reference data, which every command does.
type row struct {
	line   int
	fields []string
	header map[string]int
}

// get is the field under the header name, "" when the table has no such
// column (encoding/csv gives every row the header's number of fields).
func (r row) get(name string) string {
	i, ok := r.header[name]
	if !ok {
		return ""
	}
	return strings.TrimSpace(r.fields[i])
}

// readTable reads an embedded CSV whose leading '#' lines carry "source:" and
// "as_of:" metadata.
func readTable(name string) ([]row, Source, error) {
	raw, err := dataFS.ReadFile("data/" + name)
	if err != nil {
		return nil, Source{}, fmt.Errorf("read %s: %w", name, err)
	}
	src := Source{File: name}
	text := string(raw)
	for rest := text; strings.HasPrefix(rest, "#"); {
		line, next, _ := strings.Cut(rest, "\n")
		rest = next
		meta := strings.TrimSpace(strings.TrimPrefix(line, "#"))
		if v, ok := strings.CutPrefix(meta, "source:"); ok {
			src.Source = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(meta, "as_of:"); ok {
			src.AsOf = strings.TrimSpace(v)
		}
	}
	if src.Source == "" || src.AsOf == "" {
		return nil, src, fmt.Errorf("%s: the table must start with '# source:' and '# as_of:' lines", name)
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comment = '#'
	header, err := cr.Read()
	if err != nil {
		return nil, src, fmt.Errorf("%s: header: %w", name, err)
	}
	index := make(map[string]int, len(header))
	for i, h := range header {
		index[h] = i
	}
	rows := make([]row, 0, strings.Count(text, "\n"))
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, src, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		rows = append(rows, row{line: line, fields: rec, header: index})
	}
	return rows, src, nil
}

// splitAliases splits a '|'-separated alias cell.
func splitAliases(s string) []string {
	var out []string
	for _, a := range strings.Split(s, "|") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}
