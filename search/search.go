package search

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Bounds of a search.
const (
	DefaultLimit  = 20     // hits returned when SearchOptions.Limit is 0
	MaxLimit      = 10_000 // larger limits are cut to this
	MaxQueryBytes = 4096   // longer query text fails with ErrQueryTooLong
	MaxQueryTerms = 32     // more distinct words fail with ErrQueryTooLong
)

// boostName weighs a query word found in the name or title, on top of its
// weight in the text.
const boostName = 1.0

// SearchOptions narrow and page a search. The zero value searches every
// collection and returns the DefaultLimit best hits.
type SearchOptions struct {
	Collections []string // only these collections; empty means all
	Limit       int      // most hits returned; 0 means DefaultLimit, capped at MaxLimit
	Offset      int      // hits skipped before the first returned
	Highlight   bool     // fill Hit.Fragments
}

// Hit is one matching document.
type Hit struct {
	Collection string
	ID         string
	Score      float64
	// Fragments maps a field to up to 3 excerpts, best first, with the
	// matched words wrapped in <mark></mark>. All text is in one field,
	// "text" (name, then body, then tags, one per line). Nil unless
	// Highlight was asked, or if the document changed since the search.
	Fragments map[string][]string
}

// Result is one page of hits.
type Result struct {
	Total uint64 // documents matching, over all pages
	Hits  []Hit  // best first: score descending, then collection/id ascending
}

// Search finds the documents that contain every word of text.
//
// text is plain words, not a query language: it is analysed like the
// indexed text (Unicode words, lower case, English stop words dropped,
// Porter stemming, so "meetings" finds "meeting") and every resulting word
// must occur in the document's text. Punctuation such as ':' or '"' is only
// a separator; no text can make the query fail to parse. Text with no
// searchable word fails with ErrEmptyQuery, more than MaxQueryTerms words or
// MaxQueryBytes bytes with ErrQueryTooLong. Scores are Bleve's tf-idf, raised
// when words are also in the name or title; ties are broken by
// collection/id, so pages are stable for a given index state.
func (ix *Index) Search(ctx context.Context, text string, opts SearchOptions) (res Result, err error) {
	if opts.Limit < 0 || opts.Offset < 0 {
		return Result{}, fmt.Errorf("%w: limit %d, offset %d", ErrBadOptions, opts.Limit, opts.Offset)
	}
	for _, c := range opts.Collections {
		if why := validCollection(c); why != "" {
			return Result{}, fmt.Errorf("%w: %s", ErrBadOptions, why)
		}
	}
	limit := opts.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.mu.bi == nil {
		return Result{}, ErrClosed
	}
	defer guard("search", &err)

	q, err := buildQuery(ix.mu.analyzer, text, opts.Collections, true)
	if err != nil {
		return Result{}, err
	}
	sr, err := ix.searchSorted(ctx, q, opts.Offset, limit, opts.Highlight)
	if err != nil {
		return Result{}, fmt.Errorf("cairn: %q: %w", text, err)
	}
	if opts.Highlight {
		if err := ix.highlightLocked(sr.Hits); err != nil {
			return Result{}, fmt.Errorf("cairn: %q: highlight: %w", text, err)
		}
	}
	res.Total = sr.Total
	res.Hits = make([]Hit, 0, len(sr.Hits))
	for _, h := range sr.Hits {
		c, id := splitDocID(h.ID)
		hit := Hit{Collection: c, ID: id, Score: h.Score}
		if opts.Highlight && len(h.Fragments) > 0 {
			hit.Fragments = h.Fragments
		}
		res.Hits = append(res.Hits, hit)
	}
	return res, nil
}

// fastPathMax bounds offset+limit for the fast path of searchSorted.
const fastPathMax = 1000

// forceSlowPath makes searchSorted always sort by score and id in Bleve
// (tests compare both paths).
var forceSlowPath = false

// searchSorted returns the hits offset..offset+limit of q ordered by score
// descending, then document id ascending.
//
// Sorting by _id in Bleve loads the id of every candidate and costs several
// times the search itself on common words. So the fast path asks Bleve for
// the top offset+limit+1 by score alone and sorts those by score and id
// itself; that is exactly the full order unless the score at the cut is
// tied (hit offset+limit scores the same as the one before it), in which
// case, or for deep pages, Bleve sorts by score and _id.
func (ix *Index) searchSorted(ctx context.Context, q query.Query, offset, limit int, highlight bool) (*bleve.SearchResult, error) {
	newReq := func(size, from int) *bleve.SearchRequest {
		req := bleve.NewSearchRequestOptions(q, size, from, false)
		req.IncludeLocations = highlight // highlightLocked needs them
		return req
	}
	if n := offset + limit; n <= fastPathMax && !forceSlowPath {
		sr, err := ix.mu.bi.SearchInContext(ctx, newReq(n+1, 0))
		if err != nil {
			return nil, err
		}
		hits := sr.Hits
		if len(hits) <= n || hits[n].Score != hits[n-1].Score {
			hits = hits[:min(n, len(hits))]
			slices.SortStableFunc(hits, func(a, b *search.DocumentMatch) int {
				if a.Score != b.Score {
					return cmp.Compare(b.Score, a.Score)
				}
				return strings.Compare(a.ID, b.ID)
			})
			sr.Hits = hits[min(offset, len(hits)):]
			return sr, nil
		}
	}
	req := newReq(limit, offset)
	req.SortBy([]string{"-_score", "_id"})
	return ix.mu.bi.SearchInContext(ctx, req)
}

