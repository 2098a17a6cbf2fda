package legacy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
)

// Regression tests of Migrate for the fifth pass over the fourth
// black-box report: each builds the old app's directory in t.TempDir().

func hasProblem(ps []string, subs ...string) bool {
	return slices.ContainsFunc(ps, func(p string) bool {
		for _, s := range subs {
			if !strings.Contains(p, s) {
				return false
			}
		}
		return true
	})
}

// TestMigrate_recordedSizeAndHashKept: a per-id .dat cut short at a
// base64 quantum still decodes (docs/FORMAT.md §11.14), and a .meta.json
// may record a hash its bytes do not have. Neither is silent: the
// attachment is marked contentDamaged, the recorded size and hash are
// kept as legacySize and legacyHash, and a problem names the file.
func TestMigrate_recordedSizeAndHashKept(t *testing.T) {
	full := base64.StdEncoding.EncodeToString(make([]byte, 1024))
	dir := writeFiles(t, map[string]string{
		"attachments/att-half.dat":       full[:684], // 513 bytes
		"attachments/att-half.meta.json": `{"id":"att-half","type":"image","name":"a.jpg","mimeType":"image/jpeg","size":1024}`,
		"attachments/att-hash.dat":       base64.StdEncoding.EncodeToString([]byte("hello")),
		"attachments/att-hash.meta.json": `{"id":"att-hash","type":"file","name":"h.txt","mimeType":"text/plain","size":5,"hash":"` + strings.Repeat("0", 64) + `"}`,
		"attachments/att-ok.dat":         base64.StdEncoding.EncodeToString([]byte("fine")),
		"attachments/att-ok.meta.json":   `{"id":"att-ok","type":"file","name":"ok.txt","mimeType":"text/plain","size":4}`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	get := func(id string) map[string]any {
		doc, _, err := db.Get(context.Background(), "attachments", id)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	if d := get("att-half"); d["contentDamaged"] != true || d["legacySize"] == nil || !hasProblem(res.Problems, "att-half", "attachments/att-half.dat", "1024") {
		t.Errorf("att-half %v; problems %q", d, res.Problems)
	}
	if d := get("att-hash"); d["contentDamaged"] != true || d["legacyHash"] != strings.Repeat("0", 64) || !hasProblem(res.Problems, "att-hash", "attachments/att-hash.dat") {
		t.Errorf("att-hash %v; problems %q", d, res.Problems)
	}
	if d := get("att-ok"); d["contentDamaged"] != nil || hasProblem(res.Problems, "att-ok") {
		t.Errorf("att-ok %v; problems %q", d, res.Problems)
	}
}

// TestMigrate_missingReferencesReported: attachments that notes, tasks
// and sessions refer to (an inline record, a screenshot's attachmentId
// and hash, fullAudioAttachmentId) whose bytes are in no file are
// reported, like a record of db/attachments.json; one whose bytes are
// there is not.
func TestMigrate_missingReferencesReported(t *testing.T) {
	bh := strings.Repeat("b", 64)
	dir := writeFiles(t, map[string]string{
		"db/notes.json": `[{"id":"n1","content":"x","attachments":[{"id":"att-note","type":"image","name":"p.png","size":10,"path":"attachments/images/att-note.png"},` +
			`{"id":"att-here","type":"file","name":"h.txt","size":4}]}]`,
		"db/tasks.json":            `[{"id":"t1","title":"x","attachments":[{"id":"att-task","type":"file","name":"f.pdf","size":10,"hash":"` + strings.Repeat("a", 64) + `"},{"id":"lnk","type":"link","url":"https://example.com"}]}]`,
		"db/sessions.json":         `[{"id":"s1","name":"s","fullAudioAttachmentId":"att-audio","screenshots":[{"id":"sh0","attachmentId":"att-shot","hash":"` + bh + `"}]}]`,
		"attachments/att-here.dat": base64.StdEncoding.EncodeToString([]byte("here")),
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for id, from := range map[string]string{"att-note": "notes/n1", "att-task": "tasks/t1", "att-audio": "sessions/s1", "att-shot": "sessions/s1"} {
		if !hasProblem(res.Problems, `"`+id+`"`, from, "in no file") {
			t.Errorf("%s (from %s) not reported: %q", id, from, res.Problems)
		}
	}
	if !hasProblem(res.Problems, `"att-shot"`, bh) {
		t.Errorf("the screenshot's hash is not among the places looked at: %q", res.Problems)
	}
	if hasProblem(res.Problems, "att-here") || hasProblem(res.Problems, "lnk") {
		t.Errorf("an attachment with bytes, or a link, is reported: %q", res.Problems)
	}
	var got []string
	for _, r := range res.Report.MissingReferences {
		got = append(got, r.ID)
	}
	if want := []string{"att-audio", "att-note", "att-shot", "att-task"}; !slices.Equal(got, want) {
		t.Errorf("Report.MissingReferences %v, want %v", got, want)
	}
}

// TestMigrate_staleTmpDoesNotResurrectDeletedCollection: delete(key)
// removes <key>.json and leaves the timestamped backups (docs/FORMAT.md
// §4.4, §11.15), and an older <key>.tmp.json left by an earlier crash is
// no evidence that the collection lives: it stays deleted, reported with
// the leftover named. A .tmp.json newer than every backup is still used.
func TestMigrate_staleTmpDoesNotResurrectDeletedCollection(t *testing.T) {
	env := func(ts, data string) string {
		return `{"version":1,"compressed":false,"checksum":"x","timestamp":` + ts + `,"data":` + data + `}`
	}
	for _, tc := range []struct {
		name, tmpTime string
		want          []string
	}{
		{"stale", "1761000000000", nil},
		{"newer", "1761300000000", []string{"z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{
				"db/tasks.json":                      env("1761300000000", `[{"id":"t","title":"live"}]`),
				"db/notes.1761200000000.backup.json": env("1761100000000", `[{"id":"a","content":"deleted collection"}]`),
				"db/notes.tmp.json":                  env(tc.tmpTime, `[{"id":"z","content":"tmp"}]`),
			})
			db := openStore(t)
			res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if err := db.List(context.Background(), "notes", 0, 0, func(d kv.Document) error {
				got = append(got, fmt.Sprint(d["id"]))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("notes %v, want %v", got, tc.want)
			}
			if tc.want == nil && !slices.ContainsFunc(res.Report.NotResurrected, func(d legacy.Dropped) bool {
				return d.ID == "" && strings.Contains(d.Reason, "deleted") && strings.Contains(d.Reason, "notes.tmp.json")
			}) {
				t.Errorf("the deleted collection and its leftover are not reported: %+v", res.Report.NotResurrected)
			}
		})
	}
}

// TestMigrate_dbDirSiblingsReported: pointed at db/ itself, the
// attachments/ beside it are outside the given directory and not read;
// that is said once, and an attachment whose bytes are there is not
// called absent from "the old directory".
func TestMigrate_dbDirSiblingsReported(t *testing.T) {
	root := writeFiles(t, map[string]string{
		"db/notes.json":               `[{"id":"n1","content":"x","attachments":[{"id":"att-1","type":"file","name":"p.txt","size":5}]}]`,
		"attachments/att-1.dat":       base64.StdEncoding.EncodeToString([]byte("bytes")),
		"attachments/att-1.meta.json": `{"id":"att-1","type":"file","name":"p.txt","size":5}`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, root+"/db", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if !hasProblem(res.Problems, "not scanned", "../attachments") {
		t.Errorf("the unscanned attachments/ is not reported: %q", res.Problems)
	}
	if hasProblem(res.Problems, "no file of the old directory") || !hasProblem(res.Problems, `"att-1"`, "../attachments beside it not scanned") {
		t.Errorf("att-1's problem does not say where its bytes may be: %q", res.Problems)
	}
}

// TestMigrate_symlinkedDBOutsideIsNoData: a db/ that is a symbolic link
// to outside the directory is not followed; with nothing else there the
// run fails with ErrNoData naming the link, as an empty directory does,
// rather than succeed with an empty store.
func TestMigrate_symlinkedDBOutsideIsNoData(t *testing.T) {
	elsewhere := writeFiles(t, map[string]string{"db/notes.json": `[{"id":"n1","content":"x"}]`})
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(elsewhere, "db"), filepath.Join(dir, "db")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	db := openStore(t)
	_, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if !errors.Is(err, legacy.ErrNoData) || !strings.Contains(fmt.Sprint(err), "db link to outside") {
		t.Fatalf("err %v, want ErrNoData naming the db link", err)
	}
}

// TestMigrate_inlineBase64AfterDamagedFile: a record's inline base64
// that hashes to its recorded hash is the last place of docs/FORMAT.md
// §7.6's resolution order; when the dedup file found first is damaged,
// the inline bytes are stored, not the damaged ones, and the damaged
// file is named in the problems.
func TestMigrate_inlineBase64AfterDamagedFile(t *testing.T) {
	good := []byte("the real screenshot bytes")
	h := sha256Hex(good)
	dir := writeFiles(t, map[string]string{
		"attachments/" + h[:2] + "/" + h + ".dat": base64.StdEncoding.EncodeToString([]byte("CORRUPTED")),
		"db/attachments.json": `[{"id":"attachment-1","type":"image","name":"s.jpg","mimeType":"image/jpeg","size":25,"hash":"` + h +
			`","base64":"` + base64.StdEncoding.EncodeToString(good) + `"}]`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	doc, _, err := db.Get(context.Background(), "attachments", "attachment-1")
	if err != nil {
		t.Fatal(err)
	}
	if doc["hash"] != h || doc["contentDamaged"] != nil {
		t.Errorf("attachment-1 %v: want the inline bytes (hash %s), not damaged", doc, h)
	}
	if !hasProblem(res.Problems, "attachments/"+h[:2]+"/"+h+".dat", "intact copy") {
		t.Errorf("the damaged file is not named: %q", res.Problems)
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestMigrate_checksumBugBackupIsLossNotDeletion: docs/FORMAT.md §11.2.
// The newest timestamped backup (the main file before the last save) is
// compressed:false with its checksum over compact JSON, which the old
// app's loader, hashing pretty JSON, rejected: the app saw no notes and
// its next save wrote only the note typed after. The backup's notes were
// lost, not deleted: imported and reported. With a checksum the app
// accepted (over pretty JSON) they were deleted and stay so.
func TestMigrate_checksumBugBackupIsLossNotDeletion(t *testing.T) {
	const real = `[{"id":"a","content":"real a"},{"id":"b","content":"real b"}]`
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(real), "", "  "); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, hashed string
		want         []string
	}{
		{"compact hash: rejected by the app", real, []string{"a", "b", "d"}},
		{"pretty hash: accepted by the app", pretty.String(), []string{"d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backup := fmt.Sprintf(`{"version":1,"checksum":%q,"timestamp":1761900000000,"compressed":false,"data":%s}`, legacy.LegacyChecksum(tc.hashed), real)
			dir := writeFiles(t, map[string]string{
				"db/notes.1761950000000.backup.json": backup,
				"db/notes.json":                      `{"version":1,"checksum":"x","timestamp":1761950000001,"compressed":false,"data":[{"id":"d","content":"typed after the loss"}]}`,
			})
			db := openStore(t)
			res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if err := db.List(context.Background(), "notes", 0, 0, func(d kv.Document) error {
				got = append(got, fmt.Sprint(d["id"]))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("notes %v, want %v", got, tc.want)
			}
			if reported := hasProblem(res.Problems, "notes.1761950000000.backup.json", "§11.2"); reported != (len(tc.want) > 1) {
				t.Errorf("§11.2 reported %v: %q", reported, res.Problems)
			}
		})
	}
}

// TestScan_macOSArtefactsIgnored: a directory copied from a Mac has an
// AppleDouble ._<name> beside every file, .DS_Store files and __MACOSX/.
// None is read as the old app's (no bogus attachment ._a1, no
// unreadable:db/._notes.json); they are counted once.
func TestScan_macOSArtefactsIgnored(t *testing.T) {
	ad := "\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02" + strings.Repeat("\x00", 40)
	dir := writeFiles(t, map[string]string{
		"db/notes.json":            `[{"id":"n1","content":"x"}]`,
		"db/._notes.json":          ad,
		"attachments/a1.dat":       base64.StdEncoding.EncodeToString([]byte("bytes")),
		"attachments/._a1.dat":     ad,
		".DS_Store":                "\x00\x00\x00\x01Bud1" + strings.Repeat("\x00", 20),
		"db/.DS_Store":             "\x00\x00\x00\x01Bud1",
		"__MACOSX/db/._tasks.json": ad,
	})
	ds, rep, err := legacy.Scan(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MacOSArtefacts != 5 {
		t.Errorf("MacOSArtefacts %d, want 5", rep.MacOSArtefacts)
	}
	for k := range ds.Extras {
		if strings.Contains(k, "._") || strings.Contains(k, "DS_Store") {
			t.Errorf("extras %q", k)
		}
	}
	for _, b := range ds.Blobs {
		if slices.ContainsFunc(b.AttachmentIDs, func(id string) bool { return strings.HasPrefix(id, "._") }) {
			t.Errorf("blob %v", b.AttachmentIDs)
		}
	}
	if len(rep.Unreadable) != 0 || len(rep.Skipped) != 0 || len(rep.Ignored) != 0 {
		t.Errorf("reported as more than artefacts: unreadable %v skipped %v ignored %v", rep.Unreadable, rep.Skipped, rep.Ignored)
	}
}

// TestMigrate_clobberedSessionsFileReported: db/sessions.json holding one
// session object instead of the array (the WAL replay's clobbering,
// docs/FORMAT.md §5.3) is restored from its backup as before, and now
// also said in the problems (report #21).
func TestMigrate_clobberedSessionsFileReported(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"db/sessions.json":                      `{"id":"s2","name":"only one"}`,
		"db/sessions.1761300000000.backup.json": `{"version":1,"checksum":"x","timestamp":1761299999000,"data":[{"id":"s1","name":"one"},{"id":"s2","name":"two"}]}`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts["sessions"] != 2 {
		t.Errorf("counts %v, want 2 sessions", res.Counts)
	}
	if !hasProblem(res.Problems, "clobbered", "db/sessions.json", `"s2"`) {
		t.Errorf("the clobbered file is not reported: %q", res.Problems)
	}
}

// TestMigrate_dedupedInlineKeepsEachOrigin: the same bytes inline in a
// session's screenshot and in a task's attachment are one blob; each
// attachment's legacySource names its own record (report #17).
func TestMigrate_dedupedInlineKeepsEachOrigin(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString([]byte("same bytes in two places"))
	dir := writeFiles(t, map[string]string{
		"db/sessions.json": `[{"id":"s1","name":"s","screenshots":[{"id":"sh1","attachmentId":"att-s","base64":"` + b64 + `"}]}]`,
		"db/tasks.json":    `[{"id":"t1","title":"t","attachments":[{"id":"att-t","type":"image","name":"x.png","base64":"` + b64 + `"}]}]`,
	})
	db := openStore(t)
	if _, err := legacy.Migrate(t.Context(), db, dir, nil, false); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"att-s": "sessions/s1#base64", "att-t": "tasks/t1#base64"} {
		doc, _, err := db.Get(context.Background(), "attachments", id)
		if err != nil {
			t.Fatal(err)
		}
		if doc["legacySource"] != want {
			t.Errorf("%s: legacySource %v, want %s", id, doc["legacySource"], want)
		}
	}
}

// TestMigrate_oversizedCountsItsBlob: an entity over the store's document
// limit is kept whole as an attachment's content, a blob the result
// counts like any other (report #16: "blobs": 0 after one was stored).
func TestMigrate_oversizedCountsItsBlob(t *testing.T) {
	db, err := kv.Open(t.TempDir(), &kv.Options{NoSearch: true, MaxDocumentBytes: 300})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := writeFiles(t, map[string]string{
		"db/notes.json": `[{"id":"big","content":"` + strings.Repeat("x", 1000) + `"}]`,
	})
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if !hasProblem(res.Problems, `"big"`, "legacy-oversized-") {
		t.Fatalf("not kept as an oversized attachment: %q", res.Problems)
	}
	if res.Blobs != 1 {
		t.Errorf("Blobs %d, want 1", res.Blobs)
	}
}

// TestMigrate_longExtrasKeyRecorded: an unknown storage key too long for
// an id is kept under a shortened extras id (report #18); the problems
// say so and the original key is stored in extras legacy:renamedKeys.
func TestMigrate_longExtrasKeyRecorded(t *testing.T) {
	seg := strings.Repeat("d", 120)
	key := seg + "/" + seg + "/" + seg
	dir := writeFiles(t, map[string]string{
		"db/notes.json": `[{"id":"n1","content":"x"}]`,
		"db/" + seg + "/" + seg + "/" + seg + ".json": `{"kept":true}`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if !hasProblem(res.Problems, key, "legacy:renamedKeys") {
		t.Errorf("the renamed key is not reported: %q", res.Problems)
	}
	doc, _, err := db.Get(context.Background(), "extras", "legacy:renamedKeys")
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := doc["keys"].(map[string]any)
	found := false
	for _, v := range keys {
		found = found || v == key
	}
	if !found {
		t.Errorf("legacy:renamedKeys %v lacks %q", doc, key)
	}
}
