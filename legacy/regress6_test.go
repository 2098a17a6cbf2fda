package legacy_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

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

// setMtimes sets the mtimes of dir's files (relative paths) to the given
// epoch ms.
func setMtimes(t *testing.T, dir string, ms map[string]int64) {
	t.Helper()
	for rel, m := range ms {
		tm := time.UnixMilli(m)
		if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(rel)), tm, tm); err != nil {
			t.Fatal(err)
		}
	}
}

// noteContents returns the stored notes' contents by id.
func noteContents(t *testing.T, db *kv.DB) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, id := range []string{"a", "b", "c", "n"} {
		if doc, _, err := db.Get(context.Background(), "notes", id); err == nil {
			out[id] = doc["content"]
		}
	}
	return out
}

// TestMigrate_rawMainOrderedByCheckpoint: a raw main collection file (the
// WAL replay's write, docs/FORMAT.md §2.1, §5.3) is ordered against a
// .tmp.json and a .tx-<ms>/ staged copy by wal.checkpoint, a time
// recorded in the directory, not by its mtime: shifted by ±8 hours (a
// zip, a FAT copy, another time zone), a stale tmp or staged copy must not
// replace it, and a tmp newer than the checkpoint must not lose to it.
func TestMigrate_rawMainOrderedByCheckpoint(t *testing.T) {
	const T, H = int64(1761950000000), int64(3600000)
	env := func(ts int64, notes string) string {
		return fmt.Sprintf(`{"version":1,"checksum":"x","timestamp":%d,"data":[%s]}`, ts, notes)
	}
	raw := `[{"id":"a","content":"newest a"},{"id":"b","content":"b"}]`
	stale := `{"id":"a","content":"stale a"},{"id":"c","content":"c deleted"}`
	newest := map[string]any{"a": "newest a", "b": "b"}
	for _, shift := range []int64{0, -8 * H, 8 * H} {
		for _, side := range []string{"db/notes.tmp.json", fmt.Sprintf("db/.tx-%d/notes.json", T-2*H)} {
			dir := writeFiles(t, map[string]string{
				"db/notes.json": raw, side: env(T-2*H, stale),
				"db/wal.checkpoint": fmt.Sprint(T), "db/wal.log": "",
			})
			setMtimes(t, dir, map[string]int64{side: T - 2*H + shift, "db/notes.json": T + shift, "db/wal.checkpoint": T + shift, "db/wal.log": T + shift})
			db := openStore(t)
			if _, err := legacy.Migrate(t.Context(), db, dir, nil, false); err != nil {
				t.Fatal(err)
			}
			if got := noteContents(t, db); !reflect.DeepEqual(got, newest) {
				t.Errorf("%s older than the checkpoint, mtimes shifted %dh: notes %v, want %v", side, shift/H, got, newest)
			}
		}
		// The tmp of a save after the replay (and its checkpoint) is newer.
		dir := writeFiles(t, map[string]string{
			"db/notes.json": `[{"id":"a","content":"a replayed"}]`,
			fmt.Sprintf("db/notes.%d.backup.json", T+H): `[{"id":"a","content":"a replayed"}]`,
			"db/notes.tmp.json":                         env(T+H, `{"id":"a","content":"a edited"},{"id":"n","content":"new"}`),
			"db/wal.checkpoint":                         fmt.Sprint(T), "db/wal.log": "",
		})
		setMtimes(t, dir, map[string]int64{"db/notes.json": T + shift, "db/notes.tmp.json": T + H + shift, "db/wal.checkpoint": T + shift, "db/wal.log": T + shift,
			fmt.Sprintf("db/notes.%d.backup.json", T+H): T + H + shift})
		db := openStore(t)
		if _, err := legacy.Migrate(t.Context(), db, dir, nil, false); err != nil {
			t.Fatal(err)
		}
		if got, want := noteContents(t, db), map[string]any{"a": "a edited", "n": "new"}; !reflect.DeepEqual(got, want) {
			t.Errorf("tmp newer than the checkpoint, mtimes shifted %dh: notes %v, want %v", shift/H, got, want)
		}
	}
}
