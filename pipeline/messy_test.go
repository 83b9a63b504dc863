package pipeline

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// The dataset both renderings carry. Dates are ISO; the messy renderings
// write them every way inputs.md accepts.
type ratRow struct{ country, inst, date, denounced string }

var dataRatifications = []ratRow{
	{"FRA", "C097", "1954-03-29", ""}, {"DEU", "C097", "1959-06-22", ""}, {"PHL", "C097", "2009-04-21", ""},
	{"KEN", "C097", "1965-01-30", "2021-06-30"}, {"URY", "C189", "2012-06-14", ""}, {"PHL", "C189", "2012-09-05", ""},
	{"CIV", "C189", "2019-03-04", ""}, {"FRA", "C087", "1951-06-28", ""}, {"FRA", "C098", "1951-10-26", ""},
	{"DEU", "C087", "1957-03-20", ""}, {"DEU", "C098", "1956-06-08", ""}, {"BRA", "C098", "1952-11-18", ""},
	{"ARG", "P029", "2016-11-09", ""}, {"NOR", "P029", "2015-01-09", ""}, {"TUR", "C144", "1993-01-12", ""},
}

type covRow struct {
	area   string
	year   int
	series string
	sex    string
	pop    string
	value  string
}

var dataCoverage = []covRow{
	{"FRA", 2019, "SOC_CONTIG_TOTAL", "T", "total", "69.5"}, {"FRA", 2020, "SOC_CONTIG_TOTAL", "T", "total", "70.1"}, {"FRA", 2021, "SOC_CONTIG_TOTAL", "T", "total", "71"},
	{"DEU", 2019, "SOC_CONTIG_TOTAL", "T", "total", "80.2"}, {"DEU", 2020, "SOC_CONTIG_TOTAL", "T", "total", "80.9"}, {"DEU", 2021, "SOC_CONTIG_TOTAL", "T", "total", "81.4"},
	{"X01", 2019, "SOC_CONTIG_TOTAL", "T", "total", "46.1"}, {"X01", 2020, "SOC_CONTIG_TOTAL", "T", "total", "46.9"}, {"X01", 2021, "SOC_CONTIG_TOTAL", "T", "total", "47.2"},
	{"XKX", 2021, "SOC_CONTIG_TOTAL", "T", "total", "30.5"}, {"ESP", 2021, "SOC_CONTIG_MAT", "T", "total", "45.5"}, {"DEU", 2021, "SOC_CONTIG_UNE", "T", "total", "85"},
	{"FRA", 2021, "SOC_CONTIG_TOTAL", "F", "migrants", "55.2"}, {"FRA", 2021, "SOC_CONTIG_TOTAL", "F", "non_migrants", "72.4"},
	{"DEU", 2021, "SOC_CONTIG_TOTAL", "T", "migrants", "60"}, {"DEU", 2021, "SOC_CONTIG_TOTAL", "T", "non_migrants", "83.5"},
	{"X06", 2020, "SOC_CONTIG_MAT", "T", "total", "14.9"},
}

type agrRow struct {
	id, title, typ, origin, dest, parties, signed, end, status string
	flags                                                      map[string]string
}

var dataAgreements = []agrRow{
	{"A1", "Philippines-Germany", "BLA", "PHL", "DEU", "", "2013-03-19", "", "in_force", map[string]string{"social_dialogue": "yes", "fair_recruitment": "yes", "gender": "partial"}},
	{"A2", "Philippines-Saudi Arabia", "MOU", "PHL", "SAU", "", "2018", "2021", "expired", map[string]string{"fair_recruitment": "no", "social_dialogue": "no"}},
	{"A3", "Germany-Kosovo", "OTHER", "DEU", "XKX", "", "2020-05-04", "", "signed", map[string]string{"fair_recruitment": "partial", "gender": "yes"}},
	{"A4", "France-Morocco social security", "SSA", "FRA", "MAR", "", "2007", "", "in_force", nil},
	{"A5", "East African mobility", "REGIONAL_FRAMEWORK", "", "", "KEN;TZA;UGA", "2021", "", "signed", nil},
	{"A6", "Nepal-Qatar", "BLA", "NPL", "QAT", "", "", "", "negotiating", map[string]string{"fair_recruitment": "yes"}},
	{"A7", "India-UAE", "MOU", "IND", "ARE", "", "2019-11-12", "", "in_force", map[string]string{"monitoring": "yes", "skills": "yes", "crisis": "no"}},
	{"A8", "Mercosur social security", "MULTILATERAL_SSA", "", "", "ARG;BRA;PRY;URY", "2005", "", "in_force", nil},
}

