// Package safego runs work on goroutines whose panics come back as errors.
//
// A panic on a goroutine of its own ends the whole process, whatever the
// caller recovers: the scheduler and the server, which survive a run that
// panics by recovering on the run's goroutine, would die of one panicking
// on a worker the run started. Workers defer Catch with their error, or
// run through ForEach, which does.
package safego

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// PanicError is a panic recovered on a worker goroutine.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("panic: %v\n%s", e.Value, e.Stack)
}

// Catch, deferred on a goroutine, recovers a panic and stores it in *err
// as a *PanicError.
func Catch(err *error) {
	if r := recover(); r != nil {
		*err = &PanicError{Value: r, Stack: debug.Stack()}
	}
}

// ForEach calls fn(i) for each i in [0, n) on at most workers goroutines,
// which take the indices in order. Once a call fails no new one starts.
// It returns the calls' errors joined, a panic as a *PanicError.
func ForEach(n, workers int, fn func(i int) error) error {
	errs := make([]error, n)
	var (
		next   atomic.Int64
		failed atomic.Bool
		wg     sync.WaitGroup
	)
	for range min(max(workers, 1), n) {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if errs[i] = call(fn, i); errs[i] != nil {
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func call(fn func(int) error, i int) (err error) {
	defer Catch(&err)
	return fn(i)
}

// Go runs fn on a goroutine of its own and returns a function that waits
// for it and returns its error (a panic as a *PanicError). The function
// may be called more than once; each call returns the same error.
func Go(fn func() error) (wait func() error) {
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		defer Catch(&err)
		err = fn()
	}()
	return func() error {
		<-done
		return err
	}
}
