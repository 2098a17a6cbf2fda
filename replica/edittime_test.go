package replica_test

import (
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// The later edit wins, not the later push: an edit made earlier on a
// device that pushes later loses to a later edit pushed first.
func TestSync_laterEditWinsNotLaterPush(t *testing.T) {
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "A")
	b := openDevice(t, s.ClientURL(), "B")
	a.put(t, "notes", kv.Document{"id": "n1", "title": "orig"})
	a.sync(t)
	b.sync(t)
	b.patch(t, "notes", "n1", kv.Document{"title": "B early, pushed late"})
	time.Sleep(20 * time.Millisecond)
	a.patch(t, "notes", "n1", kv.Document{"title": "A late, pushed first"})
	a.sync(t)
	time.Sleep(20 * time.Millisecond)
	b.sync(t)
	a.sync(t)
	for _, d := range []*device{a, b} {
		if got := d.get(t, "notes", "n1")["title"]; got != "A late, pushed first" {
			t.Errorf("%s: title %v, want the later edit", d.r.Device(), got)
		}
	}
}
