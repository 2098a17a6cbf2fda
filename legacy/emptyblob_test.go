package legacy_test

import (
	"io"
	"os"
	"path/filepath"
	"slices"
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
