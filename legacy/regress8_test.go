package legacy_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
)

// Regression tests of Migrate for the seventh black-box report's
// migration findings left open in its round (mig7 #4, #5): each builds
// the old app's directory in t.TempDir().

// TestMigrate_olderCopiesInlineBytes: the inline base64 the older copies
// of collection files hold is a source of attachment bytes (docs/FORMAT.md
// §7.6, §11.7). Before, only an entity's losing candidates were read for
// it, and bytes surviving only in a timestamped backup, a backups/
// snapshot, a superseded WAL write, an older .tmp.json or a chunk's
// backup were reported as "in no file" and lost. Each case is one
// attachment whose current record has no base64 (its content must come
// from the older copy) and one whose current record has other bytes (the
// older bytes must be kept as an orphan attachment and reported). An
// attachment only an older copy refers to stays deleted.
func TestMigrate_olderCopiesInlineBytes(t *testing.T) {
	const T = int64(1762000000000)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	rec := func(id, bytes string) map[string]any {
		r := map[string]any{"id": id, "type": "file", "name": id + ".bin", "mimeType": "application/octet-stream"}
		if bytes != "" {
			r["base64"] = b64(bytes)
		}
		return r
	}
	note := func(id, updated string, recs ...map[string]any) map[string]any {
		var as []any
		for _, r := range recs {
			as = append(as, r)
		}
		return map[string]any{"id": id, "content": "c " + id, "lastUpdated": updated, "attachments": as}
	}
	const oldT, newT = "2025-10-02T00:00:00.000Z", "2025-10-25T00:00:00.000Z"
	env := func(v any, ts int64) string { return envelopeText(t, v, legacy.EncodingGzip, ts) }
	older := func(tag string) []any {
		return []any{note("n"+tag, oldT, rec("only-"+tag, "ONLY-"+tag), rec("diff-"+tag, "OLD-"+tag), rec("gone-"+tag, "GONE-"+tag))}
	}
	current := func(tag string) map[string]any {
		return note("n"+tag, newT, rec("only-"+tag, ""), rec("diff-"+tag, "NEW-"+tag))
	}
	wal := fmt.Sprintf(`{"id":"1","timestamp":%d,"operation":"write","collection":"notes","data":%s,"checksum":"x"}`+"\n", T-5000, jsonText(t, older("w")))
	snapshot := fmt.Sprintf(`{"version":1,"timestamp":%d,"collections":{"notes":%s}}`, T-200000, jsonText(t, older("s")))
	chunkOld := map[string]any{"sessionId": "S", "chunkIndex": 0, "screenshots": []any{
		map[string]any{"id": "ss0", "sessionId": "S", "attachmentId": "only-c", "base64": "data:image/jpeg;base64," + b64("ONLY-c")}}}
	chunkNew := map[string]any{"sessionId": "S", "chunkIndex": 0, "screenshots": []any{
		map[string]any{"id": "ss0", "sessionId": "S", "attachmentId": "only-c"}}}
	meta := map[string]any{"id": "S", "name": "s", "updatedAt": newT, "chunks": map[string]any{"screenshots": map[string]any{"count": 1, "chunkCount": 1, "chunkSize": 20}}}
	dir := writeFiles(t, map[string]string{
		"db/notes.json": env([]any{current("b"), current("w"), current("s"), current("t")}, T),
		fmt.Sprintf("db/notes.%d.backup.json", T-100000): env(older("b"), T-100000),
		"db/notes.tmp.json": env(older("t"), T-9000),
		"db/wal.log":        wal,
		fmt.Sprintf("backups/backup-%d.json", T-200000):                             snapshot,
		"db/sessions/S/metadata.json":                                               env(meta, T),
		"db/session-index.json":                                                     env([]any{"S"}, T),
		"db/sessions/S/screenshots/chunk-000.json":                                  env(chunkNew, T),
		fmt.Sprintf("db/sessions/S/screenshots/chunk-000.%d.backup.json", T-120000): env(chunkOld, T-120000),
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"b", "w", "s", "t", "c"} {
		if got := string(attachmentBytes(t, db, "only-"+tag)); got != "ONLY-"+tag {
			t.Errorf("only-%s holds %q, want the older copy's bytes", tag, got)
		}
		if tag == "c" {
			continue
		}
		if got := string(attachmentBytes(t, db, "diff-"+tag)); got != "NEW-"+tag {
			t.Errorf("diff-%s holds %q, want the current record's bytes", tag, got)
		}
		if got := string(attachmentBytes(t, db, orphanID("OLD-"+tag))); got != "OLD-"+tag {
			t.Errorf("the older bytes of diff-%s: %q", tag, got)
		}
		if !slices.ContainsFunc(res.Report.Conflicts, func(c legacy.Conflict) bool { return c.Collection == "attachments" && c.ID == "diff-"+tag }) {
			t.Errorf("no conflict reported for diff-%s: %+v", tag, res.Report.Conflicts)
		}
		if _, _, err := db.GetValue(t.Context(), "attachments", "gone-"+tag); err == nil {
			t.Errorf("gone-%s, which only an older copy refers to, was imported", tag)
		}
		if _, _, err := db.GetValue(t.Context(), "attachments", orphanID("GONE-"+tag)); err == nil {
			t.Errorf("the bytes of gone-%s, which only an older copy refers to, were imported", tag)
		}
	}
	if len(res.Report.MissingReferences) != 0 {
		t.Errorf("missing references %+v", res.Report.MissingReferences)
	}
	for _, p := range res.Problems {
		if strings.Contains(p, "in no file") {
			t.Errorf("problem %q", p)
		}
	}
}

// TestMigrate_fileBackedAttachmentKeepsRecordMeta: an attachment whose
// bytes are a file stored by id (attachments/images/<id>.png), with no
// document or metadata file of its own, takes the name, type and
// createdAt its referring record gives, as an inline one does. Before,
// its document was the scan's stub, named after its id (mig7 #5).
func TestMigrate_fileBackedAttachmentKeepsRecordMeta(t *testing.T) {
	rec := `{"id":"att4","type":"image","name":"whiteboard.png","mimeType":"image/png","createdAt":"2025-10-16T00:00:00.000Z","path":"attachments/images/att4.png"}`
	dir := writeFiles(t, map[string]string{
		"attachments/images/att4.png": "PNG-BYTES",
		"db/notes.json":               `{"version":1,"checksum":"x","timestamp":1761000000000,"data":[{"id":"n1","content":"c","attachments":[` + rec + `]}]}`,
	})
	db := openStore(t)
	for run := range 2 {
		res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		doc, _, err := db.Get(t.Context(), "attachments", "att4")
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]any{"name": "whiteboard.png", "type": "image", "createdAt": "2025-10-16T00:00:00.000Z", "mimeType": "image/png"} {
			if doc[k] != want {
				t.Errorf("run %d: %s = %v, want %v (%v)", run+1, k, doc[k], want, doc)
			}
		}
		if run == 1 && len(res.KeptStored) != 0 {
			t.Errorf("second run kept stored: %v", res.KeptStored)
		}
	}
	if got := string(attachmentBytes(t, db, "att4")); got != "PNG-BYTES" {
		t.Errorf("att4 holds %q", got)
	}
}

