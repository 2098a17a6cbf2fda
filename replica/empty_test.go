package replica_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// A document with no field besides its id, and an empty singleton,
// replicate like any other: created, and deleted, on the other device.
func TestSync_emptyDocuments(t *testing.T) {
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "A")
	b := openDevice(t, s.ClientURL(), "B")
	a.sync(t)
	b.sync(t)
	a.put(t, "mycoll", kv.Document{"id": "o1"})
	a.put(t, "notes", kv.Document{"id": "n1"})
	a.put(t, "preferences", kv.Document{})
	if res := a.sync(t); res.Pushed != 3 {
		t.Errorf("A pushed %d, want 3", res.Pushed)
	}
	b.sync(t)
	for _, k := range [][2]string{{"mycoll", "o1"}, {"notes", "n1"}, {"preferences", ""}} {
		if got, want := js(b.get(t, k[0], k[1])), js(a.get(t, k[0], k[1])); got != want {
			t.Errorf("%s/%s on B: %s, want %s", k[0], k[1], got, want)
		}
	}
	if _, err := a.db.Delete(context.Background(), "mycoll", "o1"); err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.sync(t)
	if _, _, err := b.db.Get(context.Background(), "mycoll", "o1"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("mycoll/o1 on B after A deleted it: %v, want not found", err)
	}
}
