package replica_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// workload makes random edits, field removals, deletes, re-creations and
// attachment adds and deletes on several devices, such that within one
// round (between two settles) no two devices touch the same document,
// except the shared notes, whose fields are dealt out to the devices. So
// the stores, once settled, must equal the model exactly: a change lost,
// applied twice or resurrected shows as a difference.
type workload struct {
	rng    *rand.Rand
	m      model
	nextID int
	shared []string
	fields []string
	owner  map[string]int    // id (notes or attachments) → device index, this round
	fowner map[string]int    // shared field → device index, this round
	blobs  map[string][]byte // attachment id → content
}

func newWorkload(rng *rand.Rand) *workload {
	return &workload{
		rng: rng, m: model{"notes": {}, "attachments": {}},
		shared: []string{"shared-0", "shared-1", "shared-2"},
		fields: []string{"title", "body", "status", "n", "tags", "f5"},
		blobs:  map[string][]byte{},
	}
}

// colls are the collections the workload writes.
var colls = []string{"notes", "attachments"}

// seed creates the shared notes on d.
func (w *workload) seed(t testing.TB, d *fdev) {
	for _, id := range w.shared {
		doc := map[string]any{"title": id}
		if _, err := d.db.Put(context.Background(), "notes", kv.Document{"id": id, "title": id}); err != nil {
			t.Fatal(err)
		}
		w.m.put("notes", id, doc)
	}
}

// deal starts a round: every document and every shared field gets one
// device that may touch it.
func (w *workload) deal(ndev int) {
	w.owner, w.fowner = map[string]int{}, map[string]int{}
	for _, f := range w.fields {
		w.fowner[f] = w.rng.IntN(ndev)
	}
	for i := range 20 {
		w.owner[fmt.Sprint("note-", i)] = w.rng.IntN(ndev)
	}
	for id := range w.m["attachments"] {
		w.owner[id] = w.rng.IntN(ndev)
	}
}

// owned returns the ids device k may touch this round, in order.
func (w *workload) owned(k int, prefix string) []string {
	var ids []string
	for i := range 20 {
		if id := fmt.Sprint("note-", i); prefix == "note-" && w.owner[id] == k {
			ids = append(ids, id)
		}
	}
	if prefix == "att-" {
		for id := range w.m["attachments"] {
			if w.owner[id] == k {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
	}
	return ids
}

func (w *workload) value() any {
	switch w.rng.IntN(3) {
	case 0:
		return w.rng.IntN(1000)
	case 1:
		return []any{fmt.Sprint("t", w.rng.IntN(5))}
	}
	return fmt.Sprintf("v%d", w.rng.IntN(100000))
}

// edit makes n random changes on device k (the store d) and records them
// in the model.
func (w *workload) edit(t testing.TB, k int, d *fdev, n int) {
	t.Helper()
	ctx := context.Background()
	for range n {
		switch op := w.rng.IntN(20); {
		case op < 4: // a field of a shared note
			var mine []string
			for _, f := range w.fields {
				if w.fowner[f] == k {
					mine = append(mine, f)
				}
			}
			if len(mine) == 0 {
				continue
			}
			id, f := pick(w.rng, w.shared), pick(w.rng, mine)
			if f != "title" && w.rng.IntN(4) == 0 { // remove it
				if _, err := d.db.Modify(ctx, "notes", id, func(doc kv.Document) error { delete(doc, f); return nil }); err != nil {
					t.Fatal(err)
				}
				delete(w.m["notes"][id], f)
				continue
			}
			v := w.value()
			if _, err := d.db.Patch(ctx, "notes", id, kv.Document{f: v}); err != nil {
				t.Fatal(err)
			}
			w.m.set("notes", id, f, v)
		case op < 16: // an owned note
			ids := w.owned(k, "note-")
			if len(ids) == 0 {
				continue
			}
			id := pick(w.rng, ids)
			cur := w.m["notes"][id]
			switch {
			case cur == nil || op == 15: // create (again, after a delete)
				doc := kv.Document{"id": id, "title": fmt.Sprint("t", w.rng.IntN(1000))}
				for _, f := range w.fields[1:] {
					if w.rng.IntN(2) == 0 {
						doc[f] = w.value()
					}
				}
				if cur != nil && op == 15 {
					if _, err := d.db.Delete(ctx, "notes", id); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := d.db.Put(ctx, "notes", doc); err != nil {
					t.Fatal(err)
				}
				m := map[string]any{}
				for f, v := range doc {
					if f != "id" {
						m[f] = v
					}
				}
				w.m.put("notes", id, m)
			case op < 12:
				f, v := pick(w.rng, w.fields), w.value()
				if f == "title" {
					v = fmt.Sprint("t", w.rng.IntN(1000))
				}
				if _, err := d.db.Patch(ctx, "notes", id, kv.Document{f: v}); err != nil {
					t.Fatal(err)
				}
				w.m.set("notes", id, f, v)
			case op < 13:
				f := pick(w.rng, w.fields[1:])
				if _, err := d.db.Modify(ctx, "notes", id, func(doc kv.Document) error { delete(doc, f); return nil }); err != nil {
					t.Fatal(err)
				}
				delete(cur, f)
			default:
				if _, err := d.db.Delete(ctx, "notes", id); err != nil {
					t.Fatal(err)
				}
				delete(w.m["notes"], id)
			}
		case op < 19: // a new attachment; now and then the content of another
			w.nextID++
			id := fmt.Sprintf("att-%s-%d", d.name, w.nextID)
			content := make([]byte, 1+w.rng.IntN(40000))
			for i := range content {
				content[i] = byte(w.rng.IntN(256))
			}
			if len(w.blobs) > 0 && w.rng.IntN(3) == 0 {
				for _, b := range w.blobs {
					content = b
					break
				}
			}
			if _, err := d.db.AddAttachment(ctx, bytes.NewReader(content), kv.Document{"id": id, "mimeType": "image/png", "createdAt": "2026-12-05T10:00:00Z"}); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(content)
			w.m.put("attachments", id, map[string]any{"mimeType": "image/png", "createdAt": "2026-12-05T10:00:00Z", "hash": hex.EncodeToString(sum[:]), "size": len(content)})
			w.blobs[id] = content
			w.owner[id] = k
		default: // delete an owned attachment
			ids := w.owned(k, "att-")
			if len(ids) == 0 {
				continue
			}
			id := pick(w.rng, ids)
			if _, err := d.db.Delete(ctx, "attachments", id); err != nil {
				t.Fatal(err)
			}
			delete(w.m["attachments"], id)
			delete(w.blobs, id)
		}
	}
}

// verify requires every store to equal the model, field for field, with
// every attachment's content readable and equal to what was added.
func (w *workload) verify(t testing.TB, devs ...*fdev) {
	t.Helper()
	for _, d := range devs {
		checkModel(t, d.name, d.db, w.m)
		for id, content := range w.blobs {
			rc, _, err := d.db.OpenAttachment(context.Background(), id)
			if err != nil {
				t.Errorf("%s: attachment %s: %v", d.name, id, err)
				continue
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, content) {
				t.Errorf("%s: attachment %s: %d bytes (%v), want %d", d.name, id, len(got), err, len(content))
			}
		}
	}
	want := contents(t, devs[0].db, colls...)
	for _, d := range devs[1:] {
		if got := contents(t, d.db, colls...); got != want {
			t.Errorf("%s differs from %s:\n%s", d.name, devs[0].name, diffLines(want, got))
		}
	}
}
