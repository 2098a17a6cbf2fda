package secondary

import (
	"bytes"
	"slices"

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
	ci.ref.scalars(doc, func(s scalar) {
		out = append(out, s.encode(ci.def.Folded))
	})
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
	def IndexDef
	ref fieldRef
}

// compile resolves the indexes of c.
func compile(c *schema.Collection) []compiledIndex {
	out := make([]compiledIndex, len(c.Indexes))
	for i, d := range c.Indexes {
		out[i] = compiledIndex{def: d, ref: pathsRef(c, d.Field, d.Paths)}
	}
	return out
}
