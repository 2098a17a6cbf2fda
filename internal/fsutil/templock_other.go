//go:build !unix

package fsutil

import (
	"os"
	"time"
)

// holdTemp does nothing where flock is not available.
func holdTemp(f *os.File) {}

// tempAbandoned reports whether the temporary file at path has not been
// written for a day: without flock, age is the only sign its writer died.
func tempAbandoned(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && time.Since(fi.ModTime()) > 24*time.Hour
}
