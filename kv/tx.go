package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	"github.com/cairnkv/cairn/txn"
	bolt "go.etcd.io/bbolt"
)

// Document is a decoded JSON object. Values are nil, bool, string, int64,
// uint64, float64, json.Number (numbers none of those holds exactly, as
// written), []any and map[string]any.
type Document = map[string]any

// Tx is a transaction handed to the function of Update or View. It is not
// safe for concurrent use and must not be used after the function returns.
// Do not open another transaction (db.Get, db.Update, ...) from inside it:
// that deadlocks.
type Tx struct {
	ctx  context.Context // of the Update or View that made it
	db   *DB
	w    *txn.Writer // nil in a read-only transaction
	tx   *bolt.Tx
	pend map[string]bool // blob hashes this Update wrote (see StoreContent)
}

// Context returns the context given to the Update, View or Staged call
// that runs this transaction: a long function checks it to stop early.
func (t *Tx) Context() context.Context {
	if t.ctx == nil {
		return context.Background()
	}
	return t.ctx
}

// Option modifies one write.
type Option func(*writeOpts)

type writeOpts struct{ ifRev uint64 }

// IfRev makes a write fail with ErrConflict unless the stored document's
// revision is rev (compare-and-swap); IfRev(0), unless no document is
// stored (a Put or a Patch that only creates: the patch is applied to an
// empty document; a Delete with it always conflicts or does nothing).
func IfRev(rev uint64) Option {
	if rev == 0 {
		rev = txn.RevAbsent
	}
	return func(o *writeOpts) { o.ifRev = rev }
}

func collectOpts(opts []Option) writeOpts {
	var o writeOpts
	for _, f := range opts {
		f(&o)
	}
	return o
}

func (t *Tx) writer() (*txn.Writer, error) {
	if t.w == nil {
		return nil, ErrReadOnly
	}
	return t.w, nil
}

// Put creates or replaces a document and returns its new revision. doc is a
// Document, any value encoding/json can marshal to an object (a typed
// entity such as *Session), or json.RawMessage. For a singleton collection
// (settings, aiSettings, preferences) the document needs no id.
func (t *Tx) Put(coll string, doc any, opts ...Option) (uint64, error) {
	w, err := t.writer()
	if err != nil {
		return 0, err
	}
	v, err := normalizeDoc(coll, doc)
	if err != nil {
		return 0, err
	}
	c, err := t.db.lookup(coll)
	if err != nil {
		return 0, &EntityError{Op: "put", Collection: coll, Err: err}
	}
	id, err := txn.DocumentKey(c, v)
	if err != nil {
		return 0, err
	}
	return w.Put(coll, id, v, collectOpts(opts).ifRev)
}

// PutValue stores any JSON value under key in the extras collection.
func (t *Tx) PutValue(coll, key string, value any, opts ...Option) (uint64, error) {
	w, err := t.writer()
	if err != nil {
		return 0, err
	}
	v, err := normalizeDoc(coll, value)
	if err != nil {
		return 0, err
	}
	return w.Put(coll, key, v, collectOpts(opts).ifRev)
}

// Get returns a whole document (parts assembled) and its revision.
func (t *Tx) Get(coll, id string) (Document, uint64, error) {
	v, rev, err := t.get(coll, id, true)
	if err != nil {
		return nil, 0, err
	}
	return asDocument(coll, id, v, rev)
}

// GetHeader returns a document without its part fields (for sessions:
// without screenshots, audioSegments, contextItems, summary, audioInsights,
// canvasSpec, fullTranscription, audioKeyMoments), which is much cheaper for
// large sessions.
func (t *Tx) GetHeader(coll, id string) (Document, uint64, error) {
	v, rev, err := t.get(coll, id, false)
	if err != nil {
		return nil, 0, err
	}
	return asDocument(coll, id, v, rev)
}

// GetValue returns any stored value (extras may hold non-objects).
func (t *Tx) GetValue(coll, id string) (any, uint64, error) { return t.get(coll, id, true) }

func asDocument(coll, id string, v any, rev uint64) (Document, uint64, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, 0, &EntityError{Op: "get", Collection: coll, ID: id, Err: fmt.Errorf("%w: stored value is not an object (use GetValue)", ErrInvalid)}
	}
	return m, rev, nil
}

