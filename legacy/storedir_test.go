package legacy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
)

// TestMigrate_storeInsideLegacyDir: a store in the old app's directory
// or its db/ is refused (its files would be read as the old app's); one
// in a directory of its own inside it is left out of the scan, so that
// nothing of the store's is imported.
func TestMigrate_storeInsideLegacyDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "db"), 0o755)
	os.WriteFile(filepath.Join(dir, "db", "notes.json"), []byte(`[{"id":"n1"}]`), 0o644)
	for _, bad := range []string{dir, filepath.Join(dir, "db")} {
		if _, err := legacy.CheckStoreDir(dir, bad); !errors.Is(err, legacy.ErrStoreInside) {
			t.Errorf("store %s: %v", bad, err)
		}
	}
	for _, sub := range []string{filepath.Join(dir, "cairn"), filepath.Join(dir, "db", "cairn")} {
		db, err := kv.Open(sub, &kv.Options{NoSearch: true})
		if err != nil {
			t.Fatal(err)
		}
		for run := range 2 {
			res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			if res.Counts["extras"] != 0 || run == 0 && res.Counts["notes"] != 1 || run == 1 && len(res.Counts) != 0 {
				t.Errorf("%s, run %d: counts %v", sub, run, res.Counts)
			}
			if !strings.Contains(strings.Join(res.Report.Notes, "\n"), "the store's own directory") {
				t.Errorf("notes %q", res.Report.Notes)
			}
		}
		db.Close()
	}
}
