package publish

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Runs lists runs newest first by when they started, not as strings: the
// tenth run of a second is newer than the ninth, and retention keeps the
// first entries of this list. Folders that are not runs are not listed.
func TestRunsSortAsTimes(t *testing.T) {
	out := t.TempDir()
	names := []string{
		"20261129T055242Z-9", "20261129T055242Z", "20261129T055242Z-10", "20261129T055242Z-2",
		"20261128T235959Z", "20261129T055243Z", ".staging-x", "notes",
	}
	for _, n := range names {
		if err := os.MkdirAll(filepath.Join(out, "runs", n), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Runs(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"20261129T055243Z", "20261129T055242Z-10", "20261129T055242Z-9", "20261129T055242Z-2", "20261129T055242Z", "20261128T235959Z"}
	if !slices.Equal(got, want) {
		t.Errorf("runs\n%v\nwant\n%v", got, want)
	}
}

func TestCompareRunIDs(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"20261129T055242Z", "20261129T055242Z-2", -1},
		{"20261129T055242Z-9", "20261129T055242Z-10", -1},
		{"20261129T055242Z-10", "20261129T055243Z", -1},
		{"20261129T055242Z-10", "20261129T055242Z-10", 0},
		{"20261129T055242Z-1", "20261129T055242Z", 1}, // not a run id: after those that are
		{"x", "20261129T055242Z", 1},
	} {
		if got := CompareRunIDs(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareRunIDs(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := CompareRunIDs(tc.b, tc.a); got != -tc.want {
			t.Errorf("CompareRunIDs(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}
