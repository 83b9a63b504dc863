package serve

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ilo-pledge/pledgestat/demo"
	"github.com/ilo-pledge/pledgestat/export"
	"github.com/ilo-pledge/pledgestat/pipeline"
	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/workspace"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var testRef = func() *refdata.Reference {
	ref, err := refdata.Load()
	if err != nil {
		panic(err)
	}
	return ref
}()

// published makes a workspace with the demo samples run and published,
// and its pipeline (to publish again).
func published(t testing.TB) (*workspace.Workspace, *pipeline.Pipeline) {
	t.Helper()
	ws, err := workspace.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ws.Inbox()); err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(ws, testRef, quiet())
	if _, err := p.Execute(context.Background(), pipeline.CommandRun, pipeline.Options{Trigger: "test"}); err != nil {
		t.Fatal(err)
	}
	return ws, p
}

func manifestOf(t testing.TB, ws *workspace.Workspace) export.Manifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ws.Latest(), "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m export.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

type response struct {
	code int
	h    http.Header
	body string
}

func get(t testing.TB, srv *httptest.Server, path string, header ...string) response {
	t.Helper()
	return do(t, srv, "GET", path, header...)
}

func do(t testing.TB, srv *httptest.Server, method, path string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(body)}
}

func TestPagesAndRedirects(t *testing.T) {
	ws, _ := published(t)
	srv := httptest.NewServer(New(ws, testRef, Options{Log: quiet()}))
	defer srv.Close()
	m := manifestOf(t, ws)
	tests := []struct {
		path     string
		code     int
		ctype    string
		contains []string
	}{
		{"/", 200, "text/html", []string{`<h2 id="C1">`, `<h2 id="P8">`, `<svg class="chart"`, `role="img"`, "/files/" + m.RunID + "/indicators.parquet", `lang="en"`, "Earlier runs"}},
		{"/runs/" + m.RunID + "/", 200, "text/html", []string{m.RunID, "(the latest)"}},
		{"/runs/" + m.RunID, 301, "", nil},
		{"/runs/20990101T000000Z/", 404, "text/html", []string{"No such run"}},
		{"/runs/..%2F..%2Fetc/", 404, "text/html", nil},
		{"/countries/PHL", 200, "text/html", []string{"Philippines", "Ratifications", "Labour migration agreements", "<time datetime="}},
		{"/countries/phl", 200, "text/html", []string{"Philippines"}},
		{"/countries/XKX", 200, "text/html", []string{refdata.KosovoFootnote}},
		{"/countries/QQQ", 404, "text/html", []string{"No such country"}},
		{"/countries?q=Filipinas", 303, "", nil},
		{"/countries?q=" + url.QueryEscape("Côte d’Ivoire"), 303, "", nil},
		{"/countries?q=Phillipines", 404, "text/html", []string{"Did you mean", "/countries/PHL"}},
		{"/nowhere", 404, "application/json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := get(t, srv, tt.path)
			if r.code != tt.code || !strings.HasPrefix(r.h.Get("Content-Type"), tt.ctype) {
				t.Fatalf("%d %s, want %d %s", r.code, r.h.Get("Content-Type"), tt.code, tt.ctype)
			}
			for _, want := range tt.contains {
				if !strings.Contains(r.body, want) {
					t.Errorf("body lacks %q", want)
				}
			}
		})
	}
	if loc := get(t, srv, "/countries?q=Filipinas").h.Get("Location"); loc != "/countries/PHL" {
		t.Errorf("search redirects to %q", loc)
	}
	if loc := get(t, srv, "/countries?q="+url.QueryEscape("Côte d’Ivoire")).h.Get("Location"); loc != "/countries/CIV" {
		t.Errorf("search redirects to %q", loc)
	}
}

