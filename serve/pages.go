package serve

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/ilo-pledge/pledgestat/export"
	"github.com/ilo-pledge/pledgestat/gates"
	"github.com/ilo-pledge/pledgestat/publish"
	"github.com/ilo-pledge/pledgestat/refdata"
)

//go:embed templates/pages.html
var templateFiles embed.FS

// pageTemplates are parsed on first use, not at start-up: every command
// of the binary would pay for them.
var pageTemplates = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("pages").Funcs(template.FuncMap{
		"join": strings.Join,
		"valueAt": func(s Series, year int, unit string) template.HTML {
			for _, p := range s.Points {
				if p.Year == year {
					v := template.HTMLEscapeString(FormatValue(p.Value, unit))
					if p.Explain == "" {
						return template.HTML(v)
					}
					return template.HTML(`<a href="` + template.HTMLEscapeString(p.Explain) + `" title="why this value: its members and input cells">` + v + `</a>`)
				}
			}
			return "–"
		},
	}).ParseFS(templateFiles, "templates/pages.html"))
})

// unitLabels name the units for people.
var unitLabels = map[string]string{"count": "number", "percent": "percent", "percentage_points": "percentage points"}

// runView is the page of one run.
type runView struct {
	Title          string
	RunID          string
	Latest         bool
	Published      string
	CatalogVersion string
	Years          string
	Downloads      []download
	Inputs         []export.ManifestInput
	InputsTotal    int
	Sections       []section
	Runs           []RunSummary
	Footnote       bool
	FootnoteText   string
	// Held: the run broke a publish gate and waits for release; Broken
	// are the rules, LatestID the run published instead.
	Held     bool
	Broken   []gates.Check
	LatestID string
}

// waitingRelease reports whether a run held by a gate is still waiting:
// newer than the latest run (an older one was passed over, a released
// one is the latest).
func waitingRelease(held bool, id, latest string) bool {
	return held && id != latest && (latest == "" || publish.CompareRunIDs(id, latest) > 0)
}

type download struct {
	Name, Href, Size, What string
	Rows                   int
}

type section struct {
	Code, Name string
	Indicators []indicatorView
}

type indicatorView struct {
	ID, Name, Anchor, UnitLabel, Type, Definition string
	Charts                                        []Chart
}

// maxInputsShown bounds the inputs table of a run page; the manifest lists
// them all.
const maxInputsShown = 25

// outputWhat says what each published file is, for the downloads list.
var outputWhat = map[string]string{
	"indicators.parquet":        "every indicator observation (Parquet, for analysis tools)",
	"indicators.csv":            "the same rows as CSV",
	"indicators.xlsx":           "the same for people: one sheet per commitment and pledge, with charts",
	"ratification.parquet":      "the ratifications behind the figures, with provenance",
	"social_protection.parquet": "the social-protection observations, with provenance",
	"blma.parquet":              "the labour migration agreements, with provenance",
	"changes.csv":               "what changed since the previous run",
	"gates.json":                "the publish-gate checks of this build against the previous run",
	"manifest.json":             "inputs and outputs with their SHA-256",
}

func (s *Server) pageLatest(w http.ResponseWriter, r *http.Request) { s.renderRun(w, r, "latest") }

func (s *Server) pageRun(w http.ResponseWriter, r *http.Request) {
	s.renderRun(w, r, r.PathValue("run"))
}

func (s *Server) renderRun(w http.ResponseWriter, r *http.Request, id string) {
	ru, err := s.runs.get(id)
	if err == nil {
		err = ru.load(r.Context())
	}
	switch {
	case errors.Is(err, errNoRun) && id == "latest":
		s.notFound(w, http.StatusNotFound, "Nothing published yet", "No run has been published in this workspace yet: the indicators appear here after the first build.", "")
		return
	case errors.Is(err, errNoRun):
		s.notFound(w, http.StatusNotFound, "No such run", "There is no published run "+quote(id)+".", "")
		return
	case err != nil:
		s.log.Error("a published run cannot be read", "run", id, "err", err)
		s.notFound(w, http.StatusServiceUnavailable, "The run cannot be read", "The published run could not be read ("+err.Error()+"); try again in a moment, and tell the operators if it lasts.", "")
		return
	}
	latest, _ := s.runs.latestID()
	m := ru.Manifest
	v := runView{
		Title: "pledgestat · run " + ru.ID, RunID: ru.ID, Latest: ru.ID == latest,
		Published: m.FinishedAt.UTC().Format("2 January 2006, 15:04 UTC"), CatalogVersion: m.CatalogVersion,
		InputsTotal: len(m.Inputs), Sections: s.sections(ru), Footnote: ru.hasKosovo, FootnoteText: refdata.KosovoFootnote,
	}
	if m.FirstYear != nil && m.LastYear != nil {
		v.Years = fmt.Sprintf("%d–%d", *m.FirstYear, *m.LastYear)
	}
	if ru.Gates != nil && waitingRelease(ru.Gates.Held, ru.ID, latest) {
		v.Held, v.Broken, v.LatestID = true, ru.Gates.Broken(), latest
	}
	for _, f := range m.Outputs {
		v.Downloads = append(v.Downloads, download{Name: f.Name, Href: "/files/" + ru.ID + "/" + f.Name, Size: humanSize(f.Bytes), Rows: f.Rows, What: outputWhat[f.Name]})
	}
	inputs := append([]export.ManifestInput(nil), m.Inputs...)
	sort.SliceStable(inputs, func(i, j int) bool { return inputs[i].AcceptedAt.After(inputs[j].AcceptedAt) })
	v.Inputs = inputs[:min(len(inputs), maxInputsShown)]
	if runs, err := s.runList(); err == nil {
		v.Runs = runs[:min(len(runs), 50)]
	}
	s.render(w, http.StatusOK, "run", v)
}

