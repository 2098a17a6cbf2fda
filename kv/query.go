package kv

import (
	"context"
	"errors"
	"fmt"
	"github.com/cairnkv/cairn/schema"

	"github.com/cairnkv/cairn/buckets"
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
	// Text holds words that must all occur in the document's text (the
	// kvtool field~word filters), answered by the full-text index.
	Text []string
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

// ParseWhere parses a kvtool --where expression on coll into a Filter, or,
// for field~word, into full-text words (filter is zero then).
func ParseWhere(coll, expr string) (f Filter, text string, err error) {
	c, err := (*schema.Schema)(nil).Lookup(coll)
	if err != nil {
		return Filter{}, "", err
	}
	f, err = secondary.ParseWhere(c, expr)
	if _, word, ok := secondary.AsTextFilter(err); ok {
		if word == "" {
			return Filter{}, "", fmt.Errorf("%w: %q has no word after ~", ErrBadQuery, expr)
		}
		return Filter{}, word, nil
	}
	return f, "", err
}

// Query runs q. Results are exact: the planner may use indexes, but every
// filter is checked on the document itself.
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
	for _, words := range q.Text {
		ids, err := db.matchIDs(ctx, q.Collection, words)
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
		res.IDs, res.Total, res.Explain = ids, total, ex
		if opts.IDsOnly || opts.Count {
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
				return fmt.Errorf("cairn: query: %s %q vanished inside its transaction", q.Collection, id)
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
	doc, _, found, err := l.t.load(l.c, id, parts)
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
// engine only reads it.
func (l *loader) Meta(id string, v []byte) (any, error) {
	var cache *docCache
	if l.t.w == nil && l.t.db != nil {
		cache = l.t.db.cache
	}
	ck := metaCacheKey(l.c.Name, id)
	sig := signature(v)
	if doc, ok := cache.peek(ck, sig); ok {
		return doc, nil
	}
	doc, err := buckets.DecodeValue([]byte(ck.coll), []byte(id), v)
	if err != nil {
		return nil, err
	}
	cache.put(ck, sig, 0, doc)
	return doc, nil
}

// Header returns the document without its parts, or nil if absent.
func (l *loader) Header(id string) (map[string]any, error) { return l.doc(id, false) }

// Full returns the assembled document, or nil if absent.
func (l *loader) Full(id string) (map[string]any, error) { return l.doc(id, true) }
