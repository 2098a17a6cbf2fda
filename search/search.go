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
	"github.com/cairnkv/cairn/schema"
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

// Search finds the documents that match text, best first.
//
// text is search syntax (see the package documentation): plain words
// that must all occur (analysed like the indexed text: Unicode words,
// lower case, English stop words dropped, Porter stemming, so "meetings"
// finds "meeting"), "phrases", pre*, word~ and word~1, field:word, -word
// and a OR b. Malformed text fails with a *SyntaxError (ErrSyntax) naming
// the position, text with nothing to look for with ErrEmptyQuery, more
// than MaxQueryTerms items or MaxQueryBytes bytes with ErrQueryTooLong,
// field:word on a field no built-in collection searched has with
// ErrUnknownField. Scores are Bleve's tf-idf, raised when plain words are
// also in the name or title; ties are broken by collection/id, so pages
// are stable for a given index state.
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

	q, err := buildQuery(analyzers{ix.mu.analyzer, ix.mu.raw}, text, opts.Collections, true, "")
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

// MatchIDs returns the ids of every document of collection that matches
// text, with the same text semantics as Search; field, if not empty, is
// the search field every item of text without a field of its own looks
// in (the query filter field~text). The set is unordered. A field that
// collection, a built-in one, does not search fails with ErrUnknownField.
func (ix *Index) MatchIDs(ctx context.Context, collection, field, text string) (ids map[string]struct{}, err error) {
	if why := validCollection(collection); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrBadOptions, why)
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.mu.bi == nil {
		return nil, ErrClosed
	}
	defer guard("match ids", &err)

	q, err := buildQuery(analyzers{ix.mu.analyzer, ix.mu.raw}, text, []string{collection}, false, field)
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

// analyzers are the two ways query text is cut into terms.
type analyzers struct {
	text analysis.Analyzer // stemmed, as the text and per-field fields
	raw  analysis.Analyzer // lower case only, as the raw field
}

// buildQuery turns search text (parse.go) into a Bleve query: each group
// a must clause (a disjunction for an OR group), each excluded item a
// must-not clause; when scored, plain words also found in the name add
// to the score (an optional disjunction); collections, if any, filter
// without scoring. field, if not empty, scopes every item without a field
// of its own.
func buildQuery(a analyzers, text string, collections []string, scored bool, field string) (query.Query, error) {
	p, err := parseText(text)
	if err != nil {
		return nil, err
	}
	if err := checkFields(p, collections, field); err != nil {
		return nil, err
	}
	b := bleve.NewBooleanQuery()
	var boosts []query.Query
	var mustNot []query.Query
	musts := 0
	for _, g := range p.groups {
		var alts []query.Query
		for _, c := range g {
			if c.field == "" {
				c.field = field
			}
			q, terms, err := clauseQuery(a, c)
			if err != nil {
				return nil, err
			}
			if q == nil {
				continue // a stop word, punctuation: nothing to look for
			}
			if c.neg {
				mustNot = append(mustNot, q)
				continue
			}
			alts = append(alts, q)
			if scored && c.field == "" {
				for _, t := range terms {
					boosts = append(boosts, termQuery(fieldName, t, boostName))
				}
			}
		}
		switch len(alts) {
		case 0:
		case 1:
			b.AddMust(alts[0])
			musts++
		default:
			b.AddMust(bleve.NewDisjunctionQuery(alts...))
			musts++
		}
	}
	if musts == 0 {
		if len(mustNot) > 0 {
			return nil, fmt.Errorf("%w: %q only excludes (add a word to look for)", ErrEmptyQuery, text)
		}
		return nil, fmt.Errorf("%w: %q", ErrEmptyQuery, text)
	}
	if len(mustNot) > 0 {
		b.AddMustNot(mustNot...)
	}
	if len(boosts) > 0 {
		b.AddShould(boosts...)
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

// clauseQuery returns the query of one item, nil if it analyses to
// nothing, and, for a plain word, its analysed terms.
func clauseQuery(a analyzers, c clause) (q query.Query, terms []string, err error) {
	textField := fieldText
	rawField := fieldRaw
	if c.field != "" {
		// Per-field text is only stemmed: a prefix or fuzzy word in a
		// field compares with its stemmed words.
		textField = fieldPerField + "." + c.field
		rawField = textField
	}
	switch c.kind {
	case kindWord, kindPhrase:
		seen := map[string]bool{}
		var all []string
		for _, tok := range a.text.Analyze([]byte(c.text)) {
			t := string(tok.Term)
			if t == "" {
				continue
			}
			all = append(all, t)
			if !seen[t] {
				seen[t] = true
				terms = append(terms, t)
			}
		}
		if len(terms) == 0 {
			return nil, nil, nil
		}
		if c.kind == kindPhrase && len(all) > 1 {
			mp := bleve.NewMatchPhraseQuery(c.text)
			mp.SetField(textField)
			mp.Analyzer = textAnalyzer
			return mp, nil, nil
		}
		if len(terms) == 1 {
			return termQuery(textField, terms[0], 1), terms, nil
		}
		// A word that analyses to several ("e-mail"): all of them.
		qs := make([]query.Query, 0, len(terms))
		for _, t := range terms {
			qs = append(qs, termQuery(textField, t, 1))
		}
		return bleve.NewConjunctionQuery(qs...), terms, nil
	}
	toks := a.raw.Analyze([]byte(c.text))
	switch {
	case len(toks) == 0:
		return nil, nil, nil
	case len(toks) > 1:
		return nil, nil, &SyntaxError{Pos: c.pos, Msg: fmt.Sprintf("%s %q is more than one word", c.kind, c.text)}
	}
	t := string(toks[0].Term)
	if c.kind == kindPrefix {
		pq := bleve.NewPrefixQuery(t)
		pq.SetField(rawField)
		return pq, nil, nil
	}
	fq := bleve.NewFuzzyQuery(t)
	fq.SetField(rawField)
	fq.SetFuzziness(c.fuzz)
	return fq, nil, nil
}

// checkFields fails for a field:word whose field none of the collections
// searched has, when they are all built-in (a user collection searches
// every top-level string field, so any name may exist there).
func checkFields(p parsed, collections []string, scope string) error {
	if len(collections) == 0 {
		return nil
	}
	var names []string
	for _, coll := range collections {
		c, err := (*schema.Schema)(nil).Lookup(coll)
		if err != nil || !c.BuiltIn || c.AllText {
			return nil
		}
		for _, f := range c.Search {
			if !slices.Contains(names, f.Name) {
				names = append(names, f.Name)
			}
		}
	}
	check := func(field string, pos int) error {
		if field == "" || slices.Contains(names, field) {
			return nil
		}
		msg := fmt.Sprintf("no field %q to search in %s (fields: %s)", field, strings.Join(collections, ", "), strings.Join(names, ", "))
		if pos == 0 {
			return fmt.Errorf("%w: %s", ErrUnknownField, msg)
		}
		return fmt.Errorf("%w: %w", ErrUnknownField, &SyntaxError{Pos: pos, Msg: msg})
	}
	if err := check(scope, 0); err != nil {
		return err
	}
	for _, g := range p.groups {
		for _, c := range g {
			if err := check(c.field, c.pos); err != nil {
				return err
			}
		}
	}
	return nil
}

func termQuery(field, term string, boost float64) query.Query {
	q := bleve.NewTermQuery(term)
	q.SetField(field)
	q.SetBoost(boost)
	return q
}
