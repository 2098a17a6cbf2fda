package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/buckets"
)

// TestCheck_damagedSearchSegment checks that check finds a byte flipped
// inside a search index segment (exit 3, advising reindex --search), and
// that the advice clears it. The damage keeps the files' size and time,
// as a disk's would: an Open reads again (and rebuilds the index from) a
// segment only when they changed since it last read it.
func TestCheck_damagedSearchSegment(t *testing.T) {
	store := newStore(t)
	mustRun(t, "", "--db", store, "search", "notes")
	mustRun(t, "", "--db", store, "search", "notes") // its Open lists the segments the first one's merger wrote
	files, err := filepath.Glob(filepath.Join(store, "search", "store", "*.zap"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no segment files (%v)", err)
	}
	for _, f := range files { // the live snapshot's are among them
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0x01
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
	// The damage is either found by check (a segment Open trusted by its
	// verified list, which the merge guard keeps from being merged) or
	// repaired as the index opened (a segment the list did not name, from
	// a merge in the second search), which is not a problem (catching up
	// fixed it) but must be said.
	r := kvtool(t, "", "--db", store, "check")
	out := r.stdout + r.stderr
	switch {
	case r.code == exitIntegrity && strings.Contains(out, "reindex --search"):
	case r.code == exitOK && strings.Contains(out, "repaired: search index damaged on disk"):
	default:
		t.Errorf("check: exit %d, %s; want exit 3 advising reindex --search, or exit 0 saying the index was repaired", r.code, out)
	}
	mustRun(t, "", "--db", store, "reindex", "--search")
	mustRun(t, "", "--db", store, "check")
}

// TestRestore_formatByteDamaged checks that backup restore recovers a
// store whose format byte says a format newer than this Cairn's (a
// flipped bit, or a newer Cairn's store): the file is set aside, not
// lost, and the backup restored.
func TestRestore_formatByteDamaged(t *testing.T) {
	store := newStore(t)
	m := mustRun(t, "", "--db", store, "--json", "backup", "create").stdout
	var man struct{ Name string }
	if err := json.Unmarshal([]byte(m), &man); err != nil {
		t.Fatal(err)
	}
	// The sys bucket's leaf holds the key and its one-byte value side by
	// side: flip the format version to 7, in every copy of the leaf (older
	// copies stay in free pages).
	path := filepath.Join(store, "data.db")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key := append([]byte("format"), byte(buckets.FormatVersion))
	if !bytes.Contains(b, key) {
		t.Fatalf("the format key and value are not in data.db")
	}
	b = bytes.ReplaceAll(b, key, append([]byte("format"), 7))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	wantExit(t, kvtool(t, "", "--db", store, "get", "notes", "n1"), exitError)
	r := mustRun(t, "", "--db", store, "backup", "restore", man.Name, "--yes")
	if !strings.Contains(r.stdout, "kept as") {
		t.Errorf("restore: %s, want it to say where the file was kept", r.stdout)
	}
	kept, _ := filepath.Glob(filepath.Join(store, "data.db.damaged-*"))
	if len(kept) != 1 {
		t.Errorf("files set aside: %q, want one", kept)
	}
}

// TestAttachGet_damagedWritesNothing checks that attach get of a blob
// whose content no longer matches its hash writes none of it to stdout,
// only the error (exit 3).
func TestAttachGet_damagedWritesNothing(t *testing.T) {
	store := newStore(t)
	damagedBlob(t, store, "att1")
	r := kvtool(t, "", "--db", store, "attach", "get", "att1")
	wantExit(t, r, exitIntegrity)
	if r.stdout != "" {
		t.Errorf("stdout %q: damaged content was written", r.stdout)
	}
	// The way back is the file again, not a restore: backups hold no
	// attachment contents (round 8, damage8 #5).
	if s := missing(r.stderr, "attach add FILE --id att1"); s != "" || strings.Contains(r.stderr, "backup restore") {
		t.Errorf("advice: %s", r.stderr)
	}
}

// damagedBlob adds attachment id to store, then changes a byte of its
// blob file (the store's only one) so that it no longer matches its hash;
// the store's check at the end of the test is skipped.
func damagedBlob(t *testing.T, store, id string) {
	t.Helper()
	content := filepath.Join(t.TempDir(), "c.txt")
	if err := os.WriteFile(content, []byte("blob content here"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "--db", store, "attach", "add", content, "--id", id)
	blobs, _ := filepath.Glob(filepath.Join(store, "blobs", "*", "*"))
	if len(blobs) != 1 {
		t.Fatalf("blob files %q, want one", blobs)
	}
	if err := os.WriteFile(blobs[0], []byte("bloX content here"), 0o600); err != nil {
		t.Fatal(err)
	}
	skipCheck(store)
}
