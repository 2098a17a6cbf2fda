package search

import (
	"context"
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Bounds of a search.
const (
	DefaultLimit  = 20     // hits returned when SearchOptions.Limit is 0
	MaxLimit      = 10_000 // larger limits are cut to this
	MaxQueryBytes = 4096   // longer query text fails with ErrQueryTooLong
	MaxQueryTerms = 32     // more distinct words fail with ErrQueryTooLong
)

// Field boosts: a word in the name or title counts more than one in a tag,
// which counts more than one in the body.
const (
	boostName = 2.0
	boostTags = 1.5
	boostBody = 1.0
)

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
	// Fragments maps a field ("name", "body", "tags") to excerpts with the
	// matched words wrapped in <mark></mark>. Nil unless Highlight was asked.
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
// must occur in the document, in any of its text fields (name, body, tags).
// Punctuation such as ':' or '"' is only a separator; no text can make the
// query fail to parse. Text with no searchable word fails with
// ErrEmptyQuery. Scores are Bleve's tf-idf, a word in the name weighing
// double; ties are broken by collection/id so pages are stable.
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

	q, err := textQuery(ix.mu.analyzer, text)
	if err != nil {
		return Result{}, err
	}
	if len(opts.Collections) > 0 {
		q = filterCollections(q, opts.Collections)
	}
	req := bleve.NewSearchRequestOptions(q, limit, opts.Offset, false)
	req.SortBy([]string{"-_score", "_id"})
	if opts.Highlight {
		req.Highlight = bleve.NewHighlight()
		req.Highlight.Fields = []string{fieldName, fieldBody, fieldTags}
	}
	sr, err := ix.mu.bi.SearchInContext(ctx, req)
	if err != nil {
		return Result{}, fmt.Errorf("search: %q: %w", text, err)
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

	q, err := textQuery(ix.mu.analyzer, text)
	if err != nil {
		return nil, err
	}
	q = filterCollections(q, []string{collection})
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
			return nil, fmt.Errorf("search: match ids %s %q: %w", collection, text, err)
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

// textQuery turns plain text into a conjunction, one clause a distinct
// analysed word, each clause a disjunction of the word in name, body, tags.
func textQuery(a analysis.Analyzer, text string) (query.Query, error) {
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
	clauses := make([]query.Query, 0, len(terms))
	for _, t := range terms {
		clauses = append(clauses, bleve.NewDisjunctionQuery(
			termQuery(fieldName, t, boostName),
			termQuery(fieldBody, t, boostBody),
			termQuery(fieldTags, t, boostTags),
		))
	}
	if len(clauses) == 1 {
		return clauses[0], nil
	}
	return bleve.NewConjunctionQuery(clauses...), nil
}

func termQuery(field, term string, boost float64) query.Query {
	q := bleve.NewTermQuery(term)
	q.SetField(field)
	q.SetBoost(boost)
	return q
}

// filterCollections keeps the documents of q in one of collections, without
// changing their scores.
func filterCollections(q query.Query, collections []string) query.Query {
	var f query.Query
	if len(collections) == 1 {
		f = termQuery(fieldCollection, collections[0], 1)
	} else {
		d := bleve.NewDisjunctionQuery()
		for _, c := range collections {
			d.AddQuery(termQuery(fieldCollection, c, 1))
		}
		f = d
	}
	b := bleve.NewBooleanQuery()
	b.AddMust(q)
	b.AddFilter(f)
	return b
}
