package kv

import (
	"fmt"
	"runtime/debug"
)

// guard runs fn, which reads the bbolt file, and turns a panic or a memory
// fault (a damaged page pointer makes bbolt read garbage or past the end of
// its map) into an error wrapping ErrCorrupt (a *faultError) instead of a
// crashed process (DESIGN.md invariant 4).
func guard(fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if p := recover(); p != nil {
			err = &faultError{p}
		}
	}()
	return fn()
}

// faultError is a panic or memory fault that guard recovered.
type faultError struct{ v any }

func (e *faultError) Error() string {
	return fmt.Sprintf("%v: reading the store failed (%v): data.db is damaged; restore a verified backup (kvtool backup list; kvtool backup restore NAME --yes)", ErrCorrupt, e.v)
}

// Unwrap makes errors.Is(err, ErrCorrupt) true.
func (e *faultError) Unwrap() error { return ErrCorrupt }
