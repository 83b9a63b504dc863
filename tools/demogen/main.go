// Command demogen writes the sample files bundled in package demo:
//
//	go run ./tools/demogen -o demo/samples
//
// The data are invented: plausible in shape and order of magnitude, but not
// real statistics. Every file is drawn from its own fixed math/rand seed and
// the workbooks carry fixed document dates, so a rerun writes the same
// content. Country spellings must be names, codes or aliases of
// refdata/data/countries.csv (the reader never matches fuzzily); the demo
// package's test reads every file through the real reader.
package main

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// seed is the base of every file's random source.
const seed = 20221120 // IMRF pledge year, a memorable fixed number

// docDate is the creation and modification date written into every workbook.
const docDate = "2024-12-31T00:00:00Z"

func main() {
	out := flag.String("o", "demo/samples", "directory to write the sample files into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "demogen:", err)
		os.Exit(1)
	}
}

type sample struct {
	name  string
	write func(r *rand.Rand) ([]byte, error)
}

func run(dir string) error {
	samples := []sample{
		{"01_ratifications_normlex.xlsx", ratificationsXLSX},
		{"02_ratificaciones.csv", ratificacionesCSV},
		{"03_social_protection.xlsx", socialProtectionXLSX},
		{"04_ilostat_bulk.csv", ilostatBulkCSV},
		{"05_blma_agreements.xlsx", agreementsXLSX},
		{"06_blma_updates_broken.csv", brokenUpdatesCSV},
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, s := range samples {
		data, err := s.write(rand.New(rand.NewSource(seed + int64(i))))
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, s.name), data, 0o644); err != nil {
			return err
		}
		fmt.Printf("%-32s %7d bytes\n", s.name, len(data))
	}
	return nil
}

// ---------------------------------------------------------------------------
// Shared helpers

// excelSerial is the Excel (1900 date system) serial of a date after
// 1 March 1900.
func excelSerial(t time.Time) float64 {
	base := time.Date(1899, time.December, 30, 0, 0, 0, 0, time.UTC)
	return float64(t.Sub(base) / (24 * time.Hour))
}

func randomDate(r *rand.Rand, year int) time.Time {
	return time.Date(year, time.Month(1+r.Intn(12)), 1+r.Intn(28), 0, 0, 0, 0, time.UTC)
}

// round1 rounds a percentage to one decimal, within lo..hi.
func round1(v, lo, hi float64) float64 {
	v = math.Max(lo, math.Min(hi, v))
	return math.Round(v*10) / 10
}

func newWorkbook(title, subject string) (*excelize.File, error) {
	f := excelize.NewFile()
	err := f.SetDocProps(&excelize.DocProperties{
		Title:          title,
		Subject:        subject,
		Creator:        "pledgestat demogen",
		LastModifiedBy: "pledgestat demogen",
		Description:    "Invented demo data: plausible, not real statistics.",
		Created:        docDate,
		Modified:       docDate,
		Language:       "en",
	})
	return f, err
}

func workbookBytes(f *excelize.File) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func csvBytes(rows [][]string, comma rune, crlf bool) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Comma = comma
	w.UseCRLF = crlf
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func cell(col, row int) string {
	name, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		panic(err)
	}
	return name
}

type styles struct {
	header, title, longDate, shortDate, percent int
}