// sections builds the commitments and pledges of a run with their charts,
// once per run.
func (s *Server) sections(ru *run) []section {
	ru.viewOnce.Do(func() { ru.view = buildSections(s.ref, ru.ID, ru.Indicators) })
	return ru.view
}

func buildSections(ref *refdata.Reference, runID string, rows []IndicatorRow) []section {
	cat := ref.Catalog()
	areas := []refdata.Region{}
	for _, r := range ref.Countries().Regions() {
		if r.Type == refdata.AreaWorld {
			areas = append([]refdata.Region{r}, areas...)
		} else {
			areas = append(areas, r)
		}
	}
	// series[indicator][instrument][area] -> points, totals only
	type key struct{ ind, inst, area string }
	points := map[key][]Point{}
	instruments := map[string][]string{}
	for _, row := range rows {
		if row.RefAreaType == "country" || row.Sex != "T" {
			continue
		}
		inst := ""
		if row.Instrument != nil {
			inst = *row.Instrument
		}
		k := key{row.IndicatorID, inst, row.RefArea}
		if _, seen := points[key{row.IndicatorID, inst, refdata.WorldCode}]; !seen && !contains(instruments[row.IndicatorID], inst) {
			instruments[row.IndicatorID] = append(instruments[row.IndicatorID], inst)
		}
		points[k] = append(points[k], Point{Year: row.TimePeriod, Value: row.Value, Explain: explainHref(runID, row.IndicatorID, row.RefArea, row.TimePeriod, row.Sex, inst)})
	}
	var out []section
	for _, p := range cat.Pledges {
		sec := section{Code: p.Code, Name: p.Name}
		for _, ind := range cat.Indicators {
			if ind.Pledge != p.Code {
				continue
			}
			iv := indicatorView{ID: ind.ID, Name: ind.Name, Anchor: "i-" + strings.ReplaceAll(ind.ID, ".", "-"),
				UnitLabel: unitLabels[ind.Unit], Type: ind.Type, Definition: ind.Definition}
			insts := instruments[ind.ID]
			if len(insts) == 0 {
				insts = append(insts, ind.Instruments...)
			}
			if len(insts) == 0 {
				insts = []string{""}
			}
			sort.Strings(insts)
			for _, inst := range insts {
				title := ind.ID + " " + ind.Name
				if inst != "" {
					title = ind.ID + " " + inst
				}
				ch := Chart{ID: "c-" + strings.ReplaceAll(ind.ID, ".", "-") + strings.ToLower(inst), Title: title, Unit: ind.Unit}
				for i, a := range areas {
					color, dash := Style(i)
					pts := points[key{ind.ID, inst, a.Code}]
					sort.Slice(pts, func(i, j int) bool { return pts[i].Year < pts[j].Year })
					ch.Series = append(ch.Series, Series{Label: a.NameEN, Color: color, Dash: dash, Points: pts})
				}
				iv.Charts = append(iv.Charts, ch)
			}
			sec.Indicators = append(sec.Indicators, iv)
		}
		out = append(out, sec)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// countryView is the page of one country.
type countryView struct {
	Title  string
	C      CountryData
	Groups []countryGroup
}

type countryGroup struct {
	ID, Name, Anchor string
	Years            []int
	Rows             []countryRow
}

type countryRow struct {
	Label string
	Cells []countryCell
}

// countryCell is a value of a country table and its explanation's
// address ("" for an empty cell).
type countryCell struct {
	Text, Explain string
}

// pageSearch resolves a name in English, French or Spanish, or a code, to
// its country page; otherwise it suggests close names.
func (s *Server) pageSearch(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if c, ok := s.ref.Countries().Lookup(q); ok {
		http.Redirect(w, r, "/countries/"+c.ISO3, http.StatusSeeOther)
		return
	}
	s.notFound(w, http.StatusNotFound, "No country found", "No country or territory is called "+quote(q)+".", q)
}

func (s *Server) pageCountry(w http.ResponseWriter, r *http.Request) {
	code := strings.ToUpper(r.PathValue("iso3"))
	c, ok := s.ref.Countries().ByISO3(code)
	if !ok {
		s.notFound(w, http.StatusNotFound, "No such country", "There is no country or territory with the code "+quote(r.PathValue("iso3"))+".", r.PathValue("iso3"))
		return
	}
	ru, err := s.runs.get("latest")
	if err != nil {
		s.notFound(w, http.StatusNotFound, "Nothing published yet", "No run has been published in this workspace yet.", "")
		return
	}
	d, err := s.country(r, ru, c)
	if err != nil {
		s.notFound(w, http.StatusServiceUnavailable, "The run cannot be read", err.Error(), "")
		return
	}
	s.render(w, http.StatusOK, "country", countryView{Title: "pledgestat · " + c.NameEN, C: d, Groups: s.countryGroups(ru.ID, d.Indicators)})
}

// countryGroups lays a country's rows out as one table per indicator:
// a row per sex and instrument, a column per year.
func (s *Server) countryGroups(runID string, rows []IndicatorRow) []countryGroup {
	type cell struct {
		label string
		year  int
	}
	byInd := map[string]map[cell]countryCell{}
	years := map[string]map[int]bool{}
	labels := map[string][]string{}
	for _, row := range rows {
		label := map[string]string{"T": "Total", "F": "Women", "M": "Men"}[row.Sex]
		if row.Instrument != nil {
			label = *row.Instrument + " · " + label
		}
		if byInd[row.IndicatorID] == nil {
			byInd[row.IndicatorID], years[row.IndicatorID] = map[cell]countryCell{}, map[int]bool{}
		}
		if !contains(labels[row.IndicatorID], label) {
			labels[row.IndicatorID] = append(labels[row.IndicatorID], label)
		}
		inst := ""
		if row.Instrument != nil {
			inst = *row.Instrument
		}
		byInd[row.IndicatorID][cell{label, row.TimePeriod}] = countryCell{FormatValue(row.Value, row.Unit),
			explainHref(runID, row.IndicatorID, row.RefArea, row.TimePeriod, row.Sex, inst)}
		years[row.IndicatorID][row.TimePeriod] = true
	}
	var out []countryGroup
	for _, ind := range s.ref.Catalog().Indicators {
		cells, ok := byInd[ind.ID]
		if !ok {
			continue
		}
		g := countryGroup{ID: ind.ID, Name: ind.Name, Anchor: "i-" + strings.ReplaceAll(ind.ID, ".", "-")}
		for y := range years[ind.ID] {
			g.Years = append(g.Years, y)
		}
		sort.Ints(g.Years)
		for _, label := range labels[ind.ID] {
			row := countryRow{Label: label}
			for _, y := range g.Years {
				v, ok := cells[cell{label, y}]
				if !ok {
					v = countryCell{Text: "–"}
				}
				row.Cells = append(row.Cells, v)
			}
			g.Rows = append(g.Rows, row)
		}
		out = append(out, g)
	}
	return out
}

type notFoundView struct {
	Title, Heading, Message, Query string
	Suggestions                    []suggestion
}

type suggestion struct{ Name, Href string }

func (s *Server) notFound(w http.ResponseWriter, code int, heading, message, query string) {
	v := notFoundView{Title: "pledgestat · " + heading, Heading: heading, Message: message, Query: query}
	if query != "" {
		for _, s := range s.ref.Countries().Suggest(query, 5) {
			// "Philippines (PHL)"
			if i := strings.LastIndex(s, " ("); i > 0 && strings.HasSuffix(s, ")") {
				v.Suggestions = append(v.Suggestions, suggestion{Name: s[:i], Href: "/countries/" + url.PathEscape(s[i+2:len(s)-1])})
			}
		}
	}
	s.render(w, code, "notfound", v)
}

// render executes a page into memory first, so that a failure never sends
// half a page with a 200.
func (s *Server) render(w http.ResponseWriter, code int, name string, v any) {
	var buf bytes.Buffer
	if err := pageTemplates().ExecuteTemplate(&buf, name, v); err != nil {
		s.log.Error("page could not be rendered", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