// jsonText is v as JSON text.
func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMigrate_storedAttachmentOtherBytesKept: the store holds attachment
// att1 already (the user added it, or a second machine's directory was
// migrated first) and the old app's att1 holds other bytes: the stored
// document stays, and the old app's bytes are kept as an orphan
// attachment and reported, not dropped (round 8, mig8 #1). A second run
// adds nothing.
func TestMigrate_storedAttachmentOtherBytesKept(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"attachments/att1.dat": base64.StdEncoding.EncodeToString([]byte("OLD-APP-BYTES")),
		"db/notes.json":        `{"version":1,"checksum":"x","timestamp":1761000000000,"data":[{"id":"n1","content":"c","attachments":[{"id":"att1","name":"a.bin"}]}]}`,
	})
	db := openStore(t)
	if _, err := db.AddAttachment(t.Context(), strings.NewReader("MINE"), kv.Document{"id": "att1", "name": "mine.bin"}); err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		noted := slices.ContainsFunc(res.KeptStored, func(l string) bool { return strings.Contains(l, orphanID("OLD-APP-BYTES")) })
		if noted != (run == 0) {
			t.Errorf("run %d: kept_stored %q", run+1, res.KeptStored)
		}
	}
	if got := string(attachmentBytes(t, db, "att1")); got != "MINE" {
		t.Errorf("att1 holds %q, want the stored bytes", got)
	}
	if got := string(attachmentBytes(t, db, orphanID("OLD-APP-BYTES"))); got != "OLD-APP-BYTES" {
		t.Errorf("the old app's bytes: %q", got)
	}
}

