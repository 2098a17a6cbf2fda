package secondary

import (
	"bytes"

	"github.com/cairnkv/cairn/buckets"
	bolt "go.etcd.io/bbolt"
)

// Histograms. An index declared with Stats keeps, in the sys bucket, the
// number of its keys per value bucket: histPrefix(coll, index) followed by
// statPrefix(value) → 8-byte count. Numbers and instants are bucketed by
// their first 4 bytes after the tag (instants: about 50 days), strings and
// booleans by their whole value. Apply, Rebuild and Sync keep histograms
// exact; Verify checks them.

func histPrefix(coll, name string) []byte {
	return []byte(sysPrefix + "hist/" + coll + "/" + name + "/")
}

// statPrefix returns the histogram bucket of an encoded index value.
func statPrefix(val []byte) []byte {
	if len(val) > 5 && (val[0] == classTag[classNumber][0] || val[0] == classTag[classTime][0]) {
		return val[:5]
	}
	return val
}

func histKey(coll, name string, val []byte) []byte {
	return append(histPrefix(coll, name), statPrefix(val)...)
}

// hist adds delta to the bucket of index key k in the histogram whose
// keys start with prefix (histPrefix).
func (c *counts) hist(prefix, k []byte, delta int64) error {
	val, _, err := buckets.SplitIndexKey(k)
	if err != nil {
		return err
	}
	c.buf = append(append(c.buf[:0], prefix...), statPrefix(val)...)
	n, _ := c.get(c.buf)
	if n+delta <= 0 {
		return c.b.Delete(c.buf)
	}
	return setCount(c.b, c.buf, n+delta)
}

// dropHist deletes the histogram of an index.
func dropHist(sys *bolt.Bucket, coll, name string) error {
	p := histPrefix(coll, name)
	var keys [][]byte
	c := sys.Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := sys.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// histogram computes the histogram of sorted distinct keys.
func histogram(keys [][]byte) (prefixes [][]byte, counts []int64) {
	for _, k := range keys {
		val, _, err := buckets.SplitIndexKey(k)
		if err != nil {
			continue
		}
		p := statPrefix(val)
		if n := len(prefixes); n > 0 && bytes.Equal(prefixes[n-1], p) {
			counts[n-1]++
			continue
		}
		prefixes = append(prefixes, bytes.Clone(p))
		counts = append(counts, 1)
	}
	return prefixes, counts
}

// maxHistRead bounds the histogram entries read for one estimate.
const maxHistRead = 4096

// histEstimate sums the histogram buckets overlapping ranges; ok is false
// when the histogram is missing or too large to read.
func histEstimate(sys *bolt.Bucket, coll, name string, ranges []vrange) (int, bool) {
	if sys == nil {
		return 0, false
	}
	p := histPrefix(coll, name)
	c := sys.Cursor()
	n, read := 0, 0
	for _, r := range ranges {
		var k, v []byte
		if r.lo == nil {
			k, v = c.Seek(p)
		} else {
			k, v = c.Seek(append(bytes.Clone(p), statPrefix(r.lo)...))
		}
		var hi []byte
		if r.hi != nil {
			hi = append(bytes.Clone(p), statPrefix(r.hi)...)
		}
		for ; k != nil && bytes.HasPrefix(k, p) && keyBelowHi(k, hi); k, v = c.Next() {
			if read++; read > maxHistRead {
				return 0, false
			}
			if len(v) == 8 {
				n += int(int64(bytesToUint(v)))
			}
		}
	}
	return n, true
}

func bytesToUint(b []byte) uint64 {
	var n uint64
	for _, x := range b {
		n = n<<8 | uint64(x)
	}
	return n
}
