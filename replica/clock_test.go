package replica_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/replica"
	"github.com/nats-io/nats.go/jetstream"
)

// A message whose clock is far ahead (here 2^64-1, which made the
// receiver's clock wrap to 0) is refused, and the receiver's later edits
// still win: its clock was not moved.
func TestSync_clockFarAheadRefused(t *testing.T) {
	ctx := context.Background()
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "A")
	b := openDevice(t, s.ClientURL(), "B")
	a.put(t, "notes", kv.Document{"id": "x", "title": "a"})
	a.sync(t)
	b.sync(t)
	js, err := jetstream.New(a.nc)
	if err != nil {
		t.Fatal(err)
	}
	forged := `{"device":"evil","n":1,"coll":"notes","id":"x","fields":{"title":{"v":"forged","c":{"t":18446744073709551615,"d":"evil"},"base":{"t":0,"d":""}}}}`
	if _, err := js.Publish(ctx, "cairn.default.ch.evil", []byte(forged)); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := b.r.Sync(sctx); !errors.Is(err, replica.ErrClockAhead) {
		t.Fatalf("B: sync with a forged clock: %v, want ErrClockAhead", err)
	}
	if got := b.get(t, "notes", "x")["title"]; got != "a" {
		t.Errorf("B: title %v after the refused message", got)
	}
	// B's clock did not move: its next edit is later than the note's
	// clock by the wall clock, and near it.
	now := uint64(time.Now().Add(time.Minute).UnixMilli()) << 16
	if hlc := replica.HLC(t, b.db); hlc > now {
		t.Errorf("B's clock %d moved past the wall clock (%d)", hlc, now)
	}
	b.patch(t, "notes", "x", kv.Document{"title": "b later"})
	if _, err := b.r.Sync(sctx); !errors.Is(err, replica.ErrClockAhead) {
		t.Fatalf("B: second sync: %v, want ErrClockAhead again", err)
	}
	if h := replica.HLC(t, b.db); h == 0 || h > now {
		t.Errorf("B's clock %d after its edit, want one near the wall clock", h)
	}
}
