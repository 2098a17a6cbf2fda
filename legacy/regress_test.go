package legacy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Regression tests for migration bugs found by black-box testing: each
// builds the old app's directory in t.TempDir().

func scanDir(t *testing.T, dir string) (*Dataset, *Report) {
	t.Helper()
	ds, rep, err := Scan(context.Background(), dir, nil)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return ds, rep
}

func noteDoc(i int, content string, updated int64) obj {
	return obj{"id": fmt.Sprintf("n%d", i), "content": content, "lastUpdated": iso(updated)}
}

// TestScan_staleMainFile: the era D+ loader copied an old .backup.json
// over db/notes.json (docs/FORMAT.md §11.1), so the main file's envelope
// is older than a timestamped backup, which can only happen that way
// (§4.1: the backup is the previous main file). The backup's newer
// entities win, its entities the stale file lacks are imported, and
// nothing says they were deleted since.
func TestScan_staleMainFile(t *testing.T) {
	f := &fx{t: t, dir: t.TempDir()}
	old, recent := T0-30*86400000, T0
	var stale, good arr
	for i := range 3 {
		stale = append(stale, noteDoc(i, "ANCIENT", old))
	}
	for i := range 6 {
		good = append(good, noteDoc(i, "RECENT", recent))
	}
	f.env("db/notes.json", stale, EncodingPlain, old+1000, true)
	f.env("db/notes.backup.json", stale, EncodingPlain, old+1000, true)
	f.env(fmt.Sprintf("db/notes.%d.backup.json", recent+1000), good, EncodingPlain, recent+999, true)
	ds, rep := scanDir(t, f.dir)
	if n := len(ds.Collections["notes"]); n != 6 {
		t.Errorf("notes: %d imported, want 6 (%v)", n, ids(ds)["notes"])
	}
	for id, e := range ds.Collections["notes"] {
		if e.Doc["content"] != "RECENT" {
			t.Errorf("note %s: content %v from %s, want the backup's RECENT", id, e.Doc["content"], e.Source)
		}
	}
	for _, d := range rep.NotResurrected {
		t.Errorf("reported as not resurrected: %+v", d)
	}
	i := slices.IndexFunc(rep.Fallbacks, func(fb Fallback) bool { return fb.Key == "notes" })
	if i < 0 || !strings.Contains(rep.Fallbacks[i].Reason, "older than its timestamped backup") {
		t.Errorf("the stale main file is not reported: %+v", rep.Fallbacks)
	}
}

// TestScan_staleMainFile_newerMainKeepsDeletions: a main file newer than
// its timestamped backup is the collection; an entity only in the backup
// was deleted since and stays deleted.
func TestScan_staleMainFile_newerMainKeepsDeletions(t *testing.T) {
	f := &fx{t: t, dir: t.TempDir()}
	f.env("db/notes.json", arr{noteDoc(0, "NOW", T0)}, EncodingPlain, T0+2000, true)
	f.env(fmt.Sprintf("db/notes.%d.backup.json", T0+2001), arr{noteDoc(0, "BEFORE", T0-5000), noteDoc(1, "GONE", T0-5000)}, EncodingPlain, T0+1000, true)
	ds, rep := scanDir(t, f.dir)
	if got := ids(ds)["notes"]; !slices.Equal(got, []string{"n0"}) || ds.Collections["notes"]["n0"].Doc["content"] != "NOW" {
		t.Errorf("notes %v, want n0 from the main file", got)
	}
	if !slices.ContainsFunc(rep.NotResurrected, func(d Dropped) bool { return d.ID == "n1" }) {
		t.Errorf("n1 not reported as deleted since: %+v", rep.NotResurrected)
	}
}

