package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Manifest describes one published run (outputs.md).
type Manifest struct {
	RunID          string          `json:"run_id"`
	StartedAt      time.Time       `json:"started_at"`
	FinishedAt     time.Time       `json:"finished_at"`
	ToolVersion    string          `json:"tool_version"`
	CatalogVersion string          `json:"catalog_version"`
	FirstYear      *int            `json:"first_year"` // null when the store gives no year
	LastYear       *int            `json:"last_year"`
	Inputs         []ManifestInput `json:"inputs"`
	Outputs        []ManifestFile  `json:"outputs"`
	// InputState fingerprints everything the outputs depend on (the
	// accepted submissions, the configuration, the catalog and reference
	// data, the tool, the year): a run whose state matches the latest
	// run's has nothing new to publish.
	InputState string `json:"input_state,omitempty"`
	// DomainStates fingerprint, per domain, what its indicators depend
	// on (the submissions holding its records, the catalog, the
	// reference data, the tool): a later build whose domain has the same
	// state, over the same years, takes that domain's indicators from
	// this run rather than computing them again.
	DomainStates map[string]string `json:"domain_states,omitempty"`
}

// ManifestInput is one accepted input file.
type ManifestInput struct {
	Name         string         `json:"name"`
	SHA256       string         `json:"sha256"`
	Rows         int            `json:"rows"`
	RowsByDomain map[string]int `json:"rows_by_domain"`
	Submission   int            `json:"submission"`
	AcceptedAt   time.Time      `json:"accepted_at"`
	RunID        string         `json:"run_id,omitempty"`
}

// ManifestFile is one output file.
type ManifestFile struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	Rows   int    `json:"rows"`
}

// WriteManifest writes the manifest as indented JSON with RFC 3339 UTC
// times. Its inputs, a line per accepted submission of the store (10,000
// make 3 MB), are written by appendInputs, in encoding/json's own form
// (TestManifestAsEncodingJSONWritesIt): encoding them by reflection and
// indenting them again took a twentieth of a run with one new file, last
// in line, after every other output.
func WriteManifest(w io.Writer, m Manifest) error {
	m.StartedAt = m.StartedAt.UTC().Truncate(time.Second)
	m.FinishedAt = m.FinishedAt.UTC().Truncate(time.Second)
	inputs := m.Inputs
	m.Inputs = []ManifestInput{}
	var head bytes.Buffer
	enc := json.NewEncoder(&head)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	out := head.Bytes()
	if len(inputs) > 0 {
		const empty = "\n  \"inputs\": [],\n"
		at := bytes.Index(out, []byte(empty))
		if at < 0 {
			return errors.New("write manifest: no inputs in the encoded manifest")
		}
		body := make([]byte, 0, at+len(inputs)*320+len(out))
		body = append(body, out[:at]...)
		body = append(body, "\n  \"inputs\": [\n"...)
		var err error
		if body, err = appendInputs(body, inputs); err != nil {
			return fmt.Errorf("write manifest: %w", err)
		}
		body = append(body, "\n  ],\n"...)
		out = append(body, out[at+len(empty):]...)
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// appendInputs appends the inputs as the elements of the manifest's
// inputs array, as encoding/json indents them.
func appendInputs(b []byte, inputs []ManifestInput) ([]byte, error) {
	for i, in := range inputs {
		if i > 0 {
			b = append(b, ",\n"...)
		}
		b = append(b, "    {\n      \"name\": "...)
		b = appendJSONString(b, in.Name)
		b = append(b, ",\n      \"sha256\": "...)
		b = appendJSONString(b, in.SHA256)
		b = append(b, ",\n      \"rows\": "...)
		b = strconv.AppendInt(b, int64(in.Rows), 10)
		b = append(b, ",\n      \"rows_by_domain\": "...)
		switch {
		case in.RowsByDomain == nil:
			b = append(b, "null"...)
		case len(in.RowsByDomain) == 0:
			b = append(b, "{}"...)
		default:
			b = append(b, "{\n"...)
			for j, k := range slices.Sorted(maps.Keys(in.RowsByDomain)) {
				if j > 0 {
					b = append(b, ",\n"...)
				}
				b = append(b, "        "...)
				b = appendJSONString(b, k)
				b = append(b, ": "...)
				b = strconv.AppendInt(b, int64(in.RowsByDomain[k]), 10)
			}
			b = append(b, "\n      }"...)
		}
		b = append(b, ",\n      \"submission\": "...)
		b = strconv.AppendInt(b, int64(in.Submission), 10)
		b = append(b, ",\n      \"accepted_at\": "...)
		t, err := in.AcceptedAt.MarshalJSON()
		if err != nil {
			return nil, err
		}
		b = append(b, t...)
		if in.RunID != "" {
			b = append(b, ",\n      \"run_id\": "...)
			b = appendJSONString(b, in.RunID)
		}
		b = append(b, "\n    }"...)
	}
	return b, nil
}

// appendJSONString appends s as encoding/json writes it (HTML characters
// escaped, as its Encoder does by default): as it is when it is printable
// ASCII with nothing to escape, through encoding/json otherwise.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