var flagOrder = []string{"ilo_standards", "social_dialogue", "monitoring", "fair_recruitment", "skills", "social_protection", "gender", "domestic_care", "climate", "crisis", "return_reintegration", "un_support"}

func isoDate(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func excelSerial(s string, date1904 bool) float64 {
	base := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	if date1904 {
		base = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return isoDate(s).Sub(base).Hours() / 24
}

func writeFileT(t *testing.T, path string, data []byte) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func csvText(rows [][]string, comma rune) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = comma
	w.WriteAll(rows)
	return b.String()
}

// renderClean writes the dataset in template form: canonical headers, ISO
// text dates, one file per domain.
func renderClean(t *testing.T, inbox string) {
	rat := [][]string{{"country", "instrument", "ratification_date", "status", "denunciation_date"}}
	for _, r := range dataRatifications {
		status := "in_force"
		if r.denounced != "" {
			status = "denounced"
		}
		rat = append(rat, []string{r.country, r.inst, r.date, status, r.denounced})
	}
	writeFileT(t, filepath.Join(inbox, "ratification.csv"), []byte(csvText(rat, ',')))
	cov := [][]string{{"country", "year", "value", "series", "sex", "population"}}
	for _, c := range dataCoverage {
		cov = append(cov, []string{c.area, strconv.Itoa(c.year), c.value, c.series, c.sex, c.pop})
	}
	writeFileT(t, filepath.Join(inbox, "social_protection.csv"), []byte(csvText(cov, ',')))
	agr := [][]string{append([]string{"agreement_id", "title", "type", "origin", "destination", "parties", "date_signed", "date_end", "status"}, flagOrder...)}
	for _, a := range dataAgreements {
		row := []string{a.id, a.title, a.typ, a.origin, a.dest, a.parties, a.signed, a.end, a.status}
		for _, f := range flagOrder {
			v := a.flags[f]
			if v == "" {
				v = "unknown"
			}
			row = append(row, v)
		}
		agr = append(agr, row)
	}
	writeFileT(t, filepath.Join(inbox, "blma.csv"), []byte(csvText(agr, ',')))
}

// book helps write messy workbooks.
type book struct {
	t *testing.T
	f *excelize.File
}

func newBook(t *testing.T, date1904 bool) *book {
	f := excelize.NewFile()
	if date1904 {
		v := true
		f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &v})
	}
	return &book{t: t, f: f}
}

func (b *book) sheet(name string) string {
	if b.f.GetSheetList()[0] == "Sheet1" {
		b.f.SetSheetName("Sheet1", name)
	} else if _, err := b.f.NewSheet(name); err != nil {
		b.t.Fatal(err)
	}
	return name
}

func (b *book) row(sheet string, row int, values ...any) {
	cell, _ := excelize.CoordinatesToCellName(1, row)
	if err := b.f.SetSheetRow(sheet, cell, &values); err != nil {
		b.t.Fatal(err)
	}
}

func (b *book) style(sheet, cell string, st *excelize.Style) {
	id, err := b.f.NewStyle(st)
	if err != nil {
		b.t.Fatal(err)
	}
	b.f.SetCellStyle(sheet, cell, cell, id)
}

func (b *book) save(path string) {
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := b.f.SaveAs(path); err != nil {
		b.t.Fatal(err)
	}
}

