package kv_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/kv"
	bolt "go.etcd.io/bbolt"
)

// TestQuery_damagedIndexKey: one flipped bit in the id part of an index
// key made query --ids print an id the store does not hold, with exit 0,
// and the document query fail with "vanished inside its transaction"
// (round 6, damage6 #7). Both now fail with ErrCorrupt naming the id and
// reindex --secondary.
func TestQuery_damagedIndexKey(t *testing.T) {
	docs := []kv.Document{{"id": "t1", "status": "done"}, {"id": "t2", "status": "done"}, {"id": "t3", "status": "done"}}
	db := bitFlipped(t, "tasks", docs, func(tx *bolt.Tx) error {
		b := tx.Bucket(buckets.IndexBucket("tasks", "status"))
		k, v := b.Cursor().Last() // t3's key: the id is its last bytes
		if k == nil || !strings.HasSuffix(string(k), "t3") {
			return fmt.Errorf("the last status key is %q", k)
		}
		bad := append([]byte(nil), k...)
		bad[len(bad)-1] = '9'
		if err := b.Delete(k); err != nil {
			return err
		}
		return b.Put(bad, v)
	})
	q := kv.Query{Collection: "tasks", Filters: []kv.Filter{{Field: "status", Op: "=", Value: "done"}}}
	for _, opts := range []*kv.QueryOptions{{IDsOnly: true}, nil} {
		res, err := db.Query(t.Context(), q, opts)
		if !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), `"t9"`) || !strings.Contains(err.Error(), "reindex --secondary") {
			t.Errorf("query (%+v): %v, %+v; want ErrCorrupt naming t9 and reindex --secondary", opts, err, res)
		}
	}
}

// TestPatch_ifRevZeroCreates: IfRev(0) (kvtool patch --rev 0) means "unless
// no document is stored": a patch of a missing document with it creates
// the document, once; a second one conflicts. Without it a missing
// document is not found (round 6, fidelity6 #4: it could never succeed).
func TestPatch_ifRevZeroCreates(t *testing.T) {
	db := openTest(t)
	for _, coll := range []string{"tasks", "things"} {
		if _, err := db.Patch(t.Context(), coll, "x1", kv.Document{"title": "a"}); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("%s: a patch of nothing without IfRev: %v, want ErrNotFound", coll, err)
		}
		rev, err := db.Patch(t.Context(), coll, "x1", kv.Document{"title": "a", "gone": nil}, kv.IfRev(0))
		if err != nil || rev == 0 {
			t.Fatalf("%s: IfRev(0) on nothing: rev %d, %v", coll, rev, err)
		}
		doc, _, err := db.Get(t.Context(), coll, "x1")
		if err != nil || doc["title"] != "a" || doc["id"] != "x1" || len(doc) != 2 {
			t.Errorf("%s: created %v (%v)", coll, doc, err)
		}
		if _, err := db.Patch(t.Context(), coll, "x1", kv.Document{"title": "b"}, kv.IfRev(0)); !errors.Is(err, kv.ErrConflict) {
			t.Errorf("%s: IfRev(0) on a stored document: %v, want ErrConflict", coll, err)
		}
	}
}

