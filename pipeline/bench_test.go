package pipeline

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/ilo-pledge/pledgestat/demo"
	"github.com/ilo-pledge/pledgestat/refdata"
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
