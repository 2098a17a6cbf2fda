package secondary

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	bolt "go.etcd.io/bbolt"
)

// Keys this package keeps in buckets.SysBucket. All start with sysPrefix.
const sysPrefix = "secondary/"

// docsKey holds the number of metadata entries (= documents) of coll:
// 8 bytes big-endian.
func docsKey(coll string) []byte { return []byte(sysPrefix + "docs/" + coll) }

// keysKey holds the number of keys in index name of coll: 8 bytes
// big-endian.
func keysKey(coll, name string) []byte { return []byte(sysPrefix + "keys/" + coll + "/" + name) }

// multiKey holds the number of documents with more than one key in index
// name of coll: while it is 0, ranges of several filters on the index may
// be intersected (see plan.go). 8 bytes big-endian.
func multiKey(coll, name string) []byte { return []byte(sysPrefix + "multi/" + coll + "/" + name) }

// fpKey holds the fingerprint of index name of coll (see Sync).
func fpKey(coll, name string) []byte { return []byte(sysPrefix + "index/" + coll + "/" + name) }

// metaKey holds the metadata derivation version of coll (see Sync).
func metaKey(coll string) []byte { return []byte(sysPrefix + "meta/" + coll) }

var emptyValue = []byte{}

// Apply keeps c's metadata bucket and every declared index bucket equal
// to what new derives, removing what old derived. old is nil for a create,
// new is nil for a delete. It is called inside the caller's read-write
// transaction for every change of a document in any collection; singletons
// have neither metadata nor indexes and are ignored. Buckets are created on
// demand. The document and key counts in the sys bucket change with them.
//
// Apply never trusts old alone: a key new derives is written if absent
// even when old derived it too, and counts move only by keys actually
// added or removed.
func Apply(tx *bolt.Tx, c *schema.Collection, id string, old, new *DocState) error {
	if !c.HasMeta() || (old == nil && new == nil) {
		return nil
	}
	coll := c.Name
	if err := schema.CheckID(id); err != nil {
		return fmt.Errorf("cairn: apply %s: %w", coll, err)
	}
	cc := compiled(c)
	sysb, err := bucketFor(tx, buckets.SysBucket)
	if err != nil {
		return err
	}
	sys := newCounts(sysb)
	key := []byte(id)
	mb := buckets.Lookup(tx, cc.meta)
	if mb == nil {
		if mb, err = buckets.Ensure(tx, cc.meta); err != nil {
			return err
		}
		// The collection's first document (a user collection's): its
		// summaries are of this derivation from the start, as Sync
		// records, so that the next writable open does not derive them
		// again from the documents (and, from damaged pages, lose the
		// summaries of what they hide). Documents stored without
		// summaries (a bucket lost) are left to Sync.
		if onlyDocument(tx, coll, key) {
			if err := sysb.Put(metaKey(coll), []byte(metaVersion)); err != nil {
				return err
			}
		}
	}
	existed := mb.Get(key) != nil
	switch {
	case new != nil:
		v, err := buckets.EncodeValue(Summary(c, id, new))
		if err != nil {
			return fmt.Errorf("cairn: summary of %s %q: %w", coll, id, err)
		}
		if err := mb.Put(key, v); err != nil {
			return err
		}
		if !existed {
			if err := sys.add(cc.docs, 1, mb); err != nil {
				return err
			}
		}
	case existed:
		if err := mb.Delete(key); err != nil {
			return err
		}
		if err := sys.add(cc.docs, -1, mb); err != nil {
			return err
		}
	}
	for i := range cc.idx {
		if err := applyIndex(tx, sys, &cc.idx[i], id, old, new); err != nil {
			return err
		}
	}
	return nil
}

// onlyDocument reports whether coll's primary bucket holds no document
// but key's.
func onlyDocument(tx *bolt.Tx, coll string, key []byte) bool {
	b := buckets.Lookup(tx, buckets.PrimaryBucket(coll))
	if b == nil {
		return true
	}
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if !bytes.Equal(k, key) {
			return false
		}
	}
	return true
}

// bucketFor returns the bucket name of tx, creating it if needed (an
// existing one is found without CreateBucketIfNotExists's copy of the
// name).
func bucketFor(tx *bolt.Tx, name []byte) (*bolt.Bucket, error) {
	if b := buckets.Lookup(tx, name); b != nil {
		return b, nil
	}
	return buckets.Ensure(tx, name)
}

