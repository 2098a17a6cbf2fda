package kv

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	"github.com/cairnkv/cairn/search"
	"github.com/cairnkv/cairn/secondary"
)

// Filter is one condition of a query (see the secondary package for the
// operators and the comparison rules of docs/KVTOOL.md).
type Filter = secondary.Filter

// Explain says how a query was answered: the plan, the index used, and how
// many index keys and documents were read.
type Explain = secondary.Explain

// Query is a query on one collection: filters ANDed, optional full-text
// words, sort, limit and offset.
type Query struct {
	Collection string
	Filters    []Filter
	// Text holds search texts (search syntax, as DB.Search) that the
	// document's whole text must each match, answered by the full-text
	// index.
	Text []string
	// TextFilters are full-text conditions on one search field each (the
	// kvtool field~text filters), answered by the full-text index.
	TextFilters []TextFilter
	// Sort is the field to sort by ("" sorts by id); Desc reverses it.
	// Ties are broken by id; documents without the field come last.
	Sort string
	Desc bool
	// Limit (0: all) and Offset page the result.
	Limit, Offset int
	// NoScan makes a query that would read the whole collection fail with
	// ErrFullScan instead of running slowly.
	NoScan bool
}

// QueryResult is what Query returns.
type QueryResult struct {
	IDs  []string
	Docs []Document // nil when QueryOptions.IDsOnly or Count
	// Total is the number of matches before limit and offset when the
	// plan knew it cheaply (always with QueryOptions.Count), else -1.
	Total   int
	Explain Explain
	// Warnings name the filter and sort fields no document of the
	// collection has (a likely typo); the query ran all the same. They
	// are Explain.Warnings.
	Warnings []string
}

// TextFilter is a full-text condition: the search field Field of the
// document (a schema.SearchField name of a built-in collection, such as
// name, title, description, content or tags; any top-level field of a
// user collection; "" for the whole text) matches Text, in search syntax.
type TextFilter struct {
	Field string
	Text  string
}

// QueryOptions say what Query returns.
type QueryOptions struct {
	// IDsOnly returns ids without reading documents.
	IDsOnly bool
	// Header returns documents without their part fields (see GetHeader).
	Header bool
	// Count returns only the number of matches, in QueryResult.Total.
	Count bool
}

// ParseWhere parses a kvtool --where expression on coll into a Filter
// (comparisons, in, exists, !exists, OR; see secondary.ParseWhere), or,
// for field~text, into a full-text condition (tf.Text is not empty then,
// and the filter is zero). Errors wrap ErrBadQuery, or for a malformed
// text ErrSearchSyntax, ErrEmptyQuery or ErrQueryTooLong, and quote the
// expression.
func ParseWhere(coll, expr string) (f Filter, tf TextFilter, err error) {
	c, err := (*schema.Schema)(nil).Lookup(coll)
	if err != nil {
		return Filter{}, TextFilter{}, err
	}
	f, err = secondary.ParseWhere(c, expr)
	if field, text, ok := secondary.AsTextFilter(err); ok {
		if strings.TrimSpace(text) == "" {
			return Filter{}, TextFilter{}, fmt.Errorf("%w: %q has no text after ~", ErrBadQuery, expr)
		}
		if err := checkTextField(c, field); err != nil {
			return Filter{}, TextFilter{}, fmt.Errorf("%w: in %q: %w", ErrBadQuery, expr, err)
		}
		if err := search.CheckText(text); err != nil {
			return Filter{}, TextFilter{}, fmt.Errorf("in %q: %w", expr, err)
		}
		return Filter{}, TextFilter{Field: field, Text: text}, nil
	}
	return f, TextFilter{}, err
}

// checkTextField fails unless field ("" for all) is a search field of c.
func checkTextField(c *schema.Collection, field string) error {
	if field == "" {
		return nil
	}
	if !c.Searched() {
		return fmt.Errorf("%s is not searched", c.Name)
	}
	if c.AllText {
		if strings.Contains(field, ".") {
			return fmt.Errorf("%s searches top-level fields only, not %q", c.Name, field)
		}
		return nil
	}
	var names []string
	for _, sf := range c.Search {
		if sf.Name == field {
			return nil
		}
		names = append(names, sf.Name)
	}
	return fmt.Errorf("%q is not a search field of %s (search fields: %s)", field, c.Name, strings.Join(names, ", "))
}

// Query runs q. Results are exact: the planner may use indexes, and every
// filter is checked on the document itself unless the index keys are
// exactly its matches (equality on strings, booleans or instants; see
// Explain.Detail). A filter or sort field no document has is reported in
// QueryResult.Warnings.
func (db *DB) Query(ctx context.Context, q Query, opts *QueryOptions) (*QueryResult, error) {
	return db.query(ctx, q, opts, nil)
}

