package legacy_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
)

// A device's own bookkeeping (sync state, kv.IsLocalCollection) is not
// exported, and an export that holds it (written before it was left
// out) imports without it: a store imported from an export is a new
// device, never a clone of the exporting one.
func TestExport_leavesLocalCollectionsOut(t *testing.T) {
	ctx := context.Background()
	src := openStore(t)
	for _, d := range []struct{ coll, id string }{{"notes", "n1"}, {"mycoll", "m1"}, {"replica_state", "state"}, {"replica_clocks", "notes:n1"}} {
		if _, err := src.Put(ctx, d.coll, kv.Document{"id": d.id, "j": "{}"}); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := legacy.ExportFrom(ctx, src, &out, true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), kv.LocalPrefix) {
		t.Errorf("the export holds the sync state: %s", out.String())
	}

	// An export with the sync state in it, as older versions wrote.
	file := strings.Replace(out.String(), `"collections":{`, `"collections":{"replica_state":[{"id":"state","j":"{\"device\":\"A\"}"}],`, 1)
	if file == out.String() {
		t.Fatalf("no place for the sync state in %s", out.String())
	}
	x, err := legacy.ReadExport(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	dst := openStore(t)
	if _, err := legacy.ImportInto(ctx, dst, x, false); err != nil {
		t.Fatal(err)
	}
	for _, k := range [][2]string{{"notes", "n1"}, {"mycoll", "m1"}} {
		if _, _, err := dst.Get(ctx, k[0], k[1]); err != nil {
			t.Errorf("%s/%s not imported: %v", k[0], k[1], err)
		}
	}
	if _, _, err := dst.Get(ctx, "replica_state", "state"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("replica_state/state imported: %v, want not found", err)
	}
}
