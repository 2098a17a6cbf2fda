package replica_test

import (
	"context"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// A device whose store goes back to a backup (or an import undone) must
// not reuse the message numbers it published since: JetStream would drop
// its next messages as duplicates. Its edits after the restore reach the
// other device, the changes it published after the backup come back to
// it, and both stores end equal.
func TestSync_restoreStartsNewIncarnation(t *testing.T) {
	ctx := context.Background()
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "A")
	b := openDevice(t, s.ClientURL(), "B")
	a.put(t, "notes", kv.Document{"id": "r1", "title": "v1"})
	a.sync(t)
	b.sync(t)
	bk, err := a.db.Backup(ctx, kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	a.patch(t, "notes", "r1", kv.Document{"title": "v2 after backup"})
	a.sync(t)
	b.sync(t)
	if _, _, err := a.db.Restore(ctx, bk.Name); err != nil {
		t.Fatal(err)
	}
	a.put(t, "notes", kv.Document{"id": "r2", "title": "new after restore"})
	a.patch(t, "notes", "r1", kv.Document{"content": "c after restore"})
	if res := a.sync(t); res.Pushed != 2 {
		t.Errorf("A pushed %d after the restore, want 2", res.Pushed)
	}
	b.sync(t)
	a.sync(t)
	want := `{"content":"c after restore","id":"r1","title":"v2 after backup"}`
	for _, d := range []*device{a, b} {
		if got := js(d.get(t, "notes", "r1")); got != want {
			t.Errorf("%s: r1 %s, want %s", d.r.Device(), got, want)
		}
	}
	if sa, sb := snapshotOf(t, a, "notes"), snapshotOf(t, b, "notes"); sa != sb {
		t.Errorf("stores differ:\nA %s\nB %s", sa, sb)
	}
	// A second restore, to the same backup, goes back past the first
	// incarnation's end again.
	if _, _, err := a.db.Restore(ctx, bk.Name); err != nil {
		t.Fatal(err)
	}
	a.patch(t, "notes", "r1", kv.Document{"body": "after the second restore"})
	a.sync(t)
	b.sync(t)
	a.sync(t)
	if got := b.get(t, "notes", "r1")["body"]; got != "after the second restore" {
		t.Errorf("B: body %v after A's second restore", got)
	}
	if sa, sb := snapshotOf(t, a, "notes"), snapshotOf(t, b, "notes"); sa != sb {
		t.Errorf("stores differ after the second restore:\nA %s\nB %s", sa, sb)
	}
}
