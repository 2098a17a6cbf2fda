package legacy_test

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
)

// Regression tests of Migrate for the seventh pass over the sixth
// black-box report: each builds the old app's directory in t.TempDir().

// orphanID is the id Migrate gives bytes no attachment id names.
func orphanID(b string) string {
	sum := sha256.Sum256([]byte(b))
	return "legacy-orphan-" + hex.EncodeToString(sum[:])[:16]
}

// TestMigrate_twoFilesOfOneIDKeptApart: attachments/a7.dat and
// attachments/images/a7.png holding different bytes are two contents,
// not two copies of one: the .dat's is a7's (docs/FORMAT.md §7.6 order),
// the .png's is stored as an orphan attachment, and the report lists the
// conflict and the file.
func TestMigrate_twoFilesOfOneIDKeptApart(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"attachments/a7.dat":        base64.StdEncoding.EncodeToString([]byte("AAAA-dat-content")),
		"attachments/images/a7.png": "PNG-file-content",
		"attachments/b1.dat":        base64.StdEncoding.EncodeToString([]byte("same")),
		"attachments/files/b1.txt":  "same",
		"db/notes.json": `[{"id":"n1","content":"c","attachments":[{"id":"a7","type":"image","name":"a7.png","mimeType":"image/png","path":"attachments/images/a7.png"},` +
			`{"id":"b1","type":"file","name":"b1.txt"}]}]`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(attachmentBytes(t, db, "a7")); got != "AAAA-dat-content" {
		t.Errorf("a7 holds %q", got)
	}
	if got := string(attachmentBytes(t, db, orphanID("PNG-file-content"))); got != "PNG-file-content" {
		t.Errorf("the .png's bytes: %q", got)
	}
	if got := string(attachmentBytes(t, db, "b1")); got != "same" {
		t.Errorf("b1 holds %q", got)
	}
	if !slices.ContainsFunc(res.Report.Conflicts, func(c legacy.Conflict) bool { return c.ID == "a7" }) ||
		slices.ContainsFunc(res.Report.Conflicts, func(c legacy.Conflict) bool { return c.ID == "b1" }) {
		t.Errorf("conflicts %+v", res.Report.Conflicts)
	}
	if !slices.Contains(res.Report.OrphanFiles, "attachments/images/a7.png") {
		t.Errorf("orphan files %v", res.Report.OrphanFiles)
	}
}

