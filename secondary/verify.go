package secondary

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	bolt "go.etcd.io/bbolt"
)

// maxProblemsPerKind bounds the problems Verify lists per collection,
// index and kind; the rest are summed up in one more problem.
const maxProblemsPerKind = 50

// Loader gives the query engine (and Verify) documents by id inside the
// same read transaction. Header returns the document without its parts,
// Full the assembled document. Both return (nil, nil) for an absent
// document; a damaged one is an error (errors.Is(err, buckets.ErrCorrupt)),
// never a silent miss.
type Loader interface {
	Header(id string) (map[string]any, error)
	Full(id string) (map[string]any, error)
}

// MetaLoader is an optional interface of the Loader given to Run. Meta
// returns the value of metadata entry v stored under id, decoded as
// buckets.DecodeValue(buckets.MetaBucket(coll), id, v) decodes it (with the
// same errors), possibly from a cache: the value may be shared, and Run
// only reads it. Run reads only the top-level members member accepts, so
// a loader that keeps nothing may decode only those
// (buckets.DecodeMembers).
type MetaLoader interface {
	Meta(id string, v []byte, member func(name string) bool) (any, error)
}

// CollectionLoader is an optional interface of the Loader given to Verify.
// A Loader's ids are those of one collection, while Verify walks them all:
// when l implements CollectionLoader, Verify reads each collection's headers
// through l.ForCollection(coll); otherwise it decodes the primary records
// itself (Record.Doc is the header), which checks the derived data against
// the stored bytes directly.
type CollectionLoader interface {
	ForCollection(coll string) Loader
}

// Verify checks that every metadata entry and every index entry equals what
// a full scan of the primary data derives: nothing missing, nothing extra,
// nothing stale. Kinds: "metadata-missing", "metadata-extra",
// "metadata-stale", "index-missing", "index-extra" (a key no document
// derives, or a bucket of an undeclared index), "index-stale" (fingerprint
// differs from the declaration: Sync has not run), "count-stale" (a stored
// document, key or histogram count is wrong), "unreadable" (a primary
// record or header that cannot be decoded: its derived entries are not
// judged). l may be nil (see CollectionLoader). At most 50 problems are
// listed per collection, index and kind, then one saying more were found.
func Verify(tx *bolt.Tx, s *schema.Schema, l Loader) []buckets.Problem {
	v := &verifier{counts: map[string]int{}}
	cs, _ := derivedColls(tx, s, nil)
	for _, c := range cs {
		var cl Loader
		if x, ok := l.(CollectionLoader); ok && c.Kind == schema.Entity {
			// Extras need not be objects, which a Loader cannot return;
			// their summaries hold no document field anyway.
			cl = x.ForCollection(c.Name)
		}
		v.collection(tx, c, cl)
	}
	return v.problems
}

type verifier struct {
	problems []buckets.Problem
	counts   map[string]int // per "coll\x00scope\x00kind"
}

func (v *verifier) add(kind, coll, scope, id, detail string) {
	k := coll + "\x00" + scope + "\x00" + kind
	v.counts[k]++
	switch n := v.counts[k]; {
	case n <= maxProblemsPerKind:
		v.problems = append(v.problems, buckets.Problem{Kind: kind, Collection: coll, ID: id, Detail: detail})
	case n == maxProblemsPerKind+1:
		v.problems = append(v.problems, buckets.Problem{Kind: kind, Collection: coll, Detail: fmt.Sprintf("%s: more problems of this kind not listed", scope)})
	}
}

func (v *verifier) collection(tx *bolt.Tx, c *schema.Collection, l Loader) {
	coll := c.Name
	sys := buckets.Lookup(tx, buckets.SysBucket)
	idx := compile(c)
	expected := make([][][]byte, len(idx))
	multi := make([]int, len(idx))
	primary := map[string]bool{}    // ids with a primary record
	unreadable := map[string]bool{} // ids whose document could not be read
	mb := buckets.Lookup(tx, buckets.MetaBucket(coll))
	metaName := buckets.MetaBucket(coll)
	if pb := buckets.Lookup(tx, buckets.PrimaryBucket(coll)); pb != nil {
		name := buckets.PrimaryBucket(coll)
		cur := pb.Cursor()
		for k, raw := cur.First(); k != nil; k, raw = cur.Next() {
			if raw == nil {
				continue
			}
			id := string(k)
			primary[id] = true
			useLoader := l != nil
			rec, err := buckets.DecodeRecord(name, k, raw, !useLoader)
			var doc any
			if err == nil {
				doc = rec.Doc
				if useLoader {
					var h map[string]any
					h, err = l.Header(id)
					if err == nil && h == nil {
						err = errors.New("the loader does not find it")
					}
					doc = h
				}
			}
			if err != nil {
				unreadable[id] = true
				v.add("unreadable", coll, "primary", id, fmt.Sprintf("document cannot be read, its metadata and index entries are not checked: %v", err))
				continue
			}
			st := &DocState{Doc: doc, Rev: rec.Rev, Size: rec.Size, ArrayParts: rec.ArrayParts}
			want, err := buckets.MarshalValue(Summary(c, id, st))
			if err != nil {
				v.add("unreadable", coll, "primary", id, fmt.Sprintf("summary cannot be encoded: %v", err))
				continue
			}
			var stored []byte
			if mb != nil {
				stored = mb.Get(k)
			}
			if stored == nil {
				v.add("metadata-missing", coll, "metadata", id, "no metadata entry")
			} else if got, err := buckets.DecodeValue(metaName, k, stored); err != nil {
				v.add("metadata-stale", coll, "metadata", id, fmt.Sprintf("metadata entry cannot be decoded: %v", err))
			} else if gb, err := buckets.MarshalValue(got); err != nil || !bytes.Equal(gb, want) {
				v.add("metadata-stale", coll, "metadata", id, "metadata entry differs from the summary of the document")
			}
			for i := range idx {
				ks := indexKeys(&idx[i], id, st)
				if len(ks) > 1 {
					multi[i]++
				}
				expected[i] = append(expected[i], ks...)
			}
		}
	}
	metaN := 0
	if mb != nil {
		cur := mb.Cursor()
		for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
			metaN++
			if !primary[string(k)] {
				v.add("metadata-extra", coll, "metadata", string(k), "metadata entry without a document")
			}
		}
	}
	// The count is of metadata entries, which an unreadable document may
	// lack (one damaged before a backfill): it is compared once the
	// damage is repaired.
	if n, ok := getCount(sys, docsKey(coll)); (ok || metaN > 0) && int(n) != len(primary) && len(unreadable) == 0 {
		v.add("count-stale", coll, "metadata", "", fmt.Sprintf("stored document count %d, documents %d", n, len(primary)))
	}
	for i := range idx {
		d := &idx[i].def
		v.index(tx, sys, c, d, expected[i], unreadable)
		if n, ok := getCount(sys, multiKey(coll, d.Name)); ok && int(n) != multi[i] && len(unreadable) == 0 {
			v.add("count-stale", coll, d.Name, "", fmt.Sprintf("index %q: stored count of documents with several keys %d, actual %d", d.Name, n, multi[i]))
		}
	}
	for _, ix := range indexBucketNames(tx, coll) {
		if indexByName(c, ix) == nil {
			v.add("index-extra", coll, ix, "", fmt.Sprintf("bucket of undeclared index %q", ix))
		}
	}
}