// renderMessy writes the same dataset the way ministries send it.
func renderMessy(t *testing.T, inbox string) {
	// Ratifications 1-6: French workbook, merged title, logo row, Excel
	// date cells, instrument spellings, a footnote, an instructions sheet
	// and a hidden lookup sheet.
	b := newBook(t, false)
	s := b.sheet("Ratifications 2024")
	b.row(s, 1, "Ratifications des conventions de l'OIT — Ministère du Travail")
	b.f.MergeCell(s, "A1", "E1")
	b.row(s, 2, "[logo]")
	b.row(s, 4, "Pays", "N°", "Date de ratification", "Statut", "Date de dénonciation")
	names := []string{"France", "Allemagne", "Philippines", "Kenya", "Uruguay", "PHILIPPINES"}
	insts := []any{"C.97", "Convention 97", "Migration for Employment Convention (Revised), 1949 (No. 97)", "C 97", "C189", 189}
	for i, r := range dataRatifications[:6] {
		row := 5 + i
		status := "En vigueur"
		var den any
		if r.denounced != "" {
			status, den = "Dénoncée", excelSerial(r.denounced, false)
		}
		b.row(s, row, names[i], insts[i], excelSerial(r.date, false), status, den)
		b.style(s, "C"+strconv.Itoa(row), &excelize.Style{CustomNumFmt: strPtr("d mmmm yyyy")})
		if den != nil {
			b.style(s, "E"+strconv.Itoa(row), &excelize.Style{NumFmt: 14})
		}
	}
	b.row(s, 12, "Source : BIT, NORMLEX, extrait du 1er mars 2024")
	b.row(s, 13, "ces lignes ne sont pas des données", 42)
	ins := b.sheet("Mode d'emploi")
	b.row(ins, 1, "Remplir une ligne par ratification. Country / Pays en toutes lettres.")
	lk := b.sheet("Listes")
	b.row(lk, 1, "Pays", "Convention", "Date")
	b.f.SetSheetVisible(lk, false)
	b.save(filepath.Join(inbox, "ministere", "ratifications_fr.xlsx"))

	// Ratifications 7-11: Spanish CSV in Windows-1252 with ';', written
	// dates and day-first numeric dates settled by a day over 12.
	es := "País;Convenio;Fecha de ratificación;Estado\r\n" +
		"Côte d'Ivoire;Convenio 189;4 de marzo de 2019;En vigor\r\n" +
		"Francia;C87;28/06/1951;En vigor\r\n" +
		"Francia;C.98;26/10/1951;En vigor\r\n" +
		"Alemania;C 87;20/03/1957;En vigor\r\n" +
		"Alemania;C98;08/06/1956;En vigor\r\n" +
		"Fuente: OIT\r\n"
	cp, err := charmap.Windows1252.NewEncoder().String(es)
	if err != nil {
		t.Fatal(err)
	}
	writeFileT(t, filepath.Join(inbox, "ratificaciones.csv"), []byte(cp))

	// Ratifications 12-15: a 1904-system workbook with the protocol's
	// title and dates as Excel cells.
	b = newBook(t, true)
	s = b.sheet("Data")
	b.row(s, 1, "Member State", "Instrument", "Registration date")
	for i, r := range dataRatifications[11:] {
		inst := r.inst
		if inst == "P029" {
			inst = "Protocol of 2014 to the Forced Labour Convention, 1930"
		}
		country := map[string]string{"BRA": "Brazil", "ARG": "Argentina", "NOR": "Norway", "TUR": "Turkey"}[r.country]
		b.row(s, 2+i, country, inst, excelSerial(r.date, true))
		b.style(s, "C"+strconv.Itoa(2+i), &excelize.Style{NumFmt: 14})
	}
	b.save(filepath.Join(inbox, "ratifications_1904.xlsx"))

	// Social protection, totals: a wide sheet (years as columns) of
	// percent-formatted fractions, below a title.
	b = newBook(t, false)
	s = b.sheet("Coverage")
	b.row(s, 1, "SDG 1.3.1 — population covered by at least one benefit")
	b.row(s, 3, "Country", "Series", 2019, 2020, 2021)
	wide := map[string][]string{"France": {"0.695", "0.701", "0.71"}, "Germany": {"0.802", "0.809", "0.814"}, "World": {"0.461", "0.469", "0.472"}}
	for i, name := range []string{"France", "Germany", "World"} {
		vals := wide[name]
		row := 4 + i
		b.row(s, row, name, "SI_COV_BENFTS", mustFloat(vals[0]), mustFloat(vals[1]), mustFloat(vals[2]))
		for _, col := range []string{"C", "D", "E"} {
			b.style(s, col+strconv.Itoa(row), &excelize.Style{NumFmt: 10})
		}
	}
	b.row(s, 8, "* provisional estimates")
	// The year in the sheet name, French headers, text percents with a
	// decimal comma.
	s = b.sheet("2021")
	b.row(s, 1, "Pays", "Série", "Valeur")
	b.row(s, 2, "Kosovo*", "", "30,5 %")
	b.row(s, 3, "Espagne", "SOC_CONTIG_MAT", "45,5 %")
	b.row(s, 4, "Allemagne", "SI_COV_UEMP", "85")
	b.save(filepath.Join(inbox, "coverage.xlsx"))

	// Social protection by migratory status: the ILOSTAT bulk layout, as
	// tab-separated UTF-16 with a byte-order mark.
	bulk := "ref_area\tsource\tindicator\tsex\tclassif1\tclassif2\ttime\tobs_value\tobs_status\tnote_classif\tnote_indicator\tnote_source\n" +
		"FRA\tBA:1\tSDG_0131_SEX_SOC_RT_A\tSEX_F\tSOC_CONTIG_TOTAL\tMIG_STATUS_MIGRANT\t2021\t55.2\t\t\t\t\n" +
		"FRA\tBA:1\tSDG_0131_SEX_SOC_RT_A\tSEX_F\tSOC_CONTIG_TOTAL\tMIG_STATUS_NONMIG\t2021\t72.4\t\t\t\t\n" +
		"DEU\tBA:2\tSDG_0131_SEX_SOC_RT_A\tSEX_T\tSOC_CONTIG_TOTAL\tMIG_STATUS_MIGRANT\t2021.0\t60\t\t\t\t\n" +
		"DEU\tBA:2\tSDG_0131_SEX_SOC_RT_A\tSEX_T\tSOC_CONTIG_TOTAL\tMIG_STATUS_NONMIG\t2021\t83.5\t\t\t\t\n" +
		"X06\t\tSDG_0131_SEX_SOC_RT_A\tSEX_T\tSOC_CONTIG_MAT\tMIG_STATUS_TOTAL\t2020\t14.9\t\t\t\t\n" +
		"X89\t\tSDG_0131_SEX_SOC_RT_A\tSEX_T\tSOC_CONTIG_MAT\tMIG_STATUS_TOTAL\t2020\t11.0\t\t\t\t\n"
	u16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(bulk)
	if err != nil {
		t.Fatal(err)
	}
	writeFileT(t, filepath.Join(inbox, "ilostat", "SDG_0131.csv"), []byte(u16))

	// Agreements 1-5: Spanish headers, Spanish and French vocabularies,
	// provision flags headed by their descriptions, written dates.
	b = newBook(t, false)
	s = b.sheet("Acuerdos")
	b.row(s, 1, "Acuerdos bilaterales")
	b.row(s, 2, "Referencia", "Título", "Tipo", "País de origen", "País de destino", "Partes", "Fecha de firma", "Fecha de término", "Estado",
		"Social partners involved", "No recruitment fees or costs charged to workers", "Gender-responsive provisions")
	b.row(s, 3, "A1", "Philippines-Germany", "acuerdo bilateral de trabajo", "Filipinas", "Alemania", nil, "19 mars 2013", nil, "en vigor", "sí", "✓", "parcial")
	b.row(s, 4, "A2", "Philippines-Saudi Arabia", "memorando de entendimiento", "Philippines", "Arabie saoudite", nil, 2018, 2021, "vencido", "non", "no", "")
	b.row(s, 5, "A3", "Germany-Kosovo", "otro", "Alemania", "Kosovo", nil, "4 de mayo de 2020", nil, "firmado", "desconocido", "partiel", "x")
	b.row(s, 6, "A4", "France-Morocco social security", "convenio de seguridad social", "Francia", "Marruecos", nil, "2007", nil, "en vigueur")
	b.row(s, 7, "A5", "East African mobility", "marco regional", nil, nil, "Kenya, Tanzania, Uganda", 2021, nil, "signé")
	b.save(filepath.Join(inbox, "acuerdos.xlsx"))

	// Agreements 6-8: '|' delimited CSV with a BOM and a quoted field
	// holding line breaks.
	pipe := "\xEF\xBB\xBFid|title|agreement type|parties|signature date|status|monitoring|skills|crisis|fair recruitment|sectors\n" +
		"A6|Nepal-Qatar|Bilateral labour agreement|Nepal; Qatar||en négociation||||yes|construction\n" +
		"A7|India-UAE|MoU|India; United Arab Emirates|12 Nov 2019|in force|Y|1|N||\"domestic work\nconstruction\"\n" +
		"A8|Mercosur social security|multilateral social security agreement|Argentina; Brazil; Paraguay; Uruguay|2005|en vigor||||\n"
	writeFileT(t, filepath.Join(inbox, "blma_updates.csv"), []byte(pipe))
}

