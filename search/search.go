package search

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/cairnkv/cairn/schema"
)

// Bounds of a search.
const (
	DefaultLimit  = 20      // hits returned when SearchOptions.Limit is 0
	MaxLimit      = 10_000  // larger limits are cut to this
	MaxOffset     = 1 << 30 // larger offsets are refused (ErrBadOptions)
	MaxQueryBytes = 4096    // longer query text fails with ErrQueryTooLong
	MaxQueryTerms = 32      // more distinct words fail with ErrQueryTooLong
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
	Highlight   bool     // fill Hit.Fragments (needs Source)
	// Source loads the current state of a hit's document for Highlight:
	// the index stores no text, so excerpts are cut from the text
	// extracted again from the document, as Apply extracted it. A hit
	// whose document is gone, or at another revision than the one
	// indexed, gets no fragments. kv.DB.Search sets it to read the
	// primary store; nil leaves Fragments empty.
	Source func(collection, id string) (Change, error)
}

// Hit is one matching document.
type Hit struct {
	Collection string
	ID         string
	Score      float64
	// Fragments maps a field to up to 3 excerpts, best first, with the
	// matched words wrapped in <mark></mark>. All text is in one field,
	// "text" (name, then body, then tags, one per line). Nil unless
	// Highlight was asked (with a Source), or if the document changed
	// since it was indexed.
	Fragments map[string][]string
}

