package secondary

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	bolt "go.etcd.io/bbolt"
)

// indexIDs returns the ids index holds under the encoded value val.
func indexIDs(t *testing.T, s *testStore, coll, index string, val []byte) []string {
	t.Helper()
	var ids []string
	if err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(buckets.IndexBucket(coll, index))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, _ := c.Seek(val); k != nil && bytes.HasPrefix(k, val); k, _ = c.Next() {
			v, id, err := buckets.SplitIndexKey(k)
			if err != nil {
				return err
			}
			if bytes.Equal(v, val) {
				ids = append(ids, id)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

func instant(t *testing.T, s string) []byte {
	t.Helper()
	ms, ok := buckets.ParseInstant(s)
	if !ok {
		t.Fatalf("bad date %q", s)
	}
	return buckets.IndexTime(ms)
}

// TestApply_staleIndex is the stale-index regression: an update that
// changes status, tags and dates removes every old key and adds the new
// ones, and Verify proves it.
func TestApply_staleIndex(t *testing.T) {
	s := openStore(t)
	s.put("sessions", "s1", map[string]any{
		"id": "s1", "name": "Morning", "status": "active", "tags": []any{"work", "focus"},
		"startTime": "2025-01-01T09:00:00.000Z", "endTime": "2025-01-01T10:00:00Z", "category": "Dev",
		"companyIds": []any{"c-1"},
	})
	s.put("sessions", "s2", map[string]any{"id": "s2", "status": "active", "tags": []any{"work"}, "startTime": "2025-01-01"})
	s.put("sessions", "s1", map[string]any{
		"id": "s1", "name": "Morning", "status": "completed", "tags": []any{"review"},
		"startTime": "2025-02-03T09:00:00+01:00", "endTime": int64(1738576800000),
		"relationships": []any{map[string]any{"targetId": "t-9", "targetType": "task"}},
	})
	for _, c := range []struct {
		index, value string
		val          []byte
		want         []string
	}{
		{"status", "active", buckets.IndexString("active"), []string{"s2"}},
		{"status", "completed", buckets.IndexString("completed"), []string{"s1"}},
		{"tags", "work", buckets.IndexString("work"), []string{"s2"}},
		{"tags", "focus", buckets.IndexString("focus"), nil},
		{"tags", "review", buckets.IndexString("review"), []string{"s1"}},
		{"startTime", "old", instant(t, "2025-01-01T09:00:00Z"), nil},
		{"startTime", "new", instant(t, "2025-02-03T08:00:00Z"), []string{"s1"}},
		{"startTime", "s2", instant(t, "2025-01-01"), []string{"s2"}},
		{"endTime", "old", instant(t, "2025-01-01T10:00:00Z"), nil},
		{"endTime", "new", buckets.IndexTime(1738576800000), []string{"s1"}},
		{"category", "old", buckets.IndexString("Dev"), nil},
		{"links", "old", buckets.IndexString("c-1"), nil},
		{"links", "new", buckets.IndexString("t-9"), []string{"s1"}},
	} {
		if got := indexIDs(t, s, "sessions", c.index, c.val); !slices.Equal(got, c.want) {
			t.Errorf("index %s %s: ids %v, want %v", c.index, c.value, got, c.want)
		}
	}
	ids, _, _, err := s.run(Query{Collection: "sessions", Filters: []Filter{{Field: "startTime", Op: OpLt, Value: "2025-01-02"}}})
	if err != nil || !slices.Equal(ids, []string{"s2"}) {
		t.Errorf("startTime<2025-01-02: %v, %v; want [s2]", ids, err)
	}
	if ps := s.verify(); len(ps) != 0 {
		t.Fatalf("Verify: %v", ps)
	}
	s.delete("sessions", "s1")
	if got := indexIDs(t, s, "sessions", "status", buckets.IndexString("completed")); got != nil {
		t.Errorf("after delete, status=completed holds %v", got)
	}
}

// TestVerify_tampered tampers with index and metadata buckets behind
// Apply's back; Verify reports each change by kind, collection and id.
func TestVerify_tampered(t *testing.T) {
	s := openStore(t)
	s.put("sessions", "s1", map[string]any{"status": "active", "tags": []any{"a"}, "startTime": "2025-01-01"})
	s.put("sessions", "s2", map[string]any{"status": "paused", "tags": []any{"b"}})
	s.put("notes", "n1", map[string]any{"content": "# Hello\nworld", "tags": []any{"x"}})
	if err := s.db.Update(func(tx *bolt.Tx) error {
		st := tx.Bucket(buckets.IndexBucket("sessions", "status"))
		if err := st.Put(buckets.IndexKey(buckets.IndexString("ghost"), "s9"), nil); err != nil {
			return err
		}
		if err := st.Delete(buckets.IndexKey(buckets.IndexString("paused"), "s2")); err != nil {
			return err
		}
		mb := tx.Bucket(buckets.MetaBucket("sessions"))
		stale, _ := buckets.EncodeValue(map[string]any{"id": "s1", "status": "old"})
		if err := mb.Put([]byte("s1"), stale); err != nil {
			return err
		}
		extra, _ := buckets.EncodeValue(map[string]any{"id": "zz"})
		if err := mb.Put([]byte("zz"), extra); err != nil {
			return err
		}
		return tx.Bucket(buckets.MetaBucket("notes")).Delete([]byte("n1"))
	}); err != nil {
		t.Fatal(err)
	}
	type key struct{ kind, coll, id string }
	got := map[key]bool{}
	for _, p := range s.verify() {
		got[key{p.Kind, p.Collection, p.ID}] = true
	}
	for _, want := range []key{
		{"index-extra", "sessions", "s9"},
		{"index-missing", "sessions", "s2"},
		{"metadata-stale", "sessions", "s1"},
		{"metadata-extra", "sessions", "zz"},
		{"metadata-missing", "notes", "n1"},
		{"count-stale", "sessions", ""},
	} {
		if !got[want] {
			t.Errorf("Verify did not report %v (got %v)", want, got)
		}
	}
	// Rebuild repairs everything.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		n, err := Rebuild(tx, nil, []string{"sessions", "notes"}, nil)
		if n != 3 {
			t.Errorf("Rebuild indexed %d documents, want 3", n)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if ps := s.verify(); len(ps) != 0 {
		t.Fatalf("Verify after Rebuild: %v", ps)
	}
}

// TestSync_noChange checks Sync is a no-op on a synced store and drops an
// index that is no longer declared.
func TestSync_noChange(t *testing.T) {
	s := openStore(t)
	s.put("tasks", "t1", map[string]any{"status": "todo"})
	// Sync on a synced store reads no document: it succeeds even when
	// the primary record is damaged.
	var good []byte
	if err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(buckets.PrimaryBucket("tasks"))
		good = bytes.Clone(b.Get([]byte("t1")))
		return b.Put([]byte("t1"), []byte("garbage"))
	}); err != nil {
		t.Fatal(err)
	}
	var changed []string
	if err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		changed, err = Sync(tx, nil, nil)
		return err
	}); err != nil || changed != nil {
		t.Fatalf("Sync on a synced store: %v, %v", changed, err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(buckets.PrimaryBucket("tasks")).Put([]byte("t1"), good)
	}); err != nil {
		t.Fatal(err)
	}
	// A user collection's first document: its summaries were derived as
	// Sync derives them, which the store records, so that the next
	// writable open does not derive them again (from damaged pages, that
	// lost the summaries of the documents they hide).
	s.put("mycol", "u1", map[string]any{"v": 1})
	if err := s.db.View(func(tx *bolt.Tx) error {
		need, err := SyncNeeded(tx, nil)
		if need || err != nil {
			t.Errorf("SyncNeeded = %v, %v", need, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// An index bucket of an undeclared index, with its fingerprint.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(buckets.IndexBucket("tasks", "retired"))
		if err != nil {
			return err
		}
		if err := b.Put(buckets.IndexKey(buckets.IndexBool(true), "t1"), nil); err != nil {
			return err
		}
		return tx.Bucket(buckets.SysBucket).Put(fpKey("tasks", "retired"), []byte("v1"))
	}); err != nil {
		t.Fatal(err)
	}
	if ps := s.verify(); len(ps) == 0 {
		t.Error("Verify does not report an undeclared index bucket")
	}
	var progress int
	if err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		changed, err = Sync(tx, nil, func(coll, index string, done, total int) { progress++ })
		return err
	}); err != nil || !slices.Equal(changed, []string{"tasks/retired"}) {
		t.Fatalf("Sync: %v, %v; want [tasks/retired]", changed, err)
	}
	if err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(buckets.IndexBucket("tasks", "retired")) != nil || tx.Bucket(buckets.SysBucket).Get(fpKey("tasks", "retired")) != nil {
			t.Error("Sync left the undeclared index behind")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestSummary(t *testing.T) {
	st := &DocState{Rev: 7, Size: 1234, ArrayParts: map[string]uint32{"screenshots": 3}, Doc: map[string]any{
		"id": "s1", "name": "Deep work", "status": "completed", "startTime": "2025-01-01T09:00:00Z", "endTime": nil,
		"tags": []any{"a"}, "description": "not in the summary",
	}}
	got := Summary(mustLookup("sessions"), "s1", st)
	want := map[string]any{"id": "s1", "name": "Deep work", "status": "completed", "startTime": "2025-01-01T09:00:00Z",
		"tags": []any{"a"}, "screenshotCount": int64(3), "audioSegmentCount": int64(0), "rev": int64(7), "size": int64(1234)}
	gb, _ := buckets.MarshalValue(got)
	wb, _ := buckets.MarshalValue(want)
	if !bytes.Equal(gb, wb) {
		t.Errorf("Summary(sessions) = %v, want %v", got, want)
	}
	att := Summary(mustLookup("attachments"), "a1", &DocState{Doc: map[string]any{"name": "x.png", "size": int64(10), "hash": "h", "type": "image", "mimeType": "image/png"}})
	if att["fileSize"] != int64(10) || att["size"] != int64(0) || att["hash"] != "h" {
		t.Errorf("Summary(attachments) = %v", att)
	}
	ex := Summary(mustLookup("extras"), "k", &DocState{Doc: []any{1.0}, Rev: 1, Size: 5})
	if len(ex) != 3 || ex["id"] != "k" {
		t.Errorf("Summary(extras) = %v", ex)
	}
}

func TestNoteTitle(t *testing.T) {
	for _, c := range []struct{ content, want string }{
		{"# Meeting with **Acme**\nbody", "Meeting with Acme"},
		{"\n\n  - [ ] buy `milk`  \n", "buy milk"},
		{"<p>Hello <b>world</b></p><p>second</p>", "Hello world"},
		{"<h1></h1><div>&amp; more</div>", "& more"},
		{"See [the docs](https://x.y) and ![img](a.png)", "See the docs and img"},
		{"1. first item", "first item"},
		{"> quoted   text", "quoted text"},
		{"", ""},
		{strings.Repeat("é", 100), strings.Repeat("é", schema.TitleLen)},
	} {
		if got := schema.Title(map[string]any{"content": c.content}, "content", "summary"); got != c.want {
			t.Errorf("NoteTitle(%q) = %q, want %q", c.content, got, c.want)
		}
	}
	if got := schema.Title(map[string]any{"content": "  ", "summary": "From summary"}, "content", "summary"); got != "From summary" {
		t.Errorf("fallback to summary: %q", got)
	}
}

// TestApply_extrasAndSingletons: extras get metadata (id, rev, size) and
// can be listed and queried; singletons get nothing.
func TestApply_extrasAndSingletons(t *testing.T) {
	s := openStore(t)
	s.put("extras", "capture-review-jobs", mustNormalize(t, []any{1, 2}))
	s.put("extras", "flags", mustNormalize(t, map[string]any{"beta": true}))
	s.put("settings", "settings", mustNormalize(t, map[string]any{"theme": "dark"}))
	if err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(buckets.MetaBucket("settings")) != nil {
			t.Error("Apply made a metadata bucket for a singleton")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ids, total, ex, err := s.run(Query{Collection: "extras"})
	// Scanned counts the keys a walk or a scan visits, not only index keys.
	if err != nil || !slices.Equal(ids, []string{"capture-review-jobs", "flags"}) || total != 2 || ex.Plan != "id-order" || ex.Scanned != 2 {
		t.Errorf("list extras: %v %d %+v %v", ids, total, ex, err)
	}
	ids, _, ex, err = s.run(Query{Collection: "extras", Filters: []Filter{{Field: "beta", Op: OpEq, Value: true}}})
	if err != nil || !slices.Equal(ids, []string{"flags"}) || ex.Scanned != 2 {
		t.Errorf("extras beta=true: %v %+v %v", ids, ex, err)
	}
	s.delete("extras", "flags")
	if n, _, _, _ := s.run(Query{Collection: "extras", Count: true}); n != nil {
		t.Errorf("count returned ids %v", n)
	}
}

// TestRun_corrupt: a damaged primary record or metadata entry is an error
// naming where, never a silent miss; Verify reports it as unreadable.
func TestRun_corrupt(t *testing.T) {
	s := openStore(t)
	s.put("tasks", "t1", map[string]any{"status": "todo", "note": "x"})
	s.put("tasks", "t2", map[string]any{"status": "done", "note": "y"})
	var good []byte
	if err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(buckets.PrimaryBucket("tasks"))
		good = bytes.Clone(b.Get([]byte("t2")))
		bad := bytes.Clone(good)
		bad[len(bad)/2] ^= 0xFF
		return b.Put([]byte("t2"), bad)
	}); err != nil {
		t.Fatal(err)
	}
	_, _, _, err := s.run(Query{Collection: "tasks", Filters: []Filter{{Field: "note", Op: OpEq, Value: "y"}}})
	if !errors.Is(err, buckets.ErrCorrupt) || !strings.Contains(err.Error(), "t2") {
		t.Errorf("full scan over a damaged record: %v, want ErrCorrupt naming t2", err)
	}
	found := false
	for _, p := range s.verify() {
		found = found || (p.Kind == "unreadable" && p.ID == "t2")
	}
	if !found {
		t.Error("Verify does not report the damaged record")
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(buckets.PrimaryBucket("tasks")).Put([]byte("t2"), good)
	}); err != nil {
		t.Fatal(err)
	}
}

