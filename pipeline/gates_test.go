package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ilo-pledge/pledgestat/export"
	"github.com/ilo-pledge/pledgestat/gates"
	"github.com/ilo-pledge/pledgestat/internal/parquetio"
	"github.com/ilo-pledge/pledgestat/publish"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// demoPublished is a workspace whose first run published the demo files.
func demoPublished(t *testing.T) (*workspace.Workspace, *Pipeline, string) {
	t.Helper()
	p := demoPipeline(t)
	ws := p.WS
	res, err := p.Execute(context.Background(), CommandRun, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Held || res.Gates == nil || res.Gates.Skipped == "" {
		t.Fatalf("a first run: held %v, gates %+v; want published, not checked", res.Held, res.Gates)
	}
	latest, _ := publish.Latest(ws.Out())
	return ws, p, latest
}

func brokenRules(res *Result) []string {
	var out []string
	if res.Gates != nil {
		for _, c := range res.Gates.Broken() {
			out = append(out, c.Rule)
		}
	}
	return out
}

// The gates against the demo: a nightly increment is published; a
// coverage series jumping 40 points, a file moving 30% of the
// ratifications to a later date, a withdrawn submission are each held
// with the rule they break, out/latest untouched, gates.json in the run.
func TestHeldRunsAndRelease(t *testing.T) {
	ctx := context.Background()
	t.Run("a nightly increment is published", func(t *testing.T) {
		ws, p, _ := demoPublished(t)
		drop(t, ws, "lesotho.csv", "country,instrument,ratification_date\nLesotho,C097,2023-05-01\n")
		res, err := p.Execute(ctx, CommandRun, Options{})
		if err != nil {
			t.Fatal(err)
		}
		latest, _ := publish.Latest(ws.Out())
		if res.Held || latest != res.RunID || len(res.Gates.Checks) != 5 {
			t.Fatalf("held %v (broken %v), latest %s; want run %s published after 5 checks", res.Held, brokenRules(res), latest, res.RunID)
		}
	})

	held := func(t *testing.T, ws *workspace.Workspace, p *Pipeline, before string, opts Options, want string) *Result {
		t.Helper()
		res, err := p.Execute(ctx, CommandRun, opts)
		if err != nil {
			t.Fatal(err)
		}
		latest, _ := publish.Latest(ws.Out())
		if !res.Held || !res.Published || latest != before || !strings.Contains(strings.Join(brokenRules(res), ","), want) {
			t.Fatalf("held %v, published %v, broken %v, latest %s; want held by %s, latest still %s", res.Held, res.Published, brokenRules(res), latest, want, before)
		}
		r, err := p.RunGates(res.RunID)
		if err != nil || !r.Held || *r.PreviousRun != before {
			t.Fatalf("gates.json of the held run: %+v, %v", r, err)
		}
		hist, _ := ws.RunHistory()
		if last := hist[len(hist)-1]; last.Outcome != "held" || !last.Held {
			t.Errorf("run history: %+v, want outcome held", last)
		}
		return res
	}
	release := func(t *testing.T, ws *workspace.Workspace, p *Pipeline, res *Result) {
		t.Helper()
		if _, err := p.Release(ctx, res.RunID, "checked", "tester", Options{}); err != nil {
			t.Fatal(err)
		}
		if latest, _ := publish.Latest(ws.Out()); latest != res.RunID {
			t.Errorf("after release latest is %s, want %s", latest, res.RunID)
		}
	}

	t.Run("new input after a held run is built", func(t *testing.T) {
		ws, p, before := demoPublished(t)
		drop(t, ws, "ken.csv", "country,year,value,series,sex,population\nKEN,2016,51.5,SOC_CONTIG_TOTAL,T,total\n")
		res := held(t, ws, p, before, Options{}, gates.RuleCoverageMove)
		drop(t, ws, "lesotho.csv", "country,instrument,ratification_date\nLesotho,C097,2023-05-01\n")
		again, err := p.Execute(ctx, CommandRun, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if runs, _ := publish.Runs(ws.Out()); again.UpToDate != "" || again.RunID == res.RunID || len(runs) != 3 {
			t.Fatalf("run with new input after held %s: up to date %q, %d runs; want a new build", res.RunID, again.UpToDate, len(runs))
		}
	})

	// Without a file accepted: a run that accepts one never compares
	// states, since its inputs are new by construction.
	t.Run("a changed window after a held run is built", func(t *testing.T) {
		ws, p, before := demoPublished(t)
		drop(t, ws, "ken.csv", "country,year,value,series,sex,population\nKEN,2016,51.5,SOC_CONTIG_TOTAL,T,total\n")
		res := held(t, ws, p, before, Options{}, gates.RuleCoverageMove)
		p.WS.Config.Report.FirstYear++
		again, err := p.Execute(ctx, CommandRun, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if runs, _ := publish.Runs(ws.Out()); again.UpToDate != "" || again.RunID == res.RunID || len(runs) != 3 {
			t.Fatalf("run with a new window after held %s: up to date %q, %d runs; want a new build", res.RunID, again.UpToDate, len(runs))
		}
	})

	t.Run("coverage jumps 40 points", func(t *testing.T) {
		ws, p, before := demoPublished(t)
		drop(t, ws, "ken.csv", "country,year,value,series,sex,population\nKEN,2016,51.5,SOC_CONTIG_TOTAL,T,total\n")
		res := held(t, ws, p, before, Options{}, gates.RuleCoverageMove)

		// Status shows it; a nightly run with nothing new leaves it as it
		// is (no second held run); release publishes it and says who.
		st := ReadStatus(ctx, ws, quietLog(), p.Now())
		if len(st.Held) != 1 || st.Held[0].RunID != res.RunID || st.Held[0].Broken[0].Rule != gates.RuleCoverageMove {
			t.Fatalf("status held = %+v", st.Held)
		}
		again, err := p.Execute(ctx, CommandRun, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if runs, _ := publish.Runs(ws.Out()); !again.Held || again.Published || again.UpToDate != res.RunID || len(runs) != 2 {
			t.Fatalf("nightly rerun: held %v, published %v, up to date %q, %d runs; want the held run to stand", again.Held, again.Published, again.UpToDate, len(runs))
		}
		if _, err := p.Release(ctx, before, "", "tester", Options{}); err == nil {
			t.Error("released a run that is not held")
		}
		rec, err := p.Release(ctx, res.RunID, "KEN 2016 corrected by the ministry", "tester", Options{})
		if err != nil {
			t.Fatal(err)
		}
		latest, _ := publish.Latest(ws.Out())
		hist, _ := ws.RunHistory()
		last := hist[len(hist)-1]
		if latest != res.RunID || rec.Released != res.RunID || last.Command != "release" || last.By != "tester" || last.Note != "KEN 2016 corrected by the ministry" {
			t.Errorf("after release: latest %s, record %+v", latest, last)
		}
		if st := ReadStatus(ctx, ws, quietLog(), p.Now()); len(st.Held) != 0 {
			t.Errorf("still held after release: %+v", st.Held)
		}
	})

	t.Run("30% of the ratifications move to a later date", func(t *testing.T) {
		ws, p, before := demoPublished(t)
		var rats []records.Ratification
		err := parquetio.ReadFile(ctx, filepath.Join(ws.Latest(), "ratification.parquet"), memory.NewGoAllocator(), func(b arrow.RecordBatch) error {
			rs, err := records.RatificationsOf(b)
			rats = append(rats, rs...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var csv strings.Builder
		csv.WriteString("country,instrument,ratification_date\n")
		moved := 0
		for i, r := range rats {
			if i%10 < 3 && r.RatificationDate.Year() < 2023 {
				fmt.Fprintf(&csv, "%s,%s,2025-01-01\n", r.Country, r.Instrument)
				moved++
			}
		}
		if moved < len(rats)/4 {
			t.Fatalf("only %d of %d ratifications moved", moved, len(rats))
		}
		drop(t, ws, "moved.csv", csv.String())
		release(t, ws, p, held(t, ws, p, before, Options{}, gates.RuleCountDrop))
	})

	t.Run("a withdrawn submission", func(t *testing.T) {
		ws, p, before := demoPublished(t)
		if _, err := p.Withdraw(ctx, "05_blma_agreements.xlsx", Options{}); err != nil {
			t.Fatal(err)
		}
		release(t, ws, p, held(t, ws, p, before, Options{}, gates.RuleRemovedShare))
	})

	t.Run("a withdrawal explains the counts that fall", func(t *testing.T) {
		ws, p := faultWorkspace(t)
		drop(t, ws, "fra.csv", "country,instrument,ratification_date\nFRA,C097,2019-05-01\n")
		drop(t, ws, "deu.csv", "country,instrument,ratification_date\nDEU,C097,2019-05-01\nDEU,C143,2019-05-01\n")
		if _, err := p.Execute(ctx, CommandRun, Options{}); err != nil {
			t.Fatal(err)
		}
		before, _ := publish.Latest(ws.Out())
		if _, err := p.Withdraw(ctx, "deu.csv", Options{}); err != nil {
			t.Fatal(err)
		}
		// The world's and Europe's counts of ratifications fell; the
		// withdrawal, read from the previous run's manifest, explains it.
		res := held(t, ws, p, before, Options{}, gates.RuleRemovedShare)
		if broken := strings.Join(brokenRules(res), ","); strings.Contains(broken, gates.RuleCountDrop) {
			t.Errorf("broken rules %s: counts that fell with a withdrawn submission are explained", broken)
		}
	})

	t.Run("a region vanishes", func(t *testing.T) {
		ws, p := faultWorkspace(t)
		drop(t, ws, "regions.csv", "country,year,value\nX21,2020,40\nX21,2021,41\nFRA,2020,90\n")
		drop(t, ws, "germany.csv", "country,year,value\nDEU,2020,80\nDEU,2021,81\nITA,2020,70\nITA,2021,71\nESP,2020,60\nESP,2021,61\n")
		if _, err := p.Execute(ctx, CommandRun, Options{}); err != nil {
			t.Fatal(err)
		}
		before, _ := publish.Latest(ws.Out())
		if _, err := p.Withdraw(ctx, "regions.csv", Options{}); err != nil {
			t.Fatal(err)
		}
		res := held(t, ws, p, before, Options{}, gates.RuleAreaVanished)
		var vanished []string
		for _, c := range res.Gates.Broken() {
			if c.Rule == gates.RuleAreaVanished {
				vanished = c.Details
			}
		}
		if strings.Join(vanished, ",") != "FRA,X21" {
			t.Errorf("vanished areas %v, want FRA and X21", vanished)
		}
		release(t, ws, p, res)
	})

	t.Run("--no-gates publishes", func(t *testing.T) {
		ws, p, _ := demoPublished(t)
		drop(t, ws, "ken.csv", "country,year,value,series,sex,population\nKEN,2016,51.5,SOC_CONTIG_TOTAL,T,total\n")
		res, err := p.Execute(ctx, CommandRun, Options{NoGates: true})
		if err != nil {
			t.Fatal(err)
		}
		latest, _ := publish.Latest(ws.Out())
		if res.Held || latest != res.RunID || res.Gates.Skipped == "" {
			t.Errorf("--no-gates: held %v, latest %s, gates %+v", res.Held, latest, res.Gates)
		}
		data, err := os.ReadFile(filepath.Join(ws.Latest(), gates.FileName))
		if err != nil || !strings.Contains(string(data), "--no-gates") {
			t.Errorf("gates.json: %s, %v", data, err)
		}
	})
}

// The input state of a published manifest: an input's name cannot pass
// for it, and a manifest without one, or damaged, has none.
func TestManifestInputState(t *testing.T) {
	ws, p := faultWorkspace(t)
	var written bytes.Buffer
	if err := export.WriteManifest(&written, export.Manifest{RunID: "R", InputState: "abc123",
		Inputs: []export.ManifestInput{{Name: `evil "input_state": "0000".csv`, SHA256: "x"}}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, manifest, want string }{
		{"as written", written.String(), "abc123"},
		{"first key, compact", `{"input_state":"def456","inputs":[{"name":"a"}]}`, "def456"},
		{"at the end", `{"inputs":[],"input_state":"x y"}`, "x y"},
		{"none", `{"run_id":"R","inputs":[{"name":"input_state"}]}`, ""},
		{"not JSON", `{"input_state": `, ""},
		{"damaged before the key", "{\n  \"run_id\": \"R\",\n  \"inputs\": [\x00\x00 garbage\n  \"input_state\": \"abc123\"\n}\n", ""},
	} {
		dir := filepath.Join(ws.Runs(), "R")
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, ManifestJSON), []byte(c.manifest), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := p.readManifestSummary("R").InputState; got != c.want {
			t.Errorf("%s: input state %q, want %q", c.name, got, c.want)
		}
	}
}
