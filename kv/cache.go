package kv

import (
	"container/list"
	"encoding/binary"
	"encoding/json"
	"sync"

	"github.com/cairnkv/cairn/buckets"
)

// docCache is an LRU cache of decoded documents bounded in bytes of Go
// heap: each entry counts the estimated heap size of the decoded value it
// holds (heapCopy), not the size of the encoded record. An entry
// is valid only for the exact stored record it was decoded from: it keeps
// the record's length and CRC32C (the last four bytes of every value
// envelope), and a lookup compares them with the record read in the
// caller's transaction. Every change of a document, parts included, writes
// a new record with a new revision, so a stale entry can never be
// returned; commits also drop the entries of what they changed.
//
// A document enters the cache on its second miss, not its first (unless
// prefetched): a read that goes through many documents once (a listing,
// an export, the newest sessions of a fresh process) then neither pays
// for a private copy of each nor pushes out what is read again and
// again. seen remembers the keys missed once, up to seenMax of them.
type docCache struct {
	mu    sync.Mutex
	max   int64
	used  int64
	ll    *list.List
	items map[cacheKey]*list.Element
	seen  map[cacheKey]struct{}
	hits  uint64
	miss  uint64
}

// seenMax bounds the keys a docCache remembers as missed once; when full,
// it forgets them all and starts again.
const seenMax = 8192

type cacheKey struct {
	coll, key string
	header    bool
}

// metaCacheKey is the key of the metadata entry of coll's document key
// (see loader.Meta): a bucket name, never a collection's.
func metaCacheKey(coll, key string) cacheKey {
	return cacheKey{coll: string(buckets.MetaBucket(coll)), key: key}
}

type cacheEntry struct {
	k    cacheKey
	sig  uint64 // record length << 32 | CRC32C
	rev  uint64
	doc  any
	size int64
}

func newDocCache(max int64) *docCache {
	return &docCache{max: max, ll: list.New(), items: map[cacheKey]*list.Element{}, seen: map[cacheKey]struct{}{}}
}

// signature identifies a stored record by its length and checksum.
func signature(v []byte) uint64 {
	if len(v) < 4 {
		return 0
	}
	return uint64(len(v))<<32 | uint64(binary.BigEndian.Uint32(v[len(v)-4:]))
}

// get returns a private copy of the cached document if it was decoded from
// the record with signature sig.
func (c *docCache) get(k cacheKey, sig uint64) (any, uint64, bool) {
	if c == nil || sig == 0 {
		return nil, 0, false
	}
	c.mu.Lock()
	el, ok := c.items[k]
	if !ok || el.Value.(*cacheEntry).sig != sig {
		c.miss++
		c.mu.Unlock()
		return nil, 0, false
	}
	c.ll.MoveToFront(el)
	e := el.Value.(*cacheEntry)
	c.hits++
	doc, rev := e.doc, e.rev
	c.mu.Unlock()
	return deepCopy(doc), rev, true
}

// peek is get without the copy: the cached value itself, which the caller
// must only read (the query engine's metadata entries).
func (c *docCache) peek(k cacheKey, sig uint64) (any, bool) {
	if c == nil || sig == 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok || el.Value.(*cacheEntry).sig != sig {
		c.miss++
		return nil, false
	}
	c.ll.MoveToFront(el)
	c.hits++
	return el.Value.(*cacheEntry).doc, true
}

// entryOverhead estimates the heap an entry costs besides its document:
// the list element, the cacheEntry, the map slot and the key's strings.
const entryOverhead = 256

// admit reports whether a document decoded after a miss of k should be
// cached: true on the second miss since k was remembered (see docCache).
func (c *docCache) admit(k cacheKey) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[k]; ok {
		delete(c.seen, k)
		return true
	}
	if len(c.seen) >= seenMax {
		clear(c.seen)
	}
	c.seen[k] = struct{}{}
	return false
}

// put caches a private copy of doc decoded from the record with signature
// sig. The entry counts the copy's estimated heap size.
func (c *docCache) put(k cacheKey, sig, rev uint64, doc any) {
	if c == nil || sig == 0 {
		return
	}
	doc, size := heapCopy(doc, true)
	c.insert(k, sig, rev, doc, size)
}

// putShared caches doc itself, which every reader shares and none may
// change (the query engine's metadata entries, see peek).
func (c *docCache) putShared(k cacheKey, sig uint64, doc any) {
	if c == nil || sig == 0 {
		return
	}
	_, size := heapCopy(doc, false)
	c.insert(k, sig, 0, doc, size)
}

