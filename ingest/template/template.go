// Package template writes the blank input workbooks statisticians fill:
// one per domain, with the header row pledgestat reads, an instructions
// sheet in English, French and Spanish, drop-down lists built from the
// reference data, date-formatted and range-validated columns. A filled-in
// template is read by ingest without a warning.
package template

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/ilo-pledge/pledgestat/ingest/values"
	"github.com/ilo-pledge/pledgestat/ingest/workbook"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
)

// ListsSheet is the hidden sheet holding the long drop-down lists. ingest
// recognises it by this name and does not warn about it.
const ListsSheet = workbook.TemplateListsSheet

// InstructionsSheet is the name of the instructions sheet.
const InstructionsSheet = "Instructions"

// rows of a template that carry validation and formats.
const templateRows = 5000

// kind of a template column.
type kind int

const (
	text kind = iota
	country
	member // an ILO member State: only they ratify
	area   // a country or an ILO aggregate code
	instrument
	date
	dateOrYear
	year
	percent
	choice
)

// column is a template column: name is the descriptor's column
// (records.Column), header one of its spellings, the rest presentation.
type column struct {
	name    string
	header  string
	kind    kind
	choices []string
	width   float64
	help    string
}

// Sheet names and columns per domain.
var domains = map[records.Domain]struct {
	sheet   string
	columns []column
}{
	records.DomainRatification: {"Ratifications", []column{
		{name: "country", header: "Country", kind: member, width: 28, help: "ILO member State: pick from the list, or type an ISO code"},
		{name: "instrument", header: "Instrument", kind: instrument, width: 12, help: "Convention or Protocol code, e.g. C097, P029"},
		{name: "ratification_date", header: "Ratification date", kind: date, width: 16, help: "date the ratification was registered"},
		{name: "status", header: "Status", kind: choice, choices: values.Choices("ratification_status"), width: 14},
		{name: "denunciation_date", header: "Denunciation date", kind: date, width: 18, help: "required when the status is Denounced"},
		{name: "note", header: "Note", kind: text, width: 40},
	}},
	records.DomainSocialProtection: {"Social protection", []column{
		{name: "country", header: "Country", kind: area, width: 28, help: "country, or an ILO aggregate code X01 (World), X06, X21, X36, X40, X60"},
		{name: "year", header: "Year", kind: year, width: 8},
		{name: "value", header: "Value", kind: percent, width: 10, help: "coverage in percent, 0 to 100"},
		{name: "series", header: "Series", kind: choice, choices: values.Choices("series"), width: 22},
		{name: "sex", header: "Sex", kind: choice, choices: values.Choices("sex"), width: 6},
		{name: "population", header: "Population", kind: choice, choices: values.Choices("population"), width: 14},
		{name: "obs_status", header: "Obs status", kind: text, width: 10},
		{name: "source", header: "Source", kind: text, width: 30},
		{name: "note", header: "Note", kind: text, width: 40},
	}},
	records.DomainBLMA: {"Agreements", append([]column{
		{name: "agreement_id", header: "Agreement ID", kind: text, width: 14},
		{name: "title", header: "Title", kind: text, width: 40},
		{name: "type", header: "Type", kind: choice, choices: values.Choices("agreement_type"), width: 22},
		{name: "origin", header: "Origin country", kind: country, width: 24},
		{name: "destination", header: "Destination country", kind: country, width: 24},
		{name: "parties", header: "Parties", kind: text, width: 30, help: "for multilateral agreements: countries separated by ;"},
		{name: "date_signed", header: "Date signed", kind: dateOrYear, width: 14, help: "a date, or just the year"},
		{name: "date_in_force", header: "Entry into force", kind: dateOrYear, width: 16},
		{name: "date_end", header: "End date", kind: dateOrYear, width: 14},
		{name: "status", header: "Status", kind: choice, choices: values.Choices("agreement_status"), width: 14},
		{name: "sectors", header: "Sectors", kind: text, width: 24},
	}, flagColumns()...)},
}

func flagColumns() []column {
	var out []column
	for _, p := range records.Provisions() {
		out = append(out, column{name: p.Flag, header: p.Title, kind: choice, choices: values.Choices("flag"), width: 12})
	}
	return out
}