// TestQuery_extrasNullSorted: an extras value may be JSON null; a sorted
// query (a scan) took it for no document and left it out, of the ids and
// of the count (round 6, fidelity6 #3). It sorts last, like any value
// without the field.
func TestQuery_extrasNullSorted(t *testing.T) {
	db := openTest(t)
	values := []string{`null`, `false`, `0`, `""`, `[]`, `{}`, `{"id":"x"}`, `[null]`}
	err := db.Update(t.Context(), func(tx *kv.Tx) error {
		for i, v := range values {
			if _, err := tx.PutValue("extras", fmt.Sprintf("k%d", i+1), json.RawMessage(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, sort := range []string{"", "id", "-id"} {
		res, err := db.Query(t.Context(), kv.Query{Collection: "extras", Sort: sort}, &kv.QueryOptions{IDsOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.IDs) != len(values) || res.Total != len(values) || !slices.Contains(res.IDs, "k1") {
			t.Errorf("sort %q: ids %v, total %d; want all %d", sort, res.IDs, res.Total, len(values))
		}
	}
}

// TestGet_hiddenDocumentIsDamage: one flipped bit in a leaf's element
// count hid a document: get said not found (exit 1), and a script could
// create it anew over what salvage could still read (round 6, damage6
// #9). Its summary still lists it: the get now fails as damage.
func TestGet_hiddenDocumentIsDamage(t *testing.T) {
	docs := []kv.Document{{"id": "u1", "v": 1}, {"id": "u2", "v": 1}, {"id": "u3", "v": 1}}
	db := bitFlipped(t, "mycol", docs, func(tx *bolt.Tx) error { // what the damaged count hides
		return tx.Bucket(buckets.PrimaryBucket("mycol")).Delete([]byte("u3"))
	})
	if _, _, err := db.Get(t.Context(), "mycol", "u3"); !errors.Is(err, kv.ErrCorrupt) || errors.Is(err, kv.ErrNotFound) {
		t.Errorf("get of a document its summary lists: %v, want ErrCorrupt", err)
	}
	if _, _, err := db.Get(t.Context(), "mycol", "u4"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("get of a document never stored: %v, want ErrNotFound", err)
	}
	// A query that walks the documents does not pass it by either, with
	// an answer short of one (round 7, damage7 #3); one an index leads to
	// it says the document is hidden, not that the index is damaged (#5).
	for name, q := range map[string]kv.Query{
		"every id":      {Collection: "mycol"},
		"a filter":      {Collection: "mycol", Filters: []kv.Filter{{Field: "v", Op: "=", Value: int64(1)}}},
		"sorted":        {Collection: "mycol", Sort: "v"},
		"from an index": {Collection: "mycol", Filters: []kv.Filter{{Field: "id", Op: ">=", Value: "u"}}},
	} {
		for _, ids := range []bool{true, false} {
			_, err := db.Query(t.Context(), q, &kv.QueryOptions{IDsOnly: ids})
			if !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), "u3") || strings.Contains(err.Error(), "reindex") {
				t.Errorf("query %s (ids only %v): %v, want ErrCorrupt naming u3, not the index", name, ids, err)
			}
		}
	}
	// Nor is it a document to write anew, patch or delete as missing: a
	// write would make what the damage hides lost for good, and each
	// reported it "not found" (exit 1) before.
	dir := db.Dir()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	writes := map[string]func() error{
		"put":    func() error { _, err := db.Put(t.Context(), "mycol", kv.Document{"id": "u3", "v": 2}); return err },
		"create": func() error { _, err := db.Put(t.Context(), "mycol", kv.Document{"id": "u3"}, kv.IfRev(0)); return err },
		"patch":  func() error { _, err := db.Patch(t.Context(), "mycol", "u3", kv.Document{"v": 2}); return err },
		"delete": func() error { _, err := db.Delete(t.Context(), "mycol", "u3"); return err },
		"append": func() error {
			_, err := db.Append(t.Context(), "sessions", "u3", "screenshots", kv.Document{})
			return err
		},
	}
	for name, write := range writes {
		if err := write(); name != "append" && (!errors.Is(err, kv.ErrCorrupt) || errors.Is(err, kv.ErrNotFound)) {
			t.Errorf("%s of a document its summary lists: %v, want ErrCorrupt", name, err)
		}
	}
	if doc, _, err := db.Get(t.Context(), "mycol", "u1"); err != nil || doc["v"] != int64(1) {
		t.Errorf("u1 after the refused writes: %v %v", doc, err)
	}
	if _, err := db.Put(t.Context(), "mycol", kv.Document{"id": "u5"}); err != nil {
		t.Errorf("put of a new document beside: %v", err)
	}
}

// TestOpenSalvage_nothingToRead: an empty data.db, or one whose meta
// pages are both zeroed, holds nothing salvage can read; that is damage
// (exit 3), not an error of the command (round 6, damage6 #13).
func TestOpenSalvage_nothingToRead(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(t.Context(), "notes", kv.Document{"id": "n1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Backup(t.Context(), kv.ReasonManual); err != nil { // an empty data.db beside it is damage
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, kv.DataFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	clear(b[:2*4096]) // both meta pages
	for name, data := range map[string][]byte{"empty": nil, "metas zeroed": b} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		db, _, err := kv.OpenSalvage(t.Context(), dir, nil)
		if err == nil {
			db.Close()
		}
		if !errors.Is(err, kv.ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

// TestCheck_unnamableKeyAdvice: a damaged key size turned a key into
// bytes no id is (invalid UTF-8, a NUL), and check advised a delete that
// delete refuses (round 6, damage6 #8). The advice is the structural way
// back instead.
func TestCheck_unnamableKeyAdvice(t *testing.T) {
	db := bitFlipped(t, "notes", []kv.Document{{"id": "n1"}}, func(tx *bolt.Tx) error {
		return tx.Bucket(buckets.PrimaryBucket("notes")).Put([]byte("n2\x00\xff\x01garbage"), []byte("\x01\x02not a record"))
	})
	rep, err := db.Check(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range rep.Problems {
		if strings.HasPrefix(p.ID, "n2\x00") {
			found = true
			if strings.Contains(p.Fix, " delete ") || !strings.Contains(p.Fix, "export --salvage") {
				t.Errorf("advice for an unnamable key: %s", p.Fix)
			}
		}
	}
	if !found {
		t.Fatalf("check did not name the damaged key: %v", rep.Problems)
	}
}

// bitFlipped puts docs into coll of a new store, closes it, lets damage
// change the bbolt file through a write transaction of its own (what a
// flipped bit would leave), and opens the store read-only again.
func bitFlipped(t *testing.T, coll string, docs []kv.Document, damage func(tx *bolt.Tx) error) *kv.DB {
	t.Helper()
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if _, err := db.Put(t.Context(), coll, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(filepath.Join(dir, kv.DataFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(bdb.Update(damage), bdb.Close()); err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
