package kv_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// TestDB_cancelledContext: every call given a context already cancelled
// returns ctx.Err() and changes nothing.
func TestDB_cancelledContext(t *testing.T) {
	db := openTest(t)
	bg := context.Background()
	if _, err := db.Put(bg, "notes", kv.Document{"id": "n1", "title": "kept"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	calls := map[string]func() error{
		"Put": func() error {
			_, err := db.Put(ctx, "notes", kv.Document{"id": "n2", "title": "never"})
			return err
		},
		"Patch": func() error {
			_, err := db.Patch(ctx, "notes", "n1", kv.Document{"title": "never"})
			return err
		},
		"Delete": func() error { _, err := db.Delete(ctx, "notes", "n1"); return err },
		"Get":    func() error { _, _, err := db.Get(ctx, "notes", "n1"); return err },
		"Update": func() error {
			return db.Update(ctx, func(tx *kv.Tx) error { return errors.New("fn ran") })
		},
		"View": func() error {
			return db.View(ctx, func(tx *kv.Tx) error { return errors.New("fn ran") })
		},
		"List": func() error { return db.List(ctx, "notes", 0, 0, func(kv.Document) error { return nil }) },
		"Query": func() error {
			_, err := db.Query(ctx, kv.Query{Collection: "notes"}, nil)
			return err
		},
		"Stats":   func() error { _, err := db.Stats(ctx); return err },
		"Buckets": func() error { _, err := db.Buckets(ctx); return err },
		"GetAs": func() error {
			_, _, err := kv.GetAs[map[string]any](ctx, db, "notes", "n1")
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", name, err)
		}
	}
	doc, _, err := db.Get(bg, "notes", "n1")
	if err != nil || doc["title"] != "kept" {
		t.Fatalf("after cancelled writes: %v %v", doc, err)
	}
	if _, _, err := db.Get(bg, "notes", "n2"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("n2 written by a cancelled Put: %v", err)
	}
}

// TestTx_Context: the transaction hands back its caller's context, and a
// walk over many documents stops once it is cancelled.
func TestTx_Context(t *testing.T) {
	db := openTest(t)
	type key struct{}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "mine"))
	defer cancel()
	err := db.Update(ctx, func(tx *kv.Tx) error {
		if tx.Context().Value(key{}) != "mine" {
			t.Error("Update's Tx.Context is not the caller's")
		}
		for i := range 600 {
			if _, err := tx.Put("notes", kv.Document{"id": fmt.Sprintf("n%03d", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = db.View(ctx, func(tx *kv.Tx) error {
		if tx.Context().Value(key{}) != "mine" {
			t.Error("View's Tx.Context is not the caller's")
		}
		return tx.Each("notes", func(string, any) error {
			if n++; n == 10 {
				cancel()
			}
			return nil
		})
	})
	if !errors.Is(err, context.Canceled) || n >= 600 {
		t.Fatalf("walk after cancel: err %v after %d documents", err, n)
	}
}