func (t *Tx) get(coll, id string, parts bool) (any, uint64, error) {
	c, err := t.db.lookup(coll)
	if err != nil {
		return nil, 0, &EntityError{Op: "get", Collection: coll, ID: id, Err: err}
	}
	key, err := c.Key(id)
	if err != nil {
		return nil, 0, &EntityError{Op: "get", Collection: coll, ID: id, Field: "id", Err: err}
	}
	var doc any
	var rev uint64
	var found bool
	// Guarded here, not only by View: a damaged page bbolt panics on
	// (a zeroed one) is then an error naming the document being read.
	err = guard(func() (err error) {
		doc, rev, found, err = t.load(c, key, parts, false)
		return err
	})
	if err != nil {
		return nil, 0, &EntityError{Op: "get", Collection: coll, ID: id, Err: err}
	}
	if !found {
		return nil, 0, &EntityError{Op: "get", Collection: coll, ID: id, Err: t.notFound(c, key)}
	}
	return doc, rev, nil
}

// notFound is the error of a document key does not find in c: ErrNotFound,
// or ErrCorrupt when c's summaries still list it. A summary is written and
// deleted with its document in one transaction, so a document only its
// summary knows is one the damaged pages of data.db hide (a leaf whose
// element count lost a bit, say): not a document to create anew.
func (t *Tx) notFound(c *schema.Collection, key string) error {
	listed := false
	_ = guard(func() error {
		listed = buckets.Listed(t.tx, c, key)
		return nil
	})
	if !listed {
		return ErrNotFound
	}
	return fmt.Errorf("%w: its summary is stored, but the document is not found: data.db is damaged where it is kept; %s", ErrCorrupt, restoreAdvice(t.tx.DB().Path()))
}

// load reads one document, through the document cache in a read-only
// transaction. The document is the caller's to change. A decoded document
// is cached on its second miss (see docCache), or at once with prefetch.
func (t *Tx) load(c *schema.Collection, key string, parts, prefetch bool) (doc any, rev uint64, found bool, err error) {
	name := buckets.PrimaryBucket(c.Name)
	b := buckets.Lookup(t.tx, name)
	if b == nil {
		return nil, 0, false, nil
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil, 0, false, nil
	}
	var cache *docCache
	ck := cacheKey{c.Name, key, !parts}
	sig := signature(v)
	if t.w == nil && t.db != nil {
		cache = t.db.cache
		if doc, rev, ok := cache.get(ck, sig); ok {
			return doc, rev, true, nil
		}
	}
	rec, err := buckets.DecodeRecord(name, []byte(key), v, true)
	if err != nil {
		return nil, 0, false, err
	}
	doc = rec.Doc
	if parts {
		if doc, err = buckets.LoadParts(t.tx, c, key, rec, nil); err != nil {
			return nil, 0, false, err
		}
	}
	if cache != nil && (prefetch || cache.admit(ck)) {
		cache.put(ck, sig, rec.Rev, doc)
	}
	return doc, rec.Rev, true, nil
}