// Result is one page of hits.
type Result struct {
	Total uint64 // documents matching, over all pages
	Hits  []Hit  // best first: score descending, then collection/id ascending (titled first for plain words: see Index.Search)
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
// are stable for a given index state. For a text of plain words only
// (and excluded items), the documents whose name or title holds every
// word come first, scored by the words' weight in the name alone, then
// the others: such a page costs the titled matches plus a count of the
// others instead of scoring every match.
func (ix *Index) Search(ctx context.Context, text string, opts SearchOptions) (res Result, err error) {
	if opts.Limit < 0 || opts.Offset < 0 || opts.Offset > MaxOffset {
		return Result{}, fmt.Errorf("%w: limit %d, offset %d (an offset is 0 to %d)", ErrBadOptions, opts.Limit, opts.Offset, MaxOffset)
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

	b, err := buildQuery(analyzers{ix.mu.analyzer, ix.mu.raw}, text, opts.Collections, true, "")
	if err != nil {
		return Result{}, err
	}
	var sr *bleve.SearchResult
	if b.titled != nil && !forceUntiered {
		sr, err = ix.searchTiered(ctx, b, opts.Offset, limit, opts.Highlight)
	} else {
		sr, err = ix.searchSorted(ctx, b.all, opts.Offset, limit, opts.Highlight)
	}
	if err != nil {
		return Result{}, fmt.Errorf("cairn: %q: %w", text, err)
	}
	if opts.Highlight && opts.Source != nil {
		if err := highlight(sr.Hits, opts.Source); err != nil {
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

// blevePhrase makes a phrase Bleve's match-phrase query instead of
// phraseQuery (tests: the two must agree).
var blevePhrase = false

// forceUntiered makes Search rank a text of plain words by score alone,
// as it ranks any other text (tests build the tiered order from it).
var forceUntiered = false

// searchTiered returns the hits offset..offset+limit of a text of plain
// words: first the documents whose name or title holds every word
// (b.titled), by their name's score, then the others (b.untitled), by
// score.
//
// This is the bounded path of a common search: the titled tier is found
// through the name field's short posting lists, so when it fills the
// page the matches elsewhere are counted, not scored (from the postings
// bitmaps: countPlan). Otherwise the page continues into the untitled
// tier, whose total added to the titled one is the total, and the cost
// is that of scoring every match, as without tiers.
func (ix *Index) searchTiered(ctx context.Context, b built, offset, limit int, highlight bool) (*bleve.SearchResult, error) {
	top, err := ix.searchTitled(ctx, b, offset, limit, highlight)
	if err != nil {
		return nil, err
	}
	titled := top.Total
	if titled >= uint64(offset+limit) {
		if p, ok := planOf(b.count); ok {
			n, ok, err := countPlan(ix.mu.bi, p)
			if err != nil {
				return nil, fmt.Errorf("count: %w", err)
			}
			if ok {
				top.Total = n
				return top, nil
			}
		}
		req := bleve.NewSearchRequestOptions(b.count, 0, 0, false)
		req.Score = bleve.ScoreNone
		n, err := ix.mu.bi.SearchInContext(ctx, req)
		if err != nil {
			return nil, err
		}
		top.Total = n.Total
		return top, nil
	}
	rest, err := ix.searchSorted(ctx, b.untitled, offset-min(offset, int(titled)), limit-len(top.Hits), highlight)
	if err != nil {
		return nil, err
	}
	top.Hits = append(top.Hits, rest.Hits...)
	top.Total = titled + rest.Total
	return top, nil
}

// searchTitled returns the hits offset..offset+limit of the titled tier.
//
// Scoring b.titled costs a walk over the text's posting lists: Bleve
// intersects the terms' bitmaps, but reading a term's frequency for a
// document decodes every earlier entry of its chunk, so two common words
// cost most of their postings however few documents hold them in their
// name (17 of 18 ms for "budget meeting" at 100,000 sessions, 916 titled
// documents among 344,684 matches). b.titledByName, on the name field
// alone, gives the same scores; it is used when its total equals the
// titled tier's count from the postings bitmaps, which proves that it
// matched the same documents. A highlighted search then reads the text's
// locations for the page's documents only (locate).
func (ix *Index) searchTitled(ctx context.Context, b built, offset, limit int, highlight bool) (*bleve.SearchResult, error) {
	if b.titledByName == nil || forceTitledText {
		return ix.searchSorted(ctx, b.titled, offset, limit, highlight)
	}
	p, ok := planOf(b.titled)
	if !ok {
		return ix.searchSorted(ctx, b.titled, offset, limit, highlight)
	}
	top, err := ix.searchSorted(ctx, b.titledByName, offset, limit, false)
	if err != nil {
		return nil, err
	}
	n, ok, err := countPlan(ix.mu.bi, p)
	if err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	if ok && n == top.Total {
		if highlight {
			err = ix.locate(ctx, top.Hits, b.textTerms)
		}
		return top, err
	}
	// A name word missing from the text (or an index changed between the
	// two reads): the slow query is right.
	titledFallbacks.Add(1)
	return ix.searchSorted(ctx, b.titled, offset, limit, highlight)
}

// locate gives hits, found without their locations, the locations of
// textTerms in the text field and their stored revision, which the
// highlighter needs: a query of those documents alone, so that the text's
// posting lists are read at a page's documents only. A hit whose document
// is gone by then gets none (and no excerpt).
func (ix *Index) locate(ctx context.Context, hits search.DocumentMatchCollection, textTerms query.Query) error {
	if len(hits) == 0 {
		return nil
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(bleve.NewDocIDQuery(ids), textTerms), len(ids), 0, false)
	req.IncludeLocations = true
	req.Fields = []string{fieldRev}
	sr, err := ix.mu.bi.SearchInContext(ctx, req)
	if err != nil {
		return fmt.Errorf("locate: %w", err)
	}
	found := make(map[string]*search.DocumentMatch, len(sr.Hits))
	for _, h := range sr.Hits {
		found[h.ID] = h
	}
	for _, h := range hits {
		if f := found[h.ID]; f != nil {
			h.Locations, h.Fields = f.Locations, f.Fields
		}
	}
	return nil
}

var (
	// forceTitledText makes searchTitled always score b.titled (tests
	// compare both queries).
	forceTitledText = false
	// titledFallbacks counts the searches whose name-only titled query
	// did not match the titled tier (tests).
	titledFallbacks atomic.Int64
)

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
		if highlight { // the highlighter needs the locations, and the revision they belong to
			req.IncludeLocations = true
			req.Fields = []string{fieldRev}
		}
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

// highlight fills the Fragments of hits (searched with their term
// locations and stored revision) with Bleve's HTML highlighter: up to
// maxFragments excerpts of the text field, best first, cut from the text
// extracted again from the document that source loads. Bleve's own
// request-level highlighting gives one excerpt per field, needs the text
// stored in the index, and all text is in one field. A document deleted
// or at another revision than the one indexed gets no fragments: its
// text no longer matches the locations.
func highlight(hits search.DocumentMatchCollection, source func(collection, id string) (Change, error)) error {
	if len(hits) == 0 {
		return nil
	}
	h, err := registry.NewCache().HighlighterNamed(html.Name)
	if err != nil {
		return err
	}
	for _, hit := range hits {
		hit.Fragments = nil
		rev, _ := hit.Fields[fieldRev].(string)
		c, id := splitDocID(hit.ID)
		ch, err := source(c, id)
		if err != nil {
			return err
		}
		if ch.Deleted || rev == "" || strconv.FormatUint(ch.Rev, 10) != rev {
			continue
		}
		doc, _ := extract(ch.Decl, ch.Collection, ch.Rev, ch.Body)
		text, starts := joinValues(doc[fieldText])
		if text == "" || !onText(hit, starts) {
			continue
		}
		d := document.NewDocument(hit.ID)
		d.AddField(document.NewTextField(fieldText, nil, []byte(text)))
		func() {
			defer func() { _ = recover() }() // locations that do not fit the text: no excerpt, not a damaged index
			if f := h.BestFragmentsInField(hit, d, fieldText, maxFragments); len(f) > 0 {
				hit.Fragments = search.FieldFragmentMap{fieldText: f}
			}
		}()
	}
	return nil
}

// onText moves hit's locations in the text field from the array elements
// that extract indexed, whose values start at starts in the text the
// highlighter is given (joinValues), into that one string: Bleve's
// highlighter takes excerpts of different array elements for overlapping
// when their offsets do, and keeps only one of them. It reports false,
// leaving hit without excerpts, for a location of no element.
func onText(hit *search.DocumentMatch, starts []int) bool {
	tlm := hit.Locations[fieldText]
	if len(starts) == 0 || len(tlm) == 0 {
		return true // one string: its locations are already in it
	}
	moved := make(search.TermLocationMap, len(tlm))
	for term, locs := range tlm {
		out := make(search.Locations, len(locs))
		for i, l := range locs {
			if len(l.ArrayPositions) != 1 || l.ArrayPositions[0] >= uint64(len(starts)) {
				return false
			}
			at := uint64(starts[l.ArrayPositions[0]])
			out[i] = &search.Location{Pos: l.Pos, Start: l.Start + at, End: l.End + at}
		}
		moved[term] = out
	}
	hit.Locations = maps.Clone(hit.Locations)
	hit.Locations[fieldText] = moved
	return true
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

	b, err := buildQuery(analyzers{ix.mu.analyzer, ix.mu.raw}, text, []string{collection}, false, field)
	if err != nil {
		return nil, err
	}
	q := b.all
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

// built is search text turned into Bleve queries.
type built struct {
	// all matches every document the text asks for, scored as asked.
	all query.Query
	// count matches the same documents, cheaper to run unscored (no
	// name-boost clause): Total of a page served by titled alone.
	count query.Query
	// titled and untitled, when not nil, split all into two tiers for a
	// text of plain words only: titled the documents whose name or title
	// holds every word, scored by how well the name matches them (the
	// words' weight in the name field), untitled the others, scored as
	// all scores them. Search ranks titled first (see Index.Search).
	titled, untitled query.Query
	// titledByName is titled without the text's terms: the same documents
	// and scores, without walking the text's long posting lists (see
	// searchTitled).
	titledByName query.Query
	// textTerms is the conjunction of the words' terms in the text field,
	// unscored: the highlighter's locations for a page of titledByName.
	textTerms query.Query
}

// buildQuery turns search text (parse.go) into Bleve queries: each group
// a conjunct (a disjunction for an OR group), each excluded item a
// must-not clause; when scored, plain words also found in the name add
// to the score (an optional clause on the name field); collections, if
// any, filter without scoring (a conjunct whose boost is 0: it does not
// change the query norm or the score, and it is several times cheaper
// than Bleve's filter clause, which tests every candidate). field, if not
// empty, scopes every item without a field of its own.
//
// Musts are one conjunction rather than must clauses of a boolean query:
// Bleve's boolean searcher costs about twice the conjunction alone on
// common words; a boolean query wraps the conjunction only when there is
// something to exclude or to boost.
func buildQuery(a analyzers, text string, collections []string, scored bool, field string) (built, error) {
	p, err := parseText(text)
	if err != nil {
		return built{}, err
	}
	if err := checkFields(p, collections, field); err != nil {
		return built{}, err
	}
	var musts, mustNot []query.Query
	var nameTerms []string // the plain words' terms, for the name boost
	plainOnly := scored    // every group one plain word without a field
	for _, g := range p.groups {
		var alts []query.Query
		for _, c := range g {
			if field != "" && c.field != "" && c.field != field {
				// A search scoped to one field (a where clause's
				// field~TEXT) never looks into another.
				return built{}, &SyntaxError{Pos: c.pos, Msg: fmt.Sprintf("%s:%s names another field than the %s this search is in", c.field, c.text, field)}
			}
			if c.field == "" {
				c.field = field
			}
			q, terms, err := clauseQuery(a, c)
			if err != nil {
				return built{}, err
			}
			if q == nil {
				continue // a stop word, punctuation: nothing to look for
			}
			if c.neg {
				mustNot = append(mustNot, q)
				continue
			}
			alts = append(alts, q)
			if c.kind != kindWord || c.field != "" || len(g) > 1 {
				plainOnly = false
			}
			if scored && c.field == "" {
				for _, t := range terms {
					if !slices.Contains(nameTerms, t) {
						nameTerms = append(nameTerms, t)
					}
				}
			}
		}
		switch len(alts) {
		case 0:
		case 1:
			musts = append(musts, alts[0])
		default:
			musts = append(musts, bleve.NewDisjunctionQuery(alts...))
		}
	}
	if len(musts) == 0 {
		if len(mustNot) > 0 {
			return built{}, fmt.Errorf("%w: %q only excludes (add a word to look for)", ErrEmptyQuery, text)
		}
		return built{}, fmt.Errorf("%w: %q", ErrEmptyQuery, text)
	}
	var filter []query.Query // the collections, unscored
	if len(collections) == 1 {
		filter = append(filter, termQuery(fieldCollection, collections[0], 0))
	} else if len(collections) > 1 {
		d := bleve.NewDisjunctionQuery()
		for _, c := range collections {
			d.AddQuery(termQuery(fieldCollection, c, 0))
		}
		d.SetBoost(0)
		filter = append(filter, d)
	}
	musts = append(musts, filter...)
	var b built
	b.count = compose(musts, mustNot, nil)
	if len(nameTerms) == 0 {
		b.all = b.count
		return b, nil
	}
	boosts := make([]query.Query, len(nameTerms))
	for i, t := range nameTerms {
		boosts[i] = termQuery(fieldName, t, boostName)
	}
	b.all = compose(musts, mustNot, boosts)
	if plainOnly {
		// Every word required in the text and in the name, scored by the
		// name alone: the text's terms weigh nothing (boost 0), so they
		// neither score nor change the query norm, but they still give
		// the highlighter its locations. titledByName drops them: it
		// matches the same documents as long as a name's words are also
		// in the text, which extract makes so and searchTitled checks.
		titledMusts := slices.Clone(filter)
		for _, t := range nameTerms {
			titledMusts = append(titledMusts, termQuery(fieldText, t, 0))
		}
		b.titled = compose(append(titledMusts, boosts...), mustNot, nil)
		b.titledByName = compose(append(slices.Clone(filter), boosts...), mustNot, nil)
		b.textTerms = conjunction(titledMusts[len(filter):])
		inName := make([]query.Query, len(nameTerms))
		for i, t := range nameTerms {
			inName[i] = termQuery(fieldName, t, 0)
		}
		b.untitled = compose(musts, append(slices.Clone(mustNot), conjunction(inName)), boosts)
	}
	return b, nil
}

// compose returns the conjunction of musts, as a boolean query's must
// clause only when there is something to exclude or optional to score.
func compose(musts, mustNot, should []query.Query) query.Query {
	core := conjunction(musts)
	if len(mustNot) == 0 && len(should) == 0 {
		return core
	}
	b := bleve.NewBooleanQuery()
	b.AddMust(core)
	if len(mustNot) > 0 {
		b.AddMustNot(mustNot...)
	}
	if len(should) > 0 {
		b.AddShould(should...)
	}
	return b
}

func conjunction(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return bleve.NewConjunctionQuery(qs...)
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
			if blevePhrase {
				return matchPhrase(textField, c.text), nil, nil
			}
			return newPhraseQuery(a.text, textField, c.text), nil, nil
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
	one := func(field string) query.Query {
		if c.kind == kindPrefix {
			pq := bleve.NewPrefixQuery(t)
			pq.SetField(field)
			return pq
		}
		fq := bleve.NewFuzzyQuery(t)
		fq.SetField(field)
		fq.SetFuzziness(c.fuzz)
		return fq
	}
	if rawField == textField {
		return one(rawField), nil, nil
	}
	// Over every field: the words as written and their stems, so that
	// the search is never narrower than the same item within one field
	// (which has only the stems): budget~0 finds "budgets" as budget does.
	return bleve.NewDisjunctionQuery(one(rawField), one(textField)), nil, nil
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