func TestAPI(t *testing.T) {
	ws, _ := published(t)
	srv := httptest.NewServer(New(ws, testRef, Options{Log: quiet()}))
	defer srv.Close()
	m := manifestOf(t, ws)

	var runs struct{ Runs []RunSummary }
	if r := get(t, srv, "/api/runs"); r.code != 200 || json.Unmarshal([]byte(r.body), &runs) != nil || len(runs.Runs) != 1 || !runs.Runs[0].Latest || runs.Runs[0].RunID != m.RunID {
		t.Errorf("/api/runs: %d %s", r.code, r.body)
	}
	var status pipeline.Status
	if r := get(t, srv, "/api/status"); r.code != 200 || json.Unmarshal([]byte(r.body), &status) != nil || status.Latest != m.RunID || status.Submissions == 0 || len(status.Runs) != 1 {
		t.Errorf("/api/status: %d %s", r.code, r.body)
	}
	raw, _ := os.ReadFile(filepath.Join(ws.Latest(), "manifest.json"))
	if r := get(t, srv, "/api/runs/"+m.RunID+"/manifest"); r.code != 200 || r.body != string(raw) {
		t.Errorf("/api/runs/ID/manifest: %d", r.code)
	}
	if r := get(t, srv, "/api/runs/20990101T000000Z/manifest"); r.code != 404 {
		t.Errorf("unknown run manifest: %d", r.code)
	}
	var cat refdata.Catalog
	if r := get(t, srv, "/api/catalog"); r.code != 200 || json.Unmarshal([]byte(r.body), &cat) != nil || len(cat.Indicators) != 31 {
		t.Errorf("/api/catalog: %d, %d indicators", r.code, len(cat.Indicators))
	}
	var country CountryData
	if r := get(t, srv, "/api/countries/XKX"); r.code != 200 || json.Unmarshal([]byte(r.body), &country) != nil || country.Footnote == nil || *country.Footnote != refdata.KosovoFootnote {
		t.Errorf("/api/countries/XKX: %d %s", r.code, r.body[:min(len(r.body), 200)])
	}
	if r := get(t, srv, "/api/countries/PHL"); r.code != 200 || json.Unmarshal([]byte(r.body), &country) != nil || len(country.Ratifications) == 0 || len(country.Agreements) == 0 || len(country.Indicators) == 0 {
		t.Errorf("/api/countries/PHL: %d, %d ratifications, %d agreements", r.code, len(country.Ratifications), len(country.Agreements))
	}
	if r := get(t, srv, "/api/countries/QQQ"); r.code != 404 {
		t.Errorf("/api/countries/QQQ: %d", r.code)
	}
}

// Every bad parameter is a 400 whose message names it.
func TestIndicatorsQueryErrors(t *testing.T) {
	ws, _ := published(t)
	srv := httptest.NewServer(New(ws, testRef, Options{Log: quiet()}))
	defer srv.Close()
	for query, param := range map[string]string{
		"indicator=X9.9": "indicator", "ref_area=ZZZ": "ref_area", "ref_area=FRANCE": "ref_area", "sex=Q": "sex",
		"instrument=C999": "instrument", "instrument=97": "instrument", "from=abc": "from", "to=1800": "to",
		"from=2020&to=2019": "from", "limit=0": "limit", "limit=10001": "limit", "offset=-1": "offset",
		"colour=blue": "colour", "run=yesterday": "run", "sex=T&sex=F": "sex",
	} {
		r := get(t, srv, "/api/indicators?"+query)
		var e struct{ Error string }
		json.Unmarshal([]byte(r.body), &e)
		if r.code != 400 || !strings.Contains(e.Error, param) {
			t.Errorf("%s: %d %q, want 400 naming %s", query, r.code, e.Error, param)
		}
	}
	if r := get(t, srv, "/api/indicators?run=20990101T000000Z"); r.code != 404 {
		t.Errorf("unknown run: %d", r.code)
	}
}