// Prefetch starts loading documents of coll into the cache (whole, with
// their parts) in the background, so later Gets of them decode nothing, and
// returns at once. The collection and every id are checked first: a bad
// one is an error and nothing is loaded. Missing ids are skipped. The load
// reads in short read transactions of prefetchChunk documents, so it never
// holds one open for long; Cancel, the end of ctx, or Close stops it.
// Without a cache (CacheBytes < 0) it loads nothing.
func (db *DB) Prefetch(ctx context.Context, coll string, ids ...string) (*Prefetching, error) {
	c, err := db.lookup(coll)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		if keys[i], err = c.Key(id); err != nil {
			return nil, &EntityError{Op: "prefetch", Collection: coll, ID: id, Field: "id", Err: err}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &Prefetching{cancel: cancel, done: make(chan struct{})}
	if db.cache == nil {
		close(p.done)
		return p, nil
	}
	db.prefetch.Lock()
	if db.prefetch.running == nil {
		db.prefetch.running = map[*Prefetching]struct{}{}
	}
	db.prefetch.running[p] = struct{}{}
	db.prefetch.Unlock()
	go func() {
		defer close(p.done)
		defer func() {
			db.prefetch.Lock()
			delete(db.prefetch.running, p)
			db.prefetch.Unlock()
		}()
		for start := 0; start < len(keys) && p.err == nil; start += prefetchChunk {
			end := min(start+prefetchChunk, len(keys))
			p.err = db.View(ctx, func(t *Tx) error {
				for i := start; i < end; i++ {
					if err := ctx.Err(); err != nil {
						return err
					}
					if _, _, _, err := t.load(c, keys[i], true, true); err != nil {
						return &EntityError{Op: "prefetch", Collection: coll, ID: ids[i], Err: err}
					}
					p.loaded.Add(1)
				}
				return nil
			})
		}
	}()
	return p, nil
}

// prefetchChunk is how many documents Prefetch loads per read transaction.
const prefetchChunk = 64

// Prefetching is a Prefetch running in the background.
type Prefetching struct {
	cancel context.CancelFunc
	done   chan struct{}
	loaded atomic.Int64
	err    error // set before done is closed
}

// Cancel stops the prefetch at the next document; Wait then returns
// context.Canceled (unless it had already finished). It does not wait.
func (p *Prefetching) Cancel() { p.cancel() }

// Wait blocks until the prefetch has finished or stopped, and returns why
// it stopped early: a document that could not be read (an *EntityError),
// context.Canceled after Cancel (or ctx's error when ctx ended), ErrClosed
// after Close; nil when every
// existing document was loaded.
func (p *Prefetching) Wait() error {
	<-p.done
	p.cancel()
	return p.err
}

// Loaded returns how many of the requested documents have been loaded so
// far (missing ones count as loaded).
func (p *Prefetching) Loaded() int { return int(p.loaded.Load()) }

// stopPrefetches cancels every running Prefetch.
func (db *DB) stopPrefetches() {
	db.prefetch.Lock()
	for p := range db.prefetch.running {
		p.cancel()
	}
	db.prefetch.Unlock()
}

// ClearCache empties the document cache (its hit counts stay).
func (db *DB) ClearCache() { db.cache.clear() }

// CacheStats reports the document cache's size and hit counts.
func (db *DB) CacheStats() CacheStats { return db.cache.stats() }

// Delete removes a document and reports whether it existed.
func (t *Tx) Delete(coll, id string, opts ...Option) (bool, error) {
	w, err := t.writer()
	if err != nil {
		return false, err
	}
	return w.Delete(coll, id, collectOpts(opts).ifRev)
}

// Patch applies a JSON merge patch (RFC 7396) to the stored document and
// returns the new revision. Fields the patch does not name keep their
// stored values, whoever wrote them: an enrichment patching the summary and
// a user patching the name both survive. A document that is not stored is
// ErrNotFound, unless IfRev(0) asks to create it (a singleton is created
// either way).
func (t *Tx) Patch(coll, id string, patch any, opts ...Option) (uint64, error) {
	w, err := t.writer()
	if err != nil {
		return 0, err
	}
	p, err := normalizeDoc(coll, patch)
	if err != nil {
		return 0, &EntityError{Op: "patch", Collection: coll, ID: id, Err: err}
	}
	return w.Patch(coll, id, p, collectOpts(opts).ifRev)
}

// Modify reads the whole stored document, calls fn with it, and stores the
// document fn returns, atomically. Use it for changes a merge patch cannot
// express, such as updating one element of an array.
func (t *Tx) Modify(coll, id string, fn func(doc Document) error) (uint64, error) {
	w, err := t.writer()
	if err != nil {
		return 0, err
	}
	return w.Modify(coll, id, func(v any) (any, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: stored value is not an object", ErrInvalid)
		}
		if err := fn(m); err != nil {
			return nil, err
		}
		return m, nil
	})
}

// Append adds elements to the end of an array part field of a document
// (sessions: screenshots, audioSegments, contextItems) without rewriting
// the elements already there.
func (t *Tx) Append(coll, id, field string, elems ...any) (uint64, error) {
	w, err := t.writer()
	if err != nil {
		return 0, err
	}
	return w.Append(coll, id, field, elems)
}

// normalizeDoc converts a caller's document into the document model.
func normalizeDoc(coll string, doc any) (any, error) {
	switch d := doc.(type) {
	case json.RawMessage:
		return parseOne(coll, d)
	case []byte:
		return parseOne(coll, d)
	}
	v, err := buckets.Normalize(doc)
	if err != nil {
		return nil, &EntityError{Op: "put", Collection: coll, Err: fmt.Errorf("%w: %v", ErrInvalid, err)}
	}
	return v, nil
}

func parseOne(coll string, b []byte) (any, error) {
	v, err := ParseJSON(b)
	if err != nil {
		return nil, &EntityError{Op: "put", Collection: coll, Err: err}
	}
	return v, nil
}

func jsonType(v any) string { return txn.TypeName(v) }

func anyString(v any) string { return fmt.Sprint(v) }

// Each calls fn with every document of coll in id order (whole documents,
// parts assembled), inside the transaction. It stops when fn returns an
// error (ErrStop: without error). The document is the caller's to keep.
// A document that cannot be read stops it with an error wrapping
// ErrCorrupt that names it (EachReadable goes on past it).
func (t *Tx) Each(coll string, fn func(id string, doc any) error) error {
	return t.EachReadable(coll, fn, func(_ string, err error) error { return err })
}

// Collections returns the collections the store holds documents or
// derived data of: the built-in ones (BuiltinCollections), then every
// user collection that has a bucket, sorted.
func (t *Tx) Collections() []string { return buckets.CollectionsIn(t.tx) }