// applyIndex moves index ci from what old derives to what new derives.
func applyIndex(tx *bolt.Tx, sys *counts, ci *compiledIndex, id string, old, new *DocState) error {
	oldK := indexKeys(ci, id, old)
	newK := indexKeys(ci, id, new)
	if len(oldK) == 0 && len(newK) == 0 {
		return nil
	}
	b, err := bucketFor(tx, ci.bucket)
	if err != nil {
		return err
	}
	cur := b.Cursor() // one cursor for every lookup: its stack is reused
	has := func(k []byte) bool {
		ck, _ := cur.Seek(k)
		return bytes.Equal(ck, k)
	}
	delta := int64(0)
	// Both lists are sorted: remove keys only old derives.
	j := 0
	for _, k := range oldK {
		for j < len(newK) && bytes.Compare(newK[j], k) < 0 {
			j++
		}
		if j < len(newK) && bytes.Equal(newK[j], k) {
			continue
		}
		if has(k) {
			if err := b.Delete(k); err != nil {
				return err
			}
			delta--
			if ci.def.Stats {
				if err := sys.hist(ci.hist, k, -1); err != nil {
					return err
				}
			}
		}
	}
	for _, k := range newK {
		if !has(k) {
			if err := b.Put(k, emptyValue); err != nil {
				return err
			}
			delta++
			if ci.def.Stats {
				if err := sys.hist(ci.hist, k, 1); err != nil {
					return err
				}
			}
		}
	}
	if m := boolInt(len(newK) > 1) - boolInt(len(oldK) > 1); m != 0 {
		// A missing count stays missing (the planner then assumes
		// several keys per document); Sync recomputes it.
		if n, ok := sys.get(ci.multi); ok {
			if err := setCount(sys.b, ci.multi, n+m); err != nil {
				return err
			}
		}
	}
	if delta != 0 {
		return sys.add(ci.keys, delta, b)
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func getCount(sys *bolt.Bucket, key []byte) (int64, bool) {
	if sys == nil {
		return 0, false
	}
	v := sys.Get(key)
	if len(v) != 8 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(v)), true
}

func setCount(sys *bolt.Bucket, key []byte, n int64) error {
	if n < 0 {
		n = 0
	}
	return sys.Put(key, binary.BigEndian.AppendUint64(nil, uint64(n)))
}

// counts reads and writes the counts of the sys bucket b for Apply and
// Remove, with one cursor for every read (its stack is reused) and one
// buffer for histogram keys (bbolt copies the keys it stores).
type counts struct {
	b   *bolt.Bucket
	cur *bolt.Cursor
	buf []byte
}

func newCounts(sys *bolt.Bucket) *counts { return &counts{b: sys, cur: sys.Cursor()} }

// get is getCount through the shared cursor.
func (c *counts) get(key []byte) (int64, bool) {
	k, v := c.cur.Seek(key)
	if !bytes.Equal(k, key) || len(v) != 8 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(v)), true
}

// add adds delta to the count under key. A missing count (a store
// written before counts existed) is recomputed from b, which already holds
// the change.
func (c *counts) add(key []byte, delta int64, b *bolt.Bucket) error {
	n, ok := c.get(key)
	if !ok {
		return setCount(c.b, key, int64(countKeys(b)))
	}
	return setCount(c.b, key, n+delta)
}

// countKeys counts the keys of b (nil: 0).
func countKeys(b *bolt.Bucket) int {
	if b == nil {
		return 0
	}
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

// Remove deletes what c's metadata and indexes hold for document id
// without the document that derived them: for a primary value that can no
// longer be decoded (errors.Is(err, buckets.ErrCorrupt)), which Apply
// cannot be given as old. The metadata entry is deleted by key, and every
// declared index bucket is scanned for the keys that end in id (an index
// key is an encoded value followed by the id, buckets.SplitIndexKey). The
// document, key, several-keys and histogram counts move by what was
// removed. It returns the metadata entry it deleted (nil if there was
// none): the caller may take what it summarises (an attachment's hash)
// from it.
func Remove(tx *bolt.Tx, c *schema.Collection, id string) (meta []byte, err error) {
	if !c.HasMeta() {
		return nil, nil
	}
	coll := c.Name
	if err := schema.CheckID(id); err != nil {
		return nil, fmt.Errorf("cairn: remove %s: %w", coll, err)
	}
	sysb, err := buckets.Ensure(tx, buckets.SysBucket)
	if err != nil {
		return nil, err
	}
	sys := newCounts(sysb)
	key := []byte(id)
	if mb := buckets.Lookup(tx, buckets.MetaBucket(coll)); mb != nil {
		if v := mb.Get(key); v != nil {
			meta = bytes.Clone(v)
			if err := mb.Delete(key); err != nil {
				return nil, err
			}
			if err := sys.add(docsKey(coll), -1, mb); err != nil {
				return nil, err
			}
		}
	}
	for i := range c.Indexes {
		d := &c.Indexes[i]
		b := buckets.Lookup(tx, buckets.IndexBucket(coll, d.Name))
		if b == nil {
			continue
		}
		var found [][]byte
		cur := b.Cursor()
		for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
			if _, kid, err := buckets.SplitIndexKey(k); err == nil && kid == id {
				found = append(found, bytes.Clone(k))
			}
		}
		if len(found) == 0 {
			continue
		}
		for _, k := range found {
			if err := b.Delete(k); err != nil {
				return nil, err
			}
			if d.Stats {
				if err := sys.hist(histPrefix(coll, d.Name), k, -1); err != nil {
					return nil, err
				}
			}
		}
		if len(found) > 1 {
			if n, ok := sys.get(multiKey(coll, d.Name)); ok {
				if err := setCount(sysb, multiKey(coll, d.Name), n-1); err != nil {
					return nil, err
				}
			}
		}
		if err := sys.add(keysKey(coll, d.Name), -int64(len(found)), b); err != nil {
			return nil, err
		}
	}
	return meta, nil
}
