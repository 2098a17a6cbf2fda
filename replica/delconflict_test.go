package replica_test

import (
	"context"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/replica"
)

// An edit that loses to a delete which had not seen it is kept as a
// conflict on both devices, the editing one included, even when the edit
// is older than the delete.
func TestSync_deleteConflictOnBothDevices(t *testing.T) {
	ctx := context.Background()
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "A")
	b := openDevice(t, s.ClientURL(), "B")
	a.put(t, "tasks", kv.Document{"id": "t1", "title": "task"})
	a.sync(t)
	b.sync(t)
	a.patch(t, "tasks", "t1", kv.Document{"title": "edited before the delete"})
	time.Sleep(20 * time.Millisecond)
	if _, err := b.db.Delete(ctx, "tasks", "t1"); err != nil {
		t.Fatal(err)
	}
	b.sync(t)
	a.sync(t)
	b.sync(t)
	for _, d := range []*device{a, b} {
		cs, err := replica.Conflicts(ctx, d.db)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].Field != "title" || cs[0].Lost != "edited before the delete" || !cs[0].Deleted {
			t.Errorf("%s: conflicts %+v, want the lost title", d.r.Device(), cs)
		}
	}
}