// query runs q; with emit, the documents go to emit one by one inside the
// transaction instead of into QueryResult.Docs.
func (db *DB) query(ctx context.Context, q Query, opts *QueryOptions, emit func(id string, doc Document) error) (*QueryResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &QueryOptions{}
	}
	c, err := db.lookup(q.Collection)
	if err != nil {
		return nil, err
	}
	sq := secondary.Query{
		Collection: q.Collection, Filters: q.Filters, Sort: q.Sort, Desc: q.Desc,
		Limit: q.Limit, Offset: q.Offset, NoScan: q.NoScan, Count: opts.Count,
	}
	texts := make([]TextFilter, 0, len(q.Text)+len(q.TextFilters))
	for _, t := range q.Text {
		texts = append(texts, TextFilter{Text: t})
	}
	texts = append(texts, q.TextFilters...)
	for _, tf := range texts {
		if err := checkTextField(c, tf.Field); err != nil {
			return nil, fmt.Errorf("%w: %s~%s: %w", ErrBadQuery, tf.Field, tf.Text, err)
		}
		if c.AllText {
			// A user collection searches whatever top-level fields it
			// has: one no document has is a likely typo.
			sq.WarnFields = append(sq.WarnFields, tf.Field)
		}
		ids, err := db.matchIDs(ctx, q.Collection, tf.Field, tf.Text)
		if err != nil {
			return nil, err
		}
		if sq.Restrict == nil {
			sq.Restrict = ids
			continue
		}
		for id := range sq.Restrict {
			if _, ok := ids[id]; !ok {
				delete(sq.Restrict, id)
			}
		}
	}
	res := &QueryResult{}
	err = db.View(ctx, func(t *Tx) error {
		l := &loader{t: t, c: c}
		ids, total, ex, err := secondary.Run(t.tx, db.schema(), sq, l)
		if err != nil {
			return err
		}
		res.IDs, res.Total, res.Explain, res.Warnings = ids, total, ex, ex.Warnings
		if opts.IDsOnly {
			// The ids come from index keys: one a damaged key names is
			// not printed as if it were stored.
			return guard(func() error {
				b := buckets.Lookup(t.tx, buckets.PrimaryBucket(c.Name))
				for _, id := range ids {
					if b == nil || b.Get([]byte(id)) == nil {
						return t.notStored(c, q.Collection, id)
					}
				}
				return nil
			})
		}
		if opts.Count {
			return nil
		}
		if emit == nil {
			res.Docs = make([]Document, 0, len(ids))
		}
		seen := 0
		for _, id := range ids {
			if err := checkCtx(ctx, &seen); err != nil {
				return err
			}
			var doc map[string]any
			if opts.Header {
				doc, err = l.Header(id)
			} else {
				doc, err = l.Full(id)
			}
			if err != nil {
				return err
			}
			if doc == nil {
				if _, _, found, _ := t.load(c, id, false, false); found {
					// Extras hold any JSON value; a query returns objects.
					return &EntityError{Op: "query", Collection: q.Collection, ID: id, Err: fmt.Errorf("%w: stored value is not an object (QueryOptions.IDsOnly, then GetValue)", ErrInvalid)}
				}
				return t.notStored(c, q.Collection, id)
			}
			if emit != nil {
				if err := emit(id, doc); err != nil {
					return err
				}
				continue
			}
			res.Docs = append(res.Docs, doc)
		}
		return nil
	})
	if err != nil {
		var ee *EntityError
		if errors.As(err, &ee) {
			return nil, err
		}
		return nil, fmt.Errorf("cairn: query %s: %w", q.Collection, err)
	}
	return res, nil
}

// loader reads one collection's documents inside a read transaction for
// the query engine, through the document cache.
type loader struct {
	t *Tx
	c *schema.Collection
}

func (l *loader) doc(id string, parts bool) (map[string]any, error) {
	doc, _, found, err := l.t.load(l.c, id, parts, false)
	if err != nil {
		return nil, &EntityError{Op: "query", Collection: l.c.Name, ID: id, Err: err}
	}
	if !found {
		return nil, nil
	}
	m, _ := doc.(map[string]any)
	return m, nil
}

// Meta decodes the metadata entry v of id for the query engine, through
// the document cache in a read transaction (validated like documents, by
// the entry's signature). The value returned is shared with the cache: the
// engine only reads it. When the entry is not to be cached (no cache, or
// its first miss: see docCache), only the members the engine reads are
// decoded.
func (l *loader) Meta(id string, v []byte, member func(name string) bool) (any, error) {
	var cache *docCache
	if l.t.w == nil && l.t.db != nil {
		cache = l.t.db.cache
	}
	ck := metaCacheKey(l.c.Name, id)
	sig := signature(v)
	if doc, ok := cache.peek(ck, sig); ok {
		return doc, nil
	}
	if !cache.admit(ck) {
		return buckets.DecodeMembers([]byte(ck.coll), []byte(id), v, member)
	}
	doc, err := buckets.DecodeValue([]byte(ck.coll), []byte(id), v)
	if err != nil {
		return nil, err
	}
	cache.putShared(ck, sig, doc)
	return doc, nil
}

// Header returns the document without its parts, or nil if absent.
func (l *loader) Header(id string) (map[string]any, error) { return l.doc(id, false) }

// Full returns the assembled document, or nil if absent.
func (l *loader) Full(id string) (map[string]any, error) { return l.doc(id, true) }

// notStored is the error of a query an index led to an id the collection
// does not hold (a read transaction sees the index and the documents of
// one commit): a document damaged pages hide when the summaries list it
// too (notFound), else a damaged index key.
func (t *Tx) notStored(c *schema.Collection, coll, id string) error {
	if err := t.notFound(c, id); errors.Is(err, ErrCorrupt) {
		return &EntityError{Op: "query", Collection: coll, ID: id, Err: err}
	}
	return &EntityError{Op: "query", Collection: coll, ID: id, Err: fmt.Errorf("%w: an index names this document, which is not stored: the index is damaged; kvtool reindex --secondary rebuilds it (kvtool check names it)", ErrCorrupt)}
}