// TestScan_rollbackPoints: rollback points are user data that must be
// imported (docs/FORMAT.md §6): a session found only in a rollback
// point's snapshot is imported (sessions are unioned by id, §11.5), one
// newer elsewhere is not replaced by it, the three keys are kept in
// Extras and the snapshot is reported.
func TestScan_rollbackPoints(t *testing.T) {
	f := &fx{t: t, dir: t.TempDir()}
	f.env("db/sessions.json", arr{obj{"id": "s1", "name": "current", "updatedAt": iso(T0)}}, EncodingGzip, T0, false)
	f.env("db/rollback-points/rp1/sessions.json", arr{
		obj{"id": "s1", "name": "before", "updatedAt": iso(T0 - 5000)},
		obj{"id": "s2", "name": "only in the rollback point", "updatedAt": iso(T0 - 5000)},
	}, EncodingGzip, T0-4000, false)
	f.env("db/rollback-points/rp1/metadata.json", obj{"id": "rp1", "reason": "pre-migration"}, EncodingGzip, T0-4000, false)
	f.env("db/rollback-points-index.json", arr{"rp1"}, EncodingGzip, T0-4000, false)
	ds, rep := scanDir(t, f.dir)
	if got := ids(ds)["sessions"]; !slices.Equal(got, []string{"s1", "s2"}) {
		t.Fatalf("sessions %v, want s1 and s2", got)
	}
	if n := ds.Collections["sessions"]["s1"].Doc["name"]; n != "current" {
		t.Errorf("s1 is %q, want the newer current", n)
	}
	if e := ds.Collections["sessions"]["s2"]; e.Source != "db/rollback-points/rp1/sessions.json" {
		t.Errorf("s2 from %q", e.Source)
	}
	for _, k := range []string{"rollback-points-index", "rollback-points/rp1/metadata", "rollback-points/rp1/sessions"} {
		if ds.Extras[k] == nil {
			t.Errorf("extras: %s not kept", k)
		}
	}
	want := []RollbackPoint{{Path: "db/rollback-points/rp1/sessions.json", Time: T0 - 4000, Sessions: 2, Imported: []string{"s2"}}}
	if fmt.Sprint(rep.RollbackPoints) != fmt.Sprint(want) {
		t.Errorf("report: %+v, want %+v", rep.RollbackPoints, want)
	}
	if rep.Sources["sessions"][SourceRollback] != 1 {
		t.Errorf("sources: %v", rep.Sources["sessions"])
	}
}

// TestScan_clobberedSessionsNewest: db/sessions.json replaced by the WAL
// replay with one raw session object (docs/FORMAT.md §5.3) is that
// session's newest copy: it is imported, with the enrichment only it
// holds, over the older copy in the timestamped backup, even when its
// mtime is more than a day after every timestamp in the directory; and
// the report gives it its file time, not 0.
func TestScan_clobberedSessionsNewest(t *testing.T) {
	f := &fx{t: t, dir: t.TempDir()}
	var all arr
	for i := range 3 {
		all = append(all, obj{"id": fmt.Sprintf("s%d", i), "name": "from the array"})
	}
	f.env(fmt.Sprintf("db/sessions.%d.backup.json", T0+1000), all, EncodingGzip, T0, true)
	f.js("db/sessions.json", obj{"id": "s1", "name": "enriched", "version": 5, "summary": obj{"narrative": "only here"}})
	mt := time.UnixMilli(T0 + 2*86400000)
	if err := os.Chtimes(filepath.Join(f.dir, "db/sessions.json"), mt, mt); err != nil {
		t.Fatal(err)
	}
	ds, rep := scanDir(t, f.dir)
	if got := ids(ds)["sessions"]; !slices.Equal(got, []string{"s0", "s1", "s2"}) {
		t.Fatalf("sessions %v", got)
	}
	e := ds.Collections["sessions"]["s1"]
	if e.Source != "db/sessions.json" || e.Doc["summary"] == nil || e.Time != mt.UnixMilli() {
		t.Errorf("s1 from %s (time %d): %v; want the clobbered file's enriched copy", e.Source, e.Time, e.Doc)
	}
	for _, c := range rep.Conflicts {
		for _, l := range append(c.Losers, c.Winner) {
			if l.Source == "db/sessions.json" && l.Time == 0 {
				t.Errorf("conflict gives the clobbered file time 0: %+v", c)
			}
		}
	}
}

// TestScan_snapshotOnlyReported: entities found only in backups/
// snapshots are not imported (a backup never adds records, docs/FORMAT.md
// §11.15) but each is reported in NotResurrected with the snapshot and
// the reason, as those only in timestamped backups are: a session absent
// from an intact sessions file, and tasks whose collection file is gone.
func TestScan_snapshotOnlyReported(t *testing.T) {
	f := &fx{t: t, dir: t.TempDir()}
	f.env("db/sessions.json", arr{obj{"id": "s1"}}, EncodingPlain, T0, true)
	snap := fmt.Sprintf("backups/backup-%d.json", T0-1000)
	f.write(snap, []byte(`{"version":1,"timestamp":`+fmt.Sprint(T0-1000)+`,"collections":{"sessions":[{"id":"s1"},{"id":"s-old"}],"tasks":[{"id":"k1"},{"id":"k2"}]}}`))
	ds, rep := scanDir(t, f.dir)
	if got := ids(ds); !slices.Equal(got["sessions"], []string{"s1"}) || len(got["tasks"]) != 0 {
		t.Errorf("imported %v: a snapshot added records", got)
	}
	var got []string
	for _, d := range rep.NotResurrected {
		if d.Source != snap || !strings.Contains(d.Reason, "backups/ snapshot") {
			t.Errorf("%+v: wrong source or reason", d)
		}
		got = append(got, d.Collection+"/"+d.ID)
	}
	if want := []string{"tasks/k1", "tasks/k2", "sessions/s-old"}; !slices.Equal(got, want) {
		t.Errorf("not resurrected %v, want %v", got, want)
	}
}

