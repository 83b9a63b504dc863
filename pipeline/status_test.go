package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// ReadStatus tells an operator what is published, what ran, what waits,
// what was rejected and why, and what the store holds; a rejected file
// moved away by an operator is no longer listed.
func TestReadStatus(t *testing.T) {
	ws, p, published := publishedWithNewFiles(t)
	ctx := context.Background()
	if _, err := p.Execute(ctx, CommandRun, Options{}); err != nil {
		t.Fatal(err)
	}
	drop(t, ws, "d.csv", "country,year,value\nITA,2020,40\n")
	now := time.Now()
	st := ReadStatus(ctx, ws, quietLog(), now)
	if len(st.Problems) != 0 {
		t.Errorf("problems: %v", st.Problems)
	}
	if st.Latest == "" || st.Latest == published {
		t.Errorf("latest = %q, want the second run's (the first was %q)", st.Latest, published)
	}
	if len(st.Runs) != 2 || st.Runs[0].RunID != st.Latest {
		t.Errorf("runs = %+v, want two, newest first", st.Runs)
	}
	if st.Submissions != 2 || st.StoreTotals["social_protection"] != 2 {
		t.Errorf("store: %d submissions, totals %v; want 2 and 2 social_protection records", st.Submissions, st.StoreTotals)
	}
	if len(st.Waiting) != 1 || st.Waiting[0].Name != "d.csv" || st.Waiting[0].Settling {
		t.Errorf("waiting = %+v, want d.csv, not settling (settle_seconds is 0)", st.Waiting)
	}
	if len(st.Rejected) != 1 || st.Rejected[0].File != "c.csv" || st.Rejected[0].Errors == 0 || st.Rejected[0].FirstError == "" {
		t.Fatalf("rejected = %+v, want c.csv with its first error", st.Rejected)
	}
	if err := os.Remove(filepath.Join(ws.Root, filepath.FromSlash(st.Rejected[0].StoredAs))); err != nil {
		t.Fatal(err)
	}
	if st := ReadStatus(ctx, ws, quietLog(), now); len(st.Rejected) != 0 {
		t.Errorf("rejected after the file was moved away = %+v, want none", st.Rejected)
	}
}

// A status never hides what it can read behind what it cannot: a run
// history that cannot be read is a problem, the store is still counted.
func TestReadStatusWithAnUnreadableHistory(t *testing.T) {
	ws, p, _ := publishedWithNewFiles(t)
	ctx := context.Background()
	if _, err := p.Execute(ctx, CommandRun, Options{}); err != nil {
		t.Fatal(err)
	}
	history := filepath.Join(ws.Root, ".pledgestat", "runs.jsonl")
	if err := os.Remove(history); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(history, 0o755); err != nil {
		t.Fatal(err)
	}
	st := ReadStatus(ctx, ws, quietLog(), time.Now())
	if len(st.Problems) == 0 {
		t.Error("a run history that cannot be read is not reported as a problem")
	}
	if st.Submissions != 2 {
		t.Errorf("submissions = %d, want 2 despite the unreadable history", st.Submissions)
	}
}