func newStyles(f *excelize.File) (styles, error) {
	var s styles
	var err error
	longDate := "d mmm yyyy"
	for _, st := range []struct {
		dst   *int
		style *excelize.Style
	}{
		{&s.header, &excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DCE6F1"}}}},
		{&s.title, &excelize.Style{Font: &excelize.Font{Bold: true, Size: 13}}},
		{&s.longDate, &excelize.Style{CustomNumFmt: &longDate}},
		{&s.shortDate, &excelize.Style{NumFmt: 14}},
		{&s.percent, &excelize.Style{NumFmt: 10}},
	} {
		if *st.dst, err = f.NewStyle(st.style); err != nil {
			return s, err
		}
	}
	return s, nil
}

// ---------------------------------------------------------------------------
// Ratifications

type member struct {
	name   string // spelling written in the file
	region string // ILO region (X06, X21, X36, X40, X60)
	since  int    // year from which the State could ratify (membership)
}

// ratifyingStates of 01_ratifications_normlex.xlsx, spelled as NORMLEX-like
// lists do, with a few variants the reader must accept.
var ratifyingStates = []member{
	{"Algeria", "X06", 1962}, {"Benin", "X06", 1960}, {"Burkina Faso", "X06", 1960},
	{"Cabo Verde", "X06", 1979}, {"Côte d'Ivoire", "X06", 1960}, {"Egypt", "X06", 1950},
	{"Ethiopia", "X06", 1950}, {"Ghana", "X06", 1957}, {"Kenya", "X06", 1964},
	{"Madagascar", "X06", 1960}, {"Mali", "X06", 1960}, {"Mauritius", "X06", 1969},
	{"Morocco", "X06", 1956}, {"Namibia", "X06", 1990}, {"Nigeria", "X06", 1960},
	{"Senegal", "X06", 1960}, {"South Africa", "X06", 1994}, {"Tanzania, United Republic of", "X06", 1962},
	{"Tunisia", "X06", 1956}, {"Uganda", "X06", 1963}, {"Zambia", "X06", 1964}, {"Zimbabwe", "X06", 1980},

	{"Argentina", "X21", 1950}, {"Bolivia (Plurinational State of)", "X21", 1950}, {"Brazil", "X21", 1950},
	{"Canada", "X21", 1950}, {"Chile", "X21", 1950}, {"Colombia", "X21", 1950}, {"Ecuador", "X21", 1950},
	{"Guatemala", "X21", 1950}, {"Jamaica", "X21", 1962}, {"Panama", "X21", 1950},
	{"Trinidad and Tobago", "X21", 1963}, {"Barbados", "X21", 1967},

	{"Jordan", "X36", 1956}, {"Lebanon", "X36", 1950}, {"Kuwait", "X36", 1961}, {"Qatar", "X36", 1972},
	{"Saudi Arabia", "X36", 1976}, {"United Arab Emirates", "X36", 1972}, {"Bahrain", "X36", 1977},
	{"Oman", "X36", 1994}, {"Iraq", "X36", 1950},

	{"Bangladesh", "X40", 1972}, {"Cambodia", "X40", 1969}, {"India", "X40", 1950}, {"Indonesia", "X40", 1950},
	{"Japan", "X40", 1951}, {"Republic of Korea", "X40", 1991}, {"Malaysia", "X40", 1957}, {"Nepal", "X40", 1966},
	{"Pakistan", "X40", 1950}, {"Philippines", "X40", 1950}, {"Sri Lanka", "X40", 1950}, {"Thailand", "X40", 1950},
	{"Viet Nam", "X40", 1992}, {"Fiji", "X40", 1974}, {"Australia", "X40", 1950}, {"New Zealand", "X40", 1950},

	{"Albania", "X60", 1991}, {"Armenia", "X60", 1992}, {"Belgium", "X60", 1950}, {"France", "X60", 1950},
	{"Germany", "X60", 1951}, {"Italy", "X60", 1950}, {"Kyrgyzstan", "X60", 1992}, {"Netherlands", "X60", 1950},
	{"Norway", "X60", 1950}, {"Poland", "X60", 1950}, {"Portugal", "X60", 1950}, {"Moldova, Republic of", "X60", 1992},
	{"Serbia", "X60", 2000}, {"Sweden", "X60", 1950}, {"Tajikistan", "X60", 1993}, {"Türkiye", "X60", 1950},
	{"Ukraine", "X60", 1954}, {"United Kingdom", "X60", 1950},
}

// estadosMiembros of 02_ratificaciones.csv, in Spanish; none is in file 01.
var estadosMiembros = []member{
	{"México", "X21", 1950}, {"Perú", "X21", 1950}, {"Uruguay", "X21", 1950}, {"Paraguay", "X21", 1956},
	{"Costa Rica", "X21", 1950}, {"El Salvador", "X21", 1950}, {"Honduras", "X21", 1955},
	{"República Dominicana", "X21", 1950}, {"Nicaragua", "X21", 1950}, {"Cuba", "X21", 1950},
	{"Venezuela (República Bolivariana de)", "X21", 1958}, {"España", "X60", 1956}, {"Guinea Ecuatorial", "X06", 1981},
}

type instrument struct {
	code    string
	adopted int
	title   string
	// share of member States per region (X06, X21, X36, X40, X60) that
	// have ratified it in the demo data.
	share [5]float64
}

var instruments = []instrument{
	{"C087", 1948, "Freedom of Association and Protection of the Right to Organise Convention, 1948 (No. 87)", [5]float64{.85, .9, .3, .45, .98}},
	{"C097", 1949, "Migration for Employment Convention (Revised), 1949 (No. 97)", [5]float64{.3, .25, 0, .15, .45}},
	{"C098", 1949, "Right to Organise and Collective Bargaining Convention, 1949 (No. 98)", [5]float64{.95, .95, .5, .6, .98}},
	{"C102", 1952, "Social Security (Minimum Standards) Convention, 1952 (No. 102)", [5]float64{.2, .35, .1, .1, .7}},
	{"C118", 1962, "Equality of Treatment (Social Security) Convention, 1962 (No. 118)", [5]float64{.15, .2, .1, .15, .2}},
	{"C142", 1975, "Human Resources Development Convention, 1975 (No. 142)", [5]float64{.35, .4, .2, .2, .6}},
	{"C143", 1975, "Migrant Workers (Supplementary Provisions) Convention, 1975 (No. 143)", [5]float64{.15, .05, 0, .03, .2}},
	{"C144", 1976, "Tripartite Consultation (International Labour Standards) Convention, 1976 (No. 144)", [5]float64{.7, .85, .4, .5, .9}},
	{"C155", 1981, "Occupational Safety and Health Convention, 1981 (No. 155)", [5]float64{.25, .3, .15, .2, .55}},
	{"C157", 1982, "Maintenance of Social Security Rights Convention, 1982 (No. 157)", [5]float64{0, 0, 0, 0, 0}},
	{"C181", 1997, "Private Employment Agencies Convention, 1997 (No. 181)", [5]float64{.1, .15, 0, .1, .35}},
	{"C187", 2006, "Promotional Framework for Occupational Safety and Health Convention, 2006 (No. 187)", [5]float64{.15, .15, .1, .25, .5}},
	{"C189", 2011, "Domestic Workers Convention, 2011 (No. 189)", [5]float64{.2, .45, 0, .05, .3}},
	{"C190", 2019, "Violence and Harassment Convention, 2019 (No. 190)", [5]float64{.15, .3, 0, .05, .25}},
	{"P029", 2014, "Protocol of 2014 to the Forced Labour Convention", [5]float64{.3, .25, .15, .1, .55}},
}

// alwaysRatified makes sure rare instruments have data in every file that
// needs them.
var alwaysRatified = map[string]bool{
	"Philippines|C157": true, "Sweden|C157": true, "Kyrgyzstan|C157": true, "España|C157": true,
	"Philippines|C143": true, "Italy|C143": true, "Philippines|C189": true, "Uruguay|C189": true,
	"Argentina|C190": true, "Uruguay|C190": true, "Fiji|C190": true,
}

var regionIndex = map[string]int{"X06": 0, "X21": 1, "X36": 2, "X40": 3, "X60": 4}

type ratification struct {
	state      member
	inst       instrument
	spelling   string
	date       time.Time
	status     string
	denounced  time.Time
	note       string
	hasDenunc  bool
	registered int
}

// drawRatifications picks, for each State and instrument, whether and when
// it was ratified.
func drawRatifications(r *rand.Rand, states []member) []ratification {
	var out []ratification
	for _, st := range states {
		for _, in := range instruments {
			p := in.share[regionIndex[st.region]]
			if r.Float64() >= p && !alwaysRatified[st.name+"|"+in.code] {
				continue
			}
			lo := max(1950, in.adopted+1, st.since)
			if lo > 2024 {
				continue
			}
			// Ratifications cluster in the years after adoption.
			year := lo + int(math.Floor(math.Pow(r.Float64(), 1.6)*float64(2024-lo+1)))
			rt := ratification{state: st, inst: in, date: randomDate(r, year), status: "In Force", registered: year}
			if year == 2024 {
				rt.status = "Not in force" // enters into force twelve months after registration
			}
			out = append(out, rt)
		}
	}
	return out
}

func instrumentSpelling(r *rand.Rand, in instrument) string {
	n := strings.TrimLeft(in.code[1:], "0")
	if in.code[0] == 'P' {
		return []string{"P029", "P029", "P29", in.title}[r.Intn(4)]
	}
	forms := []string{in.code, in.code, in.code, "C " + n, "C." + n, "No. " + n, "C" + n, in.title}
	return forms[r.Intn(len(forms))]
}

var ratificationNotes = map[string][]string{
	"C097": {"Has excluded the provisions of Annexes I to III", "Has excluded the provisions of Annex III"},
	"C102": {"Has accepted Parts II, III, V, VI and VIII", "Has accepted Parts II to VI and VIII", "Has accepted Parts III, IV, V and VIII"},
	"C118": {"Has accepted branches (c), (d) and (g)", "Has accepted branches (a) to (g)"},
}

func ratificationsXLSX(r *rand.Rand) ([]byte, error) {
	rows := drawRatifications(r, ratifyingStates)
	// A few denunciations of older ratifications, effective some years later.
	denounced := 0
	for i := range rows {
		rt := &rows[i]
		switch rt.inst.code {
		case "C097", "C102", "C118", "C143", "C142":
		default:
			continue
		}
		if denounced < 5 && rt.registered <= 2005 && r.Float64() < 0.25 {
			rt.status = "Denounced"
			rt.hasDenunc = true
			y := min(2024, rt.registered+4+r.Intn(15))
			rt.denounced = randomDate(r, y)
			if !rt.denounced.After(rt.date) {
				rt.denounced = rt.date.AddDate(1, 0, 0)
			}
			denounced++
		}
	}
	for i := range rows {
		rt := &rows[i]
		rt.spelling = instrumentSpelling(r, rt.inst)
		if notes := ratificationNotes[rt.inst.code]; len(notes) > 0 && r.Float64() < 0.4 {
			rt.note = notes[r.Intn(len(notes))]
		}
		if rt.status == "Not in force" {
			rt.note = "Will enter into force twelve months after registration"
		}
	}

	f, err := newWorkbook("Ratifications of selected ILO instruments (demo)", "ratification")
	if err != nil {
		return nil, err
	}
	st, err := newStyles(f)
	if err != nil {
		return nil, err
	}
	sheet := "Ratifications"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	set := func(c string, v any) {
		if err == nil {
			err = f.SetCellValue(sheet, c, v)
		}
	}
	set("A1", "Ratifications of selected ILO Conventions and Protocols, by member State (invented demo data, not real statistics)")
	headers := []any{"Country", "Convention", "Date of ratification", "Status", "Denunciation date", "Note"}
	if e := f.SetSheetRow(sheet, "A3", &headers); e != nil {
		return nil, e
	}
	row := 4
	for _, rt := range rows {
		set(cell(1, row), rt.state.name)
		set(cell(2, row), rt.spelling)
		set(cell(3, row), excelSerial(rt.date))
		set(cell(4, row), rt.status)
		if rt.hasDenunc {
			set(cell(5, row), excelSerial(rt.denounced))
		}
		if rt.note != "" {
			set(cell(6, row), rt.note)
		}
		row++
	}
	last := row - 1
	set(cell(1, row+1), "Source: ILO NORMLEX (invented demo data)")
	set(cell(1, row+2), "Dates are dates of registration of the ratification with the Director-General of the ILO.")
	if err != nil {
		return nil, err
	}
	for _, s := range []struct {
		from, to string
		id       int
	}{
		{"A1", "A1", st.title},
		{"A3", "F3", st.header},
		{"C4", cell(3, last), st.longDate},
		{"E4", cell(5, last), st.shortDate},
	} {
		if err := f.SetCellStyle(sheet, s.from, s.to, s.id); err != nil {
			return nil, err
		}
	}
	for col, w := range map[string]float64{"A": 34, "B": 46, "C": 20, "D": 14, "E": 18, "F": 52} {
		if err := f.SetColWidth(sheet, col, col, w); err != nil {
			return nil, err
		}
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 3, TopLeftCell: "A4", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	return workbookBytes(f)
}

var mesesES = []string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}

func ratificacionesCSV(r *rand.Rand) ([]byte, error) {
	rows := drawRatifications(r, estadosMiembros)
	out := [][]string{{"País", "Convenio", "Fecha de ratificación", "Estado"}}
	for _, rt := range rows {
		n := strings.TrimLeft(rt.inst.code[1:], "0")
		convenio := rt.inst.code
		switch {
		case rt.inst.code[0] == 'P':
			convenio = []string{"P029", "Protocolo de 2014 relativo al Convenio sobre el trabajo forzoso, 1930"}[r.Intn(2)]
		default:
			convenio = []string{rt.inst.code, "C" + n, "Convenio " + n, "Convenio núm. " + n}[r.Intn(4)]
		}
		fecha := rt.date.Format("2006-01-02")
		if r.Float64() < 0.6 {
			fecha = fmt.Sprintf("%d de %s de %d", rt.date.Day(), mesesES[rt.date.Month()-1], rt.date.Year())
		}
		estado := "En vigor"
		if rt.status == "Not in force" {
			estado = "No está en vigor"
		}
		out = append(out, []string{rt.state.name, convenio, fecha, estado})
	}
	return csvBytes(out, ';', true)
}

// ---------------------------------------------------------------------------
// Social protection

type coverageCountry struct {
	name   string
	region string
	base   float64 // SOC_CONTIG_TOTAL in 2015, percent
	// gap between non-migrants and migrants (points) and migrants' share of
	// the population, for countries that report by migratory status.
	migGap, migShare float64
	bySex            bool
	mat, une         float64 // maternity and unemployment coverage, 0 when not reported
}

var coverageCountries = []coverageCountry{
	{"Cabo Verde", "X06", 38, 0, 0, false, 24, 0},
	{"Egypt", "X06", 36, 0, 0, true, 18, 2.1},
	{"Ethiopia", "X06", 9, 0, 0, false, 0, 0},
	{"Ghana", "X06", 16, 0, 0, false, 9, 0},
	{"Kenya", "X06", 11, 0, 0, false, 7, 0},
	{"Morocco", "X06", 40, 0, 0, true, 21, 3.5},
	{"Nigeria", "X06", 6, 0, 0, false, 0, 0},
	{"Senegal", "X06", 19, 0, 0, false, 8, 0},
	{"South Africa", "X06", 52, 18, 0.07, true, 0, 14},
	{"Argentina", "X21", 64, 9, 0.05, false, 72, 9},
	{"Brazil", "X21", 66, 11, 0.01, true, 58, 7.5},
	{"Canada", "X21", 85, 6, 0.21, false, 68, 41},
	{"Chile", "X21", 72, 14, 0.08, false, 61, 46},
	{"Colombia", "X21", 49, 21, 0.05, false, 38, 4},
	{"Mexico", "X21", 53, 0, 0, true, 24, 0},
	{"Peru", "X21", 35, 0, 0, false, 31, 0},
	{"United States", "X21", 74, 0, 0, false, 0, 27},
	{"Jordan", "X36", 30, 22, 0.3, false, 12, 6},
	{"Lebanon", "X36", 25, 17, 0.25, false, 0, 0},
	{"Oman", "X36", 28, 26, 0.45, false, 0, 0},
	{"Saudi Arabia", "X36", 50, 35, 0.38, true, 0, 17},
	{"Iraq", "X36", 22, 0, 0, false, 0, 0},
	{"Bangladesh", "X40", 28, 0, 0, false, 21, 0},
	{"India", "X40", 24, 0, 0, false, 41, 0},
	{"Indonesia", "X40", 27, 0, 0, true, 0, 0},
	{"Japan", "X40", 84, 8, 0.02, false, 0, 22},
	{"Republic of Korea", "X40", 76, 15, 0.03, false, 0, 45},
	{"Nepal", "X40", 17, 0, 0, false, 0, 0},
	{"Philippines", "X40", 35, 0, 0, true, 11, 0},
	{"Thailand", "X40", 67, 19, 0.06, false, 0, 37},
	{"Vietnam", "X40", 38, 0, 0, false, 31, 44},
	{"Albania", "X60", 60, 0, 0, false, 44, 0},
	{"France", "X60", 94, 5, 0.13, false, 98, 79},
	{"Germany", "X60", 93, 7, 0.18, true, 97, 83},
	{"Italy", "X60", 89, 12, 0.1, false, 96, 51},
	{"Kosovo", "X60", 45, 10, 0.03, false, 32, 0},
	{"Republic of Moldova", "X60", 70, 0, 0, false, 67, 0},
	{"Poland", "X60", 86, 0, 0, true, 93, 20},
	{"Spain", "X60", 88, 11, 0.14, false, 89, 62},
	{"Sweden", "X60", 95, 4, 0.2, true, 99, 76},
	{"Türkiye", "X60", 63, 0, 0, false, 37, 18},
}

// aggregates are ILO's own world and regional estimates of SOC_CONTIG_TOTAL,
// 2015 and 2024.
var aggregates = []struct {
	code       string
	start, end float64
}{
	{"X01", 45.2, 52.6}, {"X06", 17.1, 19.4}, {"X21", 60.3, 64.5},
	{"X36", 37.6, 40.1}, {"X40", 41.4, 53.8}, {"X60", 82.2, 84.0},
}

type observation struct {
	area, series, sex, pop string
	year                   int
	value                  float64 // percent
}

func socialProtectionXLSX(r *rand.Rand) ([]byte, error) {
	var obs []observation
	for _, a := range aggregates {
		for y := 2015; y <= 2024; y++ {
			v := a.start + (a.end-a.start)*float64(y-2015)/9 + (r.Float64()-0.5)*0.4
			obs = append(obs, observation{a.code, "SOC_CONTIG_TOTAL", "T", "total", y, round1(v, 0, 100)})
		}
	}
	for _, c := range coverageCountries {
		trend := 0.2 + r.Float64()*1.3
		matTrend := 0.3 + r.Float64()*0.9
		for y := 2015; y <= 2024; y++ {
			if r.Float64() >= 0.8 {
				continue
			}
			total := round1(c.base+trend*float64(y-2015)+(r.Float64()-0.5)*1.6, 1, 99.5)
			add := func(series, sex, pop string, v float64) {
				obs = append(obs, observation{c.name, series, sex, pop, y, round1(v, 0.5, 99.9)})
			}
			add("SOC_CONTIG_TOTAL", "T", "total", total)
			if c.migGap > 0 && y >= 2017 && r.Float64() < 0.7 {
				g := c.migGap + (r.Float64()-0.5)*3
				add("SOC_CONTIG_TOTAL", "T", "non_migrants", total+c.migShare*g)
				add("SOC_CONTIG_TOTAL", "T", "migrants", total-(1-c.migShare)*g)
			}
			if c.bySex {
				d := 1.5 + r.Float64()*4
				add("SOC_CONTIG_TOTAL", "F", "total", total-d)
				add("SOC_CONTIG_TOTAL", "M", "total", total+d)
			}
			if c.mat > 0 && r.Float64() < 0.6 {
				add("SOC_CONTIG_MAT", "T", "total", c.mat+matTrend*float64(y-2015)+(r.Float64()-0.5)*2)
			}
			if c.une > 0 && r.Float64() < 0.6 {
				add("SOC_CONTIG_UNE", "T", "total", c.une+(r.Float64()-0.4)*3+0.3*float64(y-2015))
			}
		}
	}

	f, err := newWorkbook("Social protection coverage (demo)", "social_protection")
	if err != nil {
		return nil, err
	}
	st, err := newStyles(f)
	if err != nil {
		return nil, err
	}
	sheet := "Coverage"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	headers := []any{"Country", "Year", "Series", "Sex", "Population", "Value"}
	if err := f.SetSheetRow(sheet, "A1", &headers); err != nil {
		return nil, err
	}
	row := 2
	for _, o := range obs {
		vals := []any{o.area, o.year, o.series, o.sex, o.pop, math.Round(o.value*10) / 1000}
		if err := f.SetSheetRow(sheet, cell(1, row), &vals); err != nil {
			return nil, err
		}
		row++
	}
	if err := f.SetCellValue(sheet, cell(1, row+1), "Source: ILOSTAT, World Social Protection Database (invented demo data, not real statistics)"); err != nil {
		return nil, err
	}
	if err := f.SetCellStyle(sheet, "A1", "F1", st.header); err != nil {
		return nil, err
	}
	if err := f.SetCellStyle(sheet, "F2", cell(6, row-1), st.percent); err != nil {
		return nil, err
	}
	for col, w := range map[string]float64{"A": 26, "B": 8, "C": 20, "D": 6, "E": 14, "F": 10} {
		if err := f.SetColWidth(sheet, col, col, w); err != nil {
			return nil, err
		}
	}
	if err := f.AutoFilter(sheet, "A1:"+cell(6, row-1), nil); err != nil {
		return nil, err
	}

	info := "Instructions"
	if _, err := f.NewSheet(info); err != nil {
		return nil, err
	}
	lines := []string{
		"How to fill in the coverage sheet",
		"",
		"One row per observation: the area, the year, the series, the sex and the population group, then the coverage rate.",
		"Areas are countries (ISO code or name) or ILO aggregates: X01 world; X06, X21, X36, X40 and X60 the ILO regions.",
		"Series: SOC_CONTIG_TOTAL (at least one benefit, SDG 1.3.1), SOC_CONTIG_MAT (maternity), SOC_CONTIG_UNE (unemployment).",
		"Sex: T (total), F or M. Population: total, migrants or non_migrants.",
		"Coverage rates are percentages; cells formatted as % hold fractions (45.5% is stored as 0.455).",
		"Leave a cell empty or write .. when there is no observation.",
		"",
		"The figures in this workbook are invented for demonstration: plausible, not real statistics.",
	}
	for i, l := range lines {
		if l == "" {
			continue
		}
		if err := f.SetCellValue(info, cell(1, i+1), l); err != nil {
			return nil, err
		}
	}
	if err := f.SetCellStyle(info, "A1", "A1", st.title); err != nil {
		return nil, err
	}
	if err := f.SetColWidth(info, "A", "A", 110); err != nil {
		return nil, err
	}
	return workbookBytes(f)
}

// bulkCountries of 04_ilostat_bulk.csv: none is in 03_social_protection.xlsx.
var bulkCountries = []struct {
	code           string
	base, gap, mig float64
}{
	{"ECU", 38, 16, 0.03}, {"CRI", 62, 19, 0.09}, {"KGZ", 57, 12, 0.03}, {"MYS", 48, 31, 0.1},
	{"QAT", 71, 38, 0.75}, {"TUN", 52, 14, 0.01}, {"URY", 88, 10, 0.03},
}

func ilostatBulkCSV(r *rand.Rand) ([]byte, error) {
	out := [][]string{{"ref_area", "source", "indicator", "sex", "classif1", "classif2", "time", "obs_value", "obs_status", "note_classif", "note_indicator", "note_source"}}
	for i, c := range bulkCountries {
		trend := 0.3 + r.Float64()
		src := fmt.Sprintf("AA:%d", 11500+37*i)
		for y := 2017; y <= 2023; y++ {
			if r.Float64() < 0.25 {
				continue
			}
			total := round1(c.base+trend*float64(y-2017)+(r.Float64()-0.5)*1.5, 1, 99.5)
			g := c.gap + (r.Float64()-0.5)*3
			status := ""
			if y == 2020 && r.Float64() < 0.5 {
				status = "B" // break in series
			}
			for _, p := range []struct {
				code string
				v    float64
			}{
				{"MIG_STATUS_TOTAL", total},
				{"MIG_STATUS_MIGRANT", total - (1-c.mig)*g},
				{"MIG_STATUS_NONMIG", total + c.mig*g},
			} {
				out = append(out, []string{c.code, src, "SDG_0131_SEX_MIG_RT", "SEX_T", "SOC_CONTIG_TOTAL", p.code,
					fmt.Sprint(y), fmt.Sprintf("%.1f", round1(p.v, 0.5, 99.9)), status, "", "", "Invented demo data; not real statistics"})
			}
		}
	}
	return csvBytes(out, ',', false)
}

// ---------------------------------------------------------------------------
// Agreements

type agreement struct {
	kind        string // type code
	typeText    string // as written in the file
	title       string
	origin      string
	destination string
	parties     []string
	sectors     string
	status      string // canonical status, chosen by draw when empty
	// Forced dates (year only) for agreements whose history matters.
	signedYear int
}

// corridors: labour agreements between an origin and a destination.
var corridors = []struct {
	kind, origin, destination, sectors string
}{
	{"MOU", "Philippines", "Saudi Arabia", "Domestic work"},
	{"MOU", "Philippines", "Jordan", "Domestic work"},
	{"BLA", "Philippines", "Germany", "Health and care"},
	{"OTHER", "Philippines", "Japan", "Health and care; Specified skilled workers"},
	{"MOU", "Indonesia", "Malaysia", "Domestic work; Plantation agriculture"},
	{"MOU", "Indonesia", "Saudi Arabia", "Domestic work"},
	{"MOU", "Indonesia", "Republic of Korea", "Manufacturing; Fisheries"},
	{"MOU", "Bangladesh", "Malaysia", "Construction; Manufacturing"},
	{"BLA", "Bangladesh", "Qatar", "Construction"},
	{"MOU", "Bangladesh", "Republic of Korea", "Manufacturing"},
	{"MOU", "Nepal", "Malaysia", "Manufacturing; Security services"},
	{"BLA", "Nepal", "Qatar", "Construction; Hospitality"},
	{"MOU", "Nepal", "United Arab Emirates", "All sectors"},
	{"OTHER", "Nepal", "Japan", "Specified skilled workers"},
	{"MOU", "Sri Lanka", "Kuwait", "Domestic work"},
	{"BLA", "Sri Lanka", "Israel", "Agriculture; Home care"},
	{"MOU", "India", "United Arab Emirates", "All sectors"},
	{"MOU", "India", "Kuwait", "Domestic work"},
	{"BLA", "India", "Portugal", "All sectors"},
	{"MOU", "Pakistan", "Saudi Arabia", "Construction; Transport"},
	{"MOU", "Pakistan", "Qatar", "All sectors"},
	{"MOU", "Viet Nam", "Republic of Korea", "Manufacturing; Agriculture"},
	{"OTHER", "Viet Nam", "Japan", "Technical intern training"},
	{"MOU", "Cambodia", "Thailand", "Agriculture; Construction; Fisheries"},
	{"MOU", "Myanmar", "Thailand", "Agriculture; Construction; Fisheries"},
	{"MOU", "Lao People's Democratic Republic", "Thailand", "All sectors"},
	{"BLA", "Ethiopia", "Saudi Arabia", "Domestic work"},
	{"BLA", "Ethiopia", "Jordan", "Domestic work"},
	{"BLA", "Kenya", "Qatar", "All sectors"},
	{"BLA", "Kenya", "Saudi Arabia", "Domestic work; Hospitality"},
	{"BLA", "Uganda", "Saudi Arabia", "Domestic work"},
	{"BLA", "Morocco", "Spain", "Seasonal agriculture"},
	{"OTHER", "Tunisia", "France", "All sectors"},
	{"MOU", "Egypt", "Jordan", "Agriculture; Construction"},
	{"MOU", "Senegal", "Spain", "Seasonal agriculture"},
	{"OTHER", "Guatemala", "Canada", "Seasonal agriculture"},
	{"BLA", "Mexico", "Canada", "Seasonal agriculture"},
	{"MOU", "El Salvador", "Canada", "Agriculture; Food processing"},
	{"MOU", "Honduras", "Spain", "Seasonal agriculture"},
	{"BLA", "Republic of Moldova", "Israel", "Construction; Home care"},
	{"BLA", "Republic of Moldova", "Italy", "All sectors"},
	{"BLA", "Ukraine", "Poland", "All sectors"},
	{"BLA", "Kosovo", "Slovenia", "All sectors"},
	{"BLA", "Albania", "Italy", "Seasonal agriculture; Tourism"},
	{"BLA", "Bosnia and Herzegovina", "Slovenia", "Construction; Manufacturing"},
	{"BLA", "Kyrgyzstan", "Russian Federation", "All sectors"},
	{"BLA", "Tajikistan", "Russian Federation", "All sectors"},
	{"MOU", "Uzbekistan", "Republic of Korea", "Manufacturing; Agriculture"},
	{"BLA", "Burkina Faso", "Côte d’Ivoire", "Agriculture"},
	{"OTHER", "Zimbabwe", "South Africa", "All sectors"},
	{"MOU", "Lesotho", "South Africa", "Mining; Domestic work"},
}

// socialSecurity: bilateral social security agreements (parties listed).
var socialSecurity = [][2]string{
	{"Philippines", "Japan"}, {"Morocco", "France"}, {"Türkiye", "Germany"},
	{"Kosovo", "Austria"}, {"India", "Republic of Korea"}, {"Tunisia", "Italy"}, {"Cabo Verde", "Portugal"},
}

var multilateral = []agreement{
	{kind: "MULTILATERAL_SSA", typeText: "Multilateral social security agreement",
		title:   "Multilateral social security agreement of Ibero-American States",
		parties: []string{"Argentina", "Bolivia (Plurinational State of)", "Brazil", "Chile", "Ecuador", "El Salvador", "Paraguay", "Portugal", "Spain", "Uruguay"}},
	{kind: "MULTILATERAL_SSA", typeText: "Multilateral SSA",
		title:   "Caribbean multilateral agreement on social security",
		parties: []string{"Antigua and Barbuda", "Barbados", "Belize", "Dominica", "Grenada", "Guyana", "Jamaica", "Saint Lucia", "Trinidad and Tobago"}},
	{kind: "MULTILATERAL_SSA", typeText: "MULTILATERAL_SSA",
		title:   "General social security convention of West African States",
		parties: []string{"Benin", "Burkina Faso", "Côte d'Ivoire", "Mali", "Niger", "Senegal", "Togo"}},
	{kind: "MULTILATERAL_SSA", typeText: "Multilateral SSA",
		title:   "Gulf system of insurance protection for nationals working in other member States",
		parties: []string{"Bahrain", "Kuwait", "Oman", "Qatar", "Saudi Arabia", "United Arab Emirates"}},
	{kind: "REGIONAL_FRAMEWORK", typeText: "Regional labour mobility framework",
		title:   "West African framework on free movement of persons and labour mobility",
		parties: []string{"Benin", "Burkina Faso", "Cabo Verde", "Côte d'Ivoire", "Gambia", "Ghana", "Guinea", "Guinea-Bissau", "Liberia", "Mali", "Niger", "Nigeria", "Senegal", "Sierra Leone", "Togo"}},
	{kind: "REGIONAL_FRAMEWORK", typeText: "Regional framework",
		title:   "East African regional framework on labour migration",
		parties: []string{"Burundi", "Kenya", "Rwanda", "South Sudan", "Uganda", "United Republic of Tanzania"}},
	{kind: "REGIONAL_FRAMEWORK", typeText: "REGIONAL_FRAMEWORK",
		title:   "Southern African labour migration action framework",
		parties: []string{"Botswana", "Eswatini", "Lesotho", "Malawi", "Mozambique", "Namibia", "South Africa", "Zambia", "Zimbabwe"}},
	{kind: "REGIONAL_FRAMEWORK", typeText: "Regional framework",
		title:   "South-East Asian consensus on the protection and promotion of the rights of migrant workers",
		parties: []string{"Brunei Darussalam", "Cambodia", "Indonesia", "Lao People's Democratic Republic", "Malaysia", "Myanmar", "Philippines", "Singapore", "Thailand", "Viet Nam"}},
	{kind: "REGIONAL_FRAMEWORK", typeText: "Regional labour mobility framework",
		title:   "Central Asian framework on labour mobility and the rights of migrant workers",
		parties: []string{"Kazakhstan", "Kyrgyzstan", "Tajikistan", "Uzbekistan"}, status: "negotiating"},
	{kind: "REGIONAL_FRAMEWORK", typeText: "Regional framework",
		title:   "Pacific labour mobility framework",
		parties: []string{"Fiji", "Kiribati", "Samoa", "Solomon Islands", "Tonga", "Tuvalu", "Vanuatu"}, status: "negotiating"},
}

var typeSpellings = map[string][]string{
	"BLA":   {"BLA", "BLA", "Bilateral labour agreement", "Bilateral labor agreement"},
	"MOU":   {"MOU", "MoU", "Memorandum of understanding"},
	"OTHER": {"Other", "OTHER"},
	"SSA":   {"SSA", "Social security agreement", "Bilateral social security agreement"},
}

var typeTitles = map[string]string{
	"BLA":   "Bilateral labour agreement on the employment of %s workers between %s and %s",
	"MOU":   "Memorandum of understanding on the recruitment of %s workers between %s and %s",
	"OTHER": "Arrangement on the mobility of %s workers between %s and %s",
	"SSA":   "Agreement on social security between %s and %s",
}

// workers names the workers an agreement is about, from its first sector.
func workers(sectors string) string {
	first := strings.TrimSpace(strings.Split(sectors, ";")[0])
	switch first {
	case "Domestic work":
		return "domestic"
	case "Seasonal agriculture":
		return "seasonal agricultural"
	case "Agriculture":
		return "agricultural"
	case "Specified skilled workers":
		return "skilled"
	case "Technical intern training":
		return "technical intern"
	case "All sectors":
		return "migrant"
	}
	return strings.ToLower(first)
}

// article gives "the Philippines" where English needs it.
func article(name string) string {
	switch name {
	case "Philippines", "Netherlands", "United Arab Emirates", "Republic of Korea", "Republic of Moldova",
		"Russian Federation", "United Republic of Tanzania", "Lao People's Democratic Republic":
		return "the " + name
	}
	return name
}

// flagHeaders mix the flag names and their descriptions (inputs.md).
var flagHeaders = []string{
	"References ILO standards", "Social partners involved", "Joint committee or monitoring mechanism",
	"fair_recruitment", "Skills recognition or development", "social_protection",
	"Gender-responsive provisions", "domestic_care", "Just transition, climate or green jobs",
	"crisis", "Return reintegration", "Concluded with ILO, IOM or other UN technical support",
}

// flagOdds gives, per flag, the chance of yes, no and partial for a labour
// agreement (the rest is left blank: unknown). Newer agreements (signed
// 2016 or later) get the second set.
var flagOdds = [][2][3]float64{
	{{.35, .35, .1}, {.55, .2, .1}},   // ilo_standards
	{{.25, .45, .1}, {.45, .3, .1}},   // social_dialogue
	{{.55, .2, .05}, {.7, .1, .05}},   // monitoring
	{{.15, .5, .15}, {.45, .25, .15}}, // fair_recruitment
	{{.3, .4, .1}, {.5, .25, .1}},     // skills
	{{.3, .4, .15}, {.4, .3, .15}},    // social_protection
	{{.1, .6, .1}, {.35, .35, .1}},    // gender
	{{.2, .6, 0}, {.25, .55, 0}},      // domestic_care
	{{0, .7, 0}, {.1, .6, .05}},       // climate
	{{.15, .5, .05}, {.3, .4, .1}},    // crisis
	{{.2, .45, .1}, {.35, .35, .1}},   // return_reintegration
	{{.1, .6, 0}, {.3, .45, 0}},       // un_support
}

func drawFlags(r *rand.Rand, a agreement, signedYear int) []string {
	out := make([]string, len(flagHeaders))
	if a.status == "negotiating" {
		return out
	}
	for i := range out {
		switch a.kind {
		case "SSA", "MULTILATERAL_SSA":
			switch i {
			case 5:
				out[i] = "yes"
			case 2:
				out[i] = []string{"yes", "yes", ""}[r.Intn(3)]
			case 0:
				out[i] = []string{"yes", "no", ""}[r.Intn(3)]
			}
			continue
		}
		odds := flagOdds[i][0]
		if signedYear >= 2016 {
			odds = flagOdds[i][1]
		}
		u := r.Float64()
		switch {
		case u < odds[0]:
			out[i] = "yes"
		case u < odds[0]+odds[1]:
			out[i] = "no"
		case u < odds[0]+odds[1]+odds[2]:
			out[i] = "partial"
		}
		if i == 7 && out[i] == "yes" && !strings.Contains(strings.ToLower(a.sectors), "domestic") && !strings.Contains(strings.ToLower(a.sectors), "care") {
			out[i] = "no"
		}
		if out[i] == "yes" && r.Float64() < 0.08 {
			out[i] = "Yes"
		}
	}
	return out
}

// dateCell is how a date is written: an Excel date, a bare year or text.
type dateCell struct {
	t        time.Time
	yearOnly bool
	text     bool
}

func drawDate(r *rand.Rand, t time.Time) dateCell {
	u := r.Float64()
	switch {
	case u < 0.55:
		return dateCell{t: t}
	case u < 0.8:
		return dateCell{t: t, yearOnly: true}
	}
	return dateCell{t: t, text: true}
}

func (d dateCell) value() (any, bool) {
	switch {
	case d.t.IsZero():
		return nil, false
	case d.yearOnly:
		return d.t.Year(), false
	case d.text:
		return d.t.Format("2 January 2006"), false
	}
	return excelSerial(d.t), true
}

func agreementsXLSX(r *rand.Rand) ([]byte, error) {
	var list []agreement
	for _, c := range corridors {
		sp := typeSpellings[c.kind]
		list = append(list, agreement{
			kind: c.kind, typeText: sp[r.Intn(len(sp))],
			title:  fmt.Sprintf(typeTitles[c.kind], workers(c.sectors), article(c.origin), article(c.destination)),
			origin: c.origin, destination: c.destination, sectors: c.sectors,
		})
	}
	for _, p := range socialSecurity {
		sp := typeSpellings["SSA"]
		list = append(list, agreement{
			kind: "SSA", typeText: sp[r.Intn(len(sp))],
			title:   fmt.Sprintf(typeTitles["SSA"], article(p[0]), article(p[1])),
			parties: []string{p[0], p[1]}, sectors: "All sectors",
		})
	}
	list = append(list, multilateral...)

	// Statuses: a few negotiations, expiries, terminations and one
	// superseded agreement among the labour agreements; the rest signed or
	// in force.
	labour := []int{}
	for i, a := range list {
		if a.kind == "BLA" || a.kind == "MOU" || a.kind == "OTHER" {
			labour = append(labour, i)
		}
	}
	r.Shuffle(len(labour), func(i, j int) { labour[i], labour[j] = labour[j], labour[i] })
	for k, i := range labour {
		switch {
		case k < 4:
			list[i].status = "negotiating"
		case k < 9:
			list[i].status = "expired"
		case k < 11:
			list[i].status = "terminated"
		case k < 12:
			list[i].status = "superseded"
		}
	}

	f, err := newWorkbook("Bilateral and multilateral labour migration agreements (demo)", "blma")
	if err != nil {
		return nil, err
	}
	st, err := newStyles(f)
	if err != nil {
		return nil, err
	}
	sheet := "Agreements"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	headers := []any{"Agreement ID", "Title", "Type", "Origin country", "Destination country", "Parties",
		"Date signed", "Entry into force", "End date", "Status", "Sectors"}
	for _, h := range flagHeaders {
		headers = append(headers, h)
	}
	if err := f.SetSheetRow(sheet, "A1", &headers); err != nil {
		return nil, err
	}
	var dateCells []string
	for i, a := range list {
		row := i + 2
		var signed, inForce, end time.Time
		status := a.status
		switch status {
		case "negotiating":
		case "expired", "terminated", "superseded":
			signed = randomDate(r, 2005+r.Intn(13))
			inForce = signed.AddDate(0, r.Intn(10), r.Intn(25))
			end = signed.AddDate(2+r.Intn(5), r.Intn(12), 0)
			if end.Year() > 2024 {
				end = time.Date(2024, time.March, 31, 0, 0, 0, 0, time.UTC)
			}
		default:
			signed = randomDate(r, 2005+int(math.Floor(math.Pow(r.Float64(), 0.8)*20)))
			if signed.Year() >= 2023 && r.Float64() < 0.7 {
				status = "signed"
			} else {
				status = "in force"
				if r.Float64() < 0.8 {
					inForce = signed.AddDate(0, r.Intn(14), r.Intn(28))
					if inForce.Year() > 2024 {
						inForce = time.Time{}
						status = "signed"
					}
				}
			}
		}
		id := fmt.Sprintf("BLMA-%03d", i+1)
		if i%23 == 22 {
			id = "" // identified by type, parties and year
		}
		parties := strings.Join(a.parties, "; ")
		flags := drawFlags(r, agreement{kind: a.kind, sectors: a.sectors, status: status}, signed.Year())
		vals := []any{id, a.title, a.typeText, a.origin, a.destination, parties}
		sd := drawDate(r, signed)
		fd := drawDate(r, inForce)
		if sd.yearOnly && !fd.t.IsZero() && fd.t.Year() == sd.t.Year() {
			fd.yearOnly = true
		}
		ed := drawDate(r, end)
		for j, d := range []dateCell{sd, fd, ed} {
			v, isDate := d.value()
			vals = append(vals, v)
			if isDate {
				dateCells = append(dateCells, cell(7+j, row))
			}
		}
		vals = append(vals, status, a.sectors)
		for _, fl := range flags {
			vals = append(vals, fl)
		}
		for k, v := range vals {
			if s, ok := v.(string); (ok && s == "") || v == nil {
				continue
			}
			if err := f.SetCellValue(sheet, cell(k+1, row), v); err != nil {
				return nil, err
			}
		}
	}
	sort.Strings(dateCells)
	for _, c := range dateCells {
		if err := f.SetCellStyle(sheet, c, c, st.longDate); err != nil {
			return nil, err
		}
	}
	if err := f.SetCellStyle(sheet, "A1", cell(len(headers), 1), st.header); err != nil {
		return nil, err
	}
	widths := []float64{12, 70, 26, 22, 22, 60, 14, 16, 14, 12, 34}
	for i, w := range widths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(sheet, col, col, w); err != nil {
			return nil, err
		}
	}
	first, _ := excelize.ColumnNumberToName(len(widths) + 1)
	lastCol, _ := excelize.ColumnNumberToName(len(headers))
	if err := f.SetColWidth(sheet, first, lastCol, 16); err != nil {
		return nil, err
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, XSplit: 2, YSplit: 1, TopLeftCell: "C2", ActivePane: "bottomRight"}); err != nil {
		return nil, err
	}
	return workbookBytes(f)
}

// brokenUpdatesCSV is a submission the reader must reject: one good row and
// three with an error each (unknown country, impossible date, unknown type).
func brokenUpdatesCSV(*rand.Rand) ([]byte, error) {
	rows := [][]string{
		{"Agreement ID", "Title", "Type", "Origin country", "Destination country", "Date signed", "Status"},
		{"BLMA-101", "Memorandum of understanding on seasonal agricultural workers between Guatemala and Mexico", "MOU", "Guatemala", "Mexico", "2023-05-12", "in force"},
		{"BLMA-102", "Bilateral labour agreement between Atlantis and Spain", "BLA", "Atlantis", "Spain", "2021-09-30", "signed"},
		{"BLMA-103", "Memorandum of understanding on domestic workers between Nepal and Jordan", "MOU", "Nepal", "Jordan", "31/02/2020", "in force"},
		{"BLMA-104", "Treaty on labour mobility between Ghana and Germany", "Treaty", "Ghana", "Germany", "2022-11-03", "signed"},
	}
	return csvBytes(rows, ',', false)
}
