package kv_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// TestDB_DeclareCompoundIndex declares a compound index on documents
// already there (backfill), checks queries with equality on its first
// field and a range on its second against the model and that the planner
// chose it, then after more writes, after a reopen, and after a drop.
func TestDB_DeclareCompoundIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 3))
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { checkClean(t, db); _ = db.Close() })
	ctx := context.Background()
	model := map[string]kv.Document{}
	write := func(n int) {
		if err := db.Update(ctx, func(tx *kv.Tx) error {
			for range n {
				id := fmt.Sprintf("w%03d", r.IntN(400))
				if r.IntN(6) == 0 {
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
		}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(phase string, wantCompound bool) {
		t.Helper()
		used := 0
		for range 30 {
			fs := []kv.Filter{
				{Field: "priority", Op: "=", Value: int64(r.IntN(10))},
				{Field: "due", Op: ">=", Value: fmt.Sprintf("2026-%02d-01T00:00:00Z", 1+r.IntN(12))},
			}
			res, err := db.Query(ctx, kv.Query{Collection: "widgets", Filters: fs, Sort: "due"}, &kv.QueryOptions{IDsOnly: true})
			if err != nil {
				t.Fatalf("%s: %+v: %v", phase, fs, err)
			}
			var want []string
			for id, d := range model {
				if naiveMatch(d, fs[0]) && naiveMatch(d, fs[1]) {
					want = append(want, id)
				}
			}
			got := slices.Clone(res.IDs)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("%s: %+v through %s/%s\n got  %v\n want %v", phase, fs, res.Explain.Plan, res.Explain.Index, got, want)
			}
			if res.Explain.Index == "priority+due" {
				used++
			}
		}
		if wantCompound != (used > 0) {
			t.Fatalf("%s: the compound index served %d of 30 queries (want it used: %v)", phase, used, wantCompound)
		}
	}
	write(300)
	if _, err := db.DeclareIndex(ctx, "widgets", "due", kv.IndexTime); err != nil {
		t.Fatal(err)
	}
	check("before", false)
	info, err := db.DeclareCompoundIndex(ctx, "widgets", []string{"priority", "due"})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "priority+due" || info.Entries == 0 {
		t.Fatalf("DeclareCompoundIndex: %+v", info)
	}
	if _, err := db.DeclareCompoundIndex(ctx, "widgets", []string{"priority", "due"}); err != nil {
		t.Fatalf("declared again: %v", err)
	}
	if _, err := db.DeclareCompoundIndex(ctx, "widgets", []string{"priority"}); err == nil {
		t.Fatal("a compound index of one field was accepted")
	}
	check("after backfill", true)
	write(300)
	check("after writes", true)
	checkClean(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = kv.Open(dir, &kv.Options{NoAutoBackup: true}); err != nil {
		t.Fatal(err)
	}
	check("after reopen", true)
	if err := db.DropIndex(ctx, "widgets", "priority+due"); err != nil {
		t.Fatal(err)
	}
	check("after drop", false)
	if ixs, _ := db.Indexes(ctx, "widgets"); len(ixs) != 1 {
		t.Fatalf("after DropIndex: %+v", ixs)
	}
}