// TestMigrate_containerRepeatedMemberKept: a repeated member name in an
// object that is no document (a collection envelope's data, a chunk's
// screenshots, a WAL line's data) kept only the last value, as the old
// app's JSON.parse does, and dropped the first without a word (round 8,
// mig8 #2). Its text is kept in extras legacyRaw:<file> now, and a
// problem names it; a second run adds nothing.
func TestMigrate_containerRepeatedMemberKept(t *testing.T) {
	const T = 1762000000000
	dir := writeFiles(t, map[string]string{
		"db/notes.json":                fmt.Sprintf(`{"version":1,"checksum":"x","timestamp":%d,"data":[{"id":"n1","content":"FIRSTDATA"}],"data":[{"id":"n2","content":"LASTDATA"}]}`, T),
		"db/sessions/s5/metadata.json": fmt.Sprintf(`{"version":1,"checksum":"x","timestamp":%d,"data":{"id":"s5","name":"s","chunks":{"screenshots":{"count":1,"chunkCount":1,"chunkSize":20}}}}`, T),
		"db/session-index.json":        fmt.Sprintf(`{"version":1,"checksum":"x","timestamp":%d,"data":["s5"]}`, T),
		"db/sessions/s5/screenshots/chunk-000.json": fmt.Sprintf(`{"version":1,"checksum":"x","timestamp":%d,"data":{"sessionId":"s5","chunkIndex":0,`+
			`"screenshots":[{"id":"FIRSTSHOT","sessionId":"s5"}],"screenshots":[{"id":"LASTSHOT","sessionId":"s5"}]}}`, T),
		"db/wal.log": fmt.Sprintf(`{"id":"w1","timestamp":%d,"operation":"write","collection":"notes/note-n3.json","data":{"id":"n3","content":"FIRSTWAL"},"data":{"id":"n3","content":"LASTWAL"},"checksum":"x"}`+"\n", T+1000),
	})
	db := openStore(t)
	for run := range 2 {
		res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"db/notes.json", "db/sessions/s5/screenshots/chunk-000.json", "db/wal.log#L1"} {
			v, _, err := db.GetValue(t.Context(), "extras", "legacyRaw:"+f)
			first := map[string]string{"db/notes.json": "FIRSTDATA", "db/wal.log#L1": "FIRSTWAL"}[f]
			if first == "" {
				first = "FIRSTSHOT"
			}
			if err != nil || !strings.Contains(fmt.Sprint(v), first) {
				t.Errorf("run %d: extras legacyRaw:%s = %v (%v), want the text holding %s", run+1, f, v, err, first)
			}
			if !slices.ContainsFunc(res.Problems, func(p string) bool { return strings.Contains(p, `"legacyRaw:`+f+`"`) }) {
				t.Errorf("run %d: no problem names %s: %q", run+1, f, res.Problems)
			}
		}
	}
	if _, _, err := db.Get(t.Context(), "notes", "n2"); err != nil {
		t.Errorf("the last data member's note: %v", err)
	}
}

