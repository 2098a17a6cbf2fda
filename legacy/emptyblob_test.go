package legacy_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/legacy"
)

// TestMigrate_emptyInlineContent: an attachment whose inline base64 is ""
// with a size of 0 has empty content, stored as such, not missing content.
func TestMigrate_emptyInlineContent(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "db"), 0o755)
	os.WriteFile(filepath.Join(dir, "db", "attachments.json"), []byte(`[{"id":"x4","name":"empty","base64":"","size":0},{"id":"x5","name":"gone","base64":""}]`), 0o644)
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(res.WithoutContent, "x4") || !slices.Contains(res.WithoutContent, "x5") {
		t.Errorf("without content %v", res.WithoutContent)
	}
	r, _, err := db.OpenAttachment(t.Context(), "x4")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if b, err := io.ReadAll(r); err != nil || len(b) != 0 {
		t.Errorf("content %q %v", b, err)
	}
}

// TestMigrate_inlineDiffersFromFile: when an attachment's inline base64
// and its attachments/<id>.dat disagree, the file's bytes are its
// content, the inline bytes are kept as an orphan attachment, and the
// report notes it.
func TestMigrate_inlineDiffersFromFile(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "db"), 0o755)
	os.MkdirAll(filepath.Join(dir, "attachments"), 0o755)
	os.WriteFile(filepath.Join(dir, "attachments", "x1.dat"), []byte(base64.StdEncoding.EncodeToString([]byte("BBBB dat file"))), 0o644)
	os.WriteFile(filepath.Join(dir, "attachments", "x1.meta.json"), []byte(`{"id":"x1","name":"n"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "db", "attachments.json"), []byte(`[{"id":"x1","name":"conflict","base64":"`+base64.StdEncoding.EncodeToString([]byte("AAAA inline"))+`"}]`), 0o644)
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	read := func(id string) string {
		r, _, err := db.OpenAttachment(t.Context(), id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		defer r.Close()
		b, _ := io.ReadAll(r)
		return string(b)
	}
	if got := read("x1"); got != "BBBB dat file" {
		t.Errorf("x1 holds %q", got)
	}
	sum := sha256.Sum256([]byte("AAAA inline"))
	if got := read("legacy-orphan-" + hex.EncodeToString(sum[:])[:16]); got != "AAAA inline" {
		t.Errorf("the inline bytes hold %q", got)
	}
	if !strings.Contains(strings.Join(res.Report.Notes, "\n"), `attachment "x1": its inline base64`) {
		t.Errorf("notes %q", res.Report.Notes)
	}
}
