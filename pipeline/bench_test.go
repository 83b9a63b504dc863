package pipeline

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/ilo-pledge/pledgestat/demo"
	"github.com/ilo-pledge/pledgestat/records"
	"github.com/ilo-pledge/pledgestat/refdata"
	"github.com/ilo-pledge/pledgestat/store"
	"github.com/ilo-pledge/pledgestat/transform"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// demoPipeline is a new workspace with the demo files in its inbox.
func demoPipeline(tb testing.TB) *Pipeline {
	tb.Helper()
	ws, err := workspace.Init(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := demo.Seed(ws.Inbox()); err != nil {
		tb.Fatal(err)
	}
	ref, err := refdata.Load()
	if err != nil {
		tb.Fatal(err)
	}
	return New(ws, ref, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// BenchmarkIngestDemo reads and stores the six demo files.
func BenchmarkIngestDemo(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p := demoPipeline(b)
		b.StartTimer()
		if _, err := p.Execute(context.Background(), CommandIngest, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildDemo computes and publishes the demo store (29k
// observations), reading the store, never the archived files.
func BenchmarkBuildDemo(b *testing.B) {
	p := demoPipeline(b)
	if _, err := p.Execute(context.Background(), CommandIngest, Options{}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Execute(context.Background(), CommandBuild, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComputeStore computes the indicators of the store of the
// workspace PLEDGESTAT_BENCH_WORKSPACE names (bench/run.sh makes one of
// 10,000 submissions), its tables read once: the computation alone, as a
// build does it.
func BenchmarkComputeStore(b *testing.B) {
	root := os.Getenv("PLEDGESTAT_BENCH_WORKSPACE")
	if root == "" {
		b.Skip("PLEDGESTAT_BENCH_WORKSPACE names no workspace")
	}
	ws, err := workspace.Open(root)
	if err != nil {
		b.Fatal(err)
	}
	ref, err := refdata.Load()
	if err != nil {
		b.Fatal(err)
	}
	p := New(ws, ref, slog.New(slog.NewTextHandler(io.Discard, nil)))
	st, err := store.OpenReadOnly(ws.StoreDir(), p.Log)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	tables, err := st.Tables(ctx, p.mem(), areaName(ref), p.namesID(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tables.Release()
	in := transform.Inputs{Ratification: tables.Table(records.DomainRatification), SocialProtection: tables.Table(records.DomainSocialProtection), BLMA: tables.Table(records.DomainBLMA)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := transform.Compute(ctx, ref, in, transform.Options{MaxYear: 2026}); err != nil {
			b.Fatal(err)
		}
	}
}