// TestScan_walSupersededSkipped: a WAL write (after the checkpoint) of a
// key whose file is newer is not applied (docs/FORMAT.md §5.4), and is
// counted as skipped with the reason, not as replayed; so is a write of
// a key that a later WAL line writes again.
func TestScan_walSupersededSkipped(t *testing.T) {
	f := &fx{t: t, dir: t.TempDir()}
	f.env("db/topics.json", arr{obj{"id": "t1", "name": "file"}}, EncodingGzip, T0+3000, true)
	f.write("db/wal.checkpoint", []byte(fmt.Sprint(T0)))
	f.write("db/wal.log", []byte(
		walLine(obj{"id": "a", "timestamp": T0 + 1000, "operation": "write", "collection": "topics", "data": arr{obj{"id": "t1", "name": "OLD WAL"}}})+
			walLine(obj{"id": "b", "timestamp": T0 + 1000, "operation": "write", "collection": "capture-draft-text", "data": "first"})+
			walLine(obj{"id": "c", "timestamp": T0 + 2000, "operation": "write", "collection": "capture-draft-text", "data": "second"})))
	ds, rep := scanDir(t, f.dir)
	if n := ds.Collections["topics"]["t1"].Doc["name"]; n != "file" || ds.Extras["capture-draft-text"] != "second" {
		t.Errorf("topic %v, draft %v: want the file's and line 3's", n, ds.Extras["capture-draft-text"])
	}
	if rep.WAL.Replayed != 1 {
		t.Errorf("replayed %d, want 1 (line 3)", rep.WAL.Replayed)
	}
	var got []string
	for _, s := range rep.WAL.Skipped {
		got = append(got, fmt.Sprintf("%d %s", s.Line, s.Reason))
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "1 superseded: db/topics.json") || !strings.HasPrefix(got[1], "2 superseded by line 3") {
		t.Errorf("skipped %q", got)
	}
}

// TestScan_perEntityEnrichmentKept: in eras E–F enrichment was written
// only to the per-entity session file, with its version bumped, while the
// UI went on saving db/sessions.json, whose sessions carry no version
// (docs/FORMAT.md §3.3, §11.4). The later sessions.json copy still wins (it
// may hold newer edits: here the name), and the enrichment results only
// the per-entity copy holds are added to it, not lost.
func TestScan_perEntityEnrichmentKept(t *testing.T) {
	f := &fx{t: t, dir: t.TempDir()}
	f.env("db/sessions.json", arr{obj{"id": "s1", "name": "renamed later", "startTime": iso(T0)}, obj{"id": "s2", "name": "S2"}}, EncodingGzip, T0+3600000, true)
	f.perEntity("db/sessions/session-s1.json", obj{"id": "s1", "name": "before", "startTime": iso(T0), "version": 2,
		"summary": obj{"narrative": "only here"}, "enrichmentStatus": obj{"status": "completed"}}, true)
	mt := time.UnixMilli(T0)
	if err := os.Chtimes(filepath.Join(f.dir, "db/sessions/session-s1.json"), mt, mt); err != nil {
		t.Fatal(err)
	}
	ds, rep := scanDir(t, f.dir)
	doc := ds.Collections["sessions"]["s1"].Doc
	if doc["name"] != "renamed later" {
		t.Errorf("name %v: the later copy's edit was lost", doc["name"])
	}
	if !equalJSON(doc["summary"], obj{"narrative": "only here"}) || !equalJSON(doc["enrichmentStatus"], obj{"status": "completed"}) {
		t.Errorf("enrichment lost: %v", doc)
	}
	if want := []string{"s1 from db/sessions/session-s1.json (summary, enrichmentStatus)"}; !slices.Equal(rep.EnrichmentRecovered, want) {
		t.Errorf("report %q, want %q", rep.EnrichmentRecovered, want)
	}
}
