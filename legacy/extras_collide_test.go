package legacy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/legacy"
)

// TestMigrate_extrasNameTaken: a storage key named like the entry that
// keeps an unreadable file's bytes does not take its place: both are
// kept, the key under another name, and the problems say which.
func TestMigrate_extrasNameTaken(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "db", "unreadable:db"), 0o755)
	os.WriteFile(filepath.Join(dir, "db", "notes.json"), []byte(`[{"id":"n1","c":"TRUNCATED`), 0o644)
	os.WriteFile(filepath.Join(dir, "db", "unreadable:db", "notes.json.json"), []byte(`{"version":1,"checksum":"x","timestamp":1729000000000,"data":{"precious":"user key value"}}`), 0o644)
	os.WriteFile(filepath.Join(dir, "db", "tasks.json"), []byte(`[{"id":"x"}]`), 0o644)
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{}
	for _, id := range []string{"unreadable:db/notes.json", "unreadable:db/notes.json~2"} {
		v, _, err := db.GetValue(t.Context(), "extras", id)
		if err != nil {
			t.Fatalf("extras %s: %v", id, err)
		}
		m := v.(map[string]any)
		texts[id], _ = m["text"].(string)
		if p, ok := m["precious"].(string); ok {
			texts[id] = p
		}
	}
	if !strings.Contains(texts["unreadable:db/notes.json"], "TRUNCATED") || texts["unreadable:db/notes.json~2"] != "user key value" {
		t.Errorf("extras %v", texts)
	}
	if !strings.Contains(strings.Join(res.Problems, "\n"), `is kept as extras "unreadable:db/notes.json~2"`) {
		t.Errorf("problems %q", res.Problems)
	}
}
