package legacy_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
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

// attachmentBytes returns the stored content of attachment id.
func attachmentBytes(t *testing.T, db *kv.DB, id string) []byte {
	t.Helper()
	r, _, err := db.OpenAttachment(t.Context(), id)
	if err != nil {
		t.Fatalf("attachment %s: %v", id, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMigrate_videoVariantsKeptApart: a session video's raw recording
// (path) and optimised copy (optimizedPath) are two files (docs/FORMAT.md
// §3.7.4): each is stored as an attachment of its own, the recording
// under the video id, neither marked contentDamaged against the other's
// hash. Two sessions whose videos share an id keep both files too.
func TestMigrate_videoVariantsKeptApart(t *testing.T) {
	base := "/Users/bob/Library/Application Support/com.taskerino.desktop/videos/"
	sessions := `[{"id":"s1","name":"a","startTime":"2025-10-30T10:00:00.000Z","video":{"id":"v1","sessionId":"s1","path":"` + base + `session-s1-1.mp4","optimizedPath":"` + base + `s1-optimized.mp4"}},` +
		`{"id":"s2","name":"b","startTime":"2025-10-30T10:00:00.000Z","video":{"id":"vs","sessionId":"s2","path":"` + base + `session-s2-1.mp4"}},` +
		`{"id":"s3","name":"c","startTime":"2025-10-30T10:00:00.000Z","video":{"id":"vs","sessionId":"s3","path":"` + base + `merged-2.mp4"}}]`
	files := map[string]string{
		"videos/session-s1-1.mp4": strings.Repeat("raw recording ", 300),
		"videos/s1-optimized.mp4": strings.Repeat("optimised ", 200),
		"videos/session-s2-1.mp4": strings.Repeat("s2 video ", 100),
		"videos/merged-2.mp4":     strings.Repeat("s3 video ", 120),
		"db/sessions.json":        `{"version":1,"checksum":"x","timestamp":1761950000000,"data":` + sessions + `}`,
	}
	dir := writeFiles(t, files)
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for id, file := range map[string]string{"v1": "videos/session-s1-1.mp4", "v1-optimized": "videos/s1-optimized.mp4"} {
		if got := attachmentBytes(t, db, id); string(got) != files[file] {
			t.Errorf("attachment %s holds %d bytes, not those of %s", id, len(got), file)
		}
		doc, _, err := db.Get(t.Context(), "attachments", id)
		if err != nil || doc["contentDamaged"] != nil || doc["legacySource"] != file {
			t.Errorf("attachment %s: %v %v", id, doc, err)
		}
	}
	// Both shared-id videos are stored, each under an id of its own.
	var found []string
	for _, file := range []string{"videos/session-s2-1.mp4", "videos/merged-2.mp4"} {
		for _, id := range []string{"vs", "vs-session-s2-1", "vs-merged-2"} {
			if doc, _, err := db.Get(t.Context(), "attachments", id); err == nil && doc["legacySource"] == file {
				if string(attachmentBytes(t, db, id)) != files[file] || doc["contentDamaged"] != nil {
					t.Errorf("attachment %s: %v", id, doc)
				}
				found = append(found, file)
			}
		}
	}
	if len(found) != 2 {
		t.Errorf("shared video id: stored %v, want both files", found)
	}
	if hasProblem(res.Problems, "contentDamaged") {
		t.Errorf("problems %q", res.Problems)
	}
}

// TestMigrate_bomAcceptedEverywhere: a UTF-8 byte order mark at the start
// of a file (Windows Notepad saves one) is skipped in every JSON file the
// migration reads, as in db/ collection files and wal.log: a per-entity
// file, an export file, an attachment's .meta.json and a backups/
// snapshot standing in for a truncated collection file.
func TestMigrate_bomAcceptedEverywhere(t *testing.T) {
	const bom = "\ufeff"
	note := `{"id":"n1","content":"only copy","lastUpdated":"2025-10-30T00:00:00.000Z"}`
	for name, files := range map[string]map[string]string{
		"per-entity": {"db/notes/note-n1.json": bom + note, "db/wal.checkpoint": "1"},
		"export": {"taskerino-export-1761800000000.json": bom + `{"topics":[],"companies":[],"contacts":[],"notes":[` + note +
			`],"tasks":[],"sessions":[],"exportedAt":"2025-10-30T00:00:00.000Z","version":"1.0.0"}`},
		"snapshot": {"db/notes.json": `{"version":1,"checksum":"x","timestamp":1761950000000,"data":[{"id":"n1","con`,
			"backups/backup-1761949999995.json": bom + `{"version":1,"timestamp":1761949999995,"collections":{"notes":[` + note + `]}}`},
		"meta": {"attachments/a1.meta.json": bom + `{"id":"a1","type":"image","name":"Screenshot 1.png","mimeType":"image/png","size":3}`,
			"attachments/a1.dat": "YWJj", "db/notes.json": `[` + note + `]`},
	} {
		dir := writeFiles(t, files)
		db := openStore(t)
		res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if doc, _, err := db.Get(t.Context(), "notes", "n1"); err != nil || doc["content"] != "only copy" {
			t.Errorf("%s: note n1 %v %v; problems %q", name, doc, err, res.Problems)
		}
		if name == "meta" {
			if doc, _, err := db.Get(t.Context(), "attachments", "a1"); err != nil || doc["name"] != "Screenshot 1.png" || doc["mimeType"] != "image/png" {
				t.Errorf("attachment a1 %v %v; problems %q", doc, err, res.Problems)
			}
		}
		if hasProblem(res.Problems, "invalid character") {
			t.Errorf("%s: problems %q", name, res.Problems)
		}
	}
}

// TestMigrate_checksumBugHeuristicNeedsEmptyLoad: a compressed:false
// backup the old app's checksum check would have refused (docs/FORMAT.md
// §2.3) restores its entities beside the next main file's only when that
// file holds none of them (§11.2: the app loaded the collection as
// empty). When the main file holds some of them, the app had the
// collection in memory, and an entity only in the backup was deleted by
// the user: it stays deleted (§11.15).
func TestMigrate_checksumBugHeuristicNeedsEmptyLoad(t *testing.T) {
	const T = int64(1761950000000)
	note := func(id string) map[string]any {
		return map[string]any{"id": id, "content": "note " + id, "lastUpdated": "2025-10-30T00:00:00.000Z"}
	}
	notes := func(ids ...string) []any {
		var out []any
		for _, id := range ids {
			out = append(out, note(id))
		}
		return out
	}
	enc := func(v any, encoding string, ts int64) string {
		b, err := legacy.EncodeEnvelope(v, encoding, ts, false)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, c := range []struct {
		main []string
		want []string
	}{
		{[]string{"a", "b", "c"}, []string{"a", "b", "c"}}, // d deleted by the user
		{[]string{"e"}, []string{"a", "b", "c", "d", "e"}}, // §11.2: loaded as empty
	} {
		dir := writeFiles(t, map[string]string{
			fmt.Sprintf("db/notes.%d.backup.json", T-1000): enc(notes("a", "b", "c", "d"), legacy.EncodingJSONString, T-2000),
			"db/notes.json": enc(notes(c.main...), legacy.EncodingGzip, T),
		})
		db := openStore(t)
		if _, err := legacy.Migrate(t.Context(), db, dir, nil, false); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, id := range []string{"a", "b", "c", "d", "e"} {
			if _, _, err := db.Get(t.Context(), "notes", id); err == nil {
				got = append(got, id)
			}
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("main file %v: notes %v, want %v", c.main, got, c.want)
		}
	}
}

// TestMigrate_junkSpreadEntitiesAreCopies: the G+ relationshipManager's
// junk, the tasks array spread into an object (docs/FORMAT.md §3.3), is a
// snapshot of the collection holding the relationship just added: in a
// per-entity file newer than tasks.json, or a WAL write after it, its
// entities are copies that win where they are the newest, so the
// relationship is imported; an older one resurrects no deleted task.
func TestMigrate_junkSpreadEntitiesAreCopies(t *testing.T) {
	const T = int64(1761950000000)
	t1 := `{"id":"t1","title":"T1","createdAt":"2025-10-30T00:00:00.000Z","relationships":[]}`
	t1rel := `{"id":"t1","title":"T1","createdAt":"2025-10-30T00:00:00.000Z","relationships":[{"id":"rel-1","sourceId":"t1","targetId":"n1"}]}`
	t2 := `{"id":"t2","title":"T2","createdAt":"2025-10-30T00:00:00.000Z","relationships":[]}`
	gone := `{"id":"t3","title":"deleted","createdAt":"2025-10-30T00:00:00.000Z"}`
	main := fmt.Sprintf(`{"version":1,"checksum":"x","timestamp":%d,"data":[%s,%s]}`, T, t1, t2)
	junk := `{"0":` + t1rel + `,"1":` + t2 + `,"id":"t1"}`
	for _, c := range []struct {
		name  string
		files map[string]string
		mtime int64 // of the junk file, when there is one
		want  bool  // rel-1 imported
	}{
		{"per-entity, newer", map[string]string{"db/tasks/task-t1.json": junk}, T + 60000, true},
		{"WAL, newer", map[string]string{"db/wal.log": fmt.Sprintf(`{"id":"w1","timestamp":%d,"operation":"write","collection":"db/tasks/task-t1.json","data":%s}`, T+60000, junk) + "\n"}, 0, true},
		{"per-entity, older", map[string]string{"db/tasks/task-t1.json": `{"0":` + t1rel + `,"1":` + gone + `,"id":"t1"}`}, T - 60000, false},
	} {
		c.files["db/tasks.json"] = main
		dir := writeFiles(t, c.files)
		if c.mtime != 0 {
			setMtimes(t, dir, map[string]int64{"db/tasks/task-t1.json": c.mtime})
		}
		db := openStore(t)
		if _, err := legacy.Migrate(t.Context(), db, dir, nil, false); err != nil {
			t.Fatal(err)
		}
		doc, _, err := db.Get(t.Context(), "tasks", "t1")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		rels, _ := doc["relationships"].([]any)
		if got := len(rels) == 1; got != c.want {
			t.Errorf("%s: t1 relationships %v, want rel-1 imported: %v", c.name, doc["relationships"], c.want)
		}
		if _, _, err := db.Get(t.Context(), "tasks", "t3"); err == nil {
			t.Errorf("%s: the deleted task t3 was resurrected", c.name)
		}
	}
}

// TestMigrate_indexOnlyEntityReported: an entity a per-entity folder's
// index.json lists that no file holds is not imported (an index row is a
// derived summary, docs/FORMAT.md §3.3), but it is not dropped without a
// word either: it is in the problems, and its row is kept in extras.
// One whose file is there is not reported.
func TestMigrate_indexOnlyEntityReported(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"db/tasks/index.json":   `[{"id":"t1","title":"T1","status":"todo","priority":"low"},{"id":"t5","title":"Only in the index","status":"done","priority":"high"}]`,
		"db/tasks/task-t1.json": `{"id":"t1","title":"T1","status":"todo","priority":"low"}`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if !hasProblem(res.Problems, `"t5"`, "db/tasks/index.json", "not imported") || hasProblem(res.Problems, `"t1"`) {
		t.Errorf("problems %q", res.Problems)
	}
	if _, _, err := db.Get(t.Context(), "tasks", "t5"); err == nil {
		t.Error("t5 imported from its index row")
	}
	doc, _, err := db.Get(t.Context(), "extras", "index-only:db/tasks/index.json#t5")
	if row, _ := doc["row"].(map[string]any); err != nil || row["title"] != "Only in the index" {
		t.Errorf("extras: %v %v", doc, err)
	}
}

// TestMigrate_conflictingInlineContentsKept: a note and a task carrying
// attachment attX with different inline base64 keep both contents: the
// first record's is attX's, the other's is stored as an orphan
// attachment, and the disagreement is a conflict of the report.
func TestMigrate_conflictingInlineContentsKept(t *testing.T) {
	b1, b2 := strings.Repeat("version one ", 20), strings.Repeat("version two ", 25)
	rec := func(b string) string {
		return `{"id":"attX","type":"image","name":"Screen Shot.png","mimeType":"image/png","base64":"` + base64.StdEncoding.EncodeToString([]byte(b)) + `"}`
	}
	dir := writeFiles(t, map[string]string{
		"db/notes.json": `[{"id":"n1","content":"x","attachments":[` + rec(b1) + `]}]`,
		"db/tasks.json": `[{"id":"t1","title":"t","attachments":[` + rec(b2) + `]}]`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(attachmentBytes(t, db, "attX")); got != b1 {
		t.Errorf("attX holds %q", got)
	}
	sum := sha256.Sum256([]byte(b2))
	orphan := "legacy-orphan-" + hex.EncodeToString(sum[:])[:16]
	if got := string(attachmentBytes(t, db, orphan)); got != b2 {
		t.Errorf("%s holds %q", orphan, got)
	}
	if !slices.ContainsFunc(res.Report.Conflicts, func(c legacy.Conflict) bool { return c.Collection == "attachments" && c.ID == "attX" }) {
		t.Errorf("conflicts %+v", res.Report.Conflicts)
	}
}

// TestMigrate_stoppedDuringBackupSaysSo: a migration whose context is
// cancelled (Ctrl-C) while it takes its pre-migrate backup says it was
// stopped, not that the backup failed, and the error is the
// cancellation's.
func TestMigrate_stoppedDuringBackupSaysSo(t *testing.T) {
	dir := writeFiles(t, map[string]string{"db/notes.json": `[{"id":"n1"}]`})
	db := openStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := legacy.Migrate(ctx, db, dir, nil, false)
	if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "backup failed") {
		t.Fatalf("Migrate with its context cancelled: %v", err)
	}
}

// TestMigrate_inlineRecordMetadataKept: an attachment known only from an
// entity's inline record takes that record's name, type and createdAt,
// not its id as its name.
func TestMigrate_inlineRecordMetadataKept(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"db/notes.json": `[{"id":"n1","content":"x","attachments":[{"id":"attY","type":"image","name":"Screen Shot 10.30.png","mimeType":"image/png","createdAt":"2025-10-20T00:00:00.000Z","base64":"` +
			base64.StdEncoding.EncodeToString([]byte("png bytes")) + `"}]}]`,
	})
	db := openStore(t)
	if _, err := legacy.Migrate(t.Context(), db, dir, nil, false); err != nil {
		t.Fatal(err)
	}
	doc, _, err := db.Get(t.Context(), "attachments", "attY")
	if err != nil || doc["name"] != "Screen Shot 10.30.png" || doc["type"] != "image" || doc["createdAt"] != "2025-10-20T00:00:00.000Z" || doc["mimeType"] != "image/png" {
		t.Errorf("attachment attY %v %v", doc, err)
	}
}