func (c *docCache) insert(k cacheKey, sig, rev uint64, doc any, size int64) {
	size += entryOverhead + roundAlloc(len(k.coll)) + roundAlloc(len(k.key))
	if size > c.max/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.seen, k)
	if el, ok := c.items[k]; ok {
		c.used -= el.Value.(*cacheEntry).size
		c.ll.Remove(el)
	}
	e := &cacheEntry{k: k, sig: sig, rev: rev, doc: doc, size: size}
	c.items[k] = c.ll.PushFront(e)
	c.used += e.size
	for c.used > c.max && c.ll.Len() > 0 {
		old := c.ll.Back()
		oe := old.Value.(*cacheEntry)
		c.ll.Remove(old)
		delete(c.items, oe.k)
		c.used -= oe.size
	}
}

// drop removes a document's entries (header, whole and metadata entry).
func (c *docCache) drop(coll, key string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	for _, k := range []cacheKey{{coll, key, false}, {coll, key, true}, metaCacheKey(coll, key)} {
		if el, ok := c.items[k]; ok {
			c.used -= el.Value.(*cacheEntry).size
			c.ll.Remove(el)
			delete(c.items, k)
		}
	}
	c.mu.Unlock()
}

// clear drops every entry.
func (c *docCache) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.ll.Init()
	clear(c.items)
	clear(c.seen)
	c.used = 0
	c.mu.Unlock()
}

// CacheStats reports the document cache.
type CacheStats struct {
	Entries int `json:"entries"`
	// Bytes is the estimated heap the cached documents hold (Go maps,
	// slices, strings and boxed numbers, plus each entry's bookkeeping).
	Bytes  int64  `json:"bytes"`
	Max    int64  `json:"max_bytes"`
	Hits   uint64 `json:"hits"`
	Misses uint64 `json:"misses"`
}

func (c *docCache) stats() CacheStats {
	if c == nil {
		return CacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Entries: c.ll.Len(), Bytes: c.used, Max: c.max, Hits: c.hits, Misses: c.miss}
}

// deepCopy copies a document-model value so callers may change what they
// get without changing the cache.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = deepCopy(e)
		}
		return a
	case json.Number:
		return x
	default:
		return x // immutable scalars
	}
}

// heapCopy is deepCopy (or, without clone, v itself) that also estimates
// the heap size of the copy: what the Go runtime allocates for its maps,
// slices, strings and the boxes of values stored in interfaces (amd64
// sizes; an estimate, not an account).
func heapCopy(v any, clone bool) (any, int64) {
	switch x := v.(type) {
	case map[string]any:
		var m map[string]any
		if clone {
			m = make(map[string]any, len(x))
		}
		// A map: its header, and per slot a key (string header) and a value
		// (interface) at a load of at most 7/8, plus a control byte.
		size := int64(48) + int64(len(x))*(16+16+1)*8/7
		for k, e := range x {
			c, n := heapCopy(e, clone)
			if clone {
				m[k] = c
			}
			size += n + roundAlloc(len(k))
		}
		if !clone {
			return x, size + 16
		}
		return m, size + 16 // the map's box in its parent interface
	case []any:
		a := x
		if clone {
			a = make([]any, len(x))
		}
		size := roundAlloc(16*len(x)) + 24 + 16 // backing array, boxed header
		for i, e := range x {
			c, n := heapCopy(e, clone)
			if clone {
				a[i] = c
			}
			size += n
		}
		return a, size
	case string:
		return x, 16 + roundAlloc(len(x))
	case json.Number:
		return x, 16 + roundAlloc(len(x))
	case int64, uint64, float64, int, float32, int32, uint32:
		return x, 8
	default:
		return x, 0 // nil, bool: no allocation
	}
}

// roundAlloc rounds an allocation of n bytes up roughly as Go's size
// classes do.
func roundAlloc(n int) int64 {
	switch {
	case n == 0:
		return 0
	case n <= 16:
		return int64((n + 7) &^ 7)
	case n <= 256:
		return int64((n + 15) &^ 15)
	default:
		step := 1 << (bitsLen(n) - 3) // eighths of a power of two
		return int64((n + step - 1) &^ (step - 1))
	}
}

func bitsLen(n int) int {
	l := 0
	for ; n > 0; n >>= 1 {
		l++
	}
	return l
}
