package legacy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func scanFixture(t *testing.T, dir string) (*Dataset, *Report) {
	t.Helper()
	ds, rep, err := Scan(context.Background(), filepath.Join("testdata", dir), nil)
	if err != nil {
		t.Fatalf("Scan(%s): %v", dir, err)
	}
	return ds, rep
}

func ids(ds *Dataset) map[string][]string {
	out := map[string][]string{}
	for c, m := range ds.Collections {
		for id := range m {
			out[c] = append(out[c], id)
		}
		sort.Strings(out[c])
	}
	return out
}

func field(t *testing.T, ds *Dataset, coll, id, key string) any {
	t.Helper()
	e, ok := ds.Collections[coll][id]
	if !ok {
		t.Fatalf("%s/%s not imported", coll, id)
	}
	return e.Doc[key]
}

func blobBytes(t *testing.T, b Blob) []byte {
	t.Helper()
	rc, err := b.Open()
	if err != nil {
		t.Fatalf("open blob %s: %v", b.Source, err)
	}
	defer rc.Close()
	d, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read blob %s: %v", b.Source, err)
	}
	return d
}

func blobFor(t *testing.T, ds *Dataset, id string) Blob {
	t.Helper()
	for _, b := range ds.Blobs {
		for _, x := range b.AttachmentIDs {
			if x == id {
				return b
			}
		}
	}
	t.Fatalf("no blob for attachment %s", id)
	return Blob{}
}

func sources(xs []Unreadable) []string {
	var out []string
	for _, x := range xs {
		out = append(out, x.Path)
	}
	sort.Strings(out)
	return out
}

func dropped(rep *Report) []string {
	var out []string
	for _, d := range rep.NotResurrected {
		out = append(out, d.Collection+"/"+d.ID)
	}
	sort.Strings(out)
	return out
}

func relTargets(doc map[string]any) []string {
	var out []string
	rels, _ := doc["relationships"].([]any)
	for _, r := range rels {
		m := r.(map[string]any)
		out = append(out, m["type"].(string)+":"+m["targetType"].(string)+":"+m["targetId"].(string))
	}
	sort.Strings(out)
	return out
}

