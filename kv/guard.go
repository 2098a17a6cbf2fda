package kv

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/cairnkv/cairn/buckets"
)

// guard runs fn, which reads the bbolt file, and turns a panic or a memory
// fault (a damaged page pointer makes bbolt read garbage or past the end of
// its map) into an error wrapping ErrCorrupt (a *faultError) instead of a
// crashed process (docs/DESIGN.md invariant 4).
func guard(fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if p := recover(); p != nil {
			err = recovered(p)
		}
	}()
	return fn()
}

// recovered is the error of panic p, recovered while the store was read:
// the page gate's own error (buckets.GateError), or a *faultError.
func recovered(p any) error {
	if ge, ok := p.(*buckets.GateError); ok {
		return ge.Err
	}
	return &faultError{p}
}

// faultError is a panic or memory fault that guard recovered.
type faultError struct{ v any }

func (e *faultError) Error() string {
	return fmt.Sprintf("%v: reading the store failed (%v): data.db is damaged; restore a verified backup (kvtool backup list; kvtool backup restore NAME --yes)", ErrCorrupt, e.v)
}

// Unwrap makes errors.Is(err, ErrCorrupt) true.
func (e *faultError) Unwrap() error { return ErrCorrupt }

// guardRead is guard for the function of a View: a panic raised in the
// caller's own code is reported as the caller's (a *panicError, as Update
// reports one), not as damage; a panic or memory fault raised while bbolt
// or Cairn reads the file is a *faultError wrapping ErrCorrupt.
func guardRead(fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if p := recover(); p != nil {
			if ge, ok := p.(*buckets.GateError); ok {
				err = ge.Err
			} else if raisedByStore() {
				err = &faultError{p}
			} else {
				err = &panicError{v: p, op: "read"}
			}
		}
	}()
	return fn()
}

// raisedByStore reports, from inside a deferred recover, whether the
// function that panicked belongs to bbolt or to Cairn's own packages (its
// tests excluded): the first frame past runtime.gopanic that is not the
// runtime's own (a nil dereference, an index out of range or a memory
// fault passes through runtime frames first).
func raisedByStore() bool {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	past := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			past = true
		case past && !strings.HasPrefix(f.Function, "runtime.") && !standardLibrary(f.Function):
			fn := f.Function
			return strings.HasPrefix(fn, "go.etcd.io/bbolt") ||
				(strings.HasPrefix(fn, "github.com/cairnkv/cairn/") && !strings.Contains(fn, "_test."))
		}
		if !more {
			return false
		}
	}
}

// standardLibrary reports whether the function named fn (as runtime.Frame
// names it) is the standard library's: its package path has no dot in its
// first element (bytes.Compare, internal/bytealg.Compare). bbolt calls
// into it with the bytes of a damaged page, so a panic raised there is
// told by the frame that called it. The main package is the caller's.
func standardLibrary(fn string) bool {
	first, _, _ := strings.Cut(fn, "/")
	if pkg, _, ok := strings.Cut(first, "."); ok && !strings.Contains(fn, "/") {
		return pkg != "main"
	}
	return !strings.Contains(first, ".")
}
