package search

import (
	"context"
	"slices"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
	"github.com/cairnkv/cairn/schema"
)

// slotQuery matches the documents that inner, a query on the text field,
// matches in the text slot slot: those with a term location of inner's
// in that array element of the text field. It is how field:item is
// answered for the fields of textSlots, without a second index of their
// words. Scores are inner's, over the whole text; the locations kept are
// those in the slot (what the excerpts mark).
type slotQuery struct {
	inner query.Query
	slot  uint64
}

// Searcher implements query.Query: inner's searcher, with term locations,
// filtered by slot.
func (q *slotQuery) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, opts search.SearcherOptions) (search.Searcher, error) {
	opts.IncludeTermVectors = true
	s, err := q.inner.Searcher(ctx, r, m, opts)
	if err != nil {
		return nil, err
	}
	return searcher.NewFilteringSearcher(ctx, s, q.accept), nil
}

// accept keeps d if one of its term locations is in the slot, and drops
// the others.
func (q *slotQuery) accept(_ *search.SearchContext, d *search.DocumentMatch) bool {
	elsewhere := func(l search.FieldTermLocation) bool {
		ap := l.Location.ArrayPositions
		return l.Field != fieldText || len(ap) != 1 || ap[0] != q.slot
	}
	d.FieldTermLocations = slices.DeleteFunc(d.FieldTermLocations, elsewhere)
	return len(d.FieldTermLocations) > 0
}

// derivedFields are the search fields that some built-in collection
// derives (schema.SearchField.Derived): their text is not in the text
// field under their name, but in the per-field text.
var derivedFields = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range schema.Builtins() {
		for _, f := range c.Search {
			if f.Derived != "" {
				m[f.Name] = true
			}
		}
	}
	return m
}()
