package kv_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/kv/entity"
)

// exampleStore opens a store in a fresh temporary directory for an
// example; the returned function closes it and removes the directory.
func exampleStore(opts *kv.Options) (*kv.DB, func()) {
	dir, err := os.MkdirTemp("", "cairn-example")
	if err != nil {
		log.Fatal(err)
	}
	db, err := kv.Open(dir, opts)
	if err != nil {
		log.Fatal(err)
	}
	return db, func() { _ = db.Close(); _ = os.RemoveAll(dir) }
}

// Example_readme is the snippet of the README's Library section, as it is
// written there (a test keeps the two equal).
func Example_readme() {
	dir, _ := os.MkdirTemp("", "cairn-example")
	defer os.RemoveAll(dir)
	// README:begin
	ctx := context.Background()
	db, err := kv.Open(dir, nil) // creates the directory (0700) and data.db (0600)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	// Any JSON object with a string id; unknown fields are kept exactly.
	rev, err := db.Put(ctx, "notes", kv.Document{"id": "n1", "content": "Call Ada", "mood": "hopeful"})
	if err != nil {
		log.Fatal(err)
	}

	// Several documents, atomically and durably.
	err = db.Update(ctx, func(tx *kv.Tx) error {
		if _, err := tx.Put("sessions", kv.Document{"id": "s1", "name": "Untitled", "status": "completed"}); err != nil {
			return err
		}
		_, err := tx.Patch("notes", "n1", kv.Document{"summary": "Budget call"})
		return err
	})
	if err != nil {
		log.Fatal(err)
	}

	// Enrichment-safe: field-level patches apply to the version stored at commit
	// time, so an AI writing the summary and a user renaming never clobber each other.
	if _, err := db.Patch(ctx, "sessions", "s1", kv.Document{"summary": kv.Document{"narrative": "..."}}); err != nil {
		log.Fatal(err)
	}
	// Compare-and-swap: the note changed since rev was read.
	_, err = db.Patch(ctx, "notes", "n1", kv.Document{"content": "Call Ada at 3"}, kv.IfRev(rev))
	fmt.Println(errors.Is(err, kv.ErrConflict))

	// Typed access; fields the struct does not declare survive the round trip.
	s, _, err := kv.GetAs[entity.Session](ctx, db, "sessions", "s1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Name, s.Status)

	// Your own collections: any valid name, created on first write.
	if _, err := db.Put(ctx, "widgets", kv.Document{"id": "w1", "size": 3}); err != nil {
		log.Fatal(err)
	}
	// README:end
	// Output:
	// true
	// Untitled completed
}

// ExampleDB_Query filters, sorts and pages a collection; Explain says how
// the plan used the indexes.
func ExampleDB_Query() {
	db, done := exampleStore(nil)
	defer done()
	ctx := context.Background()
	_ = db.Update(ctx, func(tx *kv.Tx) error {
		for i, st := range []string{"todo", "done", "todo", "todo"} {
			if _, err := tx.Put("tasks", kv.Document{"id": fmt.Sprintf("t%d", i), "title": fmt.Sprintf("Task %d", i), "status": st}); err != nil {
				return err
			}
		}
		return nil
	})
	res, err := db.Query(ctx, kv.Query{
		Collection: "tasks",
		Filters:    []kv.Filter{{Field: "status", Op: "=", Value: "todo"}},
		Sort:       "title", Desc: true, Limit: 2,
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	for id, doc := range res.All() {
		fmt.Println(id, doc["title"])
	}
	fmt.Println("plan:", res.Explain.Plan)
	// Output:
	// t3 Task 3
	// t2 Task 2
	// plan: index-range
}

// ExampleDB_QueryAll ranges over a query's documents without holding
// them all in memory; breaking out of the loop ends its transaction.
func ExampleDB_QueryAll() {
	db, done := exampleStore(nil)
	defer done()
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		_, _ = db.Put(ctx, "notes", kv.Document{"id": id, "title": "Note " + id})
	}
	for doc, err := range db.QueryAll(ctx, kv.Query{Collection: "notes"}, nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(doc["title"])
		if doc["id"] == "b" {
			break
		}
	}
	// Output:
	// Note a
	// Note b
}

// ExampleDB_Search finds documents by their words (English stemming:
// "calls" finds "call").
func ExampleDB_Search() {
	db, done := exampleStore(nil)
	defer done()
	ctx := context.Background()
	_, _ = db.Put(ctx, "notes", kv.Document{"id": "n1", "title": "Budget", "content": "Call Ada about the budget"})
	_, _ = db.Put(ctx, "notes", kv.Document{"id": "n2", "title": "Holiday", "content": "Book the train"})
	res, err := db.Search(ctx, "calls budget", kv.SearchOptions{Highlight: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range res.Hits {
		fmt.Println(h.Collection, h.ID, strings.Contains(strings.Join(h.Fragments["text"], " "), "<mark>"))
	}
	// Output: notes n1 true
}

// ExampleDB_Backup takes a verified hot backup, and Restore brings the
// store back to it (after a verified backup of the state it replaces).
func ExampleDB_Backup() {
	db, done := exampleStore(&kv.Options{NoAutoBackup: true})
	defer done()
	ctx := context.Background()
	_, _ = db.Put(ctx, "notes", kv.Document{"id": "n1", "content": "before"})
	m, err := db.Backup(ctx, kv.ReasonManual)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Verified, m.Counts["notes"])

	_, _ = db.Patch(ctx, "notes", "n1", kv.Document{"content": "after"})
	if _, _, err := db.Restore(ctx, m.Name); err != nil {
		log.Fatal(err)
	}
	doc, _, _ := db.Get(ctx, "notes", "n1")
	fmt.Println(doc["content"])
	// Output:
	// true 1
	// before
}

// ExampleGetAs reads and writes a typed entity; ModifyAs is a typed
// read-modify-write.
func ExampleGetAs() {
	db, done := exampleStore(nil)
	defer done()
	ctx := context.Background()
	_, _ = db.Put(ctx, "tasks", kv.Document{"id": "t1", "title": "Send the budget", "status": "todo", "colour": "kept"})
	if _, err := kv.ModifyAs(ctx, db, "tasks", "t1", func(t *entity.Task) error {
		t.Status = "done"
		return nil
	}); err != nil {
		log.Fatal(err)
	}
	t, _, err := kv.GetAs[entity.Task](ctx, db, "tasks", "t1")
	if err != nil {
		log.Fatal(err)
	}
	colour, _ := t.Extra.Get("colour")
	fmt.Println(t.Title, t.Status, colour)
	// Output: Send the budget done kept
}

// ExampleDB_AddAttachment stores content once by its SHA-256 and an
// attachment document describing it.
func ExampleDB_AddAttachment() {
	db, done := exampleStore(nil)
	defer done()
	ctx := context.Background()
	doc, err := db.AddAttachment(ctx, strings.NewReader("hello, world"), kv.Document{"name": "hello.txt", "mimeType": "text/plain"})
	if err != nil {
		log.Fatal(err)
	}
	r, meta, err := db.OpenAttachment(ctx, doc["id"].(string))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r) // the content's hash is checked as it streams
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(meta["name"], string(b))
	// Output: hello.txt hello, world
}

// ExampleDB_DeclareIndex declares an index on a user collection: it is
// built from the documents already there, kept exact by every write, kept
// in the store, and used by queries.
func ExampleDB_DeclareIndex() {
	db, done := exampleStore(nil)
	defer done()
	ctx := context.Background()
	for i, size := range []int{3, 5, 3} {
		_, _ = db.Put(ctx, "widgets", kv.Document{"id": fmt.Sprintf("w%d", i), "size": size})
	}
	info, err := db.DeclareIndex(ctx, "widgets", "size", kv.IndexNumber)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Collection, info.Field, info.Type, info.Entries)
	res, err := db.Query(ctx, kv.Query{Collection: "widgets", Filters: []kv.Filter{{Field: "size", Op: "=", Value: 3}}, NoScan: true}, &kv.QueryOptions{IDsOnly: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.IDs, res.Explain.Plan)
	// Output:
	// widgets size number 3
	// [w0 w2] index-range
}

// ExampleDB_All ranges over a collection's documents in id order.
func ExampleDB_All() {
	db, done := exampleStore(nil)
	defer done()
	ctx := context.Background()
	for _, id := range []string{"b", "a"} {
		_, _ = db.Put(ctx, "widgets", kv.Document{"id": id})
	}
	for doc, err := range db.All(ctx, "widgets") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(doc["id"])
	}
	// Output:
	// a
	// b
}