// Filters and pages: the pages of a query, put together, are exactly the
// rows of indicators.parquet the filter selects, in order.
func TestIndicatorsFilterAndPaging(t *testing.T) {
	ws, p := published(t)
	srv := httptest.NewServer(New(ws, testRef, Options{Log: quiet()}))
	defer srv.Close()
	page := func(path string) IndicatorPage {
		r := get(t, srv, path)
		var p IndicatorPage
		if r.code != 200 || json.Unmarshal([]byte(r.body), &p) != nil {
			t.Fatalf("%s: %d %s", path, r.code, r.body)
		}
		return p
	}
	all := page("/api/indicators?limit=10000")
	if all.Total < 1000 || len(all.Rows) != min(all.Total, 10000) {
		t.Fatalf("total %d, rows %d", all.Total, len(all.Rows))
	}
	if p := page("/api/indicators"); p.Limit != DefaultLimit || len(p.Rows) != DefaultLimit || p.Next == nil {
		t.Errorf("default page: limit %d, %d rows, next %v", p.Limit, len(p.Rows), p.Next)
	}
	want := 0
	for _, r := range all.Rows {
		if r.IndicatorID == "C1.1" && r.Instrument != nil && *r.Instrument == "C097" && r.TimePeriod >= 2018 && r.TimePeriod <= 2020 && r.Sex == "T" {
			want++
		}
	}
	var got []IndicatorRow
	next := "/api/indicators?indicator=C1.1&instrument=c097&from=2018&to=2020&sex=T&limit=7"
	for next != "" {
		p := page(next)
		got = append(got, p.Rows...)
		if p.Total != want {
			t.Fatalf("total %d, want %d", p.Total, want)
		}
		next = ""
		if p.Next != nil {
			next = *p.Next
		}
	}
	if len(got) != want || want == 0 {
		t.Fatalf("%d rows over the pages, want %d", len(got), want)
	}
	for _, r := range got {
		if r.IndicatorID != "C1.1" || *r.Instrument != "C097" || r.TimePeriod < 2018 || r.TimePeriod > 2020 {
			t.Fatalf("row outside the filter: %+v", r)
		}
	}
	if p := page("/api/indicators?ref_area=xkx"); p.Total == 0 || p.Rows[0].Note == nil || *p.Rows[0].Note != refdata.KosovoFootnote {
		t.Errorf("Kosovo rows: %d, %+v", p.Total, p.Rows)
	}
	// A run published between two pages does not mix into the second.
	first := page("/api/indicators?indicator=P3.1&limit=5")
	if _, err := p.Execute(context.Background(), pipeline.CommandBuild, pipeline.Options{Trigger: "test"}); err != nil {
		t.Fatal(err)
	}
	if second := page(*first.Next); second.RunID != first.RunID {
		t.Errorf("page 2 came from run %s, page 1 from %s", second.RunID, first.RunID)
	}
	if now := page("/api/indicators?indicator=P3.1&limit=5"); now.RunID == first.RunID {
		t.Error("a new query did not see the new run")
	}
}

func TestFiles(t *testing.T) {
	ws, _ := published(t)
	srv := httptest.NewServer(New(ws, testRef, Options{Log: quiet()}))
	defer srv.Close()
	m := manifestOf(t, ws)
	var parquet export.ManifestFile
	for _, f := range m.Outputs {
		if f.Name == "indicators.parquet" {
			parquet = f
		}
	}
	r := get(t, srv, "/files/latest/indicators.parquet")
	sum := sha256.Sum256([]byte(r.body))
	if r.code != 200 || hex.EncodeToString(sum[:]) != parquet.SHA256 || r.h.Get("ETag") != `"`+parquet.SHA256+`"` ||
		r.h.Get("Content-Type") != "application/vnd.apache.parquet" || !strings.Contains(r.h.Get("Content-Disposition"), "attachment") || r.h.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("download: %d %v", r.code, r.h)
	}
	if r := get(t, srv, "/files/"+m.RunID+"/indicators.parquet", "If-None-Match", `"`+parquet.SHA256+`"`); r.code != 304 {
		t.Errorf("If-None-Match: %d", r.code)
	}
	if r := get(t, srv, "/files/latest/indicators.parquet", "Range", "bytes=4-103"); r.code != 206 || len(r.body) != 100 ||
		r.h.Get("Content-Range") != fmt.Sprintf("bytes 4-103/%d", parquet.Bytes) {
		t.Errorf("Range: %d, %d bytes, %s", r.code, len(r.body), r.h.Get("Content-Range"))
	}
	if r := do(t, srv, "HEAD", "/files/latest/indicators.csv"); r.code != 200 || r.body != "" || r.h.Get("Content-Length") == "" || r.h.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Errorf("HEAD: %d %v", r.code, r.h)
	}
	for name, ctype := range map[string]string{"indicators.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "manifest.json": "application/json; charset=utf-8"} {
		if r := get(t, srv, "/files/latest/"+name); r.code != 200 || r.h.Get("Content-Type") != ctype {
			t.Errorf("%s: %d %s", name, r.code, r.h.Get("Content-Type"))
		}
	}
}

