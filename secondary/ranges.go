package secondary

import (
	"bytes"
	"slices"

	"github.com/cairnkv/cairn/buckets"
	bolt "go.etcd.io/bbolt"
)

// vrange is an inclusive range of encoded index values. lo is a value
// encoding or a class tag (the class's first value); hi is a value encoding
// or a class tag, and covers every key it prefixes. nil bounds are open.
type vrange struct{ lo, hi []byte }

// classTag is the first byte of the encodings of a class.
var classTag = [4][]byte{
	buckets.IndexBool(false)[:1],
	buckets.IndexNumber(0)[:1],
	buckets.IndexTime(0)[:1],
	buckets.IndexString("")[:1],
}

// classEnd is the last tag of a class (booleans use two tags).
var classEnd = [4][]byte{
	buckets.IndexBool(true)[:1],
	buckets.IndexNumber(0)[:1],
	buckets.IndexTime(0)[:1],
	buckets.IndexString("")[:1],
}

// keyBelowHi reports whether key k (value + id) is within upper bound hi.
func keyBelowHi(k, hi []byte) bool {
	return hi == nil || bytes.Compare(k, hi) <= 0 || bytes.HasPrefix(k, hi)
}

// ranges returns the value ranges of index d that hold every key of a
// document matching f (a superset: the engine rechecks), sorted and
// disjoint.
func (f *cfilter) ranges(d *IndexDef) []vrange {
	var out []vrange
	switch f.Op {
	case OpEq, OpIn, OpContains:
		for i := range f.vals {
			for c := range 4 {
				if f.vals[i].ok[c] {
					e := f.vals[i].v[c].encode(d.Folded)
					out = append(out, vrange{e, e})
				}
			}
		}
	case OpLt, OpLe, OpGt, OpGe:
		q := &f.vals[0]
		for c := range 4 {
			if !q.ok[c] {
				continue
			}
			// Bounds stay inclusive: numbers are encoded as float64,
			// so an exact bound may share its encoding with values on
			// both sides.
			e := q.v[c].encode(false)
			if f.Op == OpLt || f.Op == OpLe {
				out = append(out, vrange{classTag[c], e})
			} else {
				out = append(out, vrange{e, classEnd[c]})
			}
		}
	}
	return normalizeRanges(out)
}

// hiCompare orders upper bounds by the values they cover.
func hiCompare(a, b []byte) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	case bytes.Equal(a, b):
		return 0
	case bytes.HasPrefix(a, b):
		return -1 // b covers everything a covers
	case bytes.HasPrefix(b, a):
		return 1
	}
	return bytes.Compare(a, b)
}

func loCompare(a, b []byte) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return bytes.Compare(a, b)
}

func (r vrange) empty() bool {
	return r.lo != nil && r.hi != nil && !(bytes.Compare(r.lo, r.hi) <= 0 || bytes.HasPrefix(r.lo, r.hi))
}

// normalizeRanges sorts rs and merges overlapping ranges.
func normalizeRanges(rs []vrange) []vrange {
	rs = slices.DeleteFunc(rs, vrange.empty)
	slices.SortFunc(rs, func(a, b vrange) int { return loCompare(a.lo, b.lo) })
	var out []vrange
	for _, r := range rs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			// Overlapping when r.lo is within last.
			if r.lo == nil || keyBelowHi(r.lo, last.hi) {
				if hiCompare(r.hi, last.hi) > 0 {
					last.hi = r.hi
				}
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// intersectRanges returns the values in both a and b.
func intersectRanges(a, b []vrange) []vrange {
	var out []vrange
	for _, x := range a {
		for _, y := range b {
			r := x
			if loCompare(y.lo, r.lo) > 0 {
				r.lo = y.lo
			}
			if hiCompare(y.hi, r.hi) < 0 {
				r.hi = y.hi
			}
			if !r.empty() {
				out = append(out, r)
			}
		}
	}
	return normalizeRanges(out)
}

// prefixEnd returns the smallest key greater than every key with prefix p
// (nil if none).
func prefixEnd(p []byte) []byte {
	e := slices.Clone(p)
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] < 0xFF {
			e[i]++
			return e[:i+1]
		}
	}
	return nil
}

