package fsutil

import (
	"fmt"
	"os"
	"sync/atomic"
)

// Fault injection. Every file-system step Cairn takes when it writes a file
// whole (create a temporary file, write it, sync it, rename it, sync its
// directory) goes through this package, so a test can make any one step
// fail as the system would (disk full, I/O error) and check that the
// operation ends with a clear error and a store that opens and checks
// clean. It costs one atomic load per step when unused.

// ErrInjected is what an injected fault returns, wrapped with the step.
var ErrInjected = fmt.Errorf("fsutil: injected fault")

var fault atomic.Pointer[func(op, path string) error]

// SetFault installs f, called before every step with the operation
// ("create", "write", "copy", "sync", "rename", "syncdir") and the path; a non-nil
// error fails that step. It returns a function that removes f. For tests.
func SetFault(f func(op, path string) error) (restore func()) {
	fault.Store(&f)
	return func() { fault.Store(nil) }
}

func inject(op, path string) error {
	if f := fault.Load(); f != nil {
		if err := (*f)(op, path); err != nil {
			return fmt.Errorf("%s %s: %w", op, path, err)
		}
	}
	return nil
}

// CreateTemp is os.CreateTemp through the fault seam.
func CreateTemp(dir, pattern string) (*os.File, error) {
	if err := inject("create", dir); err != nil {
		return nil, err
	}
	return os.CreateTemp(dir, pattern)
}

// Sync is f.Sync through the fault seam.
func Sync(f *os.File) error {
	if err := inject("sync", f.Name()); err != nil {
		return err
	}
	return f.Sync()
}
