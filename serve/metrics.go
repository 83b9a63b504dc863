package serve

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ilo-pledge/pledgestat/workspace"
)

// metrics are the server's own (a registry per server, no global state):
// HTTP requests by route and code, and the runs of the workspace read from
// its run history at each scrape, whoever made them (the scheduler of this
// process, another process, the CLI).
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(ws *workspace.Workspace) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pledgestat_http_requests_total", Help: "HTTP requests served, by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pledgestat_http_request_duration_seconds", Help: "Time to serve HTTP requests, by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"route"}),
	}
	m.registry.MustRegister(m.requests, m.latency, &historyCollector{ws: ws},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	if d > 0 {
		m.latency.WithLabelValues(route).Observe(d.Seconds())
	}
}

var (
	runsDesc = prometheus.NewDesc("pledgestat_runs_total",
		"Runs recorded in the workspace's run history, by trigger (cli, schedule NAME, watch) and outcome (ok, rejected, failed).",
		[]string{"trigger", "outcome"}, nil)
	filesDesc = prometheus.NewDesc("pledgestat_files_total",
		"Inbox files taken by recorded runs, by outcome.", []string{"outcome"}, nil)
	lastOKDesc = prometheus.NewDesc("pledgestat_last_successful_run_timestamp_seconds",
		"When the last run that ended without failure finished (Unix time).", nil, nil)
	runSecondsDesc = prometheus.NewDesc("pledgestat_run_duration_seconds",
		"Duration of recorded runs, by command.", []string{"command"}, nil)
	buildSecondsDesc = prometheus.NewDesc("pledgestat_build_duration_seconds",
		"Duration of the build phase of recorded runs (computing and publishing the indicators).", nil, nil)
)

// durationBuckets are the upper bounds of the run and build histograms, in
// seconds.
var durationBuckets = []float64{0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}

// historyCollector reads the run history at each scrape.
type historyCollector struct{ ws *workspace.Workspace }

func (c *historyCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{runsDesc, filesDesc, lastOKDesc, runSecondsDesc, buildSecondsDesc} {
		ch <- d
	}
}

func (c *historyCollector) Collect(ch chan<- prometheus.Metric) {
	history, err := c.ws.RunHistory()
	if err != nil {
		return
	}
	type key struct{ trigger, outcome string }
	counts := map[key]int{}
	files := map[string]int{"accepted": 0, "rejected": 0, "duplicate": 0}
	var lastOK time.Time
	runs := map[string]*histogram{}
	build := newHistogram()
	for _, r := range history {
		trigger := r.Trigger
		if trigger == "" {
			trigger = "unknown"
		}
		counts[key{trigger, r.Outcome}]++
		files["accepted"] += r.Accepted
		files["rejected"] += r.Rejected
		files["duplicate"] += r.Duplicates
		if r.Outcome != "failed" && r.FinishedAt.After(lastOK) {
			lastOK = r.FinishedAt
		}
		if runs[r.Command] == nil {
			runs[r.Command] = newHistogram()
		}
		runs[r.Command].add(r.FinishedAt.Sub(r.StartedAt).Seconds())
		if r.BuildSeconds > 0 {
			build.add(r.BuildSeconds)
		}
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(runsDesc, prometheus.CounterValue, float64(n), k.trigger, k.outcome)
	}
	for outcome, n := range files {
		ch <- prometheus.MustNewConstMetric(filesDesc, prometheus.CounterValue, float64(n), outcome)
	}
	if !lastOK.IsZero() {
		ch <- prometheus.MustNewConstMetric(lastOKDesc, prometheus.GaugeValue, float64(lastOK.Unix()))
	}
	for command, h := range runs {
		ch <- prometheus.MustNewConstHistogram(runSecondsDesc, h.count, h.sum, h.buckets, command)
	}
	ch <- prometheus.MustNewConstHistogram(buildSecondsDesc, build.count, build.sum, build.buckets)
}

type histogram struct {
	count   uint64
	sum     float64
	buckets map[float64]uint64
}

func newHistogram() *histogram {
	h := &histogram{buckets: map[float64]uint64{}}
	for _, b := range durationBuckets {
		h.buckets[b] = 0
	}
	return h
}

func (h *histogram) add(v float64) {
	h.count++
	h.sum += v
	for _, b := range durationBuckets {
		if v <= b {
			h.buckets[b]++
		}
	}
}