// EachReadable is Each over a store that may be damaged: a document that
// cannot be read (its value or one of its parts fails its checksum:
// errors.Is(err, ErrCorrupt)) is handed to damaged, with an error naming
// it, instead of fn, and the walk goes on unless damaged returns an error.
// When the collection's pages themselves cannot be read (a damaged page
// pointer), damaged gets an empty id and an error saying after which
// document the walk stopped, and the walk of coll ends there. Other
// errors stop it.
func (t *Tx) EachReadable(coll string, fn func(id string, doc any) error, damaged func(id string, err error) error) error {
	c, err := t.db.lookup(coll)
	if err != nil {
		return err
	}
	name := buckets.PrimaryBucket(coll)
	b := buckets.Lookup(t.tx, name)
	if b == nil {
		return nil
	}
	var w walkState
	err = guard(func() error { return t.eachReadable(c, b, fn, damaged, &w) })
	var fe *faultError
	if !errors.As(err, &fe) || w.inCallback { // a panic of fn or damaged is theirs
		return err
	}
	where := "its first document"
	if w.last != "" {
		where = fmt.Sprintf("document %q", w.last)
	}
	return damaged("", fmt.Errorf("%w: the pages of %s after %s cannot be read (%v)", ErrCorrupt, coll, where, fe.v))
}

// SummaryIDs calls fn with the id of every summary of coll, in id order:
// the documents the store lists, whether or not their pages still read
// (a salvage names those it could not export). A summary page that cannot
// be read ends the walk with an error wrapping ErrCorrupt.
func (t *Tx) SummaryIDs(coll string, fn func(id string) error) error {
	if _, err := t.db.lookup(coll); err != nil {
		return err
	}
	b := buckets.Lookup(t.tx, buckets.MetaBucket(coll))
	if b == nil {
		return nil
	}
	inFn := false
	err := guard(func() error {
		return b.ForEach(func(k, _ []byte) error {
			inFn = true
			defer func() { inFn = false }()
			return fn(string(k))
		})
	})
	var fe *faultError
	if errors.As(err, &fe) && inFn {
		panic(fe.v) // fn's own
	}
	return err
}

// walkState is where EachReadable's walk is: the last document read, and
// whether a callback is running.
type walkState struct {
	last       string
	inCallback bool
}

func (t *Tx) eachReadable(c *schema.Collection, b *bolt.Bucket, fn func(id string, doc any) error, damaged func(id string, err error) error, w *walkState) error {
	coll, name := c.Name, buckets.PrimaryBucket(c.Name)
	cur := b.Cursor()
	seen := 0
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if err := checkCtx(t.Context(), &seen); err != nil {
			return err
		}
		w.last = string(k)
		rec, err := buckets.DecodeRecord(name, k, v, true)
		var doc any
		if err == nil {
			doc, err = buckets.LoadParts(t.tx, c, string(k), rec, nil)
		}
		if err != nil {
			err = &EntityError{Op: "read", Collection: coll, ID: string(k), Err: err}
			if !errors.Is(err, ErrCorrupt) {
				return err
			}
			w.inCallback = true
			if err := damaged(string(k), err); err != nil {
				return err
			}
			w.inCallback = false
			continue
		}
		w.inCallback = true
		if err := fn(string(k), doc); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
		w.inCallback = false
	}
	return nil
}

// Damaged returns the documents of colls (every collection when none is
// given) whose stored value or one of whose parts fails its checksum, as
// "corrupt" problems naming collection and id, one per document. It
// checks each value's envelope without decoding it: the cheap test a
// command that streams documents runs before it writes anything it could
// not finish.
func (t *Tx) Damaged(colls ...string) []Problem {
	if len(colls) == 0 {
		colls = buckets.CollectionsIn(t.tx)
	}
	var out []Problem
	for _, coll := range colls {
		seen := map[string]bool{}
		add := func(id string, err error) {
			if !seen[id] {
				seen[id] = true
				out = append(out, Problem{Kind: "corrupt", Collection: coll, ID: id, Detail: err.Error()})
			}
		}
		if b := buckets.Lookup(t.tx, buckets.PrimaryBucket(coll)); b != nil {
			name := buckets.PrimaryBucket(coll)
			_ = b.ForEach(func(k, v []byte) error {
				if err := buckets.CheckEnvelope(name, k, v); err != nil {
					add(string(k), err)
				}
				return nil
			})
		}
		if b := buckets.Lookup(t.tx, buckets.PartsBucket(coll)); b != nil {
			name := buckets.PartsBucket(coll)
			_ = b.ForEach(func(k, v []byte) error {
				if err := buckets.CheckEnvelope(name, k, v); err != nil {
					id, _, _, perr := buckets.ParsePartKey(k)
					if perr != nil {
						id = string(k)
					}
					add(id, err)
				}
				return nil
			})
		}
	}
	sortProblems(out)
	return out
}