// Names returns the template names `pledgestat template` accepts, sorted.
func Names() []string {
	var out []string
	for _, d := range records.Descriptors() {
		out = append(out, d.TemplateName)
	}
	slices.Sort(out)
	return out
}

// DomainOf returns the domain of a template name.
func DomainOf(name string) (records.Domain, bool) {
	for _, d := range records.Descriptors() {
		if d.TemplateName == name {
			return d.Domain, true
		}
	}
	return "", false
}

// Write writes the template of a domain.
func Write(w io.Writer, domain records.Domain, ref *refdata.Reference) error {
	spec, ok := domains[domain]
	if !ok {
		return fmt.Errorf("no template for domain %q", domain)
	}
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", spec.sheet); err != nil {
		return err
	}
	if err := instructions(f, domain, spec.columns); err != nil {
		return err
	}
	lists, err := writeLists(f, ref)
	if err != nil {
		return err
	}
	if err := dataSheet(f, spec.sheet, spec.columns, lists); err != nil {
		return err
	}
	if err := f.SetSheetVisible(ListsSheet, false); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	if err := f.Write(w); err != nil {
		return fmt.Errorf("write template: %w", err)
	}
	return nil
}

// listRanges are the ranges of the long lists on the lists sheet.
type listRanges struct {
	countries, members, areas, instruments string
}

func writeLists(f *excelize.File, ref *refdata.Reference) (listRanges, error) {
	if _, err := f.NewSheet(ListsSheet); err != nil {
		return listRanges{}, err
	}
	var countries, members, areas, instruments []string
	for _, c := range ref.Countries().All() {
		countries = append(countries, c.NameEN)
		if c.ILOMember {
			members = append(members, c.NameEN)
		}
	}
	for _, r := range ref.Countries().Regions() {
		areas = append(areas, r.Code)
	}
	areas = append(areas, countries...)
	for _, in := range ref.Instruments().All() {
		instruments = append(instruments, in.Code)
	}
	put := func(col string, head string, values []string) string {
		f.SetCellValue(ListsSheet, col+"1", head)
		for i, v := range values {
			f.SetCellValue(ListsSheet, fmt.Sprintf("%s%d", col, i+2), v)
		}
		return fmt.Sprintf("%s!$%s$2:$%s$%d", ListsSheet, col, col, len(values)+1)
	}
	return listRanges{
		countries:   put("A", "Country names (list for the drop-downs)", countries),
		areas:       put("B", "Areas (list for the drop-downs)", areas),
		instruments: put("C", "Instrument codes (list for the drop-downs)", instruments),
		members:     put("D", "ILO member States (list for the drop-downs)", members),
	}, nil
}

func dataSheet(f *excelize.File, sheet string, cols []column, lists listRanges) error {
	header, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "FFFFFF"}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"1E2DBE"}}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "center"}})
	dateStyle, _ := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd")})
	pctStyle, _ := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("0.0")})
	textStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 49})
	last := fmt.Sprint(templateRows + 1)
	for i, c := range cols {
		name, _ := excelize.ColumnNumberToName(i + 1)
		f.SetCellValue(sheet, name+"1", c.header)
		f.SetColWidth(sheet, name, name, c.width)
		rng := name + "2:" + name + last
		dv := excelize.NewDataValidation(true)
		dv.Sqref = rng
		use := true
		switch c.kind {
		case country:
			dv.SetSqrefDropList(lists.countries)
		case member:
			dv.SetSqrefDropList(lists.members)
		case area:
			dv.SetSqrefDropList(lists.areas)
		case instrument:
			dv.SetSqrefDropList(lists.instruments)
		case choice:
			if err := dv.SetDropList(c.choices); err != nil {
				return fmt.Errorf("template column %s: %w", c.header, err)
			}
		case date:
			if err := dv.SetRange("1900-01-01", "2100-12-31", excelize.DataValidationTypeDate, excelize.DataValidationOperatorBetween); err != nil {
				return err
			}
			f.SetCellStyle(sheet, name+"2", name+last, dateStyle)
		case dateOrYear:
			use = false
			f.SetCellStyle(sheet, name+"2", name+last, dateStyle)
		case year:
			if err := dv.SetRange(1990, 2100, excelize.DataValidationTypeWhole, excelize.DataValidationOperatorBetween); err != nil {
				return err
			}
		case percent:
			if err := dv.SetRange(0, 100, excelize.DataValidationTypeDecimal, excelize.DataValidationOperatorBetween); err != nil {
				return err
			}
			f.SetCellStyle(sheet, name+"2", name+last, pctStyle)
		default:
			use = false
			f.SetCellStyle(sheet, name+"2", name+last, textStyle)
		}
		if use {
			dv.SetError(excelize.DataValidationErrorStyleStop, c.header, "This value is not accepted here; see the Instructions sheet.")
			if c.help != "" {
				dv.SetInput(c.header, c.help)
			}
			if err := f.AddDataValidation(sheet, dv); err != nil {
				return fmt.Errorf("template column %s: %w", c.header, err)
			}
		}
	}
	lastCol, _ := excelize.ColumnNumberToName(len(cols))
	f.SetCellStyle(sheet, "A1", lastCol+"1", header)
	f.SetRowHeight(sheet, 1, 30)
	return f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
}

