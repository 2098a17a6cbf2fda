package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheck_damagedSearchSegment checks that check finds a byte flipped
// inside a search index segment (exit 3, advising reindex --search), and
// that the advice clears it.
func TestCheck_damagedSearchSegment(t *testing.T) {
	store := newStore(t)
	mustRun(t, "", "--db", store, "search", "notes")
	files, err := filepath.Glob(filepath.Join(store, "search", "store", "*.zap"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no segment files (%v)", err)
	}
	f := files[0]
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Minute)
	if err := os.Chtimes(f, old, old); err != nil {
		t.Fatal(err)
	}
	r := kvtool(t, "", "--db", store, "check")
	wantExit(t, r, exitIntegrity)
	if !strings.Contains(r.stdout+r.stderr, "reindex --search") {
		t.Errorf("check: %s%s, want it to advise reindex --search", r.stdout, r.stderr)
	}
	mustRun(t, "", "--db", store, "reindex", "--search")
	mustRun(t, "", "--db", store, "check")
}
