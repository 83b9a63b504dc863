package export

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// encodingJSONManifest is the manifest as encoding/json writes it whole:
// the form WriteManifest must keep.
func encodingJSONManifest(t testing.TB, m Manifest) string {
	t.Helper()
	m.StartedAt = m.StartedAt.UTC().Truncate(time.Second)
	m.FinishedAt = m.FinishedAt.UTC().Truncate(time.Second)
	if m.Inputs == nil {
		m.Inputs = []ManifestInput{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func manifestWith(inputs []ManifestInput) Manifest {
	y1, y2 := 2015, 2026
	return Manifest{RunID: "20261130T010203Z", StartedAt: time.Date(2026, 11, 30, 1, 2, 3, 400, time.UTC), FinishedAt: time.Date(2026, 11, 30, 1, 2, 9, 0, time.FixedZone("X", 3600)),
		ToolVersion: "0.1.0 (abc)", CatalogVersion: "1", FirstYear: &y1, LastYear: &y2, Inputs: inputs,
		Outputs:    []ManifestFile{{Name: "indicators.csv", SHA256: "ab", Bytes: 10, Rows: 2}},
		InputState: "feed"}
}

// TestManifestAsEncodingJSONWritesIt: the manifest is byte for byte what
// encoding/json writes, whatever the names: quotes, HTML characters,
// control characters, line separators, invalid UTF-8; with domains in any
// order, none, or a nil map; with and without the run that accepted it.
func TestManifestAsEncodingJSONWritesIt(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	names := []string{"plain.xlsx", "AT&T.csv", `a "quoted" <b>&amp;.csv`, "tab\there\nline", "Côte d’Ivoire.xlsx", "sep\u2028x", "bad \xff utf8", "back\\slash", "\x7f del", ""}
	var inputs []ManifestInput
	for i, n := range names {
		in := ManifestInput{Name: n, SHA256: "0123abcd", Rows: i * 7, Submission: i + 1, AcceptedAt: at.Add(time.Duration(i) * time.Hour)}
		switch i % 4 {
		case 0:
			in.RowsByDomain = map[string]int{"social_protection": 3, "blma": 4, "ratification": 1}
		case 1:
			in.RowsByDomain = map[string]int{}
		case 2:
			in.RowsByDomain = map[string]int{"blma": 9}
		}
		if i%3 != 0 {
			in.RunID = "R<" + n + ">"
		}
		inputs = append(inputs, in)
	}
	for _, m := range []Manifest{manifestWith(inputs), manifestWith(inputs[:1]), manifestWith(nil), manifestWith([]ManifestInput{})} {
		var got bytes.Buffer
		if err := WriteManifest(&got, m); err != nil {
			t.Fatal(err)
		}
		if want := encodingJSONManifest(t, m); got.String() != want {
			t.Fatalf("manifest differs from encoding/json's:\n%s\nwant:\n%s", got.String(), want)
		}
	}
}

// FuzzManifestInputs: any name and run ID are written as encoding/json
// writes them.
func FuzzManifestInputs(f *testing.F) {
	f.Add("a.xlsx", "R1", 3)
	f.Add("<&>\"\\\x00\u2028", "", -1)
	f.Fuzz(func(t *testing.T, name, run string, rows int) {
		m := manifestWith([]ManifestInput{{Name: name, SHA256: name, Rows: rows, RowsByDomain: map[string]int{name: rows, "x": 1}, Submission: rows, RunID: run,
			AcceptedAt: time.Unix(int64(rows), 0).UTC()}})
		var got bytes.Buffer
		if err := WriteManifest(&got, m); err != nil {
			t.Fatal(err)
		}
		if want := encodingJSONManifest(t, m); got.String() != want {
			t.Fatalf("differs:\n%s\nwant:\n%s", got.String(), want)
		}
	})
}
