package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/ilo-pledge/pledgestat/ingest"
	"github.com/ilo-pledge/pledgestat/ingest/annotate"
	"github.com/ilo-pledge/pledgestat/ingest/workbook"
	"github.com/ilo-pledge/pledgestat/internal/fsx"
	"github.com/ilo-pledge/pledgestat/store"
	"github.com/ilo-pledge/pledgestat/workspace"
)

// ingest takes every inbox file, in lexical order. Each file ends in
// archive/ (accepted or a duplicate of accepted bytes) or rejected/ (with its
// errors.csv). The store is written before the file is moved, so that a
// crash in between leaves a file the next run recognises and finishes.
func (p *Pipeline) ingest(ctx context.Context, log *slog.Logger, st *store.Store, res *Result) error {
	files, err := p.WS.InboxFiles()
	if err != nil {
		return err
	}
	reader := p.Reader()
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		p.progress(i, len(files), "reading "+f.Name)
		sub, err := reader.ReadFile(ctx, f.Path, f.Name)
		if err != nil {
			return fmt.Errorf("read %s: %w", f.Name, err)
		}
		var outcome FileOutcome
		if sub.Accepted() {
			outcome, err = p.accept(ctx, log, st, res.RunID, f, sub)
		} else {
			outcome, err = p.reject(log, st, res.RunID, f, sub)
		}
		if err != nil {
			return err
		}
		res.Files = append(res.Files, outcome)
	}
	p.progress(len(files), len(files), "ingest done")
	return nil
}

func (p *Pipeline) accept(ctx context.Context, log *slog.Logger, st *store.Store, runID string, f workspace.InboxFile, sub *ingest.Submission) (FileOutcome, error) {
	out := FileOutcome{Name: f.Name, SHA256: sub.SHA256, Warnings: sub.Report.Count("warning")}
	if prev, ok := st.FindAccepted(sub.SHA256); ok {
		// The same bytes again, or a file whose move to the archive an
		// interrupted run did not finish.
		target := filepath.Join(p.WS.Root, filepath.FromSlash(prev.StoredAs))
		if _, err := os.Stat(target); errors.Is(err, fs.ErrNotExist) && prev.File == f.Name {
			if err := fsx.Move(p.WS.FS, f.Path, target); err != nil {
				return out, err
			}
			log.Warn("repaired: finished archiving a file an interrupted run had accepted", "file", f.Name, "archived", prev.StoredAs)
			out.Outcome, out.StoredAs, out.Rows = "accepted", prev.StoredAs, prev.Rows
			return out, nil
		}
		dest := p.WS.ArchivePath(runID, f.Name)
		out.Outcome, out.StoredAs = "duplicate", p.WS.Rel(dest)
		if err := st.Record(store.Entry{Event: store.EventDuplicate, RunID: runID, File: f.Name, SHA256: sub.SHA256, Size: sub.Size, StoredAs: out.StoredAs, DuplicateOf: prev.Seq}); err != nil {
			return out, err
		}
		if err := fsx.Move(p.WS.FS, f.Path, dest); err != nil {
			return out, err
		}
		log.Info("duplicate: these bytes were already accepted, not counted again", "file", f.Name, "first_submitted_as", prev.File, "submission", prev.Seq, "archived", out.StoredAs)
		return out, nil
	}
	dest := p.WS.ArchivePath(runID, f.Name)
	entry, err := st.Accept(ctx, store.Entry{RunID: runID, File: f.Name, SHA256: sub.SHA256, Size: sub.Size, StoredAs: p.WS.Rel(dest), Warnings: out.Warnings}, sub.Set, areaName(p.Ref))
	if err != nil {
		return out, fmt.Errorf("store %s: %w", f.Name, err)
	}
	if err := fsx.Move(p.WS.FS, f.Path, dest); err != nil {
		return out, err
	}
	out.Outcome, out.StoredAs, out.Rows, out.Superseded = "accepted", entry.StoredAs, entry.Rows, entry.Superseded
	log.Info("accepted", "file", f.Name, "rows", entry.Rows, "superseded", entry.Superseded, "warnings", out.Warnings, "archived", out.StoredAs)
	return out, nil
}

func (p *Pipeline) reject(log *slog.Logger, st *store.Store, runID string, f workspace.InboxFile, sub *ingest.Submission) (FileOutcome, error) {
	dest := p.WS.RejectedPath(runID, f.Name)
	reportPath := dest + ".errors.csv"
	out := FileOutcome{Name: f.Name, Outcome: "rejected", SHA256: sub.SHA256, StoredAs: p.WS.Rel(dest), Report: p.WS.Rel(reportPath),
		Errors: sub.Report.Count("error"), Warnings: sub.Report.Count("warning")}
	if first, ok := sub.Report.FirstError(); ok {
		out.FirstError = first.Message
		switch {
		case first.Cell != "" && first.Sheet != "":
			out.FirstError = first.Sheet + "!" + first.Cell + ": " + first.Message
		case first.Cell != "":
			out.FirstError = first.Cell + ": " + first.Message
		}
	}
	if err := p.WS.FS.MkdirAll(p.WS.Rejected(), 0o755); err != nil {
		return out, fmt.Errorf("create rejected/: %w", err)
	}
	if err := fsx.WriteFile(p.WS.FS, reportPath, 0o644, func(w io.Writer) error { return sub.Report.WriteCSV(w) }); err != nil {
		return out, err
	}
	if sub.Format == workbook.FormatXLSX {
		if sub.Size > maxAnnotatedBytes {
			log.Info("no annotated copy: the workbook is too large to copy in memory", "file", f.Name, "bytes", sub.Size)
		} else {
			annotated := dest + ".annotated.xlsx"
			err := fsx.WriteFile(p.WS.FS, annotated, 0o644, func(w io.Writer) error { return annotate.Workbook(f.Path, sub.Report, w) })
			if err != nil {
				// The errors.csv says it all; a copy that cannot be made
				// must not stop the run.
				log.Warn("no annotated copy of the rejected workbook", "file", f.Name, "err", err)
			} else {
				out.Annotated = p.WS.Rel(annotated)
			}
		}
	}
	if err := fsx.Move(p.WS.FS, f.Path, dest); err != nil {
		return out, err
	}
	if err := st.Record(store.Entry{Event: store.EventRejected, RunID: runID, File: f.Name, SHA256: sub.SHA256, Size: sub.Size,
		StoredAs: out.StoredAs, Errors: out.Errors, Warnings: out.Warnings, FirstError: out.FirstError}); err != nil {
		return out, err
	}
	log.Warn("rejected", "file", f.Name, "errors", out.Errors, "first_error", out.FirstError, "report", out.Report)
	return out, nil
}

func displayName(path string) string { return filepath.Base(path) }

// maxAnnotatedBytes bounds the workbooks copied with annotations: the copy
// is made with excelize's in-memory API.
const maxAnnotatedBytes = 32 << 20
