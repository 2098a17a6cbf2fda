package kv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// widget makes a random document of the user collection "widgets":
// priority a number, due an instant, tags an array of strings; a field
// is sometimes missing.
func widget(r *rand.Rand, id string) kv.Document {
	d := kv.Document{"id": id}
	if r.IntN(8) > 0 {
		d["priority"] = int64(r.IntN(10))
	}
	if r.IntN(8) > 0 {
		d["due"] = fmt.Sprintf("2026-%02d-%02dT%02d:00:00Z", 1+r.IntN(12), 1+r.IntN(28), r.IntN(24))
	}
	tags := []any{}
	for range r.IntN(4) {
		tags = append(tags, []string{"red", "green", "blue", "Red"}[r.IntN(4)])
	}
	d["tags"] = tags
	return d
}

// naiveMatch answers a filter on a widget as a full scan of the model
// would.
func naiveMatch(d kv.Document, f kv.Filter) bool {
	switch f.Field {
	case "priority":
		p, ok := d["priority"].(int64)
		if !ok {
			return false
		}
		v := f.Value.(int64)
		switch f.Op {
		case "=":
			return p == v
		case "<":
			return p < v
		case ">=":
			return p >= v
		}
	case "due":
		s, ok := d["due"].(string)
		if !ok {
			return false
		}
		v := f.Value.(string)
		switch f.Op {
		case "<":
			return s < v
		case ">=":
			return s >= v
		}
	case "tags":
		tags, _ := d["tags"].([]any)
		return slices.Contains(tags, f.Value)
	}
	panic("unexpected filter " + fmt.Sprint(f))
}