// TestCompiled_redeclared: Apply resolves a declaration once, but a
// declaration whose Indexes were replaced is resolved again, so a write
// after the change lands in the index it now declares (and not in the one
// it no longer does).
func TestCompiled_redeclared(t *testing.T) {
	// A bare file: the collection is declared here, not in the schema
	// the teardown check of openStore verifies against.
	db, err := bolt.Open(filepath.Join(t.TempDir(), "data.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := &testStore{tb: t, db: db}
	c := &schema.Collection{Name: "things", Kind: schema.Entity,
		Indexes: []schema.Index{{Name: "color", Field: "color", Paths: []string{"color"}}}}
	doc := mustNormalize(t, map[string]any{"id": "t1", "color": "red", "size": "big"})
	write := func(id string) {
		t.Helper()
		if err := s.db.Update(func(tx *bolt.Tx) error {
			return Apply(tx, c, id, nil, &DocState{Doc: doc, Rev: 1, Size: 10})
		}); err != nil {
			t.Fatal(err)
		}
	}
	write("t1")
	if got := indexIDs(t, s, "things", "color", buckets.IndexString("red")); !slices.Equal(got, []string{"t1"}) {
		t.Fatalf("color index holds %v, want [t1]", got)
	}
	c.Indexes = []schema.Index{{Name: "size", Field: "size", Paths: []string{"size"}}}
	write("t2")
	if got := indexIDs(t, s, "things", "size", buckets.IndexString("big")); !slices.Equal(got, []string{"t2"}) {
		t.Fatalf("size index holds %v after the redeclaration, want [t2]", got)
	}
	if got := indexIDs(t, s, "things", "color", buckets.IndexString("red")); !slices.Equal(got, []string{"t1"}) {
		t.Fatalf("color index holds %v after the redeclaration, want [t1] only", got)
	}
}

// TestApply_metaVersionOnlyForFirstDocument: a write that finds no meta
// bucket records the summaries' version only when its document is the
// collection's only one: summaries lost with their bucket beside stored
// documents are Sync's to derive again, not covered by the version.
func TestApply_metaVersionOnlyForFirstDocument(t *testing.T) {
	s := openStore(t)
	s.put("mycol", "u1", map[string]any{"v": 1})
	if err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(buckets.MetaBucket("mycol")); err != nil {
			return err
		}
		return tx.Bucket(buckets.SysBucket).Delete(metaKey("mycol"))
	}); err != nil {
		t.Fatal(err)
	}
	s.put("mycol", "u2", map[string]any{"v": 2})
	if err := s.db.View(func(tx *bolt.Tx) error {
		if need, err := SyncNeeded(tx, nil); !need || err != nil {
			t.Errorf("SyncNeeded = %v, %v: want u1's summary derived again", need, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		_, err := Sync(tx, nil, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
