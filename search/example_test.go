package search_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/cairnkv/cairn/search"
)

func Example() {
	store, err := os.MkdirTemp("", "cairn-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(store)

	ix, res, err := search.Open(filepath.Join(store, "search"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ix.Close()
	fmt.Println("rebuilt:", res.Rebuilt, "last applied:", ix.LastApplied())

	// Feed two changes from the change log, ending at sequence 2.
	changes := []search.Change{
		{Collection: "notes", ID: "n1", Rev: 1, Body: map[string]any{
			"content": "Planning meeting with the design team",
		}},
		{Collection: "tasks", ID: "t1", Rev: 1, Body: map[string]any{
			"title": "Book a room for the meetings",
		}},
	}
	err = ix.Apply(changes, 2)
	if err != nil {
		log.Fatal(err)
	}

	r, err := ix.Search(context.Background(), "meetings", search.SearchOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("total:", r.Total)
	for _, h := range r.Hits {
		fmt.Println(h.Collection, h.ID)
	}

	r, err = ix.Search(context.Background(), "design meeting", search.SearchOptions{
		Collections: []string{"notes"}, Highlight: true,
		// The index keeps no text: excerpts come from the documents,
		// which the primary store (here the changes) serves.
		Source: func(collection, id string) (search.Change, error) {
			for _, c := range changes {
				if c.Collection == collection && c.ID == id {
					return c, nil
				}
			}
			return search.Change{Collection: collection, ID: id, Deleted: true}, nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Hits[0].ID, r.Hits[0].Fragments["text"])
	fmt.Println("last applied:", ix.LastApplied())
	// Output:
	// rebuilt: true last applied: 0
	// total: 2
	// tasks t1
	// notes n1
	// n1 [Planning <mark>meeting</mark> with the <mark>design</mark> team]
	// last applied: 2
}

func ExampleIndex_Walk() {
	store, err := os.MkdirTemp("", "cairn-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(store)
	ix, _, err := search.Open(filepath.Join(store, "search"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ix.Close()
	doc := search.Doc{Collection: "topics", ID: "acme/ops", Rev: 7, Body: map[string]any{"name": "Ops"}}
	if err := ix.Apply([]search.Change{doc.Change()}, 1); err != nil {
		log.Fatal(err)
	}
	err = ix.Walk(func(collection, id string, rev uint64) error {
		fmt.Println(collection, id, rev)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// topics acme/ops 7
}
