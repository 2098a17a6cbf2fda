package search

import (
	"context"
	"strings"
	"testing"
)

// TestVerifySegments checks that a byte flipped in the middle of a
// segment file, where Open's checks do not look and a search may never
// go, is found by its CRC, and that an intact index has no finding.
func TestVerifySegments(t *testing.T) {
	dir := t.TempDir()
	buildIndex(t, dir)
	verify := func() []string {
		t.Helper()
		ix, _, err := Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ix.Close()
		bad, err := ix.VerifySegments(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return bad
	}
	for range 2 { // the second Open lists what the first one's merger wrote
		if bad := verify(); len(bad) != 0 {
			t.Fatalf("intact index: %q", bad)
		}
	}
	// Every segment file, the snapshot's among them whatever the merger
	// did when the index was opened; damaged as a disk would, keeping the
	// size and modification time, so that Open, which has read these
	// segments already (its verified list), does not read them again.
	files := zapFiles(t, dir)
	for _, f := range files {
		damageKeepingTime(t, f, func(b []byte) bool { b[len(b)/2] ^= 0x10; return true })
	}
	bad := verify()
	if len(bad) == 0 || !strings.Contains(bad[0], "damaged") {
		t.Errorf("one bit flipped in each of %d segment files: %q, want them reported", len(files), bad)
	}
}