// No path outside the published runs can be reached: plain, encoded and
// double-encoded traversal, a run that is a link, a file that is a link.
func TestTraversalRefused(t *testing.T) {
	ws, _ := published(t)
	m := manifestOf(t, ws)
	var csvBytes int64
	for _, f := range m.Outputs {
		if f.Name == "indicators.csv" {
			csvBytes = f.Bytes
		}
	}
	// Outside the runs: a folder that looks like a run (a manifest listing
	// passwd, of the right size), and a file of the size the manifest
	// gives indicators.csv. A run that links to the first, and a link in
	// place of indicators.csv to the second, must not reach them.
	fake := t.TempDir()
	secret := []byte(strings.Repeat("secret", int(csvBytes)/6+1)[:csvBytes])
	os.WriteFile(filepath.Join(fake, "passwd"), secret, 0o644)
	fakeManifest, _ := json.Marshal(export.Manifest{RunID: "20990101T000000Z", Outputs: []export.ManifestFile{{Name: "passwd", Bytes: csvBytes}}})
	os.WriteFile(filepath.Join(fake, "manifest.json"), fakeManifest, 0o644)
	os.Symlink(fake, filepath.Join(ws.Runs(), "20990101T000000Z"))
	outside := filepath.Join(t.TempDir(), "secret.csv")
	os.WriteFile(outside, secret, 0o644)
	csvPath := filepath.Join(ws.Runs(), m.RunID, "indicators.csv")
	os.Rename(csvPath, csvPath+".moved")
	os.Symlink(outside, csvPath)
	// A file in the run folder that the manifest does not list.
	os.WriteFile(filepath.Join(ws.Runs(), m.RunID, "notes.txt"), []byte("not published"), 0o644)
	srv := httptest.NewServer(New(ws, testRef, Options{Log: quiet()}))
	defer srv.Close()
	for _, path := range []string{
		"/files/latest/../../pledgestat.toml",
		"/files/latest/..%2F..%2Fpledgestat.toml",
		"/files/latest/%2e%2e%2f%2e%2e%2fpledgestat.toml",
		"/files/latest/%252e%252e%252fmanifest.json",
		"/files/..%2F..%2F.pledgestat/lock",
		"/files/20990101T000000Z/passwd",
		"/files/latest/indicators.csv",
		"/files/latest/.%2e/.%2e/pledgestat.toml",
		"/api/runs/..%2F..%2F/manifest",
		"/runs/%2e%2e/",
		"/files/latest/notes.txt",
		"/files/latest/../../../pledgestat.toml",
		"/files/latest/..%2F..%2F..%2Fpledgestat.toml",
	} {
		code, body := rawGet(t, srv, path)
		if code == 200 || strings.Contains(body, "secret") || strings.Contains(body, "root:") || strings.Contains(body, "[report]") {
			t.Errorf("%s: %d %q", path, code, body[:min(len(body), 80)])
		}
	}
	// An unlisted name is not found at all (the manifest is the list of
	// what exists), not a damaged file.
	for _, path := range []string{"/files/latest/notes.txt", "/files/latest/..%2F..%2F..%2Fpledgestat.toml", "/files/20990101T000000Z/passwd"} {
		if code, _ := rawGet(t, srv, path); code != 404 {
			t.Errorf("%s: %d, want 404", path, code)
		}
	}
}