func ptr[T any](v T) *T { return &v }

var intro = map[string][]string{
	"en": {
		"How to fill this template",
		"Fill one row per record on the first sheet, starting on row 2. Keep the header row as it is.",
		"Pick countries, instruments and codes from the drop-down lists. Dates: type them as dates (2019-03-04); for agreements a year alone (2019) is enough.",
		"Leave a cell empty when the information is unknown; write .. in a value cell when there is no observation.",
		"Save as .xlsx and drop the file into the pledgestat inbox. Problems are reported cell by cell.",
	},
	"fr": {
		"Comment remplir ce modèle",
		"Remplissez une ligne par enregistrement sur la première feuille, à partir de la ligne 2. Ne modifiez pas la ligne d'en-tête.",
		"Choisissez pays, instruments et codes dans les listes déroulantes. Dates : saisissez-les comme des dates (2019-03-04) ; pour les accords, l'année seule (2019) suffit.",
		"Laissez une cellule vide quand l'information est inconnue ; écrivez .. dans une cellule de valeur quand il n'y a pas d'observation.",
		"Enregistrez au format .xlsx et déposez le fichier dans la boîte de réception de pledgestat. Les problèmes sont signalés cellule par cellule.",
	},
	"es": {
		"Cómo llenar esta plantilla",
		"Llene una fila por registro en la primera hoja, a partir de la fila 2. No modifique la fila de encabezados.",
		"Elija países, instrumentos y códigos en las listas desplegables. Fechas: escríbalas como fechas (2019-03-04); para los acuerdos basta con el año (2019).",
		"Deje una celda vacía cuando la información es desconocida; escriba .. en una celda de valor cuando no hay observación.",
		"Guarde el archivo en formato .xlsx y déjelo en la bandeja de entrada de pledgestat. Los problemas se señalan celda por celda.",
	},
}

func instructions(f *excelize.File, domain records.Domain, cols []column) error {
	if _, err := f.NewSheet(InstructionsSheet); err != nil {
		return err
	}
	bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 12}})
	row := 1
	put := func(values ...any) {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		f.SetSheetRow(InstructionsSheet, cell, &values)
		row++
	}
	put(fmt.Sprintf("pledgestat input template: %s", strings.ReplaceAll(string(domain), "_", " ")))
	f.SetCellStyle(InstructionsSheet, "A1", "A1", bold)
	row++
	for _, lang := range []string{"en", "fr", "es"} {
		lines := intro[lang]
		put(lines[0])
		f.SetCellStyle(InstructionsSheet, fmt.Sprintf("A%d", row-1), fmt.Sprintf("A%d", row-1), bold)
		for _, l := range lines[1:] {
			put("• " + l)
		}
		row++
	}
	put("Columns / Colonnes / Columnas")
	f.SetCellStyle(InstructionsSheet, fmt.Sprintf("A%d", row-1), fmt.Sprintf("A%d", row-1), bold)
	for _, c := range cols {
		what := c.help
		if len(c.choices) > 0 {
			what = strings.Join(c.choices, ", ")
		}
		put("• "+c.header, what)
	}
	f.SetColWidth(InstructionsSheet, "A", "A", 120)
	f.SetColWidth(InstructionsSheet, "B", "B", 60)
	return nil
}
