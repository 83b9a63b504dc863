package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/records/toydomain"
	"github.com/ilo-pledge/pledgestat/store"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// groupFiles is an inbox whose files are filed in groups: corrections of
// one another (within a group and across), the same bytes twice, a
// rejected file between accepted ones, files in a subfolder, and files
// that share a name in two folders.
func groupFiles(n int) []struct{ name, content string } {
	rng := rand.New(rand.NewPCG(7, uint64(n)))
	countries := []string{"FRA", "DEU", "ESP", "ITA", "KEN", "PHL", "NPL", "QAT"}
	var files []struct{ name, content string }
	add := func(name, content string) { files = append(files, struct{ name, content string }{name, content}) }
	for i := range n {
		var b strings.Builder
		b.WriteString("country,year,value\n")
		for range 1 + rng.IntN(4) {
			fmt.Fprintf(&b, "%s,%d,%d.5\n", countries[rng.IntN(len(countries))], 2018+rng.IntN(4), rng.IntN(90))
		}
		switch {
		case i%17 == 5:
			add(fmt.Sprintf("f%03d-broken.csv", i), "country,year,value\nFRA,2020,250\n")
		case i%13 == 3 && i > 0:
			add(fmt.Sprintf("f%03d-again.csv", i), files[i-1].content) // the bytes just before, again
		case i%11 == 7:
			add(fmt.Sprintf("sub/f%03d.csv", i), b.String())
			add(fmt.Sprintf("other/f%03d.csv", i), b.String()+"FRA,2017,1.5\n")
		default:
			add(fmt.Sprintf("f%03d.csv", i), b.String())
		}
	}
	return files
}

