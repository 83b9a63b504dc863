package serve

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/export"
	"github.com/ilo-pledge/pledgestat/gates"
	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/internal/parquetio"
	"github.com/ilo-pledge/pledgestat/publish"
	"github.com/ilo-pledge/pledgestat/records"
)

// runIDPattern is the only shape a run id in a URL may have: nothing else
// is ever joined to a path.
var runIDPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z(-[0-9]{1,6})?$`)

// errNoRun: the run asked for does not exist (404).
var errNoRun = errors.New("no such run")

// run is one published run, read once: runs are immutable, so what is read
// stays true for as long as the run exists.
type run struct {
	ID       string
	Dir      string
	Manifest export.Manifest
	raw      []byte // manifest.json as published
	// Gates is the run's gates.json; nil for a run built before publish
	// gates existed.
	Gates *gates.Report

	loadMu        sync.Mutex
	loaded        bool
	Indicators    []IndicatorRow
	Ratifications []records.Ratification
	Agreements    []records.Agreement
	hasKosovo     bool

	viewOnce sync.Once
	view     []section // the run page's sections with their charts

	// byIndicator indexes Indicators; rowJSON holds each row encoded,
	// made once per run: the API assembles answers from them.
	byIndicator map[string][]int
	rowJSON     [][]byte
}

// IndicatorRow is one row of indicators.parquet (export.IndicatorRow).
type IndicatorRow = export.IndicatorRow

// runs finds published runs and keeps the last few read in memory.
type runs struct {
	out string // WORKSPACE/out

	// summaries of every run's manifest for the lists of runs, kept apart
	// from the cache of loaded runs so that listing never evicts them.
	sumMu     sync.Mutex
	summaries map[string]runSummaryCache

	mu    sync.Mutex
	cache map[string]*list.Element // run id -> element of order, holding *run
	order *list.List               // most recently used first
	keep  int
}

func newRuns(out string, keep int) *runs {
	return &runs{out: out, cache: map[string]*list.Element{}, order: list.New(), keep: keep, summaries: map[string]runSummaryCache{}}
}

// runSummaryCache is what the lists of runs show of one run.
type runSummaryCache struct {
	StartedAt, FinishedAt time.Time
	FirstYear, LastYear   *int
	Inputs                int
	Outputs               []string
	GatesHeld             bool // the build broke a publish gate (released or not)
}

// summary returns a run's summary, reading its manifest once; it does not
// touch the cache of loaded runs.
func (r *runs) summary(id string) (runSummaryCache, error) {
	r.sumMu.Lock()
	if s, ok := r.summaries[id]; ok {
		r.sumMu.Unlock()
		return s, nil
	}
	r.sumMu.Unlock()
	r.mu.Lock()
	if el, ok := r.cache[id]; ok {
		r.mu.Unlock()
		return summarize(el.Value.(*run)), nil
	}
	r.mu.Unlock()
	ru, err := r.open(id)
	if err != nil {
		return runSummaryCache{}, err
	}
	s := summarize(ru)
	r.sumMu.Lock()
	r.summaries[id] = s
	r.sumMu.Unlock()
	return s, nil
}

func summarize(ru *run) runSummaryCache {
	m := ru.Manifest
	s := runSummaryCache{StartedAt: m.StartedAt, FinishedAt: m.FinishedAt, FirstYear: m.FirstYear, LastYear: m.LastYear, Inputs: len(m.Inputs),
		GatesHeld: ru.Gates != nil && ru.Gates.Held}
	for _, f := range m.Outputs {
		s.Outputs = append(s.Outputs, f.Name)
	}
	return s
}

// latestID resolves out/latest once: a request that read it goes on with
// that run even if the link is switched meanwhile.
func (r *runs) latestID() (string, error) {
	id, err := publish.Latest(r.out)
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", errNoRun
	}
	return id, nil
}

// get returns a run by id ("latest" for out/latest).
func (r *runs) get(id string) (*run, error) {
	if id == "latest" {
		var err error
		if id, err = r.latestID(); err != nil {
			return nil, err
		}
	}
	if !runIDPattern.MatchString(id) {
		return nil, errNoRun
	}
	r.mu.Lock()
	if el, ok := r.cache[id]; ok {
		r.order.MoveToFront(el)
		r.mu.Unlock()
		return el.Value.(*run), nil
	}
	r.mu.Unlock()
	ru, err := r.open(id)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.cache[id]; ok {
		return el.Value.(*run), nil
	}
	r.cache[id] = r.order.PushFront(ru)
	for r.order.Len() > r.keep {
		old := r.order.Back()
		r.order.Remove(old)
		delete(r.cache, old.Value.(*run).ID)
	}
	return ru, nil
}

func (r *runs) open(id string) (*run, error) {
	dir := filepath.Join(r.out, "runs", id)
	st, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoRun
	}
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, errNoRun
	}
	if st, err := os.Lstat(filepath.Join(dir, "manifest.json")); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("run %s: manifest.json is %s", id, fsx.Kind(st.Mode()))
	}
	raw, err := fsx.ReadRegular(filepath.Join(dir, "manifest.json"), 64<<20)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", id, err)
	}
	ru := &run{ID: id, Dir: dir, raw: raw}
	if err := json.Unmarshal(raw, &ru.Manifest); err != nil {
		return nil, fmt.Errorf("run %s: manifest: %w", id, err)
	}
	if data, err := fsx.ReadRegular(filepath.Join(dir, gates.FileName), 16<<20); err == nil {
		if g, err := gates.Read(data); err == nil {
			ru.Gates = &g
		}
	}
	return ru, nil
}

// ids lists the published runs, newest first.
func (r *runs) ids() ([]string, error) {
	ids, err := publish.Runs(r.out)
	if err != nil {
		return nil, err
	}
	out := ids[:0]
	for _, id := range ids {
		if runIDPattern.MatchString(id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// output returns the manifest entry of a published file, or false: only
// files the manifest lists are ever served.
func (ru *run) output(name string) (export.ManifestFile, bool) {
	for _, f := range ru.Manifest.Outputs {
		if f.Name == name {
			return f, true
		}
	}
	return export.ManifestFile{}, false
}

// loadTimeout bounds reading a run's tables.
const loadTimeout = 2 * time.Minute

// load reads the run's tables once. It reads them detached from the
// request that asked (a client that goes away must not leave the run
// unreadable for everyone) and keeps no failure: the next request tries
// again.
func (ru *run) load(ctx context.Context) error {
	ru.loadMu.Lock()
	defer ru.loadMu.Unlock()
	if ru.loaded {
		return nil
	}
	readCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
	defer cancel()
	fresh := &run{ID: ru.ID, Dir: ru.Dir, Manifest: ru.Manifest}
	if err := fresh.read(readCtx); err != nil {
		return err
	}
	ru.Indicators, ru.Ratifications, ru.Agreements = fresh.Indicators, fresh.Ratifications, fresh.Agreements
	ru.hasKosovo, ru.byIndicator, ru.rowJSON = fresh.hasKosovo, fresh.byIndicator, fresh.rowJSON
	ru.loaded = true
	return nil
}

func (ru *run) read(ctx context.Context) (err error) {
	// The tables are read only as regular files of the run's folder: a
	// link there is not followed.
	for _, f := range ru.Manifest.Outputs {
		if strings.HasSuffix(f.Name, ".parquet") {
			if st, err := os.Lstat(filepath.Join(ru.Dir, f.Name)); err == nil && !st.Mode().IsRegular() {
				return fmt.Errorf("run %s: %s is %s", ru.ID, f.Name, fsx.Kind(st.Mode()))
			}
		}
	}
	mem := memory.NewGoAllocator()
	if _, ok := ru.output("indicators.parquet"); ok {
		err := parquetio.ReadFile(ctx, filepath.Join(ru.Dir, "indicators.parquet"), mem, func(b arrow.RecordBatch) error {
			rows, err := export.IndicatorRows(b)
			ru.Indicators = append(ru.Indicators, rows...)
			return err
		})
		if err != nil {
			return fmt.Errorf("run %s: %w", ru.ID, err)
		}
	}
	var set records.Set
	for _, d := range []records.Domain{records.DomainRatification, records.DomainBLMA} {
		desc, err := records.Describe(d)
		if err != nil {
			return err
		}
		name := string(d) + ".parquet"
		if _, ok := ru.output(name); !ok {
			continue
		}
		err = parquetio.ReadFile(ctx, filepath.Join(ru.Dir, name), mem, func(b arrow.RecordBatch) error { return desc.Append(&set, b) })
		if err != nil {
			return fmt.Errorf("run %s: %w", ru.ID, err)
		}
	}
	ru.Ratifications, ru.Agreements = set.Ratifications, set.Agreements
	ru.byIndicator = map[string][]int{}
	ru.rowJSON = make([][]byte, len(ru.Indicators))
	for i, row := range ru.Indicators {
		if row.RefArea == "XKX" {
			ru.hasKosovo = true
		}
		ru.byIndicator[row.IndicatorID] = append(ru.byIndicator[row.IndicatorID], i)
		if ru.rowJSON[i], err = json.Marshal(row); err != nil {
			return fmt.Errorf("run %s: %w", ru.ID, err)
		}
	}
	sort.SliceStable(ru.Ratifications, func(i, j int) bool {
		return ru.Ratifications[i].RatificationDate < ru.Ratifications[j].RatificationDate
	})
	return nil
}