// rawGet sends the path exactly as written, without the client cleaning
// it.
func rawGet(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestTokenHealthAndMetrics(t *testing.T) {
	ws, _ := published(t)
	srv := httptest.NewServer(New(ws, testRef, Options{Token: "s3cret-token", Log: quiet()}))
	defer srv.Close()
	for _, path := range []string{"/", "/api/runs", "/api/status", "/files/latest/indicators.csv", "/metrics", "/countries/PHL"} {
		if r := get(t, srv, path); r.code != 401 || !strings.HasPrefix(r.h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s without a token: %d", path, r.code)
		}
		if r := get(t, srv, path, "Authorization", "Bearer s3cret-tokeN"); r.code != 401 {
			t.Errorf("%s with a wrong token: %d", path, r.code)
		}
		if r := get(t, srv, path, "Authorization", "Bearer s3cret-token"); r.code != 200 {
			t.Errorf("%s with the token: %d", path, r.code)
		}
	}
	if r := get(t, srv, "/healthz"); r.code != 200 || !strings.Contains(r.body, `"ok"`) {
		t.Errorf("/healthz needs no token: %d %s", r.code, r.body)
	}
	r := get(t, srv, "/metrics", "Authorization", "Bearer s3cret-token")
	for _, want := range []string{`pledgestat_runs_total{outcome="rejected",trigger="test"} 1`, `pledgestat_files_total{outcome="accepted"}`,
		"pledgestat_last_successful_run_timestamp_seconds", `pledgestat_run_duration_seconds_bucket{command="run"`, "pledgestat_build_duration_seconds_count 1",
		`pledgestat_http_requests_total{code="401",route="api_runs"} 2`, `pledgestat_http_request_duration_seconds_bucket{route="files"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Nothing published: unhealthy.
	empty, err := workspace.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(New(empty, testRef, Options{Log: quiet()}))
	defer srv2.Close()
	if r := get(t, srv2, "/healthz"); r.code != 503 {
		t.Errorf("/healthz with nothing published: %d", r.code)
	}
	if r := get(t, srv2, "/"); r.code != 404 || !strings.Contains(r.body, "Nothing published yet") {
		t.Errorf("/ with nothing published: %d", r.code)
	}
}

// Load on 127.0.0.1 while a new run is published: 200 clients for 10 s
// (3 s with -short), no failed or torn answer. A download that started on
// one run ends with that run's bytes (checked against the ETag); a page
// of the API comes whole from one run.
func TestNoTornAnswersUnderLoad(t *testing.T) {
	ws, p := published(t)
	srv := httptest.NewServer(New(ws, testRef, Options{Log: quiet()}))
	defer srv.Close()
	duration := 10 * time.Second
	if testing.Short() {
		duration = 5 * time.Second
	}
	const clients = 200
	transport := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	stop := make(chan struct{})
	running := func() bool {
		select {
		case <-stop:
			return false
		default:
			return true
		}
	}
	var mu sync.Mutex
	var latencies []time.Duration
	var failures []string
	runsSeen := map[string]bool{}
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; running(); i++ {
				path := "/api/indicators?indicator=P3.1&limit=200"
				if (c+i)%10 == 0 {
					path = "/files/latest/indicators.parquet"
				}
				start := time.Now()
				resp, err := client.Get(srv.URL + path)
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				took := time.Since(start)
				problem := ""
				switch {
				case err != nil || resp.StatusCode != 200:
					problem = fmt.Sprintf("%s: %d %v", path, resp.StatusCode, err)
				case strings.HasPrefix(path, "/files/"):
					sum := sha256.Sum256(body)
					if `"`+hex.EncodeToString(sum[:])+`"` != resp.Header.Get("ETag") {
						problem = "a download does not match its ETag (torn)"
					}
				default:
					var page IndicatorPage
					if json.Unmarshal(body, &page) != nil || len(page.Rows) == 0 {
						problem = "an API page does not decode"
					}
					mu.Lock()
					runsSeen[page.RunID] = true
					mu.Unlock()
				}
				mu.Lock()
				if problem != "" {
					failures = append(failures, problem)
				}
				if !strings.HasPrefix(path, "/files/") {
					latencies = append(latencies, took)
				}
				mu.Unlock()
			}
		}(c)
	}
	// Publish new runs while the clients run: for the duration, and until
	// two runs have been published and the clients have seen a switch (on
	// a loaded machine a build takes longer), within a minute.
	start := time.Now()
	published := 0
	seen := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(runsSeen)
	}
	for time.Since(start) < duration || (published < 2 || seen() < 2) && time.Since(start) < time.Minute {
		if published < 2 || time.Since(start) < duration-2*time.Second {
			if _, err := p.Execute(context.Background(), pipeline.CommandBuild, pipeline.Options{Trigger: "test", Wait: true}); err != nil {
				t.Errorf("publishing during the load: %v", err)
				break
			}
			published++
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d failed or torn answers, first: %s", len(failures), failures[0])
	}
	if published == 0 || len(runsSeen) < 2 {
		t.Errorf("%d runs published, %d seen by clients: the test did not overlap publishing", published, len(runsSeen))
	}
	p50, p99 := percentile(latencies, 50), percentile(latencies, 99)
	t.Logf("%d clients for %v, %d runs published meanwhile: %d /api/indicators answers, p50 %v, p99 %v, no failed or torn answer",
		clients, elapsed.Round(100*time.Millisecond), published, len(latencies), p50.Round(time.Microsecond), p99.Round(time.Microsecond))
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[(len(s)-1)*p/100]
}

// A client that goes away while its request loads a run does not leave
// the run unreadable for the next ones, and listing the runs does not
// evict the loaded ones from the cache.
func TestRunLoadingSurvivesCancelAndListing(t *testing.T) {
	ws, p := published(t)
	for i := 0; i < 4; i++ {
		if _, err := p.Execute(context.Background(), pipeline.CommandBuild, pipeline.Options{Trigger: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	s := New(ws, testRef, Options{Log: quiet()})
	ru, err := s.runs.get("latest")
	if err != nil {
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ru.load(gone); err != nil || len(ru.Indicators) == 0 {
		t.Fatalf("loading for a request that went away: %v (%d rows)", err, len(ru.Indicators))
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	if r := get(t, srv, "/api/runs"); r.code != 200 || strings.Count(r.body, `"run_id"`) != 5 {
		t.Fatalf("/api/runs: %d %s", r.code, r.body[:min(200, len(r.body))])
	}
	get(t, srv, "/")
	s.runs.mu.Lock()
	_, cached := s.runs.cache[ru.ID]
	s.runs.mu.Unlock()
	if !cached {
		t.Error("listing the runs evicted the latest run from the cache")
	}
}

// A run held by a publish gate is served under its id with a banner
// naming the broken rules, marked held in /api/runs and the status, and
// never as the latest; once released it is the latest, without a banner.
func TestHeldRunIsMarked(t *testing.T) {
	ws, p := published(t)
	first := manifestOf(t, ws).RunID
	os.WriteFile(filepath.Join(ws.Inbox(), "ken.csv"), []byte("country,year,value,series,sex,population\nKEN,2016,51.5,SOC_CONTIG_TOTAL,T,total\n"), 0o644)
	res, err := p.Execute(context.Background(), pipeline.CommandRun, pipeline.Options{Trigger: "test"})
	if err != nil || !res.Held {
		t.Fatalf("held %v, %v", res.Held, err)
	}
	srv := httptest.NewServer(New(ws, testRef, Options{Log: quiet()}))
	defer srv.Close()
	if r := get(t, srv, "/runs/"+res.RunID+"/"); r.code != 200 || !strings.Contains(r.body, "Held: not published as the latest run") || !strings.Contains(r.body, "coverage_move") || !strings.Contains(r.body, "P3.1 KEN 2016 T") {
		t.Errorf("held run page: %d, banner or rule missing", r.code)
	}
	if r := get(t, srv, "/"); strings.Contains(r.body, "Held: not published") || !strings.Contains(r.body, first) || !strings.Contains(r.body, res.RunID+"</a> (held by a publish gate)") {
		t.Errorf("latest page: shows a banner, or does not mark the held run in its list")
	}
	var runs struct{ Runs []RunSummary }
	if r := get(t, srv, "/api/runs"); json.Unmarshal([]byte(r.body), &runs) != nil || len(runs.Runs) != 2 || !runs.Runs[0].Held || runs.Runs[0].Latest || runs.Runs[1].Held {
		t.Errorf("/api/runs: %+v", runs.Runs)
	}
	var status pipeline.Status
	if r := get(t, srv, "/api/status"); json.Unmarshal([]byte(r.body), &status) != nil || len(status.Held) != 1 || status.Held[0].RunID != res.RunID {
		t.Errorf("/api/status held = %+v", status.Held)
	}
	if _, err := p.Release(context.Background(), res.RunID, "checked", "tester", pipeline.Options{}); err != nil {
		t.Fatal(err)
	}
	if r := get(t, srv, "/"); strings.Contains(r.body, "Held: not published") || !strings.Contains(r.body, "Run <strong>"+res.RunID) {
		t.Errorf("after release the latest page is not the released run, or still shows the banner")
	}
}

// /api/explain answers what explain --json prints; the run page's data
// tables link each value to it; a run id is only ever one of the runs.
func TestExplainAPI(t *testing.T) {
	ws, _ := published(t)
	srv := httptest.NewServer(New(ws, testRef, Options{Log: quiet()}))
	defer srv.Close()
	m := manifestOf(t, ws)
	var x pipeline.Explained
	r := get(t, srv, "/api/explain?indicator=C1.1&ref_area=X06&year=2022&instrument=C097")
	if r.code != 200 || json.Unmarshal([]byte(r.body), &x) != nil || x.RunID != m.RunID || x.Numerator == nil {
		t.Fatalf("/api/explain: %d %s", r.code, r.body)
	}
	counted := 0
	for _, it := range x.Items {
		if it.Counted {
			counted++
		}
	}
	if float64(counted) != *x.Numerator || float64(len(x.Items)) != *x.Denominator {
		t.Errorf("explained %d of %d, published %v of %v", counted, len(x.Items), *x.Numerator, *x.Denominator)
	}
	page := get(t, srv, "/").body
	href := `/api/explain?indicator=C1.1&amp;instrument=C097&amp;ref_area=X06&amp;run=` + m.RunID + `&amp;year=2022`
	if !strings.Contains(page, `<a href="`+href+`"`) {
		t.Errorf("the run page does not link X06's 2022 C097 value to %s", href)
	}
	if country := get(t, srv, "/countries/KEN").body; !strings.Contains(country, `<a href="/api/explain?indicator=P3.1&amp;ref_area=KEN&amp;run=`+m.RunID+`&amp;year=2016"`) {
		t.Errorf("the country page does not link Kenya's 2016 P3.1 value to its explanation")
	}
	for path, code := range map[string]int{
		"/api/explain?indicator=C1.1&ref_area=X06&year=2030&instrument=C097":                   404,
		"/api/explain?indicator=C1.1&ref_area=X06&year=2022&instrument=C097&run=..%2F..%2Fetc": 404,
		"/api/explain?indicator=C1.1&ref_area=X06":                                             400,
		"/api/explain?indicator=P3.1&ref_area=Kenya&year=2016&run=" + m.RunID:                  200,
	} {
		if r := get(t, srv, path); r.code != code {
			t.Errorf("%s: %d, want %d: %s", path, r.code, code, r.body)
		}
	}
}
