package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// A write that is refused (a conflict, a missing document, an invalid id)
// changes nothing: not the documents, and not data.db's bytes, the way a
// refused put leaves it.
func TestWrite_refused_fileUnchanged(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  []string
	}{
		{"patch stale rev", `{"status":"paused"}`, []string{"patch", "sessions", "s1", "-", "--rev", "999"}, []string{"conflict"}},
		{"patch missing document", `{"a":1}`, []string{"patch", "notes", "missing", "-"}, []string{"notes", "missing", "not found"}},
		{"patch 300-byte id", `{"a":1}`, []string{"patch", "notes", long, "-"}, []string{"id", "300 bytes"}},
		{"patch id change", `{"id":"other"}`, []string{"patch", "notes", "n1", "-"}, []string{"id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newStore(t)
			before := dbHash(t, dir)
			r := kvtool(t, tc.stdin, append([]string{"--db", dir}, tc.args...)...)
			wantExit(t, r, exitError, tc.args...)
			if s := missing(r.stderr, tc.want...); s != "" {
				t.Errorf("stderr lacks %q: %s", s, r.stderr)
			}
			if len(r.stderr) > 400 {
				t.Errorf("stderr is %d bytes; ids in messages should be shortened:\n%s", len(r.stderr), r.stderr)
			}
			if dbHash(t, dir) != before {
				t.Errorf("refused %s rewrote data.db", tc.args[0])
			}
		})
	}
}

// A patch can never succeed where there is no store, so it must not
// create one (only put, which may create documents, creates a store).
func TestPatch_noStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "typo")
	r := kvtool(t, `{"a":1}`, "--db", dir, "patch", "notes", "n1", "-")
	wantExit(t, r, exitError)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("patch on a missing store created %s", dir)
	}
}

// A read-only command waiting for a writer's lock gives up after
// --timeout with an error saying the store is locked (and by whom, when
// it can tell), instead of hanging.
func TestLock_timeout(t *testing.T) {
	dir := newStore(t)
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"stats"}, {"put", "notes", filepath.Join("testdata", "input", "valid_note.json")}} {
		start := time.Now()
		r := kvtool(t, "", append([]string{"--db", dir, "--timeout", "200ms"}, args...)...)
		wantExit(t, r, exitError, args...)
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("kvtool %s took %v with --timeout 200ms", args[0], el)
		}
		if !strings.Contains(r.stderr, "locked") {
			t.Errorf("kvtool %s: stderr does not say the store is locked: %s", args[0], r.stderr)
		}
		if !strings.Contains(r.stderr, "pid") && !strings.Contains(r.stderr, "process") {
			t.Logf("kvtool %s: stderr does not name the holder: %s", args[0], r.stderr)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "--db", dir, "stats")
}

// TestPatch_revZero: --rev 0 is a revision check too (the document must
// not exist yet), never the absence of one: a patch of a stored document
// with it is a conflict and changes nothing.
func TestPatch_revZero(t *testing.T) {
	dir := newStore(t)
	mustRun(t, `{"id":"t-rev0","title":"mine"}`, "--db", dir, "put", "tasks", "-")
	r := kvtool(t, `{"title":"stale"}`, "--db", dir, "patch", "tasks", "t-rev0", "-", "--rev", "0")
	wantExit(t, r, exitError)
	if s := missing(r.stderr, "conflict", "expected no stored document"); s != "" {
		t.Errorf("stderr lacks %q: %s", s, r.stderr)
	}
	if s := missing(mustRun(t, "", "--db", dir, "get", "tasks", "t-rev0").stdout, "mine"); s != "" {
		t.Error("the patch with --rev 0 was applied")
	}
}
