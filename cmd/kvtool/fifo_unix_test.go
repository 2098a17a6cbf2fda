//go:build unix

package main

import (
	"path/filepath"
	"syscall"
	"testing"
)

// TestDataFIFO: a FIFO in data.db's place blocked a writer's open for
// ever (SIGTERM did not end it); it is "no store", as for a reader.
func TestDataFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "data.db"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantNotRegular(t, dir)
}
