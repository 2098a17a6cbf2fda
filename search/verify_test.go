package search

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestVerifySegments checks that a byte flipped in the middle of a
// segment file, where Open's checks do not look and a search may never
// go, is found by its CRC; that an intact index has no finding; and that
// a file written moments ago is left alone (Bleve may be writing it).
func TestVerifySegments(t *testing.T) {
	dir := t.TempDir()
	buildIndex(t, dir)
	old := time.Now().Add(-time.Minute)
	files := zapFiles(t, dir)
	for _, f := range files {
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
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
	if bad := verify(); len(bad) != 0 {
		t.Fatalf("intact index: %q", bad)
	}
	fi, err := os.Stat(files[0])
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	mid := fi.Size() / 2
	if _, err := f.ReadAt(b, mid); err != nil {
		t.Fatal(err)
	}
	f.Close()
	overwrite(t, files[0], mid, []byte{b[0] ^ 0x10})
	if err := os.Chtimes(files[0], time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if bad := verify(); len(bad) != 0 {
		t.Errorf("a file written just now was reported: %q", bad)
	}
	if err := os.Chtimes(files[0], old, old); err != nil {
		t.Fatal(err)
	}
	bad := verify()
	if len(bad) != 1 || !strings.Contains(bad[0], "damaged") {
		t.Errorf("one bit flipped in %s: %q, want it reported", files[0], bad)
	}
}
