package legacy

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Regression tests for the fourth black-box report on migrate: each
// builds the old app's directory in t.TempDir().

// TestScan_sessionIndexIsNotTheSessionsFile: db/session-index.json lists
// the chunked sessions of era G only (docs/FORMAT.md §3.4). An E–F
// per-entity session, or one in an export file, is not in it and was not
// deleted: sessions are unioned by id (§11.5), with or without the index.
func TestScan_sessionIndexIsNotTheSessionsFile(t *testing.T) {
	f := &fx{t: t, dir: t.TempDir()}
	f.perEntity("db/sessions/session-old1.json", obj{"id": "old1", "name": "E-era", "version": 2, "updatedAt": iso(T0)}, true)
	f.js("taskerino-export-1.json", obj{"version": "1.0.0", "exportedAt": iso(T0), "sessions": arr{obj{"id": "idb1", "name": "from IndexedDB", "updatedAt": iso(T0)}}})
	f.env("db/session-index.json", arr{"g1"}, EncodingGzip, T0+500000, false)
	f.env("db/sessions/g1/metadata.json", metaG("g1", "G1", T0+400000, nil), EncodingGzip, T0+400000, false)
	ds, rep := scanDir(t, f.dir)
	if got := ids(ds)["sessions"]; !slices.Equal(got, []string{"g1", "idb1", "old1"}) {
		t.Errorf("sessions %v, want g1, idb1 and old1", got)
	}
	for _, d := range rep.NotResurrected {
		t.Errorf("reported as deleted: %+v", d)
	}
}

// TestScan_walUpsertOfNewIDByEntryTime: a WAL write of one entity
// (db/notes/note-b.json.gz, §5.4) absent from db/notes.json is judged by
// the WAL entry's timestamp, when the app wrote it, not by the entity's
// own older lastUpdated: written after the file, it is imported.
func TestScan_walUpsertOfNewIDByEntryTime(t *testing.T) {
	f := &fx{t: t, dir: t.TempDir()}
	f.env("db/notes.json", arr{noteDoc(0, "in main", T0-5000)}, EncodingGzip, T0, false)
	f.write("db/wal.log", []byte(walLine(obj{"id": "w1", "timestamp": T0 + 10000, "operation": "write",
		"collection": "db/notes/note-n1.json.gz", "data": noteDoc(1, "only in the WAL", T0-5000)})))
	ds, rep := scanDir(t, f.dir)
	if got := ids(ds)["notes"]; !slices.Equal(got, []string{"n0", "n1"}) {
		t.Errorf("notes %v, want n0 and n1", got)
	}
	for _, d := range rep.NotResurrected {
		t.Errorf("reported as deleted: %+v", d)
	}
}

// TestScan_rawMainNeverStale: a raw db/notes.json (written by the WAL
// replay, §5.3) whose mtime a zip or FAT copy shifted before its
// timestamped backup's envelope timestamp is still the collection: the
// stale rule of §11.1 is about envelope timestamps (the loader's stale
// copies are envelopes), so the backup's older note does not replace it
// and the note only in the main file is not called deleted.
func TestScan_rawMainNeverStale(t *testing.T) {
	f := &fx{t: t, dir: t.TempDir()}
	prev := T0
	f.js("db/notes.json", arr{obj{"id": "a", "content": "edited (newest)"}, obj{"id": "b", "content": "created last"}})
	f.env(fmt.Sprintf("db/notes.%d.backup.json", prev+5), arr{obj{"id": "a", "content": "previous version"}}, EncodingPlain, prev-60000, true)
	shifted := time.UnixMilli(prev + 2*3600000 - 8*3600000)
	if err := os.Chtimes(filepath.Join(f.dir, "db", "notes.json"), shifted, shifted); err != nil {
		t.Fatal(err)
	}
	ds, rep := scanDir(t, f.dir)
	if got := ids(ds)["notes"]; !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("notes %v, want a and b", got)
	}
	if c := ds.Collections["notes"]["a"].Doc["content"]; c != "edited (newest)" {
		t.Errorf("a is %q, want the main file's", c)
	}
	for _, d := range rep.NotResurrected {
		t.Errorf("reported as deleted: %+v", d)
	}
}