func (v *verifier) index(tx *bolt.Tx, sys *bolt.Bucket, c *schema.Collection, d *IndexDef, want [][]byte, unreadable map[string]bool) {
	coll := c.Name
	slices.SortFunc(want, bytes.Compare)
	want = slices.CompactFunc(want, bytes.Equal)
	b := buckets.Lookup(tx, buckets.IndexBucket(coll, d.Name))
	if sys != nil && (b != nil || len(want) > 0) {
		if fp := sys.Get(fpKey(coll, d.Name)); fp != nil && string(fp) != fingerprint(c, d) {
			v.add("index-stale", coll, d.Name, "", fmt.Sprintf("index %q was built for another declaration (%s)", d.Name, fp))
		}
	}
	describe := func(k []byte) (string, string) {
		val, id, err := buckets.SplitIndexKey(k)
		if err != nil {
			return "", fmt.Sprintf("index %q: malformed key %x", d.Name, k)
		}
		dv, _ := buckets.DecodeIndexValue(val)
		return id, fmt.Sprintf("index %q value %v", d.Name, dv)
	}
	n := 0
	j := 0
	if b != nil {
		cur := b.Cursor()
		for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
			n++
			for j < len(want) && bytes.Compare(want[j], k) < 0 {
				id, det := describe(want[j])
				v.add("index-missing", coll, d.Name, id, det+": key missing")
				j++
			}
			if j < len(want) && bytes.Equal(want[j], k) {
				j++
				continue
			}
			id, det := describe(k)
			if unreadable[id] {
				continue
			}
			v.add("index-extra", coll, d.Name, id, det+": no document derives this key")
		}
	}
	for ; j < len(want); j++ {
		id, det := describe(want[j])
		v.add("index-missing", coll, d.Name, id, det+": key missing")
	}
	if kn, ok := getCount(sys, keysKey(coll, d.Name)); (ok || n > 0) && int(kn) != n {
		v.add("count-stale", coll, d.Name, "", fmt.Sprintf("index %q: stored key count %d, keys %d", d.Name, kn, n))
	}
	if d.Stats {
		v.histogram(tx, sys, coll, d)
	}
}

// histogram checks the stored histogram of d against its keys.
func (v *verifier) histogram(tx *bolt.Tx, sys *bolt.Bucket, coll string, d *IndexDef) {
	var keys [][]byte
	if b := buckets.Lookup(tx, buckets.IndexBucket(coll, d.Name)); b != nil {
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			keys = append(keys, k)
		}
	}
	ps, cs := histogram(keys)
	want := map[string]int64{}
	for i, p := range ps {
		want[string(p)] = cs[i]
	}
	if sys != nil {
		p := histPrefix(coll, d.Name)
		c := sys.Cursor()
		for k, val := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, val = c.Next() {
			bucket := string(k[len(p):])
			got, ok := getCount(sys, k)
			if !ok || len(val) != 8 || got != want[bucket] {
				v.add("count-stale", coll, d.Name, "", fmt.Sprintf("index %q: histogram bucket %x holds %d, keys %d", d.Name, bucket, got, want[bucket]))
			}
			delete(want, bucket)
		}
	}
	missing := make([]string, 0, len(want))
	for bucket := range want {
		missing = append(missing, bucket)
	}
	slices.Sort(missing)
	for _, bucket := range missing {
		v.add("count-stale", coll, d.Name, "", fmt.Sprintf("index %q: histogram bucket %x missing (%d keys)", d.Name, bucket, want[bucket]))
	}
}
