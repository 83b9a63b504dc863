package export

import (
	"encoding/json"
	"fmt"
	"io"
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
// times.
func WriteManifest(w io.Writer, m Manifest) error {
	m.StartedAt = m.StartedAt.UTC().Truncate(time.Second)
	m.FinishedAt = m.FinishedAt.UTC().Truncate(time.Second)
	if m.Inputs == nil {
		m.Inputs = []ManifestInput{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}