func TestScan_fixtures(t *testing.T) {
	tests := []struct {
		dir   string
		want  map[string][]string
		check func(t *testing.T, ds *Dataset, rep *Report)
	}{
		{"eras/era-a", map[string][]string{"topics": {"t1"}, "companies": {"c1"}, "contacts": {"p1"}, "notes": {"n1"}, "tasks": {"k1"}, "attachments": {"img-a"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				if rep.Layout != LayoutEraA {
					t.Errorf("layout %q", rep.Layout)
				}
				if got := relTargets(ds.Collections["notes"]["n1"].Doc); !reflect.DeepEqual(got, []string{"note-contact:contact:p1"}) {
					t.Errorf("n1 relationships %v", got)
				}
				if !equalJSON(ds.AISettings, map[string]any{"systemInstructions": "be brief"}) || !equalJSON(ds.Preferences, map[string]any{"theme": "light"}) {
					t.Errorf("ai %v prefs %v", ds.AISettings, ds.Preferences)
				}
				if got := blobBytes(t, blobFor(t, ds, "img-a")); string(got) != string(blobPNG) {
					t.Errorf("img-a bytes %q", got)
				}
			}},
		{"eras/era-b", map[string][]string{"topics": {"t1"}, "companies": {"c1"}, "contacts": {"p1"}, "notes": {"n1", "n2"}, "tasks": {"k1"}, "attachments": {"att-1", "img-1", "orphan-9"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				if len(rep.ChecksumMismatches) != 0 {
					t.Errorf("pretty-hashed era B reported mismatches %v", rep.ChecksumMismatches)
				}
				if n := field(t, ds, "notes", "n2", "count"); n != json.Number("12345678901234567890") {
					t.Errorf("big number %#v", n)
				}
				if got := relTargets(ds.Collections["notes"]["n1"].Doc); !reflect.DeepEqual(got, []string{"note-company:company:c1"}) {
					t.Errorf("n1 relationships %v", got)
				}
				if field(t, ds, "notes", "n1", "topicId") != "c1" {
					t.Error("legacy topicId not kept")
				}
				if got := relTargets(ds.Collections["tasks"]["k1"].Doc); !reflect.DeepEqual(got, []string{"task-note:note:n1"}) {
					t.Errorf("k1 relationships %v", got)
				}
				// n-snap is only in a backups/ snapshot: not imported, and
				// reported (§11.15).
				if got := dropped(rep); !reflect.DeepEqual(got, []string{"notes/n-deleted", "notes/n-snap"}) {
					t.Errorf("not resurrected %v", got)
				}
				if len(rep.InvalidIDs) != 1 || rep.InvalidIDs[0].Index != 1 {
					t.Errorf("invalid ids %+v", rep.InvalidIDs)
				}
				if got := blobBytes(t, blobFor(t, ds, "att-1")); string(got) != string(blobTXT) {
					t.Errorf("att-1 bytes %q", got)
				}
				if got := blobBytes(t, blobFor(t, ds, "img-1")); string(got) != string(blobPNG) {
					t.Errorf("img-1 bytes %q", got)
				}
				if len(rep.OrphanFiles) != 0 || !reflect.DeepEqual(rep.OrphanAttachments, []string{"orphan-9"}) {
					t.Errorf("orphan files %v, attachments %v", rep.OrphanFiles, rep.OrphanAttachments)
				}
				// The per-id metadata file is the attachment's document.
				if att := ds.Collections["attachments"]["att-1"].Doc; !equalJSON(att, map[string]any{"id": "att-1", "type": "file", "name": "a.txt", "mimeType": "text/plain"}) {
					t.Errorf("att-1 %v", att)
				}
				if o := ds.Collections["attachments"]["orphan-9"].Doc; o["orphan"] != true || o["legacySource"] != "attachments/orphan-9.dat" {
					t.Errorf("orphan-9 %v", o)
				}
			}},
		{"eras/era-c", map[string][]string{"notes": {"n1", "n3"}, "sessions": {"s1"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				if field(t, ds, "notes", "n1", "content") != "newer from tmp" || ds.Collections["notes"]["n1"].Source != "db/notes.tmp.json" {
					t.Errorf("tmp did not win: %+v", ds.Collections["notes"]["n1"])
				}
				if len(rep.ChecksumMismatches) != 0 {
					t.Errorf("mismatches %v", rep.ChecksumMismatches)
				}
				if len(rep.KeyChoices) != 1 || rep.KeyChoices[0].Key != "notes" || rep.KeyChoices[0].Winner.Kind != SourceTmp {
					t.Errorf("key choices %+v", rep.KeyChoices)
				}
				b := blobFor(t, ds, "v1")
				if b.Orphan || b.MIME != "video/mp4" || string(blobBytes(t, b)) != string(blobMP4) {
					t.Errorf("video blob %+v", b)
				}
			}},
		{"eras/era-d", map[string][]string{"topics": {"t1", "t2"}, "tasks": {"k1", "k2"}, "notes": {"n1"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				if field(t, ds, "tasks", "k1", "title") != "staged" {
					t.Error("staged transaction copy did not win")
				}
				// t-old is only in the single-slot backup, older than the
				// timestamped one that recovers topics: deleted since.
				if got := dropped(rep); !reflect.DeepEqual(got, []string{"notes/n-del", "topics/t-old"}) {
					t.Errorf("not resurrected %v", got)
				}
				want := []Fallback{{Key: "topics", Reason: "main file unreadable: legacy: corrupt data: truncated JSON", Used: "db/topics.1760600006000.backup.json"}}
				if !reflect.DeepEqual(rep.Fallbacks, want) {
					t.Errorf("fallbacks %+v", rep.Fallbacks)
				}
				if _, ok := ds.Extras["unreadable:db/topics.json"]; !ok {
					t.Error("bytes of the unreadable main file not kept")
				}
			}},
		{"eras/era-ef", map[string][]string{"sessions": {"s1", "s2", "s3"}, "notes": {"n1", "n4"}, "tasks": {"k1"}, "companies": {"co1"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				if s := field(t, ds, "sessions", "s1", "summary"); !equalJSON(s, map[string]any{"narrative": "enriched"}) {
					t.Errorf("per-entity enrichment lost: %v", s)
				}
				if field(t, ds, "sessions", "s2", "name") != "S2 enriched" || field(t, ds, "notes", "n1", "content") != "fresh" {
					t.Error("wrong winners")
				}
				if field(t, ds, "tasks", "k1", "title") != "committed" {
					t.Error("committed WAL transaction not applied")
				}
				w := rep.WAL
				if w.Checkpoint != T0+10000 || w.Entries != 11 || w.Replayed != 4 {
					t.Errorf("wal %+v", w)
				}
				var lines []int
				for _, s := range w.Skipped {
					lines = append(lines, s.Line)
				}
				if !reflect.DeepEqual(lines, []int{1, 6, 8, 12}) {
					t.Errorf("skipped lines %v (%+v)", lines, w.Skipped)
				}
				if !reflect.DeepEqual(rep.ChecksumMismatches, []ChecksumMismatch{{Path: "db/notes/note-n1.json", Kind: "sha256"}}) {
					t.Errorf("mismatches %v", rep.ChecksumMismatches)
				}
				if !equalJSON(ds.Settings, map[string]any{"userProfile": map[string]any{"name": "EF"}}) {
					t.Errorf("settings %v", ds.Settings)
				}
			}},
		{"eras/era-g", map[string][]string{"sessions": {"g1", "g2", "old1"}, "tasks": {"k1"}, "attachments": {"att-doc"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				g1 := ds.Collections["sessions"]["g1"].Doc
				if n := len(g1["screenshots"].([]any)); n != 25 {
					t.Errorf("g1 screenshots %d", n)
				}
				if n := len(g1["audioSegments"].([]any)); n != 2 {
					t.Errorf("g1 audio segments %d", n)
				}
				if g1["fullTranscription"] != "hello world" || !equalJSON(g1["summary"], map[string]any{"narrative": "did stuff"}) {
					t.Errorf("g1 parts %v %v", g1["fullTranscription"], g1["summary"])
				}
				if got := relTargets(g1); !reflect.DeepEqual(got, []string{"task-session:task:k1"}) {
					t.Errorf("relationship duplicated: %v", got)
				}
				if field(t, ds, "sessions", "g2", "name") != "G2 staged" {
					t.Error("staged tx-temp copy did not win")
				}
				if len(rep.ChecksumMismatches) != 0 {
					t.Errorf("compact-hash false positives reported: %v", rep.ChecksumMismatches)
				}
				if got := blobBytes(t, blobFor(t, ds, "att-ss-0")); string(got) != string(blobJPEG) {
					t.Errorf("CAS bytes %q", got)
				}
				b := blobFor(t, ds, "att-doc")
				if b.Hash != sha(blobPDF) || string(blobBytes(t, b)) != string(blobPDF) {
					t.Errorf("dedup blob %+v", b)
				}
				for _, k := range []string{"capture-review-jobs", "capture-draft-text", "attachment_refs"} {
					if _, ok := ds.Extras[k]; !ok {
						t.Errorf("extras lacks %s", k)
					}
				}
				if ds.Extras["capture-draft-text"] != "draft text" {
					t.Errorf("draft %v", ds.Extras["capture-draft-text"])
				}
				if !equalJSON(ds.Preferences, map[string]any{"theme": "dark"}) {
					t.Errorf("preferences %v", ds.Preferences)
				}
			}},
		{"eras/era-h", map[string][]string{"sessions": {"h1"}, "tasks": {"k1", "k2"}, "notes": {"n1"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				if !reflect.DeepEqual(rep.JunkSkipped, []string{"db/tasks/task-k1.json"}) {
					t.Errorf("junk %v", rep.JunkSkipped)
				}
				if got := dropped(rep); !reflect.DeepEqual(got, []string{"notes/n-old-0", "sessions/hdel"}) {
					t.Errorf("not resurrected %v", got)
				}
			}},
		{"risks/stale-backup", map[string][]string{"notes": {"n1", "n2"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				if len(rep.Fallbacks) != 1 || rep.Fallbacks[0].Used != "db/notes.1760600299900.backup.json" {
					t.Errorf("fallbacks %+v", rep.Fallbacks)
				}
			}},
		{"risks/checksum-false-positive", map[string][]string{"notes": {"n1"}, "tasks": {"k1"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				if !reflect.DeepEqual(rep.ChecksumMismatches, []ChecksumMismatch{{Path: "db/tasks.json", Kind: "envelope"}}) {
					t.Errorf("mismatches %v", rep.ChecksumMismatches)
				}
			}},
		{"risks/wal-clobber", map[string][]string{"sessions": {"s1", "s2", "s9"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				if field(t, ds, "sessions", "s9", "version") != json.Number("4") {
					t.Error("the replayed single session lost to its backup")
				}
				if len(rep.Fallbacks) != 1 || !strings.Contains(rep.Fallbacks[0].Reason, `holds one entity ("s9") instead of the array`) {
					t.Errorf("fallbacks %+v", rep.Fallbacks)
				}
				want := []Restored{{"sessions", "s1", "db/sessions.1760600001000.backup.json", false}, {"sessions", "s2", "db/sessions.1760600001000.backup.json", false}}
				if !reflect.DeepEqual(rep.Restored, want) {
					t.Errorf("restored %+v", rep.Restored)
				}
			}},
		// The junk task-k1.json is a snapshot of the tasks (§3.3): its
		// element k1 is a per-entity copy, as companie-c1.json is.
		{"risks/per-entity", map[string][]string{"notes": {"n1", "n3"}, "companies": {"c1"}, "tasks": {"k1"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				if field(t, ds, "notes", "n1", "content") != "main" {
					t.Error("stale per-entity copy won")
				}
				if len(rep.Conflicts) != 1 || rep.Conflicts[0].Reason != "updatedAt" {
					t.Errorf("conflicts %+v", rep.Conflicts)
				}
				if len(rep.NotResurrected) != 1 || rep.NotResurrected[0].ID != "n2" {
					t.Errorf("not resurrected %+v", rep.NotResurrected)
				}
				if !reflect.DeepEqual(rep.JunkSkipped, []string{"db/tasks/task-k1.json"}) || len(rep.InvalidIDs) != 1 {
					t.Errorf("junk %v invalid %v", rep.JunkSkipped, rep.InvalidIDs)
				}
			}},
		{"risks/split-sessions", map[string][]string{"sessions": {"a", "b", "c"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				if field(t, ds, "sessions", "a", "name") != "chunked a" {
					t.Error("chunked session lost to legacy copy")
				}
				if len(rep.NotResurrected) != 1 || rep.NotResurrected[0].ID != "d" {
					t.Errorf("not resurrected %+v", rep.NotResurrected)
				}
			}},
		{"risks/chunks", map[string][]string{"sessions": {"m1", "m2", "m3"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				if n := len(ds.Collections["sessions"]["m1"].Doc["screenshots"].([]any)); n != 25 {
					t.Errorf("m1 screenshots %d", n)
				}
				want := []ChunkIssue{
					{"m1", "screenshots/chunk-001", "chunk missing or unreadable"},
					{"m1", "screenshots", "manifest count 45, chunks hold 25"},
					{"m3", "session-index", "session missing from session-index; found by scanning db/sessions/*/metadata.json"},
				}
				if !reflect.DeepEqual(rep.ManifestShortfalls, want) {
					t.Errorf("shortfalls %+v", rep.ManifestShortfalls)
				}
				if len(rep.StaleChunks) != 2 || rep.StaleChunks[0].Which != "screenshots/chunk-003" || rep.StaleChunks[1].Which != "screenshots/chunk-005" {
					t.Errorf("stale %+v", rep.StaleChunks)
				}
				if _, ok := ds.Extras["quarantine:sessions/m1/screenshots/chunk-005"]; !ok {
					t.Error("stale chunk not quarantined")
				}
				if field(t, ds, "sessions", "m2", "name") != "M2 from backup" {
					t.Error("indexed session with missing metadata not recovered from backup")
				}
			}},
		{"risks/base64-stripped", map[string][]string{"sessions": {"b1"}, "notes": {"n1"}, "attachments": {"att-a"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				if got := blobBytes(t, blobFor(t, ds, "att-a")); string(got) != string(blobSS) {
					t.Errorf("att-a bytes %q", got)
				}
				b := blobFor(t, ds, "att-inline")
				if b.Hash != sha(blobInl) || b.MIME != "image/png" || string(blobBytes(t, b)) != string(blobInl) {
					t.Errorf("inline blob %+v", b)
				}
			}},
		{"risks/chapters", map[string][]string{"sessions": {"v1", "v2"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				want := []string{"v1 from db/sessions.json", "v2 from db/sessions.1760600040000.backup.json"}
				if !reflect.DeepEqual(rep.ChaptersRecovered, want) {
					t.Errorf("chapters %v", rep.ChaptersRecovered)
				}
				ch := field(t, ds, "sessions", "v2", "video").(map[string]any)["chapters"].([]any)
				if len(ch) != 1 || field(t, ds, "sessions", "v2", "name") != "V2" {
					t.Errorf("v2 chapters %v", ch)
				}
			}},
		{"risks/dedup-path", map[string][]string{"notes": {"n1"}, "attachments": {"att-1"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				b := blobFor(t, ds, "att-1")
				if b.Hash != sha(blobPDF) || string(blobBytes(t, b)) != string(blobPDF) || b.Orphan {
					t.Errorf("att-1 blob %+v", b)
				}
				if len(rep.OrphanFiles) != 1 {
					t.Errorf("orphans %v", rep.OrphanFiles)
				}
			}},
		{"risks/settings-loss", map[string][]string{},
			func(t *testing.T, ds *Dataset, rep *Report) {
				want := map[string]any{"aiSettings": map[string]any{"systemInstructions": "newest"}, "nedSettings": map[string]any{"chattiness": "concise"},
					"activeSessionId": "s1", "ui": map[string]any{"pinnedNotes": []any{"n1"}}, "searchHistory": []any{}}
				if !equalJSON(ds.Settings, want) {
					t.Errorf("settings %v", ds.Settings)
				}
			}},
		{"risks/deleted", map[string][]string{"notes": {"n1"}, "tasks": {"k1"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				if _, ok := ds.Extras["capture-draft-text"]; ok {
					t.Error("deleted key resurrected from its backup")
				}
				if len(rep.Deleted) != 1 || rep.Deleted[0].ID != "k2" {
					t.Errorf("deleted %+v", rep.Deleted)
				}
				if got := dropped(rep); !reflect.DeepEqual(got, []string{"/capture-draft-text", "notes/n-gone", "sessions/gone1"}) {
					t.Errorf("not resurrected %v", got)
				}
			}},
		{"risks/truncated", map[string][]string{"notes": {"n2"}, "tasks": {"k1"}, "sessions": {"x1"}},
			func(t *testing.T, ds *Dataset, rep *Report) {
				if !equalJSON(field(t, ds, "sessions", "x1", "summary"), map[string]any{"narrative": "from backup"}) {
					t.Error("truncated summary not recovered from backup")
				}
				if field(t, ds, "sessions", "x1", "fullTranscription") != "full transcript" {
					t.Error("truncated transcription not recovered from its .compressed duplicate")
				}
				want := []string{"db/notes/note-n1.json.gz", "db/sessions/x1/summary.json", "db/sessions/x1/transcription.json", "db/tasks.json"}
				if got := sources(rep.Unreadable); !reflect.DeepEqual(got, want) {
					t.Errorf("unreadable %v", got)
				}
				x, ok := ds.Extras["unreadable:db/notes/note-n1.json.gz"].(map[string]any)
				if !ok || x["base64"] == nil {
					t.Errorf("binary bytes of unreadable file not kept: %v", x)
				}
				if len(rep.WAL.Skipped) != 1 || !strings.Contains(rep.WAL.Skipped[0].Reason, "truncated last line") {
					t.Errorf("wal %+v", rep.WAL)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.dir, "/", "_"), func(t *testing.T) {
			ds, rep := scanFixture(t, tt.dir)
			got := ids(ds)
			for _, c := range Collections {
				if len(got[c]) == 0 && len(tt.want[c]) == 0 {
					continue
				}
				if !reflect.DeepEqual(got[c], tt.want[c]) {
					t.Errorf("%s: got %v, want %v", c, got[c], tt.want[c])
				}
				if rep.Counts[c] != len(tt.want[c]) {
					t.Errorf("count %s: %d", c, rep.Counts[c])
				}
			}
			if tt.check != nil {
				tt.check(t, ds, rep)
			}
			if _, err := json.Marshal(rep); err != nil {
				t.Errorf("report does not marshal: %v", err)
			}
		})
	}
}

func TestScan_dbDirItself(t *testing.T) {
	ds, rep := scanFixture(t, "eras/era-g/db")
	if rep.Layout != LayoutDB {
		t.Fatalf("layout %q", rep.Layout)
	}
	if got := ids(ds)["sessions"]; !reflect.DeepEqual(got, []string{"g1", "g2", "old1"}) {
		t.Errorf("sessions %v", got)
	}
	if ds.Collections["sessions"]["g1"].Source != "sessions/g1/metadata.json" {
		t.Errorf("source %q", ds.Collections["sessions"]["g1"].Source)
	}
}

// TestScan_dbDirWithReplayJunk: db/ pointed at directly is db/ even when
// it holds the db/db/ junk WAL replay writes (docs/FORMAT.md §5.3); the
// junk is read as per-entity records, the collections beside it too.
func TestScan_dbDirWithReplayJunk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "appdata")
	db := filepath.Join(dir, "db")
	os.MkdirAll(filepath.Join(db, "db", "notes"), 0o755)
	os.WriteFile(filepath.Join(db, "tasks.json"), []byte(`{"version":1,"checksum":"x","timestamp":1729000000000,"data":[{"id":"t1","title":"task"}]}`), 0o644)
	os.WriteFile(filepath.Join(db, "db", "notes", "note-nj.json.json"), []byte(`{"id":"nj","content":"replayed"}`), 0o644)
	for _, root := range []string{db, dir} {
		ds, rep, err := Scan(context.Background(), root, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(ds); !reflect.DeepEqual(got["tasks"], []string{"t1"}) || !reflect.DeepEqual(got["notes"], []string{"nj"}) {
			t.Errorf("%s: collections %v", root, got)
		}
		want := LayoutDB
		if root == dir {
			want = LayoutAppData
		}
		if rep.Layout != want {
			t.Errorf("%s: layout %q, want %q", root, rep.Layout, want)
		}
	}
}

func TestScan_symlinkOutsideIgnored(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "notes.json"), []byte(`[{"id":"secret"}]`), 0o644)
	os.MkdirAll(filepath.Join(dir, "db"), 0o755)
	os.WriteFile(filepath.Join(dir, "db", "tasks.json"), []byte(`[{"id":"k1"}]`), 0o644)
	if err := os.Symlink(filepath.Join(outside, "notes.json"), filepath.Join(dir, "db", "notes.json")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	os.Symlink(outside, filepath.Join(dir, "attachments"))
	ds, rep, err := Scan(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Collections["notes"]) != 0 || len(ds.Collections["tasks"]) != 1 {
		t.Errorf("collections %v", ids(ds))
	}
	if !reflect.DeepEqual(rep.OutsideDir, []string{"attachments", "db/notes.json"}) {
		t.Errorf("outside %v", rep.OutsideDir)
	}
}

func TestScan_errors(t *testing.T) {
	if _, _, err := Scan(context.Background(), t.TempDir(), nil); !errors.Is(err, ErrNoData) {
		t.Errorf("empty dir: %v", err)
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, _, err := Scan(context.Background(), f, nil); !errors.Is(err, ErrNotDir) {
		t.Errorf("file: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Scan(ctx, "testdata/eras/era-g", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestScan_blobChecksum: bytes that do not hash to the recorded hash fail
// at EOF with ErrChecksum.
func TestScan_blobChecksum(t *testing.T) {
	dir := t.TempDir()
	h := sha(blobPDF)
	os.MkdirAll(filepath.Join(dir, "attachments", h[:2]), 0o755)
	os.MkdirAll(filepath.Join(dir, "db"), 0o755)
	os.WriteFile(filepath.Join(dir, "attachments", h[:2], h+".dat"), []byte("bm90IHRoZSBwZGY="), 0o644)
	ds, _, err := Scan(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Blobs) != 1 {
		t.Fatalf("blobs %d", len(ds.Blobs))
	}
	rc, _ := ds.Blobs[0].Open()
	_, err = io.ReadAll(rc)
	rc.Close()
	if !errors.Is(err, ErrChecksum) {
		t.Errorf("err %v", err)
	}
}

// TestScan_deterministic: sequential and parallel reads give the same
// dataset and report, run after run.
func TestScan_deterministic(t *testing.T) {
	dir := t.TempDir()
	genChunkedDir(t, dir, 30)
	dirs := []string{dir}
	for name := range fixtureGenerators {
		dirs = append(dirs, filepath.Join("testdata", name))
	}
	strip := func(ds *Dataset) *Dataset {
		c := *ds
		c.Blobs = nil
		for _, b := range ds.Blobs {
			b.Open = nil
			var copies []BlobCopy
			for _, cp := range b.Copies {
				copies = append(copies, BlobCopy{Source: cp.Source})
			}
			b.Copies = copies
			c.Blobs = append(c.Blobs, b)
		}
		return &c
	}
	for _, d := range dirs {
		ds1, rep1, err1 := Scan(context.Background(), d, &ScanOptions{Workers: 1})
		ds2, rep2, err2 := Scan(context.Background(), d, &ScanOptions{Workers: 8})
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", d, err1, err2)
		}
		if !reflect.DeepEqual(rep1, rep2) || !reflect.DeepEqual(strip(ds1), strip(ds2)) {
			t.Errorf("%s: results differ between sequential and parallel scans", d)
		}
	}
}

func TestNewerDoc(t *testing.T) {
	tests := []struct {
		a, b map[string]any
		want bool
	}{
		{map[string]any{"version": json.Number("3")}, map[string]any{"version": json.Number("2")}, true},
		{map[string]any{"version": json.Number("2"), "lastUpdated": "2025-10-17T00:00:00.000Z"}, map[string]any{"version": json.Number("3")}, false},
		{map[string]any{"lastUpdated": "2025-10-17T00:00:00.000Z"}, map[string]any{"lastUpdated": "2025-10-16T00:00:00.000Z"}, true},
		{map[string]any{"updatedAt": "2025-10-15T00:00:00.000Z"}, map[string]any{"updatedAt": "2025-10-16T00:00:00.000Z"}, false},
		{map[string]any{"version": json.Number("1")}, map[string]any{"lastUpdated": "2025-10-16T00:00:00.000Z"}, false},
		{map[string]any{}, map[string]any{}, false},
	}
	for i, tt := range tests {
		if got := NewerDoc(tt.a, tt.b); got != tt.want {
			t.Errorf("%d: NewerDoc = %v", i, got)
		}
	}
}

func TestAddLegacyRelationships(t *testing.T) {
	doc := map[string]any{"id": "k1", "topicId": "c1", "companyIds": []any{"c2", "c2"}, "noteId": "n1",
		"aiContext": map[string]any{"sourceNoteId": "n1"}, "sourceSessionId": "s1",
		"relationships": []any{map[string]any{"type": "task-note", "sourceType": "note", "sourceId": "n1", "targetType": "task", "targetId": "k1"}}}
	kind := func(id string) string {
		if id == "c1" {
			return "company"
		}
		return "topic"
	}
	if n := AddLegacyRelationships("tasks", doc, kind); n != 3 {
		t.Fatalf("added %d", n)
	}
	if got := relTargets(doc); !reflect.DeepEqual(got, []string{"task-company:company:c1", "task-company:company:c2", "task-note:task:k1", "task-session:session:s1"}) {
		t.Errorf("relationships %v", got)
	}
	if n := AddLegacyRelationships("tasks", doc, kind); n != 0 {
		t.Errorf("second conversion added %d", n)
	}
	if doc["topicId"] != "c1" || doc["noteId"] != "n1" {
		t.Error("legacy fields not kept")
	}
	if AddLegacyRelationships("topics", map[string]any{"id": "t"}, nil) != 0 {
		t.Error("topics have no legacy links")
	}
}

// TestScan_damagedEverywhere truncates or corrupts every file of a few
// fixtures in turn: Scan must never fail or panic, only report.
func TestScan_damagedEverywhere(t *testing.T) {
	for _, fixture := range []string{"eras/era-g", "eras/era-ef", "risks/chunks"} {
		src := filepath.Join("testdata", fixture)
		var files []string
		filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files = append(files, p)
			}
			return nil
		})
		for i, victim := range files {
			dir := t.TempDir()
			for _, f := range files {
				rel, _ := filepath.Rel(src, f)
				b, _ := os.ReadFile(f)
				if f == victim {
					if i%2 == 0 {
						b = b[:len(b)/2]
					} else if len(b) > 0 {
						b = append([]byte{}, b...)
						b[len(b)/3] ^= 0x5a
					}
				}
				os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755)
				os.WriteFile(filepath.Join(dir, rel), b, 0o644)
			}
			ds, rep, err := Scan(context.Background(), dir, nil)
			if err != nil {
				t.Fatalf("%s with %s damaged: %v", fixture, victim, err)
			}
			if _, err := json.Marshal(rep); err != nil || ds == nil {
				t.Fatalf("%s: %v", victim, err)
			}
			for _, b := range ds.Blobs {
				if rc, err := b.Open(); err == nil {
					io.Copy(io.Discard, rc)
					rc.Close()
				}
			}
		}
	}
}

// TestSameBesideSource: migrating db/ and then the directory holding it
// names the file an attachment's bytes were found in two ways
// (legacySource); the second run listed the unchanged attachment in
// kept_stored (round 7, mig7 #6). A difference in legacySource alone is
// no difference.
func TestSameBesideSource(t *testing.T) {
	a := map[string]any{"id": "a", "hash": "h", "legacySource": "attachments-ca/b7/x/data.json"}
	b := map[string]any{"id": "a", "hash": "h", "legacySource": "db/attachments-ca/b7/x/data.json"}
	if !sameBesideSource(a, b) {
		t.Error("documents differing in legacySource only are not the same")
	}
	b["hash"] = "other"
	if sameBesideSource(a, b) {
		t.Error("documents differing in their hash are the same")
	}
	if sameBesideSource(map[string]any{"id": "a"}, map[string]any{"id": "a", "x": 1}) {
		t.Error("documents without legacySource compared beside it")
	}
}
