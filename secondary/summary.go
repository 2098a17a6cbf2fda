package secondary

import (
	"math"

	"github.com/cairnkv/cairn/schema"
)

// Summary returns the metadata entry Apply stores in buckets.MetaBucket
// for document id of c in version st (encoded with buckets.EncodeValue):
// the id, the fields c.Summary lists copied verbatim from the document (a
// missing or null field is absent), the derived fields c.Derived declares,
// and always rev and size (the record's revision and logical size). Values
// alias st.Doc: encode before changing it.
func Summary(c *schema.Collection, id string, st *DocState) map[string]any {
	m := make(map[string]any, 3+len(c.Summary)+len(c.Derived))
	m["id"], m["rev"], m["size"] = id, modelUint(st.Rev), modelUint(st.Size)
	doc, _ := st.Doc.(map[string]any)
	for _, f := range c.Summary {
		if v, ok := doc[f]; ok && v != nil {
			m[f] = v
		}
	}
	for _, d := range c.Derived {
		if v, ok := d.Value(doc, st.ArrayParts); ok {
			m[d.Name] = v
		}
	}
	return m
}

// modelUint returns n as the value model holds it: int64 up to MaxInt64.
func modelUint(n uint64) any {
	if n <= math.MaxInt64 {
		return int64(n)
	}
	return n
}