// rangeCursor walks the keys of b within ranges, ascending or descending.
type rangeCursor struct {
	c      *bolt.Cursor
	ranges []vrange
	desc   bool
	i      int // current range
	k      []byte
	read   int // keys read
}

func newRangeCursor(b *bolt.Bucket, ranges []vrange, desc bool) *rangeCursor {
	rc := &rangeCursor{c: b.Cursor(), ranges: ranges, desc: desc, i: -1}
	return rc
}

// next returns the next key within the ranges, or nil at the end.
func (rc *rangeCursor) next() []byte {
	for {
		if rc.i >= 0 && rc.k != nil {
			if rc.desc {
				rc.k, _ = rc.c.Prev()
			} else {
				rc.k, _ = rc.c.Next()
			}
		} else {
			// Position on the next range.
			rc.i++
			if rc.i >= len(rc.ranges) {
				return nil
			}
			r := rc.ranges[rc.i]
			if rc.desc {
				r = rc.ranges[len(rc.ranges)-1-rc.i]
				if r.hi == nil {
					rc.k, _ = rc.c.Last()
				} else if end := prefixEnd(r.hi); end == nil {
					rc.k, _ = rc.c.Last()
				} else {
					rc.k, _ = rc.c.Seek(end)
					if rc.k == nil {
						rc.k, _ = rc.c.Last()
					} else {
						rc.k, _ = rc.c.Prev()
					}
				}
			} else if r.lo == nil {
				rc.k, _ = rc.c.First()
			} else {
				rc.k, _ = rc.c.Seek(r.lo)
			}
		}
		if rc.k == nil {
			rc.k = nil
			continue
		}
		r := rc.ranges[rc.i]
		if rc.desc {
			r = rc.ranges[len(rc.ranges)-1-rc.i]
		}
		var in bool
		if rc.desc {
			in = r.lo == nil || bytes.Compare(rc.k, r.lo) >= 0
		} else {
			in = keyBelowHi(rc.k, r.hi)
		}
		if !in {
			rc.k = nil
			continue
		}
		rc.read++
		return rc.k
	}
}

// countRanges counts the keys of b within ranges, stopping at limit
// (limit <= 0: no limit). It returns the count and the keys read.
func countRanges(b *bolt.Bucket, ranges []vrange, limit int) int {
	if b == nil {
		return 0
	}
	rc := newRangeCursor(b, ranges, false)
	n := 0
	for k := rc.next(); k != nil; k = rc.next() {
		n++
		if limit > 0 && n >= limit {
			break
		}
	}
	return n
}

// allRanges covers every value.
var allRanges = []vrange{{nil, nil}}

// valueLen returns the length of the encoded value at the start of index
// key k (the rest is the id), or -1 if k is malformed. It follows the
// encodings of buckets.Index*: one byte for booleans, nine for numbers and
// instants, and for strings the bytes up to the 00 01 terminator (00 FF
// escapes a NUL). TestValueLen checks it against buckets.SplitIndexKey.
func valueLen(k []byte) int {
	if len(k) == 0 {
		return -1
	}
	switch k[0] {
	case classTag[classBool][0], classEnd[classBool][0]:
		return 1
	case classTag[classNumber][0], classTag[classTime][0]:
		if len(k) < 9 {
			return -1
		}
		return 9
	case classTag[classString][0]:
		for i := 1; i+1 < len(k); i++ {
			if k[i] == 0 {
				switch k[i+1] {
				case 1:
					return i + 2
				case 0xFF:
					i++
				default:
					return -1
				}
			}
		}
	}
	return -1
}

// splitKey splits an index key into its value and id without copying; an
// id that is empty is malformed.
func splitKey(k []byte) (val, id []byte, ok bool) {
	n := valueLen(k)
	if n < 0 || n >= len(k) {
		return nil, nil, false
	}
	return k[:n], k[n:], true
}