// TestMigrate_chunkChecksumLossRecovered: the old app's checksum bug
// (docs/FORMAT.md §2.3, §11.2) on a chunked session's chunk or array part:
// the chunk last saved compressed:false failed the app's own check, the
// app started it empty, and its next save held only the newest item. The
// items before it were only in the chunk's timestamped backup, and
// migrate dropped them, reporting a manifest shortfall as if they had
// never reached the disk (round 8, mig8 #1). They are imported beside the
// newer ones now, and reported.
func TestMigrate_chunkChecksumLossRecovered(t *testing.T) {
	const T = int64(1762000000000)
	enc := func(v any, encoding string, ts int64) string { return envelopeText(t, v, encoding, ts) }
	shot := func(id string) any {
		return map[string]any{"id": id, "sessionId": "S", "timestamp": "2025-11-01T00:00:00.000Z"}
	}
	item := func(id string) any { return map[string]any{"id": id, "text": "context " + id} }
	meta := map[string]any{"id": "S", "name": "s", "updatedAt": "2025-11-01T00:00:00.000Z", "hasContextItems": true,
		"chunks": map[string]any{"screenshots": map[string]any{"count": 3, "chunkCount": 1, "chunkSize": 20}}}
	dir := writeFiles(t, map[string]string{
		"db/session-index.json":       enc([]any{"S"}, legacy.EncodingGzip, T),
		"db/sessions/S/metadata.json": enc(meta, legacy.EncodingGzip, T),
		fmt.Sprintf("db/sessions/S/screenshots/chunk-000.%d.backup.json", T-2000): enc(map[string]any{"sessionId": "S", "chunkIndex": 0, "screenshots": []any{shot("sc0"), shot("sc1")}}, legacy.EncodingJSONString, T-3000),
		"db/sessions/S/screenshots/chunk-000.json":                                enc(map[string]any{"sessionId": "S", "chunkIndex": 0, "screenshots": []any{shot("sc2")}}, legacy.EncodingGzip, T),
		fmt.Sprintf("db/sessions/S/context-items.%d.backup.json", T-2000):         enc([]any{item("c1"), item("c2")}, legacy.EncodingJSONString, T-3000),
		"db/sessions/S/context-items.json":                                        enc([]any{item("c3")}, legacy.EncodingGzip, T),
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	doc, _, err := db.Get(t.Context(), "sessions", "S")
	if err != nil {
		t.Fatal(err)
	}
	ids := func(field string) []string {
		var out []string
		for _, x := range doc[field].([]any) {
			out = append(out, fmt.Sprint(x.(map[string]any)["id"]))
		}
		return out
	}
	if got := ids("screenshots"); !slices.Equal(got, []string{"sc0", "sc1", "sc2"}) {
		t.Errorf("screenshots %v, want sc0 sc1 sc2", got)
	}
	if got := ids("contextItems"); !slices.Equal(got, []string{"c1", "c2", "c3"}) {
		t.Errorf("context items %v, want c1 c2 c3", got)
	}
	for _, k := range []string{"sessions/S/screenshots/chunk-000", "sessions/S/context-items"} {
		if !slices.ContainsFunc(res.Problems, func(p string) bool { return strings.HasPrefix(p, k+" from ") }) {
			t.Errorf("no problem names the recovery of %s: %q", k, res.Problems)
		}
	}
	if slices.ContainsFunc(res.Problems, func(p string) bool { return strings.Contains(p, "manifest count") }) {
		t.Errorf("a shortfall reported: %q", res.Problems)
	}
}

// TestMigrate_deletedChunkedSessionStaysDeleted: a session deleted from
// the chunked store (its directory keeps only a metadata backup, and
// session-index does not list it) came back from its older copy in the
// era-F db/sessions.json, while the report said it was not brought back
// (round 8, mig8 #2). It stays deleted; a session only ever in
// db/sessions.json is imported.
func TestMigrate_deletedChunkedSessionStaysDeleted(t *testing.T) {
	const T = int64(1762000000000)
	enc := func(v any, ts int64) string { return envelopeText(t, v, legacy.EncodingGzip, ts) }
	sess := func(id, name string) map[string]any {
		return map[string]any{"id": id, "name": name, "updatedAt": "2025-10-01T00:00:00.000Z"}
	}
	dir := writeFiles(t, map[string]string{
		"db/sessions.json":                                   enc([]any{sess("DEL", "old copy of a deleted session"), sess("OLD", "only ever here")}, T-1000000),
		"db/session-index.json":                              enc([]any{"K"}, T),
		"db/sessions/K/metadata.json":                        enc(sess("K", "live"), T),
		"db/sessions/DEL/metadata.1761900000000.backup.json": enc(sess("DEL", "chunked, then deleted"), T-100000),
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Get(t.Context(), "sessions", "DEL"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("the deleted session: %v, want not found", err)
	}
	for _, id := range []string{"K", "OLD"} {
		if _, _, err := db.Get(t.Context(), "sessions", id); err != nil {
			t.Errorf("session %s: %v", id, err)
		}
	}
	if !slices.ContainsFunc(res.Report.NotResurrected, func(d legacy.Dropped) bool { return d.ID == "DEL" }) {
		t.Errorf("not resurrected: %+v", res.Report.NotResurrected)
	}
}

// TestMigrate_futureTimestampNotTrusted: a .tmp.json whose envelope
// timestamp lies far in the future (a clock set ahead, a damaged digit)
// won the key's choice and replaced the whole collection: the main file's
// other notes were dropped without a word (round 8, mig8 #5). A time after
// the migration's own clock (beyond a day) counts as the oldest.
func TestMigrate_futureTimestampNotTrusted(t *testing.T) {
	const T = int64(1762000000000)
	enc := func(ts int64, notes ...any) string { return envelopeText(t, notes, legacy.EncodingGzip, ts) }
	note := func(id, content string) any {
		return map[string]any{"id": id, "content": content, "lastUpdated": "2025-11-01T00:00:00.000Z"}
	}
	dir := writeFiles(t, map[string]string{
		"db/notes.json":     enc(T, note("n1", "main n1"), note("n2", "main n2")),
		"db/notes.tmp.json": enc(999999999999999, note("n1", "tmp n1")),
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"n1": "main n1", "n2": "main n2"} {
		doc, _, err := db.Get(t.Context(), "notes", id)
		if err != nil || doc["content"] != want {
			t.Errorf("note %s: %v %v, want %q", id, doc["content"], err, want)
		}
	}
	if !slices.ContainsFunc(res.Report.Notes, func(n string) bool {
		return strings.Contains(n, "db/notes.tmp.json") && strings.Contains(n, "999999999999999")
	}) {
		t.Errorf("notes %q", res.Report.Notes)
	}
}

// envelopeText is v as the old app's collection file: an envelope with
// encoding and timestamp ts, its checksum over the compact JSON.
func envelopeText(t *testing.T, v any, encoding string, ts int64) string {
	t.Helper()
	b, err := legacy.EncodeEnvelope(v, encoding, ts, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMigrate_badNameAttachmentFilesKept: attachment files whose names are
// no usable id (bytes that are not UTF-8) were reported, and their bytes
// kept nowhere (round 8, mig8 #9). They are orphan attachments now, their
// source written with the bytes escaped.
func TestMigrate_badNameAttachmentFilesKept(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"attachments/\xfe\xff.dat":        base64.StdEncoding.EncodeToString([]byte("BYTES OF A BAD NAME")),
		"attachments/images/\xfe\xfe.png": "RAW PNG OF A BAD NAME",
	})
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"BYTES OF A BAD NAME", "RAW PNG OF A BAD NAME"} {
		if got := string(attachmentBytes(t, db, orphanID(b))); got != b {
			t.Errorf("%s: %q", orphanID(b), got)
		}
	}
	if len(res.Report.InvalidIDs) != 2 {
		t.Errorf("invalid ids %+v", res.Report.InvalidIDs)
	}
}
