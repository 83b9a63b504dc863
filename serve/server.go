// Package serve is the download service: HTML pages (the latest run, any
// earlier run, a page per country), a JSON API and the published files,
// from the published runs only, with health and Prometheus metrics. It
// reads out/runs and out/latest and never writes; a request resolves
// out/latest once and reads that run's immutable folder to the end, so a
// run published meanwhile never tears an answer.
package serve

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// Options of a Server.
type Options struct {
	// Token, when set, is required as "Authorization: Bearer TOKEN" on
	// every route but /healthz.
	Token string
	Log   *slog.Logger
}

// Server serves one workspace's published runs.
type Server struct {
	ws      *workspace.Workspace
	ref     *refdata.Reference
	log     *slog.Logger
	token   atomic.Pointer[[sha256.Size]byte] // nil: no token required
	runs    *runs
	mux     *http.ServeMux
	metrics *metrics
	// explainers of the runs asked about lately (/api/explain).
	explainers explainers
}

// New returns the server of a workspace.
func New(ws *workspace.Workspace, ref *refdata.Reference, opts Options) *Server {
	s := &Server{ws: ws, ref: ref, log: opts.Log, runs: newRuns(ws.Out(), 3), mux: http.NewServeMux()}
	s.SetToken(opts.Token)
	s.metrics = newMetrics(ws)
	s.routes()
	return s
}

// SetToken replaces the bearer token ("" for none); a reload of the
// configuration applies a rotated token at once.
func (s *Server) SetToken(token string) {
	if token == "" {
		s.token.Store(nil)
		return
	}
	sum := sha256.Sum256([]byte(token))
	s.token.Store(&sum)
}

// HTTPServer returns a net/http server for h with timeouts that bound
// slow clients: reading headers and bodies, writing (long enough for a
// large download on a slow link), idle keep-alives.
func HTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      10 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

func (s *Server) routes() {
	s.handle("GET /healthz", "healthz", s.healthz, false)
	s.handle("GET /metrics", "metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}).ServeHTTP, true)
	s.handle("GET /{$}", "page_run", s.pageLatest, true)
	s.handle("GET /runs/{run}/{$}", "page_run", s.pageRun, true)
	s.handle("GET /runs/{run}", "page_run", redirectSlash, true)
	s.handle("GET /countries", "page_search", s.pageSearch, true)
	s.handle("GET /countries/{iso3}", "page_country", s.pageCountry, true)
	s.handle("GET /files/{run}/{name}", "files", s.file, true)
	s.handle("GET /api/runs", "api_runs", s.apiRuns, true)
	s.handle("GET /api/runs/{run}/manifest", "api_manifest", s.apiManifest, true)
	s.handle("GET /api/catalog", "api_catalog", s.apiCatalog, true)
	s.handle("GET /api/status", "api_status", s.apiStatus, true)
	s.handle("GET /api/explain", "api_explain", s.apiExplain, true)
	s.handle("GET /api/indicators", "api_indicators", s.apiIndicators, true)
	s.handle("GET /api/countries/{iso3}", "api_country", s.apiCountry, true)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.metrics.observe("not_found", http.StatusNotFound, 0)
		writeError(w, http.StatusNotFound, "no such page: "+r.URL.Path)
	})
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// handle registers a route with its metrics label and, unless open, the
// token check.
func (s *Server) handle(pattern, route string, h http.HandlerFunc, auth bool) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		w = rec
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if auth && !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pledgestat"`)
			writeError(w, http.StatusUnauthorized, "a bearer token is required: send Authorization: Bearer TOKEN")
		} else {
			h(w, r)
		}
		s.metrics.observe(route, rec.status, time.Since(start))
	})
}

// authorized compares the bearer token in constant time (of the hashes,
// so that the token's length does not show either).
func (s *Server) authorized(r *http.Request) bool {
	want := s.token.Load()
	if want == nil {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
	return subtle.ConstantTimeCompare(sum[:], want[:]) == 1
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(p)
}

func redirectSlash(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
}

// healthz answers 200 when the latest run can be read.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ru, err := s.runs.get("latest")
	if err == nil {
		err = ru.load(r.Context())
	}
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "latest_run": ru.ID})
}

// runOr404 resolves a run id of the URL, answering 404 (or 503 for a
// damaged run) itself.
func (s *Server) runOr404(w http.ResponseWriter, id string) (*run, bool) {
	ru, err := s.runs.get(id)
	switch {
	case errors.Is(err, errNoRun):
		writeError(w, http.StatusNotFound, "no published run "+strconv.Quote(id))
		return nil, false
	case err != nil:
		s.log.Error("a published run cannot be read", "run", id, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the run cannot be read: "+err.Error())
		return nil, false
	}
	return ru, true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// writeError answers with a JSON error naming what is wrong.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
