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

// Regression tests of Migrate for the sixth pass over the fifth
// black-box report: each builds the old app's directory in t.TempDir().

// TestMigrate_storeInOldAppFolderRefused: a store in one of the old app's
// data folders (attachments/, videos/, backups/, db/attachments-ca/,
// db/sessions/, a per-entity folder, deeper in one of them) is refused,
// naming the folder, before anything is written: the scan would have left
// that folder, and the old app's files in it, out. A directory of its own
// beside them is still taken and left out of the scan.
func TestMigrate_storeInOldAppFolderRefused(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"db/notes.json":                      `[{"id":"n1"}]`,
		"attachments/a1.meta.json":           `{"id":"a1","name":"a.txt"}`,
		"attachments/a1.dat":                 "aGk=",
		"videos/session-s1-1.mp4":            "raw",
		"backups/backup-1.json":              `{"version":1,"timestamp":1,"collections":{}}`,
		"db/sessions/s1/metadata.json":       `{"id":"s1"}`,
		"db/tasks/task-t1.json":              `{"id":"t1"}`,
		"db/attachments-ca/ab/abcd/x.json":   `{}`,
		"db/tx-temp-5/notes.json":            `[]`,
		"db/.tx-5/notes.json":                `[]`,
		"db/rollback-points/r/metadata.json": `{}`,
	})
	for _, sub := range []string{"attachments", "Attachments", "videos", "backups", "attachments/images", "db/attachments-ca",
		"db/sessions", "db/sessions/s1", "db/tasks", "db/notes", "db/tx-temp-5", "db/.tx-5", "db/rollback-points", "db/db"} {
		store := filepath.Join(dir, filepath.FromSlash(sub))
		folder := strings.SplitN(strings.ToLower(sub), "/", 2)[0]
		if folder == "db" {
			folder = "db/" + strings.Split(sub, "/")[1]
		}
		_, err := legacy.CheckStoreDir(dir, store)
		if !errors.Is(err, legacy.ErrStoreInside) || !strings.Contains(err.Error(), folder+"/") {
			t.Errorf("store %s: %v", sub, err)
		}
	}
	for _, sub := range []string{"cairn", "db/cairn", "attachments-store"} {
		if _, err := legacy.CheckStoreDir(dir, filepath.Join(dir, sub)); err != nil {
			t.Errorf("store %s: %v", sub, err)
		}
	}
	// Migrate refuses it too, before its backup: the folder stays as it was.
	store := filepath.Join(dir, "attachments", "store")
	db, err := kv.Open(store, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := legacy.Migrate(t.Context(), db, dir, nil, false); !errors.Is(err, legacy.ErrStoreInside) {
		t.Fatalf("Migrate with the store in attachments/: %v", err)
	}
	if _, err := os.Stat(filepath.Join(store, "backups")); !os.IsNotExist(err) {
		t.Errorf("a refused migration took a backup: %v", err)
	}
}
