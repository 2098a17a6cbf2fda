package secondary

import (
	"slices"

	"github.com/cairnkv/cairn/buckets"
)

// forceNoCompound, given to run as the forced plan, plans as if there
// were no compound index (benchmarks compare with it).
const forceNoCompound = "no-compound"

// maxCompoundRanges bounds the ranges of one compound index use (the
// product of the equality values of its prefix fields).
const maxCompoundRanges = 256

// compoundUses returns one use per compound index of the collection that
// the filters can drive: equality (=, in, contains) on a prefix of its
// fields, then optionally a range on the next field. A document lacking
// one of the fields is not in a compound index, so an index is usable only
// when every one of its fields has a filter that requires a value there
// (=, in, contains, <, <=, >, >=); the filters past the range field only
// make that so, and the engine rechecks them.
func (e *engine) compoundUses() []*indexUse {
	var out []*indexUse
	for i := range e.coll.Indexes {
		d := &e.coll.Indexes[i]
		if !d.Compound() {
			continue
		}
		if u := e.compoundUse(d); u != nil {
			out = append(out, u)
		}
	}
	return out
}

func (e *engine) compoundUse(d *IndexDef) *indexUse {
	// A store a read-only handle opened may predate the index (a
	// built-in added since, not yet backfilled): use it only once Sync
	// has built it.
	if e.sys == nil || string(e.sys.Get(fpKey(e.coll.Name, d.Name))) != fingerprint(e.coll, d) {
		return nil
	}
	// The filters on each field that require a value there.
	per := make([][]*cfilter, len(d.Fields))
	for _, f := range e.filters {
		if f.Op == OpOr || !f.indexable(d) {
			continue
		}
		if j := slices.Index(d.Fields, f.Field); j >= 0 {
			per[j] = append(per[j], f)
		}
	}
	for _, fs := range per {
		if len(fs) == 0 {
			return nil
		}
	}
	single := e.singleValued(d)
	u := &indexUse{def: d}
	prefixes := [][]byte{nil} // raw concatenated encodings of the equality prefix
	var last []vrange         // ranges of the range field, nil: none
	for _, fs := range per {
		// Several filters on one field may each match a different
		// element of an array: intersect them only when no document has
		// more than one key.
		r := fs[0].ranges(d)
		u.filters = append(u.filters, fs[0])
		if single {
			for _, f := range fs[1:] {
				r = intersectRanges(r, f.ranges(d))
				u.filters = append(u.filters, f)
			}
		}
		if len(r) == 0 {
			return u // no value can match: an empty use
		}
		points := true
		for _, x := range r {
			if x.lo == nil || x.hi == nil || string(x.lo) != string(x.hi) {
				points = false
			}
		}
		if !points {
			last = r
			break
		}
		if len(prefixes)*len(r) > maxCompoundRanges {
			break // the prefix so far still bounds the keys
		}
		next := make([][]byte, 0, len(prefixes)*len(r))
		for _, p := range prefixes {
			for _, x := range r {
				next = append(next, append(slices.Clip(p), x.lo...))
			}
		}
		prefixes = next
	}
	if last == nil {
		last = []vrange{{nil, nil}}
	}
	for _, p := range prefixes {
		for _, r := range last {
			u.ranges = append(u.ranges, vrange{lo: compoundBound(p, r.lo), hi: compoundBound(p, r.hi)})
		}
	}
	u.ranges = normalizeRanges(u.ranges)
	return u
}

// compoundBound is the bound of compound keys whose fields start with the
// encodings prefix followed by the value bound b (nil: any value): a
// string encoding without its terminator, so that it covers, as an upper
// bound, every key it prefixes (vrange).
func compoundBound(prefix, b []byte) []byte {
	raw := append(slices.Clip(prefix), b...)
	s := buckets.IndexString(string(raw))
	return s[:len(s)-2]
}
