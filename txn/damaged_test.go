package txn

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/buckets"
	bolt "go.etcd.io/bbolt"
)

// put writes doc through the Writer and records it in the model.
func put(t *testing.T, st *testStore, m *model, coll, id string, doc any) {
	t.Helper()
	doc = mustNorm(t, doc)
	if _, err := st.run(func(w *Writer) error { _, err := w.Put(coll, id, doc, 0); return err }); err != nil {
		t.Fatalf("put %s/%s: %v", coll, id, err)
	}
	m.commit(coll, id, doc, false)
}

var (
	hashA = strings.Repeat("a1", 32)
	hashB = strings.Repeat("b2", 32)
)

// A Put or a Delete replaces or removes a document whose record fails its
// checksum without reading it: its parts, summary, index keys and blob
// reference go, and the store is whole again.
func TestWriter_damagedReplacedOrDeleted(t *testing.T) {
	colls := []string{"sessions", "attachments"}
	st := openStore(t)
	m := newModel()
	shots := make([]any, 20)
	for i := range shots {
		shots[i] = map[string]any{"n": int64(i)}
	}
	put(t, st, m, "sessions", "s1", map[string]any{"id": "s1", "status": "active", "screenshots": shots, "summary": "long"})
	put(t, st, m, "sessions", "s2", map[string]any{"id": "s2", "status": "done", "contextItems": []any{"c"}})
	put(t, st, m, "attachments", "a1", map[string]any{"id": "a1", "hash": hashA, "type": "image"})
	put(t, st, m, "attachments", "a2", map[string]any{"id": "a2", "hash": hashA})
	put(t, st, m, "attachments", "a3", map[string]any{"id": "a3", "hash": hashB})
	m.check(t, st, colls, "seeded")

	// Replaced: the new version has no parts; the old ones must go.
	st.corrupt("sessions", "s1")
	m.docs["sessions"]["s1"].damaged = true // replaced as if absent: every field is new
	newS1 := mustNorm(t, map[string]any{"id": "s1", "status": "paused"})
	if _, err := st.run(func(w *Writer) error { _, err := w.Put("sessions", "s1", newS1, 0); return err }); err != nil {
		t.Fatalf("put over a damaged record: %v", err)
	}
	m.commit("sessions", "s1", newS1, false)
	m.check(t, st, colls, "damaged session replaced")

	// Deleted.
	st.corrupt("sessions", "s2")
	if _, err := st.run(func(w *Writer) error {
		existed, err := w.Delete("sessions", "s2", 0)
		if err == nil && !existed {
			t.Error("Delete of a damaged record reported it absent")
		}
		return err
	}); err != nil {
		t.Fatalf("delete of a damaged record: %v", err)
	}
	m.commit("sessions", "s2", nil, true)
	m.check(t, st, colls, "damaged session deleted")

	// An attachment: its hash is taken from its summary.
	st.corrupt("attachments", "a3")
	w, err := st.run(func(w *Writer) error { _, err := w.Delete("attachments", "a3", 0); return err })
	if err != nil {
		t.Fatal(err)
	}
	m.commit("attachments", "a3", nil, true)
	if !slices.Equal(w.Zeroed(), []string{hashB}) {
		t.Errorf("Zeroed() = %q, want %q", w.Zeroed(), hashB)
	}
	m.check(t, st, colls, "damaged attachment deleted")

	// Its summary damaged too: the references are recounted from the
	// other attachments.
	st.corrupt("attachments", "a1")
	m.docs["attachments"]["a1"].damaged = true
	if err := st.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(buckets.MetaBucket("attachments"))
		v := bytes.Clone(b.Get([]byte("a1")))
		v[len(v)/2] ^= 0x40
		return b.Put([]byte("a1"), v)
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.db.View(func(tx *bolt.Tx) error { _, err := CountRefs(tx); return err }); !errors.Is(err, buckets.ErrCorrupt) {
		t.Errorf("CountRefs with an unreadable attachment: %v, want ErrCorrupt", err)
	}
	newA1 := mustNorm(t, map[string]any{"id": "a1", "hash": hashB})
	if _, err := st.run(func(w *Writer) error { _, err := w.Put("attachments", "a1", newA1, 0); return err }); err != nil {
		t.Fatal(err)
	}
	m.commit("attachments", "a1", newA1, false)
	m.check(t, st, colls, "damaged attachment without a summary replaced")
	if _, err := st.run(func(w *Writer) error {
		for h, want := range map[string]uint64{hashA: 1, hashB: 1, strings.Repeat("0", 64): 0} {
			if n, err := w.RefCount(h); err != nil || n != want {
				t.Errorf("RefCount(%s) = %d, %v; want %d", h[:4], n, err, want)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// RecountRefs puts the counts back from the attachments: a wrong count
// corrected, a stale hash removed (and reported by Zeroed), a missing one
// added.
func TestWriter_recountRefs(t *testing.T) {
	st := openStore(t)
	m := newModel()
	put(t, st, m, "attachments", "a1", map[string]any{"id": "a1", "hash": hashA})
	put(t, st, m, "attachments", "a2", map[string]any{"id": "a2", "hash": hashA})
	put(t, st, m, "attachments", "a3", map[string]any{"id": "a3", "hash": hashB})
	stale := strings.Repeat("cd", 32)
	if err := st.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(buckets.RefsBucket)
		if err := b.Put([]byte(hashA), buckets.EncodeCount(7)); err != nil {
			return err
		}
		if err := b.Delete([]byte(hashB)); err != nil {
			return err
		}
		return b.Put([]byte(stale), buckets.EncodeCount(1))
	}); err != nil {
		t.Fatal(err)
	}
	w, err := st.run(func(w *Writer) error {
		n, err := w.RecountRefs()
		if err == nil && n != 3 {
			t.Errorf("RecountRefs changed %d counts, want 3", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.Zeroed(), []string{stale}) {
		t.Errorf("Zeroed() = %q, want the stale hash", w.Zeroed())
	}
	m.check(t, st, []string{"attachments"}, "recounted")
}