// TestDB_DeclareIndex_exact: an index declared on a user collection is
// built from the documents already there and kept exact by later writes:
// every query answered through it returns what a scan of a model returns,
// and the teardown check (index buckets against the primary data) passes.
func TestDB_DeclareIndex_exact(t *testing.T) {
	seed := uint64(20261205)
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, seed))
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { checkClean(t, db); _ = db.Close() }) // the handle open last
	ctx := context.Background()
	model := map[string]kv.Document{}
	write := func(n int) {
		err := db.Update(ctx, func(tx *kv.Tx) error {
			for range n {
				id := fmt.Sprintf("w%03d", r.IntN(300))
				if r.IntN(5) == 0 {
					delete(model, id)
					_, err := tx.Delete("widgets", id)
					if err != nil {
						return err
					}
					continue
				}
				d := widget(r, id)
				model[id] = d
				if _, err := tx.Put("widgets", d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(phase string) {
		t.Helper()
		for i := range 60 {
			var f kv.Filter
			switch i % 5 {
			case 0:
				f = kv.Filter{Field: "priority", Op: "=", Value: int64(r.IntN(10))}
			case 1:
				f = kv.Filter{Field: "priority", Op: "<", Value: int64(r.IntN(10))}
			case 2:
				f = kv.Filter{Field: "due", Op: ">=", Value: fmt.Sprintf("2026-%02d-01T00:00:00Z", 1+r.IntN(12))}
			case 3:
				f = kv.Filter{Field: "due", Op: "<", Value: fmt.Sprintf("2026-%02d-15T00:00:00Z", 1+r.IntN(12))}
			case 4:
				f = kv.Filter{Field: "tags", Op: "=", Value: []string{"red", "green", "blue", "Red"}[r.IntN(4)]}
			}
			res, err := db.Query(ctx, kv.Query{Collection: "widgets", Filters: []kv.Filter{f}, NoScan: true}, &kv.QueryOptions{IDsOnly: true})
			if err != nil {
				t.Fatalf("%s: %+v: %v", phase, f, err)
			}
			var want []string
			for id, d := range model {
				if naiveMatch(d, f) {
					want = append(want, id)
				}
			}
			slices.Sort(want)
			if !slices.Equal(res.IDs, want) && !(len(res.IDs) == 0 && len(want) == 0) {
				t.Fatalf("%s: %+v through %s/%s\n got  %v\n want %v", phase, f, res.Explain.Plan, res.Explain.Index, res.IDs, want)
			}
		}
	}
	write(250)
	if _, err := db.Query(ctx, kv.Query{Collection: "widgets", Filters: []kv.Filter{{Field: "priority", Op: "=", Value: int64(1)}}, NoScan: true}, nil); !errors.Is(err, kv.ErrFullScan) {
		t.Fatalf("before the declaration a NoScan query is %v, want ErrFullScan", err)
	}
	for _, sp := range []kv.IndexSpec{{Collection: "widgets", Field: "priority", Type: kv.IndexNumber}, {Collection: "widgets", Field: "due", Type: kv.IndexTime}, {Collection: "widgets", Field: "tags", Type: kv.IndexString}} {
		info, err := db.DeclareIndex(ctx, sp.Collection, sp.Field, sp.Type)
		if err != nil {
			t.Fatal(err)
		}
		if info.Entries == 0 || info.Field != sp.Field || info.Type != sp.Type {
			t.Fatalf("DeclareIndex %+v: %+v", sp, info)
		}
	}
	check("after backfill")
	write(400)
	check("after writes")
	// The declaration is in the store: a new handle has it.
	checkClean(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = kv.Open(dir, &kv.Options{NoAutoBackup: true}); err != nil {
		t.Fatal(err)
	}
	check("after reopen")
	ixs, err := db.Indexes(ctx, "widgets")
	if err != nil || len(ixs) != 3 {
		t.Fatalf("Indexes: %+v %v", ixs, err)
	}
	if err := db.DropIndex(ctx, "widgets", "priority"); err != nil {
		t.Fatal(err)
	}
	if ixs, _ := db.Indexes(ctx, "widgets"); len(ixs) != 2 {
		t.Fatalf("after DropIndex: %+v", ixs)
	}
}

// TestDB_DeclareIndex_refused: bad declarations are errors naming what and
// where, and change nothing.
func TestDB_DeclareIndex_refused(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	for _, tc := range []struct {
		coll, field string
		typ         kv.IndexType
		want        error
	}{
		{"sessions", "mood", kv.IndexString, kv.ErrInvalidIndex},
		{"widgets", "", kv.IndexString, kv.ErrInvalidIndex},
		{"widgets", "size", "colour", kv.ErrInvalidIndex},
		{"Not A Name", "size", kv.IndexNumber, kv.ErrUnknownCollection},
	} {
		if _, err := db.DeclareIndex(ctx, tc.coll, tc.field, tc.typ); !errors.Is(err, tc.want) {
			t.Errorf("DeclareIndex(%q, %q, %q): %v, want %v", tc.coll, tc.field, tc.typ, err, tc.want)
		}
	}
	if err := db.DropIndex(ctx, "sessions", "status"); !errors.Is(err, kv.ErrInvalidIndex) {
		t.Errorf("dropping a built-in index: %v", err)
	}
	if err := db.DropIndex(ctx, "widgets", "size"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("dropping an index never declared: %v", err)
	}
	ixs, err := db.Indexes(ctx, "widgets")
	if err != nil || len(ixs) != 0 {
		t.Fatalf("after refused declarations: %+v %v", ixs, err)
	}
}

// TestOptions_Indexes: indexes given at Open are declared and backfilled.
func TestOptions_Indexes(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(ctx, "widgets", kv.Document{"id": "w1", "size": int64(3)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dir, &kv.Options{NoAutoBackup: true, Indexes: []kv.IndexSpec{{Collection: "widgets", Field: "size", Type: kv.IndexNumber}}})
	if err != nil {
		t.Fatal(err)
	}
	ixs, err := db.Indexes(ctx, "widgets")
	if err != nil || len(ixs) != 1 || ixs[0].Entries != 1 {
		t.Fatalf("Indexes after Open with Options.Indexes: %+v %v", ixs, err)
	}
	checkClean(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Declared already: the next Open with the same Options writes nothing.
	before, err := os.ReadFile(filepath.Join(dir, kv.DataFile))
	if err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dir, &kv.Options{NoAutoBackup: true, Indexes: []kv.IndexSpec{{Collection: "widgets", Field: "size", Type: kv.IndexNumber}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(filepath.Join(dir, kv.DataFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("an Open declaring an index the store has wrote to data.db")
	}
}
