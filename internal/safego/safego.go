// Package safego turns a panic on a worker goroutine into an error.
//
// A panic on a goroutine of its own ends the whole process, whatever the
// caller recovers: the scheduler and the server, which survive a run that
// panics by recovering on the run's goroutine, would die of one panicking
// on a worker the run started. Workers defer Catch with their error.
package safego

import (
	"fmt"
	"runtime/debug"
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
