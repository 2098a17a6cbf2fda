package replica_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/replica"
	"github.com/nats-io/nats.go"
)

// A device offline past kv.Options.ChangeLogRetention, with no Replica
// attached while it edited, pushes every edit once it syncs again (push
// compares every document with its clocks: slower, not lossy): the
// delete, the edit, the creation and the later writes, in built-in
// collections, user collections and singletons.
func TestSync_changeLogTrimmedPushesEverything(t *testing.T) {
	ctx := context.Background()
	s := startServer(t, "", -1)
	var shift atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }
	// Search on: its indexer is what trims the change log.
	dir := t.TempDir()
	// An hour's retention and two hours offline (within the day a clock
	// may be ahead of another device's: see ErrClockAhead).
	opts := &kv.Options{NoAutoBackup: true, Now: now, ChangeLogRetention: time.Hour}
	adb, err := kv.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = adb.Close() })
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	syncA := func() replica.Result {
		t.Helper()
		r, err := replica.New(ctx, adb, nc, &replica.Options{Device: "A", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Sync(ctx)
		if err != nil {
			t.Fatalf("A: sync: %v", err)
		}
		return res
	}
	b := openDevice(t, s.ClientURL(), "B")
	put := func(coll string, doc kv.Document) {
		t.Helper()
		if _, err := adb.Put(ctx, coll, doc); err != nil {
			t.Fatal(err)
		}
	}
	put("notes", kv.Document{"id": "n0", "title": "orig"})
	put("notes", kv.Document{"id": "n1", "title": "orig"})
	syncA()
	b.sync(t)

	// Offline, no Replica attached.
	if _, err := adb.Delete(ctx, "notes", "n0"); err != nil {
		t.Fatal(err)
	}
	if _, err := adb.Patch(ctx, "notes", "n1", kv.Document{"title": "edited offline"}); err != nil {
		t.Fatal(err)
	}
	put("notes", kv.Document{"id": "n2", "title": "created offline"})
	put("mycoll", kv.Document{"id": "m1", "x": 1})
	put("preferences", kv.Document{"theme": "dark"})
	pushed := replica.Pushed(t, adb)
	// Two hours later (reopened: the indexer trims at most once a
	// minute, and may have just done so).
	shift.Store(int64(2 * time.Hour))
	if err := adb.Close(); err != nil {
		t.Fatal(err)
	}
	if adb, err = kv.Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for i := range 3 {
		put("tasks", kv.Document{"id": fmt.Sprintf("t%d", i), "title": "later"})
	}
	// The indexer trims once what it indexed is durable.
	for {
		trimmed := false
		for _, err := range adb.ChangesSoFar(ctx, pushed) {
			trimmed = errors.Is(err, kv.ErrChangesTrimmed)
			break
		}
		if trimmed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the change log was not trimmed")
		}
		time.Sleep(100 * time.Millisecond)
	}

	syncA()
	b.sync(t)
	if _, _, err := b.db.Get(ctx, "notes", "n0"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("B: notes/n0 %v, want deleted", err)
	}
	for _, k := range [][2]string{{"notes", "n1"}, {"notes", "n2"}, {"mycoll", "m1"}, {"preferences", ""}, {"tasks", "t0"}} {
		want, _, err := adb.Get(ctx, k[0], k[1])
		if err != nil {
			t.Fatal(err)
		}
		if got := js(b.get(t, k[0], k[1])); got != js(want) {
			t.Errorf("B: %s/%s %s, want %s", k[0], k[1], got, js(want))
		}
	}
}
