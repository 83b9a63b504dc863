package workbook

import (
	"context"
	"errors"
	"fmt"

	"github.com/ilo-pledge/pledgestat/ingest/report"
)

// rowBatch is how many rows are handed over at a time.
const rowBatch = 256

var errStopped = errors.New("stopped by the reader of the rows")

// concurrentWalk runs produce, which decodes a sheet's rows, and fn, the
// caller's work on each row, on two goroutines, handing rows over in
// batches: decoding the file and validating its rows use both cores. fn
// sees the rows in order. When fn fails, decoding stops and fn's error is
// returned; otherwise produce's. A panic while decoding is the file's
// fault: unreadable.
func concurrentWalk(ctx context.Context, sheet string, produce func(emit func(Row) error) error, fn func(Row) error) error {
	batches := make(chan []Row, 4)
	stop := make(chan struct{})
	var prodErr error
	go func() {
		defer close(batches)
		defer func() {
			if r := recover(); r != nil {
				prodErr = problemf(report.Unreadable, "sheet %q is damaged and could not be read (%v); open the workbook in Excel, check it, and save it again", sheet, r)
			}
		}()
		batch := make([]Row, 0, rowBatch)
		send := func() error {
			select {
			case batches <- batch:
				batch = make([]Row, 0, rowBatch)
				return nil
			case <-stop:
				return errStopped
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		prodErr = produce(func(r Row) error {
			batch = append(batch, r)
			if len(batch) == rowBatch {
				return send()
			}
			return nil
		})
		if prodErr == nil && len(batch) > 0 {
			prodErr = send()
		}
	}()
	var fnErr error
	stopped := false
	// However the consumer ends (an error, or a panic in fn going up to
	// the caller), the producer is told to stop and waited for, so that it
	// never outlives the walk or reads a file that is being closed.
	defer func() {
		if !stopped {
			close(stop)
		}
		for range batches {
		}
	}()
	for batch := range batches {
		if fnErr != nil {
			continue // drain until the producer has seen stop
		}
		for _, r := range batch {
			if err := fn(r); err != nil {
				fnErr = err
				close(stop)
				stopped = true
				break
			}
		}
	}
	if fnErr != nil {
		return fnErr
	}
	if errors.Is(prodErr, errStopped) {
		return fmt.Errorf("walk: %w", prodErr) // cannot happen: stop is closed only with fnErr set
	}
	return prodErr
}
