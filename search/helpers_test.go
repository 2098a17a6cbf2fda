package search

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// openTest opens an index in a fresh temporary directory and closes it when
// the test ends, after checking that Walk and Count agree.
func openTest(t testing.TB) *Index {
	t.Helper()
	ix, res, err := Open(filepath.Join(t.TempDir(), "search"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rebuilt || res.Reason == "" {
		t.Fatalf("new index: got %+v, want Rebuilt with a reason", res)
	}
	t.Cleanup(func() {
		checkConsistent(t, ix)
		if err := ix.Close(); err != nil {
			t.Error(err)
		}
	})
	return ix
}

// checkConsistent fails t if Walk and Count disagree on an open index.
func checkConsistent(t testing.TB, ix *Index) {
	t.Helper()
	n, err := ix.Count()
	if errors.Is(err, ErrClosed) {
		return
	}
	if err != nil {
		t.Error(err)
		return
	}
	walked := 0
	if err := ix.Walk(func(c, id string, rev uint64) error { walked++; return nil }); err != nil {
		t.Error(err)
		return
	}
	if uint64(walked) != n {
		t.Errorf("Walk saw %d documents, Count says %d", walked, n)
	}
}

// body decodes a JSON object the way the primary store hands it over.
func body(t testing.TB, js string) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(js))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("bad fixture %s: %v", js, err)
	}
	return m
}

func upsert(t testing.TB, collection, id string, rev uint64, js string) Change {
	return Change{Collection: collection, ID: id, Rev: rev, Body: body(t, js)}
}

func apply(t testing.TB, ix *Index, seq uint64, changes ...Change) {
	t.Helper()
	if err := ix.Apply(changes, seq); err != nil {
		t.Fatal(err)
	}
}

// ids returns "collection/id" of each hit, in order.
func ids(r Result) []string {
	out := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		out[i] = h.Collection + "/" + h.ID
	}
	return out
}

func mustSearch(t testing.TB, ix *Index, text string, opts SearchOptions) Result {
	t.Helper()
	r, err := ix.Search(context.Background(), text, opts)
	if err != nil {
		t.Fatalf("Search(%q): %v", text, err)
	}
	return r
}

// fixture is a small mixed corpus in the shapes of docs/FORMAT.md section 7.
func fixture(t testing.TB) []Change {
	return []Change{
		upsert(t, "notes", "n1", 1, `{"id":"n1","content":"Weekly planning meeting with the design team","summary":"planning","tags":["work","Planning"],"timestamp":"2024-03-01T10:00:00.000Z","lastUpdated":1709290800000}`),
		upsert(t, "notes", "n2", 1, `{"id":"n2","content":"Grocery list: apples, bread","summary":"shopping","tags":["home"],"updates":[{"content":"added zucchini"}]}`),
		upsert(t, "notes", "n3", 1, `{"id":"n3","content":"Meetings are too long; the planning of meetings needs a fix","tags":"not-an-array","timestamp":"yesterday"}`),
		upsert(t, "tasks", "t1", 3, `{"id":"t1","title":"Prepare quarterly meeting agenda","description":"include budget","subtasks":[{"title":"book the xylophone room"},{"title":7}],"tags":["work"],"createdAt":"2024-02-01T00:00:00Z","dueDate":"2024-02-10"}`),
		upsert(t, "sessions", "s1", 2, `{"id":"s1","name":"Deep work on the parser","description":"refactoring","summary":{"narrative":"Rewrote the tokenizer","achievements":["tokenizer done"],"blockers":["flaky quokka test"]},"fullTranscription":"talking about lexers","screenshots":[{"aiAnalysis":{"summary":"editor open","detectedActivity":"coding","extractedText":"func lex()"}},{"aiAnalysis":null},"junk"],"audioSegments":[{"transcription":"I think the parser is ready"}],"startTime":"2024-03-02T08:00:00.000Z","endTime":"2024-03-02T10:00:00.000Z"}`),
		upsert(t, "companies", "c1", 1, `{"id":"c1","name":"Acme Corp","profile":{"industry":"anvils","website":"acme.example","size":42}}`),
		upsert(t, "contacts", "p1", 1, `{"id":"p1","name":"Wile E. Coyote","profile":{"role":"customer","email":"wile@acme.example"}}`),
		upsert(t, "topics", "tp1", 1, `{"id":"tp1","name":"Planning","lastUpdated":"2024-01-01T00:00:00Z"}`),
		upsert(t, "attachments", "a1", 1, `{"id":"a1","name":"whiteboard.png","aiAnalysis":{"description":"diagram of a pipeline","extractedText":"stage one stage two"}}`),
		upsert(t, "widgets", "global", 1, `{"id":"global","theme":"dark","note":"remember the walrus","nested":{"hidden":"invisible"}}`),
		upsert(t, "notes", "a/b/c", 1, `{"content":"an id with slashes and a pangolin"}`),
	}
}

// walkAll returns collection/id → rev.
func walkAll(t testing.TB, ix *Index) map[string]uint64 {
	t.Helper()
	m := map[string]uint64{}
	err := ix.Walk(func(c, id string, rev uint64) error {
		k := c + "/" + id
		if _, dup := m[k]; dup {
			t.Errorf("Walk saw %s twice", k)
		}
		m[k] = rev
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sourceOf returns a SearchOptions.Source that serves the last of
// changes for each document (the primary store, as the tests model it).
func sourceOf(changes ...Change) func(collection, id string) (Change, error) {
	m := make(map[string]Change, len(changes))
	for _, c := range changes {
		m[docID(c.Collection, c.ID)] = c
	}
	return func(collection, id string) (Change, error) {
		c, ok := m[docID(collection, id)]
		if !ok {
			return Change{Collection: collection, ID: id, Deleted: true}, nil
		}
		return c, nil
	}
}
