package kv_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/kv/entity"
)

const unknownFieldsDoc = `{
  "id": "s-1",
  "name": "Planning ✓ ünïcödé 日本語",
  "status": "active",
  "startTime": "2025-03-01T10:00:00.000Z",
  "tags": ["a", "b"],
  "nothing": null,
  "big": 9007199254740992,
  "bigger": 123456789012345678901234567890,
  "neg": -9007199254740991,
  "float": 3.141592653589793,
  "tiny": 1e-300,
  "nested": {"x": {"y": [1, "two", null, {"z": false}]}, "empty": {}, "arr": []},
  "screenshots": [{"id": "sh1", "aiAnalysis": {"summary": "s", "unknownDeep": {"k": [1,2,3]}}, "extraField": true}],
  "summary": {"narrative": "n", "weird": {"a": null}},
  "relationships": [{"id": "r1", "targetId": "t1", "metadata": {"source": "ai", "extra": {"q": 1}}, "custom": "kept"}]
}`

func mustParse(t *testing.T, s string) kv.Document {
	t.Helper()
	v, err := kv.ParseJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v.(kv.Document)
}

func TestStore_unknownFieldsRoundTrip(t *testing.T) {
	db := openTest(t)
	in := mustParse(t, unknownFieldsDoc)
	if _, err := db.Put(context.Background(), "sessions", in); err != nil {
		t.Fatal(err)
	}
	got, _, err := db.Get(context.Background(), "sessions", "s-1")
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, got, mustParse(t, unknownFieldsDoc)) {
		t.Fatalf("put/get changed the document:\n got %s\nwant %s", canon(t, got), canon(t, mustParse(t, unknownFieldsDoc)))
	}

	// Typed read and write keep every unknown and null field.
	s, _, err := kv.GetAs[entity.Session](context.Background(), db, "sessions", "s-1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "Planning ✓ ünïcödé 日本語" || len(s.Screenshots) != 1 {
		t.Fatalf("typed read: %+v", s)
	}
	if _, err := kv.PutAs(context.Background(), db, "sessions", s); err != nil {
		t.Fatal(err)
	}
	got, _, _ = db.Get(context.Background(), "sessions", "s-1")
	if !jsonEqual(t, got, mustParse(t, unknownFieldsDoc)) {
		t.Fatalf("typed round trip changed the document:\n got %s\nwant %s", canon(t, got), canon(t, mustParse(t, unknownFieldsDoc)))
	}

	// A typed update changes only what it sets.
	if _, err := kv.ModifyAs(context.Background(), db, "sessions", "s-1", func(s *entity.Session) error {
		s.Name = "renamed"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := mustParse(t, unknownFieldsDoc)
	want["name"] = "renamed"
	got, _, _ = db.Get(context.Background(), "sessions", "s-1")
	if !jsonEqual(t, got, want) {
		t.Fatalf("typed update:\n got %s\nwant %s", canon(t, got), canon(t, want))
	}

	// A patch of one field keeps the rest.
	if _, err := db.Patch(context.Background(), "sessions", "s-1", mustParse(t, `{"status":"completed","nested":{"x":null}}`)); err != nil {
		t.Fatal(err)
	}
	want["status"] = "completed"
	delete(want["nested"].(map[string]any), "x")
	got, _, _ = db.Get(context.Background(), "sessions", "s-1")
	if !jsonEqual(t, got, want) {
		t.Fatalf("patch:\n got %s\nwant %s", canon(t, got), canon(t, want))
	}
	if got["bigger"].(fmt.Stringer).String() != "123456789012345678901234567890" {
		t.Fatalf("big number changed: %v", got["bigger"])
	}
}

func TestStore_revisionsAndConflict(t *testing.T) {
	db := openTest(t)
	r1, err := db.Put(context.Background(), "notes", kv.Document{"id": "n1", "content": "a"})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := db.Patch(context.Background(), "notes", "n1", kv.Document{"content": "b"}, kv.IfRev(r1))
	if err != nil {
		t.Fatal(err)
	}
	if r2 <= r1 {
		t.Fatalf("revision did not increase: %d then %d", r1, r2)
	}
	_, err = db.Patch(context.Background(), "notes", "n1", kv.Document{"content": "c"}, kv.IfRev(r1))
	if !errors.Is(err, kv.ErrConflict) {
		t.Fatalf("stale revision: got %v, want ErrConflict", err)
	}
	doc, rev, _ := db.Get(context.Background(), "notes", "n1")
	if doc["content"] != "b" || rev != r2 {
		t.Fatalf("conflicting patch changed the document: %v rev %d", doc, rev)
	}
	// Delete and re-create: the revision still increases.
	if n, err := db.Delete(context.Background(), "notes", "n1", "missing"); err != nil || n != 1 {
		t.Fatalf("delete: %d %v", n, err)
	}
	r3, err := db.Put(context.Background(), "notes", kv.Document{"id": "n1", "content": "again"})
	if err != nil || r3 <= r2 {
		t.Fatalf("re-create: rev %d after %d, %v", r3, r2, err)
	}
	if _, _, err := db.Get(context.Background(), "notes", "nope"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}
}

func TestStore_invalidDocuments(t *testing.T) {
	db := openTest(t)
	long := strings.Repeat("x", 300)
	cases := []struct {
		name string
		coll string
		doc  any
		want error
		msg  string
	}{
		{"unknown collection", "Widgets", kv.Document{"id": "a"}, kv.ErrUnknownCollection, "Widgets"},
		{"missing id", "notes", kv.Document{"content": "x"}, kv.ErrInvalid, "id is missing"},
		{"numeric id", "notes", kv.Document{"id": 7}, kv.ErrInvalid, "must be a string"},
		{"long id", "notes", kv.Document{"id": long}, kv.ErrInvalidID, "300 bytes"},
		{"empty id", "notes", kv.Document{"id": ""}, kv.ErrInvalidID, "empty"},
		{"NUL id", "notes", kv.Document{"id": "a\x00b"}, kv.ErrInvalidID, "NUL"},
		{"not an object", "notes", []any{1, 2}, kv.ErrInvalid, "object"},
		{"bad json", "notes", []byte(`{"id": "a",}`), kv.ErrSyntax, "line 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := db.Put(context.Background(), c.coll, c.doc)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want %v mentioning %q", err, c.want, c.msg)
			}
		})
	}
	st, err := db.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.LastSeq != 0 {
		t.Fatalf("a rejected write changed the store (last seq %d)", st.LastSeq)
	}
}