// ledgerFacts is what each ledger event says, without times and run ids.
func ledgerFacts(t *testing.T, ws string) []string {
	t.Helper()
	st, err := store.OpenReadOnly(filepath.Join(ws, ".pledgestat", "store"), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for e := range st.All() {
		if e.Event == store.EventIntake {
			continue // one file at a time and in groups record them alike; compared through the outcomes
		}
		out = append(out, fmt.Sprintf("%s seq=%d file=%s rows=%v superseded=%v dup=%d errors=%d", e.Event, e.Seq, e.File, e.Rows, e.Superseded, e.DuplicateOf, e.Errors))
	}
	return out
}

// TestGroupFilingEqualsOneFileAtATime: files filed in groups leave the
// same ledger (numbers, rows, superseded counts, duplicates, rejections)
// and publish the same indicators as the same files filed one run each,
// where no group forms.
func TestGroupFilingEqualsOneFileAtATime(t *testing.T) {
	files := groupFiles(150)
	grouped, p := faultWorkspace(t)
	for _, f := range files {
		drop(t, grouped, f.name, f.content)
	}
	res, err := p.Execute(context.Background(), CommandRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(res.Files); got != len(files) {
		t.Fatalf("%d files filed, %d dropped", got, len(files))
	}

	// One run per file, in the order the grouped run filed them (the
	// inbox's order).
	content := map[string]string{}
	for _, f := range files {
		content[f.name] = f.content
	}
	single, q := faultWorkspace(t)
	for _, f := range res.Files {
		drop(t, single, f.Name, content[f.Name])
		if _, err := q.Execute(context.Background(), CommandIngest, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.Execute(context.Background(), CommandBuild, Options{}); err != nil {
		t.Fatal(err)
	}

	a, b := ledgerFacts(t, grouped.Root), ledgerFacts(t, single.Root)
	if !slices.Equal(a, b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("ledger line %d: in groups %q, one at a time %q", i+1, a[i], b[i])
			}
		}
		t.Fatalf("ledgers of %d and %d events", len(a), len(b))
	}
	for _, want := range []string{"duplicate", "rejected", "superseded=map[social_protection:"} {
		if !strings.Contains(strings.Join(a, "\n"), want) {
			t.Errorf("the files exercise no %q", want)
		}
	}
	x, err := os.ReadFile(filepath.Join(grouped.Latest(), "indicators.csv"))
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(filepath.Join(single.Latest(), "indicators.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, y) {
		t.Error("the indicators of a run that filed groups differ from those of files ingested one by one")
	}
	everyLedgerPathExists(t, grouped)
}

// TestFaultInAGroupLosesNothing fails each step of filing a group of
// files (and of the build after it) once: the run fails naming the
// cause, every file is in the inbox or the archive, and the next run
// files them all, numbered and counted as a run without the fault.
func TestFaultInAGroupLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline some 150 times")
	}
	files := groupFiles(12)
	setup := func() (*Pipeline, string) {
		ws, p := faultWorkspace(t)
		for _, f := range files {
			drop(t, ws, f.name, f.content)
		}
		return p, ws.Root
	}
	p, root := setup()
	counter := &fsx.Steps{FS: fsx.OS{}}
	p.WS.FS = counter
	if _, err := p.Execute(context.Background(), CommandIngest, Options{}); err != nil {
		t.Fatal(err)
	}
	want := ledgerFacts(t, root)
	for k := int64(1); k <= counter.Count(); k++ {
		p, root := setup()
		var op string
		p.WS.FS = &fsx.Steps{FS: fsx.OS{}, Hook: func(n int64, o, path string) error {
			if n == k {
				op = o + " " + filepath.Base(path)
				return syscall.EIO
			}
			return nil
		}}
		_, err := p.Execute(context.Background(), CommandIngest, Options{})
		if err != nil && !strings.Contains(err.Error(), syscall.EIO.Error()) {
			t.Fatalf("step %d (%s): the error does not name the cause: %v", k, op, err)
		}
		p.WS.FS = fsx.OS{}
		if _, err := p.Execute(context.Background(), CommandIngest, Options{}); err != nil {
			t.Fatalf("step %d (%s): the run after the fault: %v", k, op, err)
		}
		if left, _ := p.WS.InboxFiles(); len(left) != 0 {
			t.Fatalf("step %d (%s): left in the inbox: %v", k, op, left)
		}
		got := ledgerFacts(t, root)
		// A fault leaves intakes abandoned or repaired and files taken
		// again: the accepted submissions and their counts are the same.
		if a, b := accepted(got), accepted(want); !slices.Equal(a, b) {
			t.Fatalf("step %d (%s): accepted\n%s\nwant\n%s", k, op, strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
	}
}

// accepted keeps the accepted events of ledger facts, without their
// sequence numbers and files' run-specific parts.
func accepted(facts []string) []string {
	var out []string
	for _, f := range facts {
		if strings.HasPrefix(f, "accepted ") {
			out = append(out, f[strings.Index(f, " file="):])
		}
	}
	return out
}

// TestReadingMarkerWindow: the marker written for a file names the files
// that follow it, so that it is written once for many, but never a file
// an earlier run died on (marked alone when read alone), and a file that
// died once is marked alone.
func TestReadingMarkerWindow(t *testing.T) {
	ws, p := faultWorkspace(t)
	var inbox []workspace.InboxFile
	for i := range 40 {
		inbox = append(inbox, workspace.InboxFile{Name: fmt.Sprintf("f%02d.csv", i)})
	}
	marker := filepath.Join(ws.State(), "reading.json")
	os.WriteFile(marker, []byte(`{"reading":[{"name":"f03.csv","attempts":1}]}`), 0o644)
	g, err := p.openReadGuard(inbox)
	if err != nil {
		t.Fatal(err)
	}
	g.plan(inbox)
	read := func() map[string]int {
		var m readingMarker
		data, _ := os.ReadFile(marker)
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, e := range m.Reading {
			out[e.Name] = e.Attempts
		}
		return out
	}
	g.mu.Lock()
	err = g.markLocked("f00.csv")
	g.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	got := read()
	if got["f00.csv"] != 1 || got["f01.csv"] != 1 || got["f32.csv"] != 1 || got["f33.csv"] != 0 {
		t.Errorf("the window of f00: %v", got)
	}
	if got["f03.csv"] != 1 {
		t.Errorf("f03 died once: its count is kept, not raised by another file's window: %v", got)
	}
	g.mu.Lock()
	delete(g.reading, "f00.csv")
	delete(g.reading, "f01.csv")
	delete(g.reading, "f02.csv")
	err = g.markLocked("f03.csv")
	g.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if got := read(); got["f03.csv"] != 2 || len(got) != 1 {
		t.Errorf("f03, read alone, is blamed again, alone: %v", got)
	}
}

// TestToyDomainEndToEnd: a fourth domain added by its descriptor alone
// (Pipeline.Domains) is read from the inbox, filed (alone and in groups),
// superseded by a correction, counted in the ledger, refused with its
// cell named when a value is wrong, and the run still builds and
// publishes the pledge's indicators.
func TestToyDomainEndToEnd(t *testing.T) {
	ws, p := faultWorkspace(t)
	p.Domains = []records.Descriptor{toydomain.Descriptor()}
	drop(t, ws, "a-scores.csv", "zone;année;points\nFRA;2020;1.5\nDEU;2020;2\n")
	drop(t, ws, "b-coverage.csv", "country,year,value\nFRA,2020,50\n")
	drop(t, ws, "c-scores.csv", "area,year,score\nFRA,2020,7\n")
	drop(t, ws, "d-broken.csv", "area,year,score\nITA,2020,lots\n")
	res, err := p.Execute(context.Background(), CommandRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := outcomes(res)
	if got["a-scores.csv"] != OutcomeAccepted || got["b-coverage.csv"] != OutcomeAccepted || got["c-scores.csv"] != OutcomeAccepted || got["d-broken.csv"] != OutcomeRejected {
		t.Fatalf("outcomes = %v", got)
	}
	facts := strings.Join(ledgerFacts(t, ws.Root), "\n")
	for _, want := range []string{
		"accepted seq=1 file=a-scores.csv rows=map[toy_scores:2] superseded=map[]",
		"accepted seq=3 file=c-scores.csv rows=map[toy_scores:1] superseded=map[toy_scores:1]",
	} {
		if !strings.Contains(facts, want) {
			t.Errorf("the ledger has no %q:\n%s", want, facts)
		}
	}
	report, err := os.ReadFile(filepath.Join(ws.Root, res.Files[3].Report))
	if err != nil || !strings.Contains(string(report), "C2") || !strings.Contains(string(report), "bad_number") {
		t.Errorf("the broken file's report does not name C2: %v\n%s", err, report)
	}
	st, err := store.OpenReadOnly(ws.StoreDir(), quietLog(), store.WithDomains(append(records.Descriptors(), toydomain.Descriptor())))
	if err != nil {
		t.Fatal(err)
	}
	cur, err := st.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	scores := toydomain.Of(cur)
	if len(scores) != 2 || scores[0].Area != "FRA" || scores[0].Score != 7 || scores[0].Source.File != "c-scores.csv" {
		t.Errorf("current toy scores = %+v", scores)
	}
	if data, err := os.ReadFile(filepath.Join(ws.Latest(), "indicators.csv")); err != nil || !strings.Contains(string(data), "P3.1") {
		t.Errorf("the run did not publish the pledge's indicators: %v", err)
	}
}

// readForGroup opens the workspace's store and reads its inbox's files as
// a run would, putting them in a group, for the tests of filing a group.
// The files read are closed when the test ends.
func readForGroup(t *testing.T, ctx context.Context, p *Pipeline) (*group, *store.Store) {
	t.Helper()
	st, err := store.Open(p.WS.FS, p.WS.StoreDir(), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := p.WS.ListInbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	guard, err := p.openReadGuard(inbox.Files)
	if err != nil {
		t.Fatal(err)
	}
	guard.plan(inbox.Files)
	g := &group{dests: map[string]bool{}, shas: map[string]bool{}}
	for _, f := range inbox.Files {
		r := &readResult{f: f, done: make(chan struct{}), tokens: 1}
		p.read(ctx, quietLog(), p.Reader(), st, guard, r)
		if r.fd != nil {
			t.Cleanup(func() { r.fd.Close() })
		}
		m, _, err := p.member(st, "20260101T000000Z", g, r)
		if err != nil || m == nil {
			t.Fatalf("%s does not join a group: %v", f.Name, err)
		}
		g.add(m)
	}
	return g, st
}

// A run stopped while a group waits files nothing of it: no intake is
// recorded and every file stays in the inbox (a review found a stopped
// run recording intakes and moving files it then did not store).
func TestStoppedRunFilesNothingOfItsGroup(t *testing.T) {
	ws, p := faultWorkspace(t)
	drop(t, ws, "a.csv", "country,year,value\nFRA,2020,50\n")
	drop(t, ws, "b.csv", "country,year,value\nDEU,2020,60\n")
	ctx, cancel := context.WithCancel(context.Background())
	g, st := readForGroup(t, ctx, p)
	cancel()
	if err := p.fileGroup(ctx, quietLog(), st, &Result{}, g); !errors.Is(err, context.Canceled) {
		t.Fatalf("filing a group of a stopped run: %v", err)
	}
	if n := len(st.Entries()); n != 0 {
		t.Errorf("a stopped run recorded %d ledger events", n)
	}
	if files, _ := ws.InboxFiles(); len(files) != 2 {
		t.Errorf("the inbox holds %d files, want both", len(files))
	}
}

// A file written to while its group waited is not filed with bytes that
// differ from what was read: it settles for a later run, the others are
// filed (a review found the check made only when the file joined).
func TestFileChangedWhileItsGroupWaitedSettles(t *testing.T) {
	ws, p := faultWorkspace(t)
	drop(t, ws, "a.csv", "country,year,value\nFRA,2020,50\n")
	drop(t, ws, "b.csv", "country,year,value\nDEU,2020,60\n")
	ctx := context.Background()
	g, st := readForGroup(t, ctx, p)
	// b.csv is written to again, in place, after it was read.
	path := filepath.Join(ws.Inbox(), "b.csv")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("DEU,2021,99\n")
	f.Close()
	res := &Result{}
	if err := p.fileGroup(ctx, quietLog(), st, res, g); err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || res.Files[0].Name != "a.csv" || len(res.Settling) != 1 || res.Settling[0] != "b.csv" {
		t.Errorf("files %+v, settling %v", res.Files, res.Settling)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), "99") {
		t.Error("the rewritten b.csv did not stay in the inbox")
	}
}

// A file earlier runs died reading is cleared from the reading marker as
// soon as it is read: a run that dies later, while filing it, does not
// blame its reading (a review found it still marked until the next file).
func TestReadingMarkerClearedAfterABlamedFileIsRead(t *testing.T) {
	ws, p := faultWorkspace(t)
	drop(t, ws, "x.csv", "country,year,value\nFRA,2020,50\n")
	marker := filepath.Join(ws.State(), "reading.json")
	os.WriteFile(marker, []byte(`{"reading":[{"name":"x.csv","attempts":1}]}`), 0o644)
	readForGroup(t, context.Background(), p)
	if data, err := os.ReadFile(marker); err == nil && strings.Contains(string(data), "x.csv") {
		t.Errorf("x.csv was read, yet the marker still blames it: %s", data)
	}
}

// Files are read in inbox order, each reader taking the next file as it
// finishes one: a file starts being read only once every file before it
// but the few the other readers hold has started.
func TestFilesAreReadInInboxOrder(t *testing.T) {
	ws, p := faultWorkspace(t)
	const n = 150
	for i := range n {
		drop(t, ws, fmt.Sprintf("f%03d.csv", i), fmt.Sprintf("country,year,value\nFRA,%d,%d\n", 1950+i%70, i%90))
	}
	var logged bytes.Buffer
	var mu sync.Mutex
	p.Log = slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logged.Write(b)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	if _, err := p.Execute(context.Background(), CommandIngest, Options{}); err != nil {
		t.Fatal(err)
	}
	readers := runtime.GOMAXPROCS(0) + 1
	started := 0
	for _, line := range strings.Split(logged.String(), "\n") {
		_, name, ok := strings.Cut(line, "msg=reading ")
		if !ok {
			continue
		}
		var i int
		if _, err := fmt.Sscanf(name[strings.Index(name, "file=f")+len("file=f"):], "%03d", &i); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if i > started+readers {
			t.Errorf("file %d started as the %d-th read: files are not read in inbox order", i, started+1)
		}
		started++
	}
	if started != n {
		t.Fatalf("%d files read, want %d", started, n)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
