package schedules

import (
	"testing"
	"time"
)

func TestParseAndNext(t *testing.T) {
	s, err := Parse("nightly", "0 2 * * *", "run", "Europe/Zurich")
	if err != nil {
		t.Fatal(err)
	}
	after := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	next := s.Next(after)
	if got := next.UTC().Format(time.RFC3339); got != "2026-11-27T01:00:00Z" {
		t.Errorf("next = %s, want 02:00 in Zurich (01:00 UTC)", got)
	}
	if _, err := Parse("d", "@daily", "build", "UTC"); err != nil {
		t.Errorf("descriptor: %v", err)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tt := range []struct{ spec, tz string }{
		{"TZ=", "UTC"}, {"CRON_TZ=", "UTC"}, {"CRON_TZ=Europe/Paris 0 2 * * *", "UTC"},
		{"0 2 * *", "UTC"}, {"61 2 * * *", "UTC"}, {"", "UTC"}, {"@daily", "Mars/Olympus"}, {"@daily", ""}, {"@daily", "Local"},
	} {
		if _, err := Parse("x", tt.spec, "run", tt.tz); err == nil {
			t.Errorf("Parse(%q, %q) accepted", tt.spec, tt.tz)
		}
	}
}

func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"0 2 * * *", "@daily", "TZ=", "*/5 * * * *", "0 0 31 2 *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ParseCron(s) // must never panic
	})
}