// maxFragments is the most excerpts returned per hit.
const maxFragments = 3

// highlightLocked fills the Fragments of hits (searched with their term
// locations) with Bleve's HTML highlighter: up to maxFragments excerpts of
// the text field, best first. Bleve's own request-level highlighting gives
// one excerpt per field, and all text is in one field. A document changed
// or deleted since the search gets no fragments. The caller holds mu.
func (ix *Index) highlightLocked(hits search.DocumentMatchCollection) error {
	if len(hits) == 0 {
		return nil
	}
	h, err := registry.NewCache().HighlighterNamed(html.Name)
	if err != nil {
		return err
	}
	adv, err := ix.mu.bi.Advanced()
	if err != nil {
		return err
	}
	r, err := adv.Reader()
	if err != nil {
		return err
	}
	for _, hit := range hits {
		hit.Fragments = nil
		doc, err := r.Document(hit.ID)
		if err != nil {
			return errors.Join(err, r.Close())
		}
		if doc == nil {
			continue
		}
		func() {
			defer func() { _ = recover() }() // a document changed since the search: no excerpt
			if f := h.BestFragmentsInField(hit, doc, fieldText, maxFragments); len(f) > 0 {
				hit.Fragments = search.FieldFragmentMap{fieldText: f}
			}
		}()
	}
	return r.Close()
}

// matchIDsPage is the page size MatchIDs reads with.
const matchIDsPage = 5000

// MatchIDs returns the ids of every document of collection that contains
// every word of text, with the same text semantics as Search. It is meant
// for query filters such as `field~word`; the set is unordered.
func (ix *Index) MatchIDs(ctx context.Context, collection, text string) (ids map[string]struct{}, err error) {
	if why := validCollection(collection); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrBadOptions, why)
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.mu.bi == nil {
		return nil, ErrClosed
	}
	defer guard("match ids", &err)

	q, err := buildQuery(ix.mu.analyzer, text, []string{collection}, false)
	if err != nil {
		return nil, err
	}
	prefix := collection + "/"
	ids = make(map[string]struct{})
	var after string
	for {
		req := bleve.NewSearchRequestOptions(q, matchIDsPage, 0, false)
		req.Score = "none"
		req.SortBy([]string{"_id"})
		if after != "" {
			req.SearchAfter = []string{after}
		}
		sr, err := ix.mu.bi.SearchInContext(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("cairn: match ids %s %q: %w", collection, text, err)
		}
		for _, h := range sr.Hits {
			ids[strings.TrimPrefix(h.ID, prefix)] = struct{}{}
			after = h.ID
		}
		if len(sr.Hits) < matchIDsPage {
			return ids, nil
		}
	}
}

// buildQuery turns plain text into a Bleve query: every distinct analysed
// word must be in the text field (a conjunction of term queries); when
// scored, words found in the name add to the score (an optional
// disjunction); collections, if any, filter without scoring.
func buildQuery(a analysis.Analyzer, text string, collections []string, scored bool) (query.Query, error) {
	if len(text) > MaxQueryBytes {
		return nil, fmt.Errorf("%w: %d bytes (max %d)", ErrQueryTooLong, len(text), MaxQueryBytes)
	}
	text = strings.ToValidUTF8(text, " ")
	var terms []string
	seen := make(map[string]bool)
	for _, tok := range a.Analyze([]byte(text)) {
		t := string(tok.Term)
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		terms = append(terms, t)
	}
	if len(terms) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrEmptyQuery, text)
	}
	if len(terms) > MaxQueryTerms {
		return nil, fmt.Errorf("%w: %d words (max %d)", ErrQueryTooLong, len(terms), MaxQueryTerms)
	}
	must := make([]query.Query, 0, len(terms))
	for _, t := range terms {
		must = append(must, termQuery(fieldText, t, 1))
	}
	b := bleve.NewBooleanQuery()
	b.AddMust(must...)
	if scored {
		should := make([]query.Query, 0, len(terms))
		for _, t := range terms {
			should = append(should, termQuery(fieldName, t, boostName))
		}
		b.AddShould(should...)
	}
	if len(collections) == 1 {
		b.AddFilter(termQuery(fieldCollection, collections[0], 1))
	} else if len(collections) > 1 {
		d := bleve.NewDisjunctionQuery()
		for _, c := range collections {
			d.AddQuery(termQuery(fieldCollection, c, 1))
		}
		b.AddFilter(d)
	}
	return b, nil
}

func termQuery(field, term string, boost float64) query.Query {
	q := bleve.NewTermQuery(term)
	q.SetField(field)
	q.SetBoost(boost)
	return q
}