// TestScan_lostChunksFilledFromOtherCopy: the chunked metadata counts
// ten screenshots and has a summary, but chunk-000 and summary.json were
// lost (§3.4, §11.6); a full copy of the same session in db/sessions.json
// fills them in (§11.5), and the report says so.
func TestScan_lostChunksFilledFromOtherCopy(t *testing.T) {
	f := &fx{t: t, dir: t.TempDir()}
	meta := metaG("g1", "G1", T0+1000, obj{"hasSummary": true,
		"chunks": obj{"screenshots": obj{"count": 10, "chunkCount": 1, "chunkSize": 20}}})
	f.env("db/session-index.json", arr{"g1"}, EncodingGzip, T0+1000, false)
	f.env("db/sessions/g1/metadata.json", meta, EncodingGzip, T0+1000, false)
	full := obj{"id": "g1", "name": "G1 full", "updatedAt": iso(T0), "summary": obj{"narrative": "what happened"},
		"screenshots": screenshots("g1", 0, 10, nil)}
	f.env("db/sessions.json", arr{full}, EncodingGzip, T0, false)
	ds, rep := scanDir(t, f.dir)
	doc := ds.Collections["sessions"]["g1"].Doc
	if ss, _ := doc["screenshots"].([]any); len(ss) != 10 {
		t.Errorf("screenshots: %d imported, want the copy's 10", len(ss))
	}
	if doc["summary"] == nil {
		t.Errorf("summary not filled from db/sessions.json")
	}
	if doc["name"] != "G1" {
		t.Errorf("name %v: the chunked metadata should stay the winner", doc["name"])
	}
	if len(rep.LostRecovered) != 1 || !strings.Contains(rep.LostRecovered[0], "db/sessions.json") {
		t.Errorf("report: %q", rep.LostRecovered)
	}
}

// TestScan_rawNotesBesideOwnLegacyRaw: an entity with a legacyRaw member
// of its own (an export of Cairn's, edited) keeps it untouched, and the
// original text of its unpaired surrogate is kept in legacyRaw~2 and
// reported, not lost or mixed with the entity's own member.
func TestScan_rawNotesBesideOwnLegacyRaw(t *testing.T) {
	f := &fx{t: t, dir: t.TempDir()}
	items := `{"id":"n1","content":"bad \ud83d","legacyRaw":"user field"},` +
		`{"id":"n4","content":"ok","legacyRaw":[{"path":"/x","problem":"p","text":"t"}],"x":"bad \udfff"}`
	f.write("db/notes.json", []byte(fmt.Sprintf(`{"version":1,"checksum":"x","timestamp":%d,"data":[%s]}`, T0, items)))
	ds, rep := scanDir(t, f.dir)
	n1, n4 := ds.Collections["notes"]["n1"].Doc, ds.Collections["notes"]["n4"].Doc
	if n1[RawField] != "user field" {
		t.Errorf("n1's own legacyRaw is %v", n1[RawField])
	}
	if notes := rawNotes(n1); len(notes) != 1 || notes[0]["path"] != "/content" || notes[0]["text"] != `"bad \ud83d"` {
		t.Errorf("n1 notes %v (member %s)", notes, rawMember(n1))
	}
	if own, _ := n4[RawField].([]any); len(own) != 1 {
		t.Errorf("n4's own legacyRaw is %v", n4[RawField])
	}
	if notes := rawNotes(n4); len(notes) != 1 || notes[0]["path"] != "/x" || notes[0]["text"] != `"bad \udfff"` {
		t.Errorf("n4 notes %v (member %s)", notes, rawMember(n4))
	}
	var got []string
	for _, r := range rep.RawValues {
		got = append(got, r.ID+" "+r.Path+" "+r.Member)
	}
	if want := []string{"n1 /content legacyRaw~2", "n4 /x legacyRaw~2"}; !slices.Equal(got, want) {
		t.Errorf("report %q, want %q", got, want)
	}
}

