//go:build unix

package fsutil

import (
	"errors"
	"os"
	"syscall"
)

// holdTemp marks f, a temporary file being written, as in use: an
// exclusive flock, which the kernel drops when the process ends, however
// it ends.
func holdTemp(f *os.File) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return // best effort: an unlocked temp is only left to age
		}
	}
}

// tempAbandoned reports whether the temporary file at path is held by no
// process (holdTemp): the writer died before renaming or removing it.
func tempAbandoned(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close() // read only; closing drops the probe's lock
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true
		case errors.Is(err, syscall.EINTR):
			continue
		default:
			return false
		}
	}
}
