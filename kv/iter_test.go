package kv_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

func putNotes(t *testing.T, db *kv.DB, n int) {
	t.Helper()
	err := db.Update(context.Background(), func(tx *kv.Tx) error {
		for i := range n {
			if _, err := tx.Put("notes", kv.Document{"id": fmt.Sprintf("n%02d", i), "title": fmt.Sprintf("note %d", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDB_iterators: All, Summarize, QueryAll and DumpAll yield what their
// callback forms hand over, in the same order, and stop at a break.
func TestDB_iterators(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	putNotes(t, db, 12)
	ids := func(seq func(yield func(kv.Document, error) bool), stopAt int) []string {
		var out []string
		for doc, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, doc["id"].(string))
			if len(out) == stopAt {
				break
			}
		}
		return out
	}
	want := fmt.Sprint(func() []string {
		var out []string
		for i := range 12 {
			out = append(out, fmt.Sprintf("n%02d", i))
		}
		return out
	}())
	q := kv.Query{Collection: "notes", Sort: "title"}
	res, err := db.Query(ctx, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	var fromResult []string
	for id, doc := range res.All() {
		if doc["id"] != id {
			t.Fatalf("QueryResult.All: id %s with document %v", id, doc)
		}
		fromResult = append(fromResult, id)
	}
	for name, got := range map[string][]string{
		"All":       ids(db.All(ctx, "notes"), 0),
		"Summarize": ids(db.Summarize(ctx, "notes"), 0),
	} {
		if fmt.Sprint(got) != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	if got := ids(db.QueryAll(ctx, q, nil), 0); fmt.Sprint(got) != fmt.Sprint(fromResult) {
		t.Errorf("QueryAll: %v, Query: %v", got, fromResult)
	}
	for name, seq := range map[string]func(yield func(kv.Document, error) bool){
		"All": db.All(ctx, "notes"), "Summarize": db.Summarize(ctx, "notes"), "QueryAll": db.QueryAll(ctx, q, nil),
	} {
		if got := ids(seq, 3); len(got) != 3 {
			t.Errorf("%s with a break after 3: %v", name, got)
		}
	}
	n := 0
	for kv, err := range db.DumpAll(ctx, "c/notes", nil, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if len(kv.Key) == 0 || len(kv.Value) == 0 {
			t.Fatalf("DumpAll: empty pair %q", kv.Key)
		}
		if n++; n == 5 {
			break
		}
	}
	if n != 5 {
		t.Fatalf("DumpAll yielded %d pairs before the break, want 5", n)
	}
	// A write after a loop that broke early: the read transaction ended.
	if _, err := db.Put(ctx, "notes", kv.Document{"id": "after"}); err != nil {
		t.Fatal(err)
	}
}

// TestDB_iteratorErrors: an error is yielded once, last; a panic in the
// loop body comes out as that panic.
func TestDB_iteratorErrors(t *testing.T) {
	db := openTest(t)
	putNotes(t, db, 3)
	var errs []error
	for _, err := range db.All(context.Background(), "No Such") {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], kv.ErrUnknownCollection) {
		t.Fatalf("All of an invalid collection yielded %v", errs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	errs = nil
	for _, err := range db.QueryAll(ctx, kv.Query{Collection: "notes"}, nil) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Fatalf("QueryAll with a cancelled context yielded %v", errs)
	}
	func() {
		defer func() {
			if p := recover(); p != "body" {
				t.Fatalf("panic in the loop body came out as %v", p)
			}
		}()
		for range db.All(context.Background(), "notes") {
			panic("body")
		}
	}()
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "after"}); err != nil {
		t.Fatal(err)
	}
}
