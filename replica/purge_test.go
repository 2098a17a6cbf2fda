package replica_test

import (
	"context"
	"testing"

	"github.com/cairnkv/cairn/kv"
	"github.com/nats-io/nats.go/jetstream"
)

// Messages removed from the stream before a device read them (a purge,
// the stream's limits) are reported in Result.Missed, not skipped
// silently: those before the stream's first message, and a gap in a
// device's message numbers.
func TestSync_purgedMessagesReported(t *testing.T) {
	ctx := context.Background()
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "A")
	b := openDevice(t, s.ClientURL(), "B")
	a.put(t, "notes", kv.Document{"id": "n1", "title": "first"})
	a.sync(t)
	b.sync(t)
	js, err := jetstream.New(a.nc)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "CAIRN_default")
	if err != nil {
		t.Fatal(err)
	}

	// The whole stream purged after A pushed n2.
	a.put(t, "notes", kv.Document{"id": "n2", "title": "missed by B"})
	a.sync(t)
	if err := stream.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if res := b.sync(t); res.Missed == 0 {
		t.Errorf("B after a purge: %+v, want missed messages", res)
	}
	if res := b.sync(t); res.Missed != 0 {
		t.Errorf("B's next sync: %+v, the same gap reported again", res)
	}

	// One message of A gone from the middle of the stream (a purge of
	// A's subject, after B read A's earlier ones and published its own).
	a.put(t, "notes", kv.Document{"id": "n3", "title": "seen"})
	a.sync(t)
	b.sync(t)
	b.put(t, "notes", kv.Document{"id": "b1", "title": "keeps the stream's first message"})
	b.sync(t)
	a.put(t, "notes", kv.Document{"id": "n4", "title": "purged"})
	a.sync(t)
	if err := stream.Purge(ctx, jetstream.WithPurgeSubject("cairn.default.ch.A")); err != nil {
		t.Fatal(err)
	}
	a.put(t, "notes", kv.Document{"id": "n5", "title": "after"})
	a.sync(t)
	if res := b.sync(t); res.Missed != 1 || res.Pulled != 1 {
		t.Errorf("B after one of A's messages was purged: %+v, want 1 pulled and 1 missed", res)
	}
}

// TestSync_missedCountsChangesOnly: a new device after a purge of three
// changes and the group's encryption record (which New records again)
// misses three changes, not four messages.
func TestSync_missedCountsChangesOnly(t *testing.T) {
	ctx := context.Background()
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "A")
	for _, id := range []string{"n1", "n2", "n3"} {
		a.put(t, "notes", kv.Document{"id": id, "title": id})
	}
	if res := a.sync(t); res.Pushed != 3 {
		t.Fatalf("A: %+v", res)
	}
	js, err := jetstream.New(a.nc)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "CAIRN_default")
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	c := openDevice(t, s.ClientURL(), "C")
	if res := c.sync(t); res.Missed != 3 {
		t.Errorf("a new device after the purge: %+v, want 3 missed", res)
	}
}
