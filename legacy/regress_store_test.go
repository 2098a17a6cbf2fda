package legacy_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/legacy"
)

// Regression tests of Migrate for bugs found by black-box testing: each
// builds the old app's directory in t.TempDir().

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestMigrate_attachmentWithoutBytes: an attachment record whose bytes
// are in no file (its path names a missing file; a per-id meta file
// without its .dat) is imported, marked contentMissing, listed in
// WithoutContent and reported in the problems with the places looked
// at; a link (a URL, no bytes expected) is not.
func TestMigrate_attachmentWithoutBytes(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"db/attachments.json": `{"version":1,"checksum":"x","timestamp":1760600000000,"data":[` +
			`{"id":"nobytes","type":"file","name":"gone.pdf","size":5,"path":"attachments/files/nobytes.pdf"},` +
			`{"id":"link-1","type":"link","name":"site","url":"https://example.com"}]}`,
		"attachments/onlymeta.meta.json": `{"id":"onlymeta","type":"file","name":"x","mimeType":"text/plain","size":3}`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"nobytes", "onlymeta"}; !slices.Equal(res.WithoutContent, want) {
		t.Errorf("WithoutContent %v, want %v", res.WithoutContent, want)
	}
	for id, place := range map[string]string{"nobytes": "attachments/files/nobytes.pdf", "onlymeta": "attachments/onlymeta.dat"} {
		if !slices.ContainsFunc(res.Problems, func(p string) bool { return strings.Contains(p, `"`+id+`"`) && strings.Contains(p, place) }) {
			t.Errorf("%s: not in the problems with %s: %q", id, place, res.Problems)
		}
		doc, _, err := db.Get(context.Background(), "attachments", id)
		if err != nil || doc["contentMissing"] != true {
			t.Errorf("%s: %v %v, want contentMissing", id, doc, err)
		}
	}
	if slices.ContainsFunc(res.Problems, func(p string) bool { return strings.Contains(p, "link-1") }) {
		t.Errorf("a link is reported as missing bytes: %q", res.Problems)
	}
}