// TestScan_unknownKeysUnderKnownDirsKept: keys the storage layer saved
// under a chunked session's or a content-addressed entry's directory
// that are none of the known ones (§2: any key may hold "/") are kept in
// Extras, not dropped; the known ones are not.
func TestScan_unknownKeysUnderKnownDirsKept(t *testing.T) {
	f := &fx{t: t, dir: t.TempDir()}
	h := sha(blobJPEG)
	f.env("db/session-index.json", arr{"sA"}, EncodingGzip, T0, false)
	f.env("db/sessions/sA/metadata.json", metaG("sA", "A", T0, nil), EncodingGzip, T0, false)
	f.env("db/sessions/sA/enrichment-checkpoint.json", obj{"step": 3}, EncodingGzip, T0, false)
	f.env("db/sessions/sA/screenshots/annotations.json", arr{"a"}, EncodingGzip, T0, false)
	f.env("db/attachments-ca/"+h[:2]+"/"+h+"/data.json", obj{"base64": base64.StdEncoding.EncodeToString(blobJPEG)}, EncodingGzip, T0, false)
	f.env("db/attachments-ca/"+h[:2]+"/"+h+"/thumbnail.json", "thumb", EncodingGzip, T0, false)
	ds, _ := scanDir(t, f.dir)
	for _, k := range []string{"sessions/sA/enrichment-checkpoint", "sessions/sA/screenshots/annotations", "attachments-ca/" + h[:2] + "/" + h + "/thumbnail"} {
		if ds.Extras[k] == nil {
			t.Errorf("extras: %s not kept (%v)", k, keysOf(ds.Extras))
		}
	}
	for _, k := range []string{"sessions/sA/metadata", "attachments-ca/" + h[:2] + "/" + h + "/data"} {
		if ds.Extras[k] != nil {
			t.Errorf("extras: known key %s kept as unknown", k)
		}
	}
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestScan_oddShapesKept: readable files and WAL lines of shapes the app
// never wrote (a chunk payload that is an array, metadata that is an
// array, a WAL line whose timestamp is a string) are reported and kept
// in Extras, not dropped.
func TestScan_oddShapesKept(t *testing.T) {
	f := &fx{t: t, dir: t.TempDir()}
	f.env("db/session-index.json", arr{"sA", "sB"}, EncodingGzip, T0, false)
	f.env("db/sessions/sA/metadata.json", metaG("sA", "A", T0, obj{"chunks": obj{"screenshots": obj{"count": 2, "chunkCount": 1, "chunkSize": 20}}}), EncodingGzip, T0, false)
	f.env("db/sessions/sA/screenshots/chunk-000.json", screenshots("sA", 0, 2, nil), EncodingGzip, T0, false)
	f.env("db/sessions/sB/metadata.json", arr{obj{"id": "sB", "name": "B"}}, EncodingGzip, T0, false)
	f.write("db/wal.log", []byte(`{"id":"w1","timestamp":"1760600001000","operation":"write","collection":"notes","data":[{"id":"n9"}]}`+"\n"))
	ds, _ := scanDir(t, f.dir)
	for _, k := range []string{"invalid:db/sessions/sA/screenshots/chunk-000.json", "unreadable:db/sessions/sB/metadata.json", "wal-skipped:db/wal.log#L1"} {
		if ds.Extras[k] == nil {
			t.Errorf("extras: %s not kept (%v)", k, keysOf(ds.Extras))
		}
	}
}

// TestScan_unusableManifestNumbersLoadChunks: a chunk manifest whose
// numbers are unusable (strings, null, implausible) loads the chunk
// files found, as no manifest does, instead of quarantining them all.
func TestScan_unusableManifestNumbersLoadChunks(t *testing.T) {
	for name, m := range map[string]obj{
		"string": {"count": "25", "chunkCount": "2", "chunkSize": "20"},
		"null":   {"count": nil, "chunkCount": nil, "chunkSize": nil},
		"huge":   {"count": 25, "chunkCount": 1000000000, "chunkSize": 20},
	} {
		t.Run(name, func(t *testing.T) {
			f := &fx{t: t, dir: t.TempDir()}
			f.env("db/session-index.json", arr{"sA"}, EncodingGzip, T0, false)
			f.env("db/sessions/sA/metadata.json", metaG("sA", "A", T0, obj{"chunks": obj{"screenshots": m}}), EncodingGzip, T0, false)
			f.env("db/sessions/sA/screenshots/chunk-000.json", obj{"screenshots": screenshots("sA", 0, 20, nil)}, EncodingGzip, T0, false)
			f.env("db/sessions/sA/screenshots/chunk-001.json", obj{"screenshots": screenshots("sA", 20, 5, nil)}, EncodingGzip, T0, false)
			ds, _ := scanDir(t, f.dir)
			if ss, _ := ds.Collections["sessions"]["sA"].Doc["screenshots"].([]any); len(ss) != 25 {
				t.Errorf("screenshots: %d imported, want 25", len(ss))
			}
		})
	}
}
