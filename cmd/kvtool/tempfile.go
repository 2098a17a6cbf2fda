package main

import (
	"fmt"
	"os"
	"runtime"
)

// unlinkedTemp creates a temporary file and, where the system allows a
// file to be reopened through its descriptor (Linux's /proc/self/fd),
// removes its name at once: kvtool's copies of stdin, of a FIFO or of an
// attachment hold the user's data, and a process killed with SIGKILL
// never runs the code that removes them. path names the file for
// reopening (the descriptor's path, or the name elsewhere); remove drops
// the name where it still exists, and the file itself stays the caller's
// to close.
func unlinkedTemp(prefix string) (f *os.File, path string, remove func(), err error) {
	f, err = os.CreateTemp("", prefix)
	if err != nil {
		return nil, "", nil, err
	}
	name := f.Name()
	if runtime.GOOS == "linux" {
		fd := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
		if _, err := os.Stat(fd); err == nil && os.Remove(name) == nil {
			return f, fd, func() {}, nil
		}
	}
	return f, name, func() { _ = os.Remove(name) }, nil // a temporary copy: failing to remove loses nothing
}
