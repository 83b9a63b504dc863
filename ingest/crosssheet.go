package ingest

import (
	"strings"

	"github.com/ilo-pledge/pledgestat/ingest/report"
	"github.com/ilo-pledge/pledgestat/records"
)

// checkAcrossSheets applies the record-key rule to the whole file: each
// table already checked its own rows; two sheets giving the same record are
// a duplicate too (an identical repeat is dropped with a warning, a
// different one is an error on both rows).
func checkAcrossSheets(sub *Submission) {
	sub.Ratifications = dedupe(sub.Report, sub.Ratifications,
		func(r records.Ratification) string { return r.Key() },
		func(r records.Ratification) records.Provenance { return r.Source },
		sameRatification)
	// Social-protection observations are checked as they are read
	// (coverageStream), across sheets too.
	sub.Agreements = dedupe(sub.Report, sub.Agreements,
		func(a records.Agreement) string { return a.Key() },
		func(a records.Agreement) records.Provenance { return a.Source },
		sameAgreement)
}

// dedupe drops repeats across sheets. Records from one sheet alone were
// checked by their table, so they are returned as they are, without the
// key index (a million-row sheet would need hundreds of MiB for it); the
// copy is made only when a repeat is dropped.
func dedupe[T any](rep *report.Report, recs []T, key func(T) string, src func(T) records.Provenance, same func(a, b T) bool) []T {
	if oneSheet(recs, src) {
		return recs
	}
	first := map[string]int{}
	out := recs[:0:0]
	for _, r := range recs {
		k := key(r)
		j, seen := first[k]
		what := strings.ReplaceAll(k, "|", " ") // the key as the sender reads it: "FRA C097"
		if !seen {
			first[k] = len(out)
			out = append(out, r)
			continue
		}
		a, b := src(out[j]), src(r)
		if a.Sheet == b.Sheet {
			continue // the table's own check reported it
		}
		if same(out[j], r) {
			rep.Warnf(report.DuplicateRow, b.Sheet, colNum(b.Cell), rowNum(b.Cell), "row %d repeats row %d of sheet %q (%s); the repeat was ignored", rowNum(b.Cell), rowNum(a.Cell), a.Sheet, what)
			continue
		}
		msg := "sheet %q row %d and sheet %q row %d both give the record %s with different values; keep only the right one"
		rep.Errorf(report.DuplicateRecord, a.Sheet, colNum(a.Cell), rowNum(a.Cell), msg, a.Sheet, rowNum(a.Cell), b.Sheet, rowNum(b.Cell), what)
		rep.Errorf(report.DuplicateRecord, b.Sheet, colNum(b.Cell), rowNum(b.Cell), msg, a.Sheet, rowNum(a.Cell), b.Sheet, rowNum(b.Cell), what)
	}
	return out
}

func oneSheet[T any](recs []T, src func(T) records.Provenance) bool {
	for i := 1; i < len(recs); i++ {
		if src(recs[i]).Sheet != src(recs[0]).Sheet {
			return false
		}
	}
	return true
}

// colNum extracts the column number of an A1 reference.
func colNum(cell string) int {
	n := 0
	for _, r := range cell {
		if r < 'A' || r > 'Z' {
			break
		}
		n = n*26 + int(r-'A'+1)
	}
	return n
}
