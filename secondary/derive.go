package secondary

import (
	"bytes"
	"slices"
	"sync"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
)

// DocState is one version of a document as the write path sees it: the
// header document without its part fields (for sessions: no screenshots,
// audioSegments, contextItems, summary, audioInsights, canvasSpec,
// fullTranscription, audioKeyMoments), plus part counts. Indexes are
// declared only on header fields.
type DocState struct {
	Doc        any
	Rev, Size  uint64
	ArrayParts map[string]uint32
}

// indexValues returns the distinct encoded values d derives from doc,
// sorted.
func indexValues(ci *compiledIndex, doc any) [][]byte {
	if doc == nil {
		return nil
	}
	var out [][]byte
	if ci.refs != nil {
		out = compoundValues(ci, doc)
	} else {
		ci.ref.scalars(doc, func(s scalar) {
			out = append(out, s.encode(ci.def.Folded))
		})
	}
	if len(out) < 2 {
		return out
	}
	slices.SortFunc(out, bytes.Compare)
	return slices.CompactFunc(out, bytes.Equal)
}

// indexKeys returns the keys index ci holds for document id in version st
// (nil st: none), sorted and distinct.
func indexKeys(ci *compiledIndex, id string, st *DocState) [][]byte {
	if st == nil {
		return nil
	}
	vals := indexValues(ci, st.Doc)
	for i, v := range vals {
		vals[i] = buckets.IndexKey(v, id)
	}
	return vals
}

// compiledIndex is an index declaration with its resolved field. An
// index holds every scalar of its field whatever its declared type (so
// that an indexed query answers exactly what a scan does); TypeTime makes
// the field's paths instants (schema.Index).
type compiledIndex struct {
	def  IndexDef
	ref  fieldRef
	refs []fieldRef // compound: one per field
	// The names Apply writes under, computed once per declaration
	// (compiled): the index bucket and its sys keys.
	bucket, keys, multi, hist []byte
}

// compoundValues returns the values of compound index ci for doc: for
// every combination of one scalar of each field, the concatenated
// encodings wrapped as one string encoding (buckets.IndexString escapes
// NUL bytes and terminates, which keeps byte order: a key compares as its
// fields do, field by field). A document lacking a field has none; one
// with arrays has the product of its fields' value counts.
func compoundValues(ci *compiledIndex, doc any) [][]byte {
	combos := [][]byte{nil}
	for i := range ci.refs {
		var vals [][]byte
		ci.refs[i].scalars(doc, func(s scalar) { vals = append(vals, s.encode(false)) })
		if len(vals) == 0 {
			return nil
		}
		slices.SortFunc(vals, bytes.Compare)
		vals = slices.CompactFunc(vals, bytes.Equal)
		next := make([][]byte, 0, len(combos)*len(vals))
		for _, c := range combos {
			for _, v := range vals {
				next = append(next, append(slices.Clip(c), v...))
			}
		}
		combos = next
	}
	for i, c := range combos {
		combos[i] = buckets.IndexString(string(c))
	}
	return combos
}

// compile resolves the indexes of c.
func compile(c *schema.Collection) []compiledIndex {
	out := make([]compiledIndex, len(c.Indexes))
	for i, d := range c.Indexes {
		out[i] = compiledIndex{def: d, ref: pathsRef(c, d.Field, d.Paths),
			bucket: buckets.IndexBucket(c.Name, d.Name), keys: keysKey(c.Name, d.Name),
			multi: multiKey(c.Name, d.Name), hist: histPrefix(c.Name, d.Name)}
		if d.Compound() {
			for _, f := range d.Fields {
				out[i].refs = append(out[i].refs, pathsRef(c, f, []string{f}))
			}
		}
	}
	return out
}

// compiledColl is what Apply needs of a collection declaration, resolved
// once: its indexes and the names of its metadata bucket and count.
type compiledColl struct {
	src  []schema.Index // the declaration's Indexes, to tell a changed one
	idx  []compiledIndex
	meta []byte // buckets.MetaBucket
	docs []byte // docsKey
}

// compiledCache maps a *schema.Collection to its *compiledColl.
// Declarations are immutable once looked up (schema.Lookup's results are
// shared), so each is resolved once instead of on every write; the cache is
// emptied when it grows past maxCompiled (a process that declares indexes
// over and over gets a new declaration each time).
var compiledCache struct {
	sync.Mutex
	m map[*schema.Collection]*compiledColl
}

const maxCompiled = 1024

// compiled returns c's resolved indexes and names, shared: callers must not
// modify them.
func compiled(c *schema.Collection) *compiledColl {
	compiledCache.Lock()
	defer compiledCache.Unlock()
	if cc := compiledCache.m[c]; cc != nil && sameIndexes(cc.src, c.Indexes) {
		return cc
	}
	if compiledCache.m == nil || len(compiledCache.m) >= maxCompiled {
		compiledCache.m = map[*schema.Collection]*compiledColl{}
	}
	cc := &compiledColl{src: c.Indexes, idx: compile(c), meta: buckets.MetaBucket(c.Name), docs: docsKey(c.Name)}
	compiledCache.m[c] = cc
	return cc
}

// sameIndexes reports whether a and b are the same slice (a declaration
// whose Indexes were replaced is resolved again).
func sameIndexes(a, b []schema.Index) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
