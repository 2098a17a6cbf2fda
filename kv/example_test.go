package kv_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/cairnkv/cairn/kv"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "cairn-example")
	defer os.RemoveAll(dir)

	db, err := kv.Open(dir, nil) // nil options: the documented defaults
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "n1", "content": "Call the customer", "mood": "unknown fields are kept"}); err != nil {
		log.Fatal(err)
	}
	doc, _, err := db.Get(context.Background(), "notes", "n1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(doc["content"], "/", doc["mood"])
	// Output: Call the customer / unknown fields are kept
}

// ExampleDB_Update writes several documents in one atomic, durable
// transaction: all of them or none.
func ExampleDB_Update() {
	dir, _ := os.MkdirTemp("", "cairn-example")
	defer os.RemoveAll(dir)
	db, err := kv.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	err = db.Update(context.Background(), func(tx *kv.Tx) error {
		if _, err := tx.Put("notes", kv.Document{"id": "n1", "content": "Meeting notes"}); err != nil {
			return err
		}
		_, err := tx.Put("tasks", kv.Document{"id": "t1", "title": "Send the budget", "status": "todo",
			"relationships": []any{kv.Document{"type": "task-note", "targetType": "note", "targetId": "n1"}}})
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	n := 0
	_ = db.List(context.Background(), "tasks", 0, 0, func(summary kv.Document) error {
		fmt.Println(summary["id"], summary["title"], summary["status"])
		n++
		return nil
	})
	// Output: t1 Send the budget todo
}

// Example_enrichment shows the pattern that keeps an AI enrichment and a
// user's edits of the same session from overwriting each other: both write
// field-level changes (a merge patch, or a read-modify-write with Modify)
// that are applied to the version stored at commit time.
func Example_enrichment() {
	dir, _ := os.MkdirTemp("", "cairn-example")
	defer os.RemoveAll(dir)
	db, err := kv.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	_, _ = db.Put(context.Background(), "sessions", kv.Document{"id": "s1", "name": "Untitled", "status": "completed",
		"screenshots": []any{kv.Document{"id": "sh1", "analysisStatus": "pending"}}})

	// The enrichment starts from the session it read...
	session, rev, _ := db.Get(context.Background(), "sessions", "s1")
	_ = session

	// ...meanwhile the user renames the session.
	_, _ = db.Patch(context.Background(), "sessions", "s1", kv.Document{"name": "Quarterly planning", "tags": []any{"planning"}})

	// The enrichment must not write back its stale copy. It patches only
	// the fields it owns...
	_, _ = db.Patch(context.Background(), "sessions", "s1", kv.Document{
		"summary":          kv.Document{"narrative": "Planned Q3."},
		"enrichmentStatus": kv.Document{"status": "completed"},
	})
	// ...and updates one screenshot's analysis in place, atomically.
	_, _ = db.Modify(context.Background(), "sessions", "s1", func(doc kv.Document) error {
		shot := doc["screenshots"].([]any)[0].(map[string]any)
		shot["analysisStatus"] = "complete"
		shot["aiAnalysis"] = kv.Document{"summary": "Slides"}
		return nil
	})
	// A writer that must not proceed if anything changed uses IfRev and
	// retries on kv.ErrConflict.
	if _, err := db.Patch(context.Background(), "sessions", "s1", kv.Document{"name": "stale"}, kv.IfRev(rev)); err != nil {
		fmt.Println("conflict:", err != nil)
	}

	doc, _, _ := db.Get(context.Background(), "sessions", "s1")
	fmt.Println(doc["name"], doc["tags"], doc["summary"].(map[string]any)["narrative"],
		doc["screenshots"].([]any)[0].(map[string]any)["analysisStatus"])
	// Output:
	// conflict: true
	// Quarterly planning [planning] Planned Q3. complete
}

// A change too large for one transaction, made all or nothing: the batches
// go to a private copy of the store, which replaces it only if every batch
// succeeds.
func ExampleDB_Staged() {
	dir, _ := os.MkdirTemp("", "cairn-example")
	defer os.RemoveAll(dir)
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	err = db.Staged(context.Background(), func(s *kv.Stage) error {
		for batch := 0; batch < 10; batch++ {
			err := s.Update(func(tx *kv.Tx) error {
				for i := 0; i < 100; i++ {
					if _, err := tx.Put("notes", kv.Document{"id": fmt.Sprintf("n%d-%d", batch, i)}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err // nothing of the earlier batches reaches the store
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	n := 0
	_ = db.View(context.Background(), func(tx *kv.Tx) error {
		return tx.Each("notes", func(string, any) error { n++; return nil })
	})
	fmt.Println(n, "notes")
	// Output: 1000 notes
}
