package secondary

import (
	"bytes"
	"slices"

	"github.com/cairnkv/cairn/buckets"
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
func indexValues(coll string, d *IndexDef, ref *fieldRef, doc any) [][]byte {
	if doc == nil {
		return nil
	}
	var out [][]byte
	ref.scalars(doc, func(s scalar) {
		out = append(out, s.encode(d.Folded))
	})
	if len(out) < 2 {
		return out
	}
	slices.SortFunc(out, bytes.Compare)
	return slices.CompactFunc(out, bytes.Equal)
}

// indexKeys returns the keys index d holds for document id in version st
// (nil st: none), sorted and distinct.
func indexKeys(coll string, d *IndexDef, ref *fieldRef, id string, st *DocState) [][]byte {
	if st == nil {
		return nil
	}
	vals := indexValues(coll, d, ref, st.Doc)
	for i, v := range vals {
		vals[i] = buckets.IndexKey(v, id)
	}
	return vals
}

// compiled index declarations, with their resolved fields.
type compiledIndex struct {
	def IndexDef
	ref fieldRef
}

var compiledIndexes = func() map[string][]compiledIndex {
	m := map[string][]compiledIndex{}
	for coll, defs := range declared {
		for _, d := range defs {
			m[coll] = append(m[coll], compiledIndex{def: d, ref: pathsRef(coll, d.Field, d.Paths)})
		}
	}
	return m
}()
