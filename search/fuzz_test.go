package search

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"

	"github.com/blevesearch/bleve/v2/document"
	"testing"
)

// FuzzSearchText: no query text makes Search or MatchIDs panic or report a
// damaged index; the only errors are the documented query errors.
func FuzzSearchText(f *testing.F) {
	f.Add("planning meetings", false)
	f.Add(`title:"x" +y -z`, true)
	ix, _, err := Open(filepath.Join(f.TempDir(), "search"), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ix.Close() })
	if err := ix.Apply(fixture(f), 11); err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, text string, highlight bool) {
		okErr := func(err error) bool {
			return err == nil || errors.Is(err, ErrEmptyQuery) || errors.Is(err, ErrQueryTooLong) || errors.Is(err, ErrSyntax) || errors.Is(err, ErrUnknownField)
		}
		r, err := ix.Search(ctx, text, SearchOptions{Highlight: highlight, Collections: []string{"notes", "tasks"}})
		if !okErr(err) {
			t.Fatalf("Search(%q): %v", text, err)
		}
		if uint64(len(r.Hits)) > r.Total {
			t.Fatalf("Search(%q): %d hits of %d", text, len(r.Hits), r.Total)
		}
		if _, err := ix.MatchIDs(ctx, "notes", "", text); !okErr(err) {
			t.Fatalf("MatchIDs(%q): %v", text, err)
		}
	})
}

// FuzzExtract: any JSON object, in any collection, extracts and maps to a
// Bleve document without panicking.
func FuzzExtract(f *testing.F) {
	f.Add([]byte(`{"name":"x","tags":["a"],"startTime":"2024-01-01T00:00:00Z"}`))
	ix, _, err := Open(filepath.Join(f.TempDir(), "search"), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ix.Close() })
	m := ix.mu.bi.Mapping()
	f.Fuzz(func(t *testing.T, data []byte) {
		var b map[string]any
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		if d.Decode(&b) != nil {
			return
		}
		for _, c := range []string{"sessions", "notes", "tasks", "topics", "companies", "contacts", "attachments", "other"} {
			doc, _ := extract(nil, c, 1, b)
			if doc[fieldCollection] != c {
				t.Fatalf("collection lost: %v", doc)
			}
			bd := newBleveDoc(c + "/x")
			if err := m.MapDocument(bd, doc); err != nil {
				t.Fatalf("%s: map %v: %v", c, doc, err)
			}
		}
	})
}

func newBleveDoc(id string) *document.Document { return document.NewDocument(id) }
