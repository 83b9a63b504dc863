package serve

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/ilo-pledge/pledgestat/pipeline"
	"github.com/ilo-pledge/pledgestat/transform"
)

// explainHref is the /api/explain address of one published value.
func explainHref(runID, indicator, area string, year int, sex, instrument string) string {
	q := url.Values{"run": {runID}, "indicator": {indicator}, "ref_area": {area}, "year": {strconv.Itoa(year)}}
	if sex != "" && sex != "T" {
		q.Set("sex", sex)
	}
	if instrument != "" {
		q.Set("instrument", instrument)
	}
	return "/api/explain?" + q.Encode()
}

// explainers keeps the explainers of the runs asked about lately: making
// one reads the run's tables.
type explainers struct {
	mu   sync.Mutex
	byID map[string]*lockedExplainer
	ids  []string // oldest first
}

// lockedExplainer serialises the explanations of one run: reading the
// earlier versions of facts goes through the store, which is not safe for
// concurrent use.
type lockedExplainer struct {
	mu sync.Mutex
	e  *pipeline.RunExplainer
}

const explainersKept = 3

func (s *Server) explainer(r *http.Request, runID string) (*lockedExplainer, error) {
	if runID == "" || runID == "latest" {
		id, err := s.runs.latestID()
		if err != nil {
			return nil, err
		}
		runID = id
	}
	x := &s.explainers
	x.mu.Lock()
	defer x.mu.Unlock()
	if e, ok := x.byID[runID]; ok {
		return e, nil
	}
	p := pipeline.New(s.ws, s.ref, s.log)
	e, err := p.Explainer(r.Context(), runID)
	if err != nil {
		return nil, err
	}
	if x.byID == nil {
		x.byID = map[string]*lockedExplainer{}
	}
	if len(x.ids) == explainersKept {
		delete(x.byID, x.ids[0])
		x.ids = x.ids[1:]
	}
	le := &lockedExplainer{e: e}
	x.byID[e.RunID()] = le
	x.ids = append(x.ids, e.RunID())
	return le, nil
}

// apiExplain answers what `explain --json` prints for one published
// value: /api/explain?indicator=&ref_area=&year=&sex=&instrument=&run=.
func (s *Server) apiExplain(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	year, err := strconv.Atoi(q.Get("year"))
	if err != nil || q.Get("indicator") == "" || q.Get("ref_area") == "" {
		writeError(w, http.StatusBadRequest, "give indicator, ref_area and year (and sex, instrument, run where needed)")
		return
	}
	le, err := s.explainer(r, q.Get("run"))
	var nr *pipeline.NoSuchRowError
	switch {
	case errors.As(err, &nr):
		writeError(w, http.StatusNotFound, err.Error())
		return
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	le.mu.Lock()
	x, err := le.e.Explain(r.Context(), transform.Query{IndicatorID: q.Get("indicator"), RefArea: q.Get("ref_area"), Year: year, Sex: q.Get("sex"), Instrument: q.Get("instrument")})
	le.mu.Unlock()
	switch {
	case errors.As(err, &nr):
		writeError(w, http.StatusNotFound, err.Error())
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err.Error())
	default:
		writeJSON(w, http.StatusOK, x)
	}
}
