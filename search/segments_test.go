package search

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
)

// TestOpen_damagedSegment_rebuilt checks that Open reads the CRC of the
// segments before it opens the index for writing, whose merger would read
// them (and on some damage loop forever, so that the index never closes):
// a flipped bit in a segment is a rebuild, and the next Open of the
// rebuilt index reads nothing again (the verified list).
func TestOpen_damagedSegment_rebuilt(t *testing.T) {
	dir := t.TempDir()
	buildIndex(t, dir)
	files := zapFiles(t, dir)
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/3] ^= 0x40
	if err := os.WriteFile(files[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	ix, res, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rebuilt || !strings.Contains(res.Reason, "damaged") {
		t.Errorf("one bit flipped in %s: Open = %+v, want a rebuild naming the damaged segment", filepath.Base(files[0]), res)
	}
	apply(t, ix, 1, fixture(t)...)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix, res, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if res.Rebuilt {
		t.Errorf("intact index rebuilt: %s", res.Reason)
	}
	if _, err := os.Stat(filepath.Join(dir, verifiedFile)); err != nil {
		t.Errorf("no verified list after an Open: %v", err)
	}
}

// stuckIndex is a Bleve index whose Close never returns, as when Bleve's
// merger loops on a damaged segment.
type stuckIndex struct {
	bleveIndex
	release chan struct{}
}

// bleveIndex names bleve.Index for embedding: its field name cannot be
// Index, which is one of its methods.
type bleveIndex = bleve.Index

func (s stuckIndex) Close() error { <-s.release; return nil }

// TestReset_stuckClose checks that Reset abandons an index whose Close does
// not return and recreates it, and that Close gives up with ErrCorrupt
// instead of hanging.
func TestReset_stuckClose(t *testing.T) {
	old := closeTimeout
	closeTimeout = 50 * time.Millisecond
	defer func() { closeTimeout = old }()
	release := make(chan struct{})
	defer close(release)

	ix, _, err := Open(filepath.Join(t.TempDir(), "search"), nil)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, ix, 3, fixture(t)...)
	real := ix.mu.bi
	ix.mu.bi = stuckIndex{bleveIndex: real, release: release}
	done := make(chan error, 1)
	go func() { done <- ix.Reset() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Reset with a stuck Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Reset hangs on an index that does not close")
	}
	if err := real.Close(); err != nil {
		t.Log(err)
	}
	if ix.LastApplied() != 0 {
		t.Errorf("LastApplied after Reset = %d", ix.LastApplied())
	}

	real = ix.mu.bi
	ix.mu.bi = stuckIndex{bleveIndex: real, release: release}
	go func() { done <- ix.Close() }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("Close with a stuck Bleve: %v, want ErrCorrupt", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs on an index that does not close")
	}
	if err := real.Close(); err != nil {
		t.Log(err)
	}
}