func strPtr(s string) *string { return &s }

func mustFloat(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(err)
	}
	return f
}

func runWorkspace(t *testing.T, render func(*testing.T, string)) (string, *Result) {
	t.Helper()
	ws, err := workspace.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ws.Config.Report.FirstYear = 2018
	ws.Config.Report.LastYear = 2022
	render(t, ws.Inbox())
	ref, err := refdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	p := New(ws, ref, quietLog())
	res, err := p.Execute(context.Background(), CommandRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(ws.Latest(), "indicators.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data), res
}

// withoutSources drops the sources column, the only one that must differ:
// it names the input files and cells, which differ by construction.
func withoutSources(t *testing.T, data string) string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	idx := -1
	for i, h := range recs[0] {
		if h == "sources" {
			idx = i
		}
	}
	var out [][]string
	for _, r := range recs {
		out = append(out, append(append([]string{}, r[:idx]...), r[idx+1:]...))
	}
	return csvText(out, ',')
}

// TestMessyEqualsClean is issue 3's acceptance test: the messy rendering of
// a dataset yields the same indicators, byte for byte (sources aside), as
// its clean rendering.
func TestMessyEqualsClean(t *testing.T) {
	clean, cleanRes := runWorkspace(t, renderClean)
	messy, messyRes := runWorkspace(t, renderMessy)
	for _, res := range []*Result{cleanRes, messyRes} {
		for _, f := range res.Files {
			if f.Outcome != "accepted" {
				t.Errorf("%s was %s: %s", f.Name, f.Outcome, f.FirstError)
			}
		}
	}
	if cleanRes.Indicators < 1000 || len(messyRes.Files) != 7 {
		t.Fatalf("clean: %d indicators; messy: %d files", cleanRes.Indicators, len(messyRes.Files))
	}
	// The messy files warn only where they should: the hidden lookup
	// sheet.
	warnings := 0
	for _, f := range messyRes.Files {
		warnings += f.Warnings
	}
	if warnings != 1 {
		t.Errorf("messy rendering: %d warnings, want 1 (hidden_sheet)", warnings)
		for _, f := range messyRes.Files {
			for _, n := range f.Notices {
				t.Logf("%s: %s", f.Name, n)
			}
		}
	}
	a, b := withoutSources(t, clean), withoutSources(t, messy)
	if a != b {
		al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
		for i := 0; i < len(al) && i < len(bl); i++ {
			if al[i] != bl[i] {
				t.Fatalf("line %d differs:\nclean: %s\nmessy: %s", i+1, al[i], bl[i])
			}
		}
		t.Fatalf("clean has %d lines, messy %d", len(al), len(bl))
	}
}
