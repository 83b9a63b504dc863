package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ilo-pledge/pledgestat/pipeline"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
)

// RunSummary is one entry of /api/runs.
type RunSummary struct {
	RunID      string    `json:"run_id"`
	Latest     bool      `json:"latest"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	FirstYear  *int      `json:"first_year"`
	LastYear   *int      `json:"last_year"`
	Inputs     int       `json:"inputs"`
	Outputs    []string  `json:"outputs"`
	Manifest   string    `json:"manifest"`
	Page       string    `json:"page"`
	// Held: the run broke a publish gate and waits for release; out/latest
	// points to an earlier run.
	Held bool `json:"held"`
}

func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	list, err := s.runList()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": list})
}

// apiStatus answers what `status --json` prints: the last runs, the
// files waiting, the files rejected and why, the store's totals and the
// scheduler, read as `status` reads them (pipeline.ReadStatus), so that
// an operator can watch the workspace from the portal.
func (s *Server) apiStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, pipeline.ReadStatus(r.Context(), s.ws, s.log, time.Now()))
}

// runList summarises the published runs, newest first; a run whose
// manifest cannot be read is left out.
func (s *Server) runList() ([]RunSummary, error) {
	ids, err := s.runs.ids()
	if err != nil {
		return nil, err
	}
	latest, _ := s.runs.latestID()
	out := []RunSummary{}
	for _, id := range ids {
		m, err := s.runs.summary(id)
		if err != nil {
			continue
		}
		sum := RunSummary{RunID: id, Latest: id == latest, StartedAt: m.StartedAt, FinishedAt: m.FinishedAt, FirstYear: m.FirstYear,
			LastYear: m.LastYear, Inputs: m.Inputs, Manifest: "/api/runs/" + id + "/manifest", Page: "/runs/" + id + "/",
			Held: waitingRelease(m.GatesHeld, id, latest)}
		for _, name := range m.Outputs {
			sum.Outputs = append(sum.Outputs, "/files/"+id+"/"+name)
		}
		out = append(out, sum)
	}
	return out, nil
}

func (s *Server) apiManifest(w http.ResponseWriter, r *http.Request) {
	ru, ok := s.runOr404(w, r.PathValue("run"))
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(ru.raw)
}

func (s *Server) apiCatalog(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.ref.Catalog())
}

// Paging of /api/indicators.
const (
	DefaultLimit = 1000
	MaxLimit     = 10000
)

// indicatorQuery is a parsed /api/indicators query.
type indicatorQuery struct {
	indicator, refArea, sex, instrument, run string
	from, to, limit, offset                  int
}

var (
	areaCode       = regexp.MustCompile(`^[A-Z][A-Z0-9]{2}$`)
	instrumentCode = regexp.MustCompile(`^[CP][0-9]{3}$`)
)

// parseIndicatorQuery reads and checks the parameters; an error names the
// parameter and what is expected (400).
func (s *Server) parseIndicatorQuery(v url.Values) (indicatorQuery, error) {
	q := indicatorQuery{run: "latest", limit: DefaultLimit}
	allowed := []string{"indicator", "ref_area", "sex", "instrument", "from", "to", "run", "limit", "offset"}
	for name, vals := range v {
		if !slices.Contains(allowed, name) {
			return q, fmt.Errorf("unknown parameter %q; the parameters are %s", name, strings.Join(allowed, ", "))
		}
		if len(vals) > 1 {
			return q, fmt.Errorf("parameter %s is given %d times; give it once", name, len(vals))
		}
	}
	get := func(name string) string { return strings.TrimSpace(v.Get(name)) }
	if q.indicator = get("indicator"); q.indicator != "" && !s.knownIndicator(q.indicator) {
		return q, fmt.Errorf("indicator %q is not in the catalog (ids such as C1.1, P3.2: see /api/catalog)", q.indicator)
	}
	if q.refArea = strings.ToUpper(get("ref_area")); q.refArea != "" && !s.knownArea(q.refArea) {
		return q, fmt.Errorf("ref_area %q is not an ISO 3166 alpha-3 code or an ILO region code (X01 world, X06, X21, X36, X40, X60)", get("ref_area"))
	}
	if q.sex = strings.ToUpper(get("sex")); q.sex != "" && q.sex != "T" && q.sex != "F" && q.sex != "M" {
		return q, fmt.Errorf("sex %q must be T, F or M", get("sex"))
	}
	if q.instrument = strings.ToUpper(get("instrument")); q.instrument != "" {
		if _, ok := s.ref.Instruments().ByCode(q.instrument); !instrumentCode.MatchString(q.instrument) || !ok {
			return q, fmt.Errorf("instrument %q is not an ILO instrument code such as C097 or P029", get("instrument"))
		}
	}
	if q.run = get("run"); q.run == "" {
		q.run = "latest"
	} else if q.run != "latest" && !runIDPattern.MatchString(q.run) {
		return q, fmt.Errorf("run %q is not a run id (YYYYMMDDTHHMMSSZ) or latest", q.run)
	}
	var err error
	if q.from, err = intParam(v, "from", 0, 1900, 2100); err != nil {
		return q, err
	}
	if q.to, err = intParam(v, "to", 0, 1900, 2100); err != nil {
		return q, err
	}
	if q.from != 0 && q.to != 0 && q.from > q.to {
		return q, fmt.Errorf("from %d is after to %d", q.from, q.to)
	}
	if q.limit, err = intParam(v, "limit", DefaultLimit, 1, MaxLimit); err != nil {
		return q, err
	}
	if q.offset, err = intParam(v, "offset", 0, 0, 1<<31-1); err != nil {
		return q, err
	}
	return q, nil
}

func intParam(v url.Values, name string, def, lo, hi int) (int, error) {
	text := strings.TrimSpace(v.Get(name))
	if text == "" {
		return def, nil
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s %q must be a whole number from %d to %d", name, text, lo, hi)
	}
	return n, nil
}

func (s *Server) knownIndicator(id string) bool {
	for _, ind := range s.ref.Catalog().Indicators {
		if ind.ID == id {
			return true
		}
	}
	return false
}

func (s *Server) knownArea(code string) bool {
	if !areaCode.MatchString(code) {
		return false
	}
	if _, ok := s.ref.Countries().ByISO3(code); ok {
		return true
	}
	_, ok := s.ref.Countries().Region(code)
	return ok
}

func (q indicatorQuery) match(row IndicatorRow) bool {
	switch {
	case q.indicator != "" && row.IndicatorID != q.indicator,
		q.refArea != "" && row.RefArea != q.refArea,
		q.sex != "" && row.Sex != q.sex,
		q.instrument != "" && (row.Instrument == nil || *row.Instrument != q.instrument),
		q.from != 0 && row.TimePeriod < q.from,
		q.to != 0 && row.TimePeriod > q.to:
		return false
	}
	return true
}

// IndicatorPage is the answer of /api/indicators: the rows asked for, in
// the order of indicators.parquet, and where the next page is.
type IndicatorPage struct {
	RunID  string         `json:"run_id"`
	Total  int            `json:"total"`
	Offset int            `json:"offset"`
	Limit  int            `json:"limit"`
	Next   *string        `json:"next"`
	Rows   []IndicatorRow `json:"rows"`
}

func (s *Server) apiIndicators(w http.ResponseWriter, r *http.Request) {
	q, err := s.parseIndicatorQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ru, ok := s.runOr404(w, q.run)
	if !ok {
		return
	}
	if err := ru.load(r.Context()); err != nil {
		writeError(w, http.StatusServiceUnavailable, "the run cannot be read: "+err.Error())
		return
	}
	// Rows are selected through the index and written from their encoding
	// made once per run: the answer is assembled, not encoded per request.
	candidates := ru.byIndicator[q.indicator]
	if q.indicator == "" {
		candidates = nil
	}
	var rows [][]byte
	total := 0
	consider := func(i int) {
		if !q.match(ru.Indicators[i]) {
			return
		}
		if total >= q.offset && len(rows) < q.limit {
			rows = append(rows, ru.rowJSON[i])
		}
		total++
	}
	if q.indicator != "" {
		for _, i := range candidates {
			consider(i)
		}
	} else {
		for i := range ru.Indicators {
			consider(i)
		}
	}
	var next *string
	if n := q.offset + q.limit; n < total {
		v := r.URL.Query()
		v.Set("offset", strconv.Itoa(n))
		v.Set("run", ru.ID) // the next page comes from the same run
		link := "/api/indicators?" + v.Encode()
		next = &link
	}
	head, _ := json.Marshal(struct {
		RunID  string  `json:"run_id"`
		Total  int     `json:"total"`
		Offset int     `json:"offset"`
		Limit  int     `json:"limit"`
		Next   *string `json:"next"`
	}{ru.ID, total, q.offset, q.limit, next})
	var b bytes.Buffer
	b.Write(head[:len(head)-1])
	b.WriteString(`,"rows":[`)
	for i, row := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(row)
	}
	b.WriteString("]}\n")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(b.Bytes())
}

// CountryData is the answer of /api/countries/ISO3 and the content of the
// country page.
type CountryData struct {
	ISO3          string             `json:"iso3"`
	Name          string             `json:"name"`
	NameFR        string             `json:"name_fr"`
	NameES        string             `json:"name_es"`
	Region        string             `json:"region"`
	RegionName    string             `json:"region_name"`
	ILOMember     bool               `json:"ilo_member"`
	RunID         string             `json:"run_id"`
	Footnote      *string            `json:"footnote"`
	Indicators    []IndicatorRow     `json:"indicators"`
	Ratifications []CountryRatif     `json:"ratifications"`
	Agreements    []CountryAgreement `json:"agreements"`
}

// CountryRatif is one ratification of the country.
type CountryRatif struct {
	Instrument       string `json:"instrument"`
	Title            string `json:"title"`
	RatificationDate string `json:"ratification_date"`
	Status           string `json:"status,omitempty"`
	DenunciationDate string `json:"denunciation_date,omitempty"`
}

// CountryAgreement is one agreement the country is party to.
type CountryAgreement struct {
	AgreementID string   `json:"agreement_id,omitempty"`
	Title       string   `json:"title"`
	Type        string   `json:"type"`
	Partners    []string `json:"partners"`
	Signed      string   `json:"date_signed,omitempty"`
	InForce     string   `json:"date_in_force,omitempty"`
	End         string   `json:"date_end,omitempty"`
	Status      string   `json:"status,omitempty"`
}

// country gathers what a run publishes about one country or territory.
func (s *Server) country(r *http.Request, ru *run, c refdata.Country) (CountryData, error) {
	if err := ru.load(r.Context()); err != nil {
		return CountryData{}, err
	}
	d := CountryData{ISO3: c.ISO3, Name: c.NameEN, NameFR: c.NameFR, NameES: c.NameES, Region: c.Region, ILOMember: c.ILOMember, RunID: ru.ID,
		Indicators: []IndicatorRow{}, Ratifications: []CountryRatif{}, Agreements: []CountryAgreement{}}
	if reg, ok := s.ref.Countries().Region(c.Region); ok {
		d.RegionName = reg.NameEN
	}
	if c.ISO3 == "XKX" {
		note := refdata.KosovoFootnote
		d.Footnote = &note
	}
	for _, row := range ru.Indicators {
		if row.RefArea == c.ISO3 {
			d.Indicators = append(d.Indicators, row)
		}
	}
	for _, rt := range ru.Ratifications {
		if rt.Country != c.ISO3 {
			continue
		}
		cr := CountryRatif{Instrument: rt.Instrument, RatificationDate: rt.RatificationDate.String(), Status: rt.Status}
		if in, ok := s.ref.Instruments().ByCode(rt.Instrument); ok {
			cr.Title = in.Title
		}
		if rt.Denunciation.Valid {
			cr.DenunciationDate = rt.Denunciation.Date.String()
		}
		d.Ratifications = append(d.Ratifications, cr)
	}
	for _, a := range ru.Agreements {
		if !slices.Contains(a.Parties, c.ISO3) {
			continue
		}
		d.Agreements = append(d.Agreements, s.countryAgreement(a, c.ISO3))
	}
	slices.SortStableFunc(d.Agreements, func(a, b CountryAgreement) int { return strings.Compare(a.Signed, b.Signed) })
	return d, nil
}

func (s *Server) countryAgreement(a records.Agreement, self string) CountryAgreement {
	ca := CountryAgreement{AgreementID: a.AgreementID, Title: a.Title, Type: a.Type, Signed: a.Signed.String(),
		InForce: a.InForce.String(), End: a.End.String(), Status: a.Status, Partners: []string{}}
	for _, p := range a.Parties {
		if p == self {
			continue
		}
		name := p
		if c, ok := s.ref.Countries().ByISO3(p); ok {
			name = c.NameEN
		}
		ca.Partners = append(ca.Partners, name)
	}
	return ca
}

func (s *Server) apiCountry(w http.ResponseWriter, r *http.Request) {
	code := strings.ToUpper(r.PathValue("iso3"))
	c, ok := s.ref.Countries().ByISO3(code)
	if !ok {
		writeError(w, http.StatusNotFound, "no country or territory with ISO 3166 alpha-3 code "+quote(r.PathValue("iso3")))
		return
	}
	run := "latest"
	if v := r.URL.Query().Get("run"); v != "" {
		run = v
	}
	ru, ok := s.runOr404(w, run)
	if !ok {
		return
	}
	d, err := s.country(r, ru, c)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "the run cannot be read: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, d)
}