// TestMigrate_losingVersionInlineBytesUsed: the inline base64 an older
// version of an entity holds is a source of the attachment's bytes when
// the newer version lost it (docs/FORMAT.md §11.7): a session in
// db/sessions.json with a screenshot's base64 and its newer chunked copy
// without it; a note in notes.json with an attachment's base64 and its
// newer per-entity copy without it. Neither reference is reported as
// missing.
func TestMigrate_losingVersionInlineBytesUsed(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	dir := writeFiles(t, map[string]string{
		"db/sessions.json": `{"version":1,"checksum":"x","timestamp":1763000000000,"data":[{"id":"s1","name":"old","updatedAt":"2025-10-20T12:00:00.000Z",` +
			`"screenshots":[{"id":"sh0","sessionId":"s1","attachmentId":"att0","base64":"` + b64("JPEG-BYTES") + `"}]}]}`,
		"db/sessions/s1/metadata.json":              `{"id":"s1","name":"new","updatedAt":"2025-11-05T12:00:00.000Z","chunks":{"screenshots":{"count":1,"chunkCount":1,"chunkSize":20}}}`,
		"db/sessions/s1/screenshots/chunk-000.json": `{"sessionId":"s1","chunkIndex":0,"screenshots":[{"id":"sh0","sessionId":"s1","attachmentId":"att0"}]}`,
		"db/notes.json": `{"version":1,"checksum":"x","timestamp":1763000000000,"data":[{"id":"n1","content":"old","lastUpdated":"2025-10-20T12:00:00.000Z",` +
			`"attachments":[{"id":"a1","type":"file","name":"x.txt","mimeType":"text/plain","base64":"` + b64("NOTE-BYTES") + `"}]},` +
			`{"id":"n2","content":"old","lastUpdated":"2025-10-20T12:00:00.000Z","attachments":[{"id":"a2","name":"y.txt","base64":"` + b64("OLD-A2") + `"}]}]}`,
		"db/notes/note-n1.json": `{"id":"n1","content":"new","lastUpdated":"2025-10-21T12:00:00.000Z","attachments":[{"id":"a1","type":"file","name":"x.txt","mimeType":"text/plain"}]}`,
		"db/notes/note-n2.json": `{"id":"n2","content":"new","lastUpdated":"2025-10-21T12:00:00.000Z","attachments":[{"id":"a2","name":"y.txt","base64":"` + b64("NEW-A2") + `"}]}`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"att0": "JPEG-BYTES", "a1": "NOTE-BYTES", "a2": "NEW-A2", orphanID("OLD-A2"): "OLD-A2"} {
		if got := string(attachmentBytes(t, db, id)); got != want {
			t.Errorf("%s holds %q, want %q", id, got, want)
		}
	}
	if len(res.Report.MissingReferences) != 0 {
		t.Errorf("missing references %+v", res.Report.MissingReferences)
	}
	if !slices.ContainsFunc(res.Report.Conflicts, func(c legacy.Conflict) bool { return c.Collection == "attachments" && c.ID == "a2" }) {
		t.Errorf("conflicts %+v", res.Report.Conflicts)
	}
	if !slices.ContainsFunc(res.Report.Notes, func(n string) bool { return strings.Contains(n, `"att0"`) && strings.Contains(n, "older version") }) {
		t.Errorf("notes %q", res.Report.Notes)
	}
}

// TestMigrate_ownMarkerMembersKept: an old attachment document with
// members named like Migrate's markers (orphan, contentMissing,
// contentDamaged, legacyHash) keeps them as they are; the markers take
// the next free name (orphan~2, ...), as legacyRaw does, and the report
// notes it.
func TestMigrate_ownMarkerMembersKept(t *testing.T) {
	wrong := strings.Repeat("ab", 32)
	dir := writeFiles(t, map[string]string{
		"attachments/a1.dat":         base64.StdEncoding.EncodeToString([]byte("hello")),
		"attachments/a1.meta.json":   `{"id":"a1","name":"h.txt","size":5,"orphan":"kept-by-user"}`,
		"attachments/gone.meta.json": `{"id":"gone","name":"g","mimeType":"text/plain","size":1,"contentMissing":"user-val-1"}`,
		"attachments/ok.dat":         base64.StdEncoding.EncodeToString([]byte("x")),
		"attachments/ok.meta.json":   `{"id":"ok","name":"o","size":1,"hash":"` + wrong + `","legacyHash":"user-val-2","contentDamaged":"user-val-3"}`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]any{
		"a1":   {"orphan": "kept-by-user", "orphan~2": true},
		"gone": {"contentMissing": "user-val-1", "contentMissing~2": true},
		"ok":   {"legacyHash": "user-val-2", "contentDamaged": "user-val-3", "legacyHash~2": wrong, "contentDamaged~2": true},
	}
	for id, members := range want {
		doc, _, err := db.Get(t.Context(), "attachments", id)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range members {
			if doc[k] != v {
				t.Errorf("attachment %s: %s = %v, want %v", id, k, doc[k], v)
			}
		}
	}
	n := 0
	for _, note := range res.Report.Notes {
		if strings.Contains(note, "of its own, kept as it is") {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d notes of renamed markers: %q", n, res.Report.Notes)
	}
}

// TestMigrate_sessionMetadataMembersKept: a chunked session's
// metadata.json holding summary, fullTranscription and screenshots of its
// own, other than its summary.json, transcription.json and chunks: the
// parts and chunks win (docs/FORMAT.md §3.4), the metadata's values are
// kept in extras "replaced:<path>" and the report says so. Members equal
// to the parts' are not kept twice.
func TestMigrate_sessionMetadataMembersKept(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"db/sessions/m1/metadata.json": `{"id":"m1","name":"m","summary":{"narrative":"IN-META"},"fullTranscription":"META-TEXT","canvasSpec":{"same":1},` +
			`"screenshots":[{"id":"inmeta-shot","sessionId":"m1"}],"chunks":{"screenshots":{"count":1,"chunkCount":1,"chunkSize":20}}}`,
		"db/sessions/m1/summary.json":               `{"narrative":"IN-BLOB"}`,
		"db/sessions/m1/transcription.json":         `"BLOB-TEXT"`,
		"db/sessions/m1/canvas-spec.json":           `{"same":1}`,
		"db/sessions/m1/screenshots/chunk-000.json": `{"sessionId":"m1","chunkIndex":0,"screenshots":[{"id":"chunk-shot","sessionId":"m1"}]}`,
		"db/sessions/m2/metadata.json":              `{"id":"m2","name":"plain","chunks":{"screenshots":{"count":1,"chunkCount":1,"chunkSize":20}}}`,
		"db/sessions/m2/screenshots/chunk-000.json": `{"sessionId":"m2","chunkIndex":0,"screenshots":[{"id":"s","sessionId":"m2"}]}`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	doc, _, err := db.Get(t.Context(), "sessions", "m1")
	if err != nil || doc["fullTranscription"] != "BLOB-TEXT" {
		t.Fatalf("session m1 %v %v", doc, err)
	}
	x, _, err := db.Get(t.Context(), "extras", "replaced:db/sessions/m1/metadata.json")
	if err != nil {
		t.Fatal(err)
	}
	members, _ := x["members"].(map[string]any)
	shots, _ := members["screenshots"].([]any)
	if members["fullTranscription"] != "META-TEXT" || len(shots) != 1 || members["summary"] == nil || members["canvasSpec"] != nil {
		t.Errorf("kept members %v", members)
	}
	if _, _, err := db.Get(t.Context(), "extras", "replaced:db/sessions/m2/metadata.json"); err == nil {
		t.Errorf("m2's metadata has nothing replaced, yet it is kept")
	}
	if n := len(slices.DeleteFunc(slices.Clone(res.Report.Notes), func(n string) bool { return !strings.Contains(n, "replaced:") })); n != 1 {
		t.Errorf("%d notes of replaced members: %q", n, res.Report.Notes)
	}
}

// TestMigrate_sessionWithoutStringIDKept: a chunked session whose
// metadata id is a number is not imported (no usable id), but the
// session, its summary and chunks with it, is kept in extras
// "invalid:<path>", which the problem names.
func TestMigrate_sessionWithoutStringIDKept(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"db/sessions/x4/metadata.json":              `{"id":12345,"name":"numeric id","chunks":{"screenshots":{"count":1,"chunkCount":1,"chunkSize":20}}}`,
		"db/sessions/x4/summary.json":               `{"narrative":"summary of x4"}`,
		"db/sessions/x4/screenshots/chunk-000.json": `{"sessionId":"x4","chunkIndex":0,"screenshots":[{"id":"shot-of-x4"}]}`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	x, _, err := db.Get(t.Context(), "extras", "invalid:db/sessions/x4/metadata.json")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := x["text"].(string)
	for _, want := range []string{"numeric id", "summary of x4", "shot-of-x4"} {
		if !strings.Contains(text, want) {
			t.Errorf("extras text %q lacks %q", text, want)
		}
	}
	if !hasProblem(res.Problems, "x4/metadata.json", "kept in extras invalid:") {
		t.Errorf("problems %q", res.Problems)
	}
}

// TestMigrate_mainOlderThanSnapshotIsStale: a main collection file (and
// its .backup.json) older than a backups/backup-<ms>.json snapshot
// holding the collection is the loader's stale restore (docs/FORMAT.md
// §11.1): the snapshot's newer n1 wins, its n2 is imported (not called
// deleted since), and the fallback says why. A snapshot older than the
// main file still adds nothing, and a collection without a main file is
// not brought back by a newer snapshot.
func TestMigrate_mainOlderThanSnapshotIsStale(t *testing.T) {
	old := `{"id":"n1","content":"ANCIENT","lastUpdated":"2025-10-01T00:00:00.000Z"}`
	env := func(ts int64, data string) string {
		return `{"version":1,"checksum":"x","timestamp":` + strconv.FormatInt(ts, 10) + `,"data":[` + data + `]}`
	}
	dir := writeFiles(t, map[string]string{
		"db/notes.json":        env(1764100000000, old),
		"db/notes.backup.json": env(1764100000000, old),
		"db/tasks.json":        env(1765200000000, `{"id":"t1","title":"kept"}`),
		"backups/backup-1765100000000.json": `{"version":1,"timestamp":1765100000000,"collections":{` +
			`"notes":[{"id":"n1","content":"CURRENT","lastUpdated":"2025-11-01T00:00:00.000Z"},{"id":"n2","content":"CURRENT n2"}],` +
			`"tasks":[{"id":"t1","title":"old"},{"id":"t2","title":"deleted since"}],` +
			`"topics":[{"id":"tp1","name":"collection deleted"}]}}`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"n1": "CURRENT", "n2": "CURRENT n2"} {
		doc, _, err := db.Get(t.Context(), "notes", id)
		if err != nil || doc["content"] != want {
			t.Errorf("note %s: %v %v, want content %q", id, doc, err, want)
		}
	}
	if doc, _, err := db.Get(t.Context(), "tasks", "t1"); err != nil || doc["title"] != "kept" {
		t.Errorf("task t1 %v %v", doc, err)
	}
	for _, ref := range [][2]string{{"tasks", "t2"}, {"topics", "tp1"}} {
		if _, _, err := db.Get(t.Context(), ref[0], ref[1]); err == nil {
			t.Errorf("%s %s imported from a snapshot", ref[0], ref[1])
		}
	}
	if !slices.ContainsFunc(res.Report.Fallbacks, func(f legacy.Fallback) bool {
		return f.Key == "notes" && f.Used == "backups/backup-1765100000000.json" && strings.Contains(f.Reason, "older than the backups/ snapshot")
	}) {
		t.Errorf("fallbacks %+v", res.Report.Fallbacks)
	}
	if slices.ContainsFunc(res.Report.NotResurrected, func(d legacy.Dropped) bool { return d.Collection == "notes" }) {
		t.Errorf("not resurrected %+v", res.Report.NotResurrected)
	}
}

// TestMigrate_clockSkewMainNotStale: the clock stepped back about a
// second between two saves of notes: the main file (timestamp T+1001)
// holds the last write, its timestamped backup (named T+1000, the time
// of that last save) the previous main file, whose own timestamp is
// T+2001. The main file is saved after the backup was taken, so it is
// not the loader's stale copy: the last write wins. A main file older
// than the backup's name too is still stale.
func TestMigrate_clockSkewMainNotStale(t *testing.T) {
	const T = int64(1763900000000)
	env := func(ts int64, content string) string {
		return `{"version":1,"checksum":"x","timestamp":` + strconv.FormatInt(ts, 10) + `,"data":[{"id":"n1","content":"` + content + `"}]}`
	}
	for _, c := range []struct {
		main int64
		want string
	}{{T + 1001, "LAST-WRITE"}, {T - 5000, "FIRST-WRITE"}} {
		dir := writeFiles(t, map[string]string{
			"db/notes.json": env(c.main, "LAST-WRITE"),
			"db/notes." + strconv.FormatInt(T+1000, 10) + ".backup.json": env(T+2001, "FIRST-WRITE"),
		})
		db := openStore(t)
		res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if doc, _, err := db.Get(t.Context(), "notes", "n1"); err != nil || doc["content"] != c.want {
			t.Errorf("main file at %d: n1 %v %v, want %q (fallbacks %+v)", c.main, doc, err, c.want, res.Report.Fallbacks)
		}
	}
}

// TestMigrate_missingContentFilledLater: an attachment with a document of
// its own (db/attachments.json) imported without content by a migration
// of db/ alone (attachments/ beside it is not scanned) gets its bytes
// from a later migration of the directory holding db/, as that
// migration's advice says: the stored document keeps its members, loses
// contentMissing and gains the hash.
func TestMigrate_missingContentFilledLater(t *testing.T) {
	data := []byte("DEDUP-BYTES")
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	dir := writeFiles(t, map[string]string{
		"attachments/" + h[:2] + "/" + h + ".dat": base64.StdEncoding.EncodeToString(data),
		"db/attachments.json":                     `[{"id":"att-1","type":"image","name":"d.png","mimeType":"image/png","size":11,"hash":"` + h + `"}]`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, filepath.Join(dir, "db"), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if doc, _, _ := db.Get(t.Context(), "attachments", "att-1"); doc["contentMissing"] != true || !slices.Contains(res.WithoutContent, "att-1") {
		t.Fatalf("after migrating db/: %v, without content %v", doc, res.WithoutContent)
	}
	if _, err := legacy.Migrate(t.Context(), db, dir, nil, false); err != nil {
		t.Fatal(err)
	}
	doc, _, err := db.Get(t.Context(), "attachments", "att-1")
	if err != nil || doc["contentMissing"] != nil || doc["legacyHash"] != nil || doc["hash"] != h || doc["name"] != "d.png" {
		t.Errorf("after migrating the directory: %v %v", doc, err)
	}
	if got := string(attachmentBytes(t, db, "att-1")); got != string(data) {
		t.Errorf("att-1 holds %q", got)
	}
}

// TestMigrate_dryRunCountsBlobs: a dry run reports the attachment
// contents a real run stores, as it does the documents.
func TestMigrate_dryRunCountsBlobs(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"attachments/a1.dat":       base64.StdEncoding.EncodeToString([]byte("one")),
		"attachments/files/b2.txt": "two",
	})
	db := openStore(t)
	dry, err := legacy.Migrate(t.Context(), db, dir, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	real, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Blobs != 2 || real.Blobs != 2 {
		t.Errorf("blobs: dry run %d, real run %d, want 2", dry.Blobs, real.Blobs)
	}
}

// TestMigrate_undecodableDatKept: an attachments/<id>.dat that does not
// decode (the URL-safe alphabet) keeps its text in extras
// "unreadable:<path>", as any other unreadable file does, and the
// attachment's problem names it instead of saying its bytes are in no
// file.
func TestMigrate_undecodableDatKept(t *testing.T) {
	const text = "-__--vv__vr7__76"
	dir := writeFiles(t, map[string]string{
		"attachments/p2.dat":       text,
		"attachments/p2.meta.json": `{"id":"p2","name":"p2","size":12}`,
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	x, _, err := db.Get(t.Context(), "extras", "unreadable:attachments/p2.dat")
	if err != nil || x["text"] != text {
		t.Errorf("extras %v %v", x, err)
	}
	if !hasProblem(res.Problems, `"p2"`, "does not decode", "unreadable:attachments/p2.dat") || hasProblem(res.Problems, `"p2"`, "in no file") {
		t.Errorf("problems %q", res.Problems)
	}
}

// TestMigrate_nestedStoreNotScanned: a Cairn store kept in
// LEGACY/db/<name>/ (a first migration's target) is left out of a later
// migration of LEGACY into another store: its backup manifests and
// search metadata are not the old app's extras.
func TestMigrate_nestedStoreNotScanned(t *testing.T) {
	dir := writeFiles(t, map[string]string{"db/notes.json": `[{"id":"n1","content":"c"}]`})
	nested, err := kv.Open(filepath.Join(dir, "db", "cairn-data"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := legacy.Migrate(t.Context(), nested, dir, nil, false); err != nil {
		t.Fatal(err)
	}
	if err := nested.Close(); err != nil {
		t.Fatal(err)
	}
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Counts["extras"]; n != 0 {
		t.Errorf("%d extras imported from the nested store; notes %q", n, res.Report.Notes)
	}
	if !slices.ContainsFunc(res.Report.Notes, func(n string) bool { return strings.Contains(n, "db/cairn-data, a Cairn store") }) {
		t.Errorf("notes %q", res.Report.Notes)
	}
}

// TestMigrate_zipImportRoundTripDecoded: the old app's ZIP import saved a
// file's GZIP_V1 payload, read without being decompressed, as the
// collection's value, which the next save compressed again
// (docs/FORMAT.md §8.1). migrate called such a file unreadable and
// imported an older backup's collection in its place (round 6, migrate6
// #10). The string is decoded as the payload it is, however many imports
// wrapped it, in every envelope form: compressed, era B's plain string,
// compressed:false's JSON string.
func TestMigrate_zipImportRoundTripDecoded(t *testing.T) {
	gz := func(v string) string {
		var b strings.Builder
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write([]byte(v))
		_ = zw.Close()
		return "GZIP_V1:" + base64.StdEncoding.EncodeToString([]byte(b.String()))
	}
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	notes := `[{"id":"n1","content":"after the ZIP import"}]`
	twice := gz(quote(gz(notes)))             // a GZIP_V1 payload, imported once
	thrice := gz(quote(gz(quote(gz(notes))))) // imported twice
	dir := writeFiles(t, map[string]string{
		"db/notes.json": `{"version":1,"checksum":"x","timestamp":1765400000000,"compressed":true,"data":` + quote(gz(quote(gz(notes)))) + `}`,
		"db/notes.1765300000000.backup.json": `{"version":1,"checksum":"x","timestamp":1765300000000,"compressed":true,"data":` +
			quote(gz(`[{"id":"n0","content":"before the ZIP import"}]`)) + `}`,
		"db/tasks.json":    `{"version":1,"checksum":"x","timestamp":1765400000000,"data":` + quote(twice) + `}`,
		"db/settings.json": `{"version":1,"checksum":"x","timestamp":1765400000000,"compressed":false,"data":` + quote(quote(gz(`{"userProfile":{"name":"zip"}}`))) + `}`,
	})
	env, err := legacy.DecodeEnvelope([]byte(`{"version":1,"checksum":"x","timestamp":1,"data":` + quote(thrice) + `}`))
	if err != nil || env.RoundTrips != 2 {
		t.Fatalf("twice imported: %d round trips, %v", env.RoundTrips, err)
	}
	if _, ok := env.Data.([]any); !ok {
		t.Fatalf("twice imported: payload %T", env.Data)
	}
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Unreadable) > 0 || len(res.Report.Fallbacks) > 0 {
		t.Errorf("unreadable %+v, fallbacks %+v", res.Report.Unreadable, res.Report.Fallbacks)
	}
	if doc, _, err := db.Get(t.Context(), "notes", "n1"); err != nil || doc["content"] != "after the ZIP import" {
		t.Errorf("n1: %v %v", doc, err)
	}
	if _, _, err := db.Get(t.Context(), "notes", "n0"); err == nil {
		t.Error("n0, of the backup before the import, was imported too")
	}
	if _, _, err := db.Get(t.Context(), "tasks", "n1"); err != nil {
		t.Errorf("the tasks file's payload, imported once: %v", err)
	}
	if doc, _, err := db.Get(t.Context(), "settings", ""); err != nil || fmt.Sprint(doc["userProfile"]) != "map[name:zip]" {
		t.Errorf("settings: %v %v", doc, err)
	}
}

// TestMigrate_checksumLossAnywhereInTheChain: the copy the old app's
// checksum check refused (docs/FORMAT.md §2.3, §11.2) was recovered only
// when it was the newest timestamped backup; one more save after the loss
// (a user goes on working) and its entities were dropped as deleted,
// silently (round 7, mig7 #1). Each backup is checked against the save
// after it, however far down the chain.
func TestMigrate_checksumLossAnywhereInTheChain(t *testing.T) {
	const T = int64(1762000000000)
	notes := func(ids ...string) []any {
		var out []any
		for _, id := range ids {
			out = append(out, map[string]any{"id": id, "content": "note " + id})
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
		name  string
		saves [][]string // the backups after the refused one, oldest first
		main  []string
		want  []string
	}{
		{"one save after", [][]string{{"e"}}, []string{"e", "f"}, []string{"a", "b", "c", "e", "f"}},
		{"an empty save, then one", [][]string{{}}, []string{"g"}, []string{"a", "b", "c", "g"}},
		{"the app had them", [][]string{{"a", "b", "e"}}, []string{"a", "b", "e", "f"}, []string{"a", "b", "e", "f"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{
				fmt.Sprintf("db/notes.%d.backup.json", T-3000): enc(notes("a"), legacy.EncodingGzip, T-4000),
				fmt.Sprintf("db/notes.%d.backup.json", T-2000): enc(notes("a", "b", "c"), legacy.EncodingJSONString, T-3000), // refused
				"db/notes.json": enc(notes(c.main...), legacy.EncodingGzip, T),
			}
			for i, ids := range c.saves {
				files[fmt.Sprintf("db/notes.%d.backup.json", T-1000+int64(i))] = enc(notes(ids...), legacy.EncodingGzip, T-2000+int64(i))
			}
			dir := writeFiles(t, files)
			db := openStore(t)
			if _, err := legacy.Migrate(t.Context(), db, dir, nil, false); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, id := range []string{"a", "b", "c", "d", "e", "f", "g"} {
				if _, _, err := db.Get(t.Context(), "notes", id); err == nil {
					got = append(got, id)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("notes %v, want %v", got, c.want)
			}
		})
	}
}

// TestMigrate_checksumLostSettingsKept: a settings backup the old app's
// checksum check refused (docs/FORMAT.md §2.3) held the user's prompt and
// profile; the app loaded no settings and saved its defaults over them
// (§11.2), which won the merge, and the user's values were nowhere in
// the store (round 7, mig7 #3). The refused copy is kept whole in extras
// and a note names it; one that differs in nothing is not.
func TestMigrate_checksumLostSettingsKept(t *testing.T) {
	const T = int64(1762000000000)
	enc := func(v any, encoding string, ts int64) string {
		b, err := legacy.EncodeEnvelope(v, encoding, ts, false)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	user := map[string]any{"aiSettings": map[string]any{"systemInstructions": "MY CAREFUL PROMPT"}, "userProfile": map[string]any{"name": "Alice"}}
	defaults := map[string]any{"aiSettings": map[string]any{"systemInstructions": ""}, "userProfile": map[string]any{"name": ""}}
	for _, c := range []struct {
		name   string
		main   map[string]any
		extras bool
	}{{"defaults saved over them", defaults, true}, {"the same settings", user, false}} {
		t.Run(c.name, func(t *testing.T) {
			bak := fmt.Sprintf("db/settings.%d.backup.json", T-1000)
			dir := writeFiles(t, map[string]string{
				bak:                enc(user, legacy.EncodingJSONString, T-2000), // refused by the app
				"db/settings.json": enc(c.main, legacy.EncodingGzip, T),
			})
			db := openStore(t)
			res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			v, _, err := db.GetValue(t.Context(), "extras", "checksumLost:"+bak)
			if kept := err == nil && strings.Contains(fmt.Sprint(v), "MY CAREFUL PROMPT"); kept != c.extras {
				t.Errorf("kept in extras: %v (%v %v), want %v", kept, v, err, c.extras)
			}
			noted := slices.ContainsFunc(res.Report.Notes, func(n string) bool { return strings.Contains(n, bak) && strings.Contains(n, "§11.2") })
			if noted != c.extras {
				t.Errorf("noted %v, want %v: %q", noted, c.extras, res.Report.Notes)
			}
		})
	}
}

// TestMigrate_putBackThenSaved: the old app's loader put the months-old
// single-slot notes.backup.json back over the main file (docs/FORMAT.md
// §11.1), and the app saved once more: the timestamped backup of that save
// is the stale copy, and the main file descends from it. Migrate took the
// stale data as current, dropping the notes created since the last good
// copy and reverting one edited since, silently (round 7, mig7 #2). The
// last good copy's entities are candidates beside the main file's now.
func TestMigrate_putBackThenSaved(t *testing.T) {
	note := func(id, content, updated string) map[string]any {
		return map[string]any{"id": id, "content": content, "lastUpdated": updated}
	}
	enc := func(ts int64, notes ...map[string]any) string {
		var v []any
		for _, n := range notes {
			v = append(v, n)
		}
		b, err := legacy.EncodeEnvelope(v, legacy.EncodingGzip, ts, false)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	stale := note("n1", "stale 1", "2025-10-16T00:00:00.000Z")
	dir := writeFiles(t, map[string]string{
		"db/notes.backup.json": enc(1760600000000, stale),
		"db/notes.1761100000000.backup.json": enc(1761090000000, note("n1", "current 1", "2025-10-22T00:00:00.000Z"),
			note("n2", "current 2", "2025-10-22T00:00:00.000Z"), note("n3", "current 3", "2025-10-22T00:00:00.000Z")),
		"db/notes.1761400000000.backup.json": enc(1760600000000, stale), // the put-back stale main, as the next save found it
		"db/notes.json":                      enc(1761400000000, stale, note("n4", "new after the put-back", "2025-10-25T00:00:00.000Z")),
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"n1": "current 1", "n2": "current 2", "n3": "current 3", "n4": "new after the put-back"} {
		if doc, _, err := db.Get(t.Context(), "notes", id); err != nil || doc["content"] != want {
			t.Errorf("%s: %v %v, want %q", id, doc, err, want)
		}
	}
	if !slices.ContainsFunc(res.Report.Notes, func(n string) bool { return strings.Contains(n, "§11.1") }) {
		t.Errorf("notes %q: want the put-back named", res.Report.Notes)
	}
}
