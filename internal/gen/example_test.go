package gen_test

import (
	"fmt"

	"github.com/cairnkv/cairn/internal/gen"
)

// A generator builds the same documents for the same Config, in Each order
// or by index.
func Example() {
	g := gen.New(gen.Config{Sessions: 100, Seed: 1})
	fmt.Println(gen.Counts(gen.Config{Sessions: 100}))

	s := g.Session(0)
	fmt.Println(s["id"] == g.ID("sessions", 0), s["status"], len(s["screenshots"].([]any)) > 0)

	notes := 0
	_ = g.Each("notes", func(doc map[string]any) error {
		notes++
		return nil
	})
	fmt.Println(notes, "notes")
	fmt.Printf("%q carried by about %.0f%% of sessions\n", gen.Tags[0], 100*gen.TagSelectivity(gen.Tags[0]))
	// Output:
	// map[attachments:300 companies:5 contacts:5 notes:200 sessions:100 tasks:200 topics:5]
	// true paused true
	// 200 notes
	// "work" carried by about 35% of sessions
}
