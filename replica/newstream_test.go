package replica_test

import (
	"context"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/replica"
)

// syncAfterRestart syncs d, retrying while its connection comes back
// after a server restart.
func syncAfterRestart(t *testing.T, d *device) replica.Result {
	t.Helper()
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		res, err := d.r.Sync(ctx)
		cancel()
		if err == nil {
			return res
		}
		if attempt == 50 {
			t.Fatalf("%s: sync after the restart: %v", d.r.Device(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSync_streamCreatedAgain: a server restarted without its store
// (the same as the stream deleted and created again) numbers the stream
// from 1 again. Every store that synced before notices that the stream
// is new, reads it from its start and publishes everything it holds
// again: later changes reach every store, a new device gets whole
// documents, and a deleted one stays deleted.
func TestSync_streamCreatedAgain(t *testing.T) {
	port := freePort(t)
	s := startServer(t, t.TempDir(), port)
	url := s.ClientURL()
	a := openDevice(t, url, "A")
	b := openDevice(t, url, "B")
	a.put(t, "notes", kv.Document{"id": "n1", "content": "one", "f": 1})
	a.put(t, "notes", kv.Document{"id": "gone", "content": "deleted before the wipe"})
	b.put(t, "notes", kv.Document{"id": "n2", "content": "two"})
	a.sync(t)
	b.sync(t)
	if _, err := a.db.Delete(context.Background(), "notes", "gone"); err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.sync(t)
	a.sync(t)

	s.Shutdown()
	s.WaitForShutdown()
	startServer(t, t.TempDir(), port) // the same address, an empty store

	// A syncs as kvtool sync --once does, with a new Replica (New creates
	// the stream again); B as a continuous sync, with the Replica it had.
	r, err := replica.New(context.Background(), a.db, a.nc, &replica.Options{Device: "A"})
	if err != nil {
		t.Fatal(err)
	}
	a.r = r
	a.patch(t, "notes", "n1", kv.Document{"f": 2})
	if res := syncAfterRestart(t, a); !res.StreamReset || res.Resent != 3 {
		t.Errorf("A's first sync on the new stream: %+v, want stream_reset and 3 documents resent", res)
	}
	b.patch(t, "notes", "n2", kv.Document{"g": 3})
	if res := syncAfterRestart(t, b); !res.StreamReset || res.Pulled == 0 {
		t.Errorf("B's first sync on the new stream: %+v, want stream_reset and A's changes pulled", res)
	}
	a.sync(t)
	if res := a.sync(t); res.StreamReset || res.Resent != 0 {
		t.Errorf("A's next sync: %+v, the reset reported again", res)
	}
	c := openDevice(t, url, "C")
	c.sync(t)
	want := "notes/n1 {\"content\":\"one\",\"f\":2,\"id\":\"n1\"}\nnotes/n2 {\"content\":\"two\",\"g\":3,\"id\":\"n2\"}\n"
	for _, d := range []*device{a, b, c} {
		if got := snapshotOf(t, d, "notes"); got != want {
			t.Errorf("%s after the stream was created again:\n%s\nwant\n%s", d.r.Device(), got, want)
		}
	}
	for _, d := range []*device{a, b, c} {
		if cs, _ := replica.Conflicts(context.Background(), d.db); len(cs) != 0 {
			t.Errorf("%s: conflicts without concurrent edits: %v", d.r.Device(), cs)
		}
	}
}
