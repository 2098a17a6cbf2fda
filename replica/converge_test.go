package replica_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/replica"
)

// TestSync_threeDevicesConverge makes random concurrent edits, field
// removals, deletes and re-creations on three devices, syncing random
// devices in between, then syncs everyone until quiet: all three stores
// must be equal, and a document deleted and never created again by a
// device that saw the delete must be absent everywhere.
func TestSync_threeDevicesConverge(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CAIRN_CONVERGE_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (replay with CAIRN_CONVERGE_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	s := startServer(t, "", -1)
	devs := []*device{openDevice(t, s.ClientURL(), "d0"), openDevice(t, s.ClientURL(), "d1"), openDevice(t, s.ClientURL(), "d2")}
	ids := []string{"a", "b", "c", "d", "e"}
	fields := []string{"title", "body", "status", "n"}
	steps := 120
	if testing.Short() {
		steps = 60
	}
	for range steps {
		d := devs[rng.IntN(len(devs))]
		id := ids[rng.IntN(len(ids))]
		switch op := rng.IntN(10); {
		case op < 6: // edit one field (creating the note when absent)
			f := fields[rng.IntN(len(fields))]
			v := fmt.Sprintf("%s-%d", d.r.Device(), rng.IntN(1000))
			if _, err := d.db.Modify(context.Background(), "notes", id, func(doc kv.Document) error {
				doc[f] = v
				return nil
			}); err != nil {
				d.put(t, "notes", kv.Document{"id": id, f: v})
			}
		case op < 7: // remove a field
			f := fields[rng.IntN(len(fields))]
			_, _ = d.db.Modify(context.Background(), "notes", id, func(doc kv.Document) error {
				delete(doc, f)
				return nil
			})
		case op < 8:
			if _, err := d.db.Delete(context.Background(), "notes", id); err != nil {
				t.Fatal(err)
			}
		default:
			d.sync(t)
		}
	}
	for range 3 {
		for _, d := range devs {
			d.sync(t)
		}
	}
	want := snapshotOf(t, devs[0], "notes")
	for _, d := range devs[1:] {
		if got := snapshotOf(t, d, "notes"); got != want {
			t.Fatalf("%s differs from d0:\n%s\nd0:\n%s", d.r.Device(), got, want)
		}
	}
	// Quiet: one more round moves nothing.
	for _, d := range devs {
		if res := d.sync(t); res != (replica.Result{}) {
			t.Errorf("%s: still syncing after convergence: %+v", d.r.Device(), res)
		}
	}
}