func TestStore_singletonsAndExtras(t *testing.T) {
	db := openTest(t)
	if _, err := db.Put(context.Background(), "settings", kv.Document{"aiSettings": kv.Document{"autoMergeNotes": true}, "ui": kv.Document{"x": 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Patch(context.Background(), "settings", "", kv.Document{"activeSessionId": "s1"}); err != nil {
		t.Fatal(err)
	}
	got, _, err := db.Get(context.Background(), "settings", "")
	if err != nil {
		t.Fatal(err)
	}
	if got["activeSessionId"] != "s1" || got["ui"] == nil {
		t.Fatalf("settings: %v", got)
	}
	err = db.Update(context.Background(), func(tx *kv.Tx) error {
		_, err := tx.PutValue("extras", "capture-draft-text", "half a thought")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := db.GetValue(context.Background(), "extras", "capture-draft-text")
	if err != nil || v != "half a thought" {
		t.Fatalf("extras: %v %v", v, err)
	}
}

func TestStore_atomicUpdate(t *testing.T) {
	db := openTest(t)
	boom := errors.New("boom")
	err := db.Update(context.Background(), func(tx *kv.Tx) error {
		for i := 0; i < 5; i++ {
			if _, err := tx.Put("tasks", kv.Document{"id": fmt.Sprint("t", i), "title": "x", "status": "todo"}); err != nil {
				return err
			}
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	n := 0
	if err := db.List(context.Background(), "tasks", 0, 0, func(kv.Document) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("failed transaction left %d tasks", n)
	}
}

func TestStore_partsAppendAndPatch(t *testing.T) {
	db := openTest(t)
	shots := make([]any, 0, 40)
	for i := 0; i < 37; i++ {
		shots = append(shots, kv.Document{"id": fmt.Sprint("sh", i), "aiAnalysis": kv.Document{"summary": fmt.Sprint("shot ", i)}})
	}
	if _, err := db.Put(context.Background(), "sessions", kv.Document{"id": "s", "name": "n", "screenshots": shots, "summary": kv.Document{"narrative": "x"}}); err != nil {
		t.Fatal(err)
	}
	for i := 37; i < 40; i++ {
		el := kv.Document{"id": fmt.Sprint("sh", i)}
		shots = append(shots, el)
		if _, err := db.Append(context.Background(), "sessions", "s", "screenshots", el); err != nil {
			t.Fatal(err)
		}
	}
	hdr, _, err := db.GetHeader(context.Background(), "sessions", "s")
	if err != nil {
		t.Fatal(err)
	}
	if _, has := hdr["screenshots"]; has {
		t.Fatal("header carries screenshots")
	}
	full, _, err := db.Get(context.Background(), "sessions", "s")
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, full["screenshots"], shots) {
		t.Fatalf("screenshots after appends differ")
	}
	// Shrink the array with a patch, and drop the summary.
	if _, err := db.Patch(context.Background(), "sessions", "s", kv.Document{"screenshots": shots[:3], "summary": nil}); err != nil {
		t.Fatal(err)
	}
	full, _, _ = db.Get(context.Background(), "sessions", "s")
	if !jsonEqual(t, full["screenshots"], shots[:3]) || full["summary"] != nil {
		t.Fatalf("after patch: %v", full)
	}
	var summary []kv.Document
	_ = db.List(context.Background(), "sessions", 0, 0, func(d kv.Document) error { summary = append(summary, d); return nil })
	if len(summary) != 1 || fmt.Sprint(summary[0]["screenshotCount"]) != "3" {
		t.Fatalf("summary: %v", summary)
	}
	if _, err := db.Append(context.Background(), "sessions", "s", "name", "x"); !errors.Is(err, kv.ErrInvalid) {
		t.Fatalf("append to a non-part field: %v", err)
	}
}

func TestOpen_lockedAndReadOnly(t *testing.T) {
	dir := t.TempDir()
	if _, err := kv.Open(filepath.Join(dir, "none"), &kv.Options{ReadOnly: true}); !errors.Is(err, kv.ErrNoStore) {
		t.Fatalf("read-only open of nothing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "none")); !os.IsNotExist(err) {
		t.Fatal("read-only open created the directory")
	}
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fi, err := os.Stat(db.Path())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("data.db mode %v, %v", fi.Mode(), err)
	}
	start := time.Now()
	_, err = kv.Open(dir, &kv.Options{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, kv.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatal("second open hung")
	}
	if !strings.Contains(err.Error(), "data.db") {
		t.Fatalf("error does not name the file: %v", err)
	}
}

// TestDB_writerWaiting: a read-only DB learns that a writer waits for
// the store (WriterWaiting), and the writer gets the store once it
// closes; readers waiting beside it do not count, nor does a writable DB.
func TestDB_writerWaiting(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	if db.WriterWaiting() {
		t.Error("a writable DB says a writer waits")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := kv.Open(dir, &kv.Options{ReadOnly: true, NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	reader, err := kv.Open(dir, &kv.Options{ReadOnly: true, NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := reader.Close(); err != nil {
		t.Fatal(err)
	}
	if ro.WriterWaiting() {
		t.Fatal("WriterWaiting before any writer came")
	}
	opened := make(chan error, 1)
	go func() {
		w, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true, Timeout: 10 * time.Second})
		if err == nil {
			err = w.Close()
		}
		opened <- err
	}()
	for !ro.WriterWaiting() {
		select {
		case err := <-opened:
			t.Fatalf("the writer opened beside a read-only DB: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatalf("the writer, once the reader closed: %v", err)
	}
	if ro.WriterWaiting() {
		t.Error("a closed DB says a writer waits")
	}
}

func TestStore_search(t *testing.T) {
	db := openTest(t)
	docs := []kv.Document{
		{"id": "n1", "content": "We held the quarterly budget meetings with the customer"},
		{"id": "n2", "content": "Deploy the new roadmap tomorrow"},
		{"id": "n3", "content": "A zebracorn appeared during the meeting"},
	}
	for _, d := range docs {
		if _, err := db.Put(context.Background(), "notes", d); err != nil {
			t.Fatal(err)
		}
	}
	res, err := db.Search(t.Context(), "meeting", kv.SearchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 2 {
		t.Fatalf("meeting: %+v", res)
	}
	res, _ = db.Search(t.Context(), "zebracorn", kv.SearchOptions{})
	if len(res.Hits) != 1 || res.Hits[0].ID != "n3" {
		t.Fatalf("zebracorn: %+v", res)
	}
	if _, err := db.Delete(context.Background(), "notes", "n3"); err != nil {
		t.Fatal(err)
	}
	res, _ = db.Search(t.Context(), "zebracorn", kv.SearchOptions{})
	if res.Total != 0 {
		t.Fatalf("deleted note still found: %+v", res)
	}
}

func TestStore_maxDocumentBytes(t *testing.T) {
	db, err := kv.Open(t.TempDir(), &kv.Options{MaxDocumentBytes: 1000, NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Put(context.Background(), "notes", kv.Document{"id": "big", "content": strings.Repeat("x", 2000)})
	if !errors.Is(err, kv.ErrTooLarge) || !strings.Contains(err.Error(), "limit is 1000") {
		t.Fatalf("oversized put: %v", err)
	}
	if _, err := db.Put(context.Background(), "sessions", kv.Document{"id": "s", "screenshots": []any{}}); err != nil {
		t.Fatal(err)
	}
	_, err = db.Append(context.Background(), "sessions", "s", "screenshots", kv.Document{"x": strings.Repeat("y", 2000)})
	if !errors.Is(err, kv.ErrTooLarge) {
		t.Fatalf("oversized append: %v", err)
	}
	if _, _, err := db.Get(context.Background(), "notes", "big"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("oversized document stored: %v", err)
	}
}

func TestParse_valueLimit(t *testing.T) {
	big := []byte(`{"id":"x","a":[` + strings.Repeat("0,", kv.MaxValues) + `0]}`)
	if _, err := kv.ParseJSON(big); !errors.Is(err, kv.ErrTooLarge) || !strings.Contains(err.Error(), "values") {
		t.Fatalf("huge array: %v", err)
	}
	// Many documents of modest size in one array are fine.
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 3000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"%d","v":[%s0]}`, i, strings.Repeat("1,", 500))
	}
	b.WriteString("]")
	docs, _, err := kv.ParseDocuments([]byte(b.String()))
	if err != nil || len(docs) != 3000 {
		t.Fatalf("3000 documents of 500 values: %d, %v", len(docs), err)
	}
	// Commas inside strings do not count.
	if _, err := kv.ParseJSON([]byte(`{"id":"s","t":"` + strings.Repeat(",", kv.MaxValues+5) + `"}`)); err != nil {
		t.Fatalf("commas in a string: %v", err)
	}
}
