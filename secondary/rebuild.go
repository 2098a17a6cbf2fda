package secondary

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	bolt "go.etcd.io/bbolt"
)

// progressEvery is how many documents pass between progress reports.
const progressEvery = 1000

// derivedColls returns the declarations of colls, or, when colls is
// empty, of every collection with metadata (entity collections and
// extras) that s declares with indexes or tx holds.
func derivedColls(tx *bolt.Tx, s *schema.Schema, colls []string) ([]*schema.Collection, error) {
	var out []*schema.Collection
	if len(colls) > 0 {
		for _, name := range colls {
			c, err := s.Lookup(name)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, nil
	}
	names := buckets.CollectionsIn(tx)
	for n := range s.UserIndexes() {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, name := range names {
		if c, err := s.Lookup(name); err == nil && c.HasMeta() {
			out = append(out, c)
		}
	}
	return out, nil
}

// indexBucketNames returns the names of every index bucket of coll present
// in tx, declared or not.
func indexBucketNames(tx *bolt.Tx, coll string) []string {
	var out []string
	prefix := buckets.IndexBucket(coll, "")
	c := tx.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if kind, kc, ix, ok := buckets.ParseBucket(k); ok && kind == buckets.BucketIndex && kc == coll {
			out = append(out, ix)
		}
	}
	return out
}

// Rebuild drops and recomputes the metadata and every index of colls (all
// collections with metadata when colls is empty) from the primary data,
// with their counts and fingerprints. It returns the number of documents
// indexed. A primary record that cannot be decoded stops it with the
// decoding error (errors.Is(err, buckets.ErrCorrupt)). progress, if not
// nil, is called every 1,000 documents and at the end of each collection.
func Rebuild(tx *bolt.Tx, s *schema.Schema, colls []string, progress func(coll string, done, total int)) (int, error) {
	cs, err := derivedColls(tx, s, colls)
	if err != nil {
		return 0, err
	}
	sys, err := buckets.Ensure(tx, buckets.SysBucket)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, c := range cs {
		if !c.HasMeta() {
			continue
		}
		for _, ix := range indexBucketNames(tx, c.Name) {
			if err := dropIndex(tx, sys, c.Name, ix); err != nil {
				return total, err
			}
		}
		n, err := backfill(tx, sys, c, true, compile(c), progress)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// dropIndex deletes index ix of coll with its count and fingerprint.
func dropIndex(tx *bolt.Tx, sys *bolt.Bucket, coll, ix string) error {
	if buckets.Exists(tx, buckets.IndexBucket(coll, ix)) {
		if err := buckets.Drop(tx, buckets.IndexBucket(coll, ix)); err != nil {
			return err
		}
	}
	if err := sys.Delete(keysKey(coll, ix)); err != nil {
		return err
	}
	if err := sys.Delete(multiKey(coll, ix)); err != nil {
		return err
	}
	if err := dropHist(sys, coll, ix); err != nil {
		return err
	}
	return sys.Delete(fpKey(coll, ix))
}

// backfill recomputes, from coll's primary data, the metadata (if meta) and
// the indexes idx, replacing their buckets, counts and fingerprints.
func backfill(tx *bolt.Tx, sys *bolt.Bucket, c *schema.Collection, meta bool, idx []compiledIndex, progress func(coll string, done, total int)) (int, error) {
	coll := c.Name
	var mb *bolt.Bucket
	if meta {
		if buckets.Exists(tx, buckets.MetaBucket(coll)) {
			if err := buckets.Drop(tx, buckets.MetaBucket(coll)); err != nil {
				return 0, err
			}
		}
		var err error
		if mb, err = tx.CreateBucket(buckets.MetaBucket(coll)); err != nil {
			return 0, err
		}
		mb.FillPercent = 0.9 // filled in key order
	}
	keys := make([][][]byte, len(idx))
	multi := make([]int64, len(idx))
	pb := buckets.Lookup(tx, buckets.PrimaryBucket(coll))
	total := countKeys(pb)
	done := 0
	if pb != nil {
		name := buckets.PrimaryBucket(coll)
		cur := pb.Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			if v == nil {
				continue // a nested bucket: not Cairn's, reported by buckets.VerifyTx
			}
			rec, err := buckets.DecodeRecord(name, k, v, true)
			if errors.Is(err, buckets.ErrCorrupt) {
				// A document that cannot be read (its value or its key
				// damaged) derives nothing, no metadata entry and so no
				// count, and must not stop the rest (a writable open
				// backfills, and a refused open would refuse the delete
				// or put that repairs it): Verify reports it as
				// unreadable, and that delete or put (txn's dropDamaged)
				// needs no entry of it.
				continue
			}
			if err != nil {
				return done, err
			}
			id := string(k)
			st := &DocState{Doc: rec.Doc, Rev: rec.Rev, Size: rec.Size, ArrayParts: rec.ArrayParts}
			if mb != nil {
				mv, err := buckets.EncodeValue(Summary(c, id, st))
				if err != nil {
					return done, fmt.Errorf("cairn: summary of %s %q: %w", coll, id, err)
				}
				if err := mb.Put([]byte(id), mv); err != nil {
					return done, err
				}
			}
			for i := range idx {
				ks := indexKeys(&idx[i], id, st)
				if len(ks) > 1 {
					multi[i]++
				}
				keys[i] = append(keys[i], ks...)
			}
			done++
			if progress != nil && done%progressEvery == 0 {
				progress(coll, done, total)
			}
		}
	}
	if mb != nil {
		if err := setCount(sys, docsKey(coll), int64(done)); err != nil {
			return done, err
		}
		if err := sys.Put(metaKey(coll), []byte(metaVersion)); err != nil {
			return done, err
		}
	}
	for i := range idx {
		d := &idx[i].def
		name := buckets.IndexBucket(coll, d.Name)
		if buckets.Exists(tx, name) {
			if err := buckets.Drop(tx, name); err != nil {
				return done, err
			}
		}
		b, err := tx.CreateBucket(name)
		if err != nil {
			return done, err
		}
		b.FillPercent = 0.9
		ks := keys[i]
		slices.SortFunc(ks, bytes.Compare)
		ks = slices.CompactFunc(ks, bytes.Equal)
		for _, k := range ks {
			if err := b.Put(k, emptyValue); err != nil {
				return done, err
			}
		}
		if err := setCount(sys, keysKey(coll, d.Name), int64(len(ks))); err != nil {
			return done, err
		}
		if err := setCount(sys, multiKey(coll, d.Name), multi[i]); err != nil {
			return done, err
		}
		if err := dropHist(sys, coll, d.Name); err != nil {
			return done, err
		}
		if d.Stats {
			ps, cs := histogram(ks)
			for j, p := range ps {
				if err := setCount(sys, histKey(coll, d.Name, p), cs[j]); err != nil {
					return done, err
				}
			}
		}
		if err := sys.Put(fpKey(coll, d.Name), []byte(fingerprint(c, d))); err != nil {
			return done, err
		}
	}
	if progress != nil {
		progress(coll, done, total)
	}
	return done, nil
}

// Sync compares the declared indexes with the fingerprints stored in the
// sys bucket and makes the store match: an added or changed index (or one
// whose bucket is missing) is backfilled from the primary data, an index no
// longer declared is dropped with its bucket, metadata whose derivation
// changed is rebuilt, and missing document counts are recomputed. It
// returns the names ("coll/index", or "coll/metadata") of what it changed.
// When everything matches it only reads a few sys keys and bucket names:
// it runs on every Open. progress reports backfills (index is "metadata"
// for a metadata rebuild).
func Sync(tx *bolt.Tx, s *schema.Schema, progress func(coll, index string, done, total int)) (changed []string, err error) {
	todo, err := syncPlan(tx, s)
	if err != nil || len(todo) == 0 {
		return nil, err
	}
	if !tx.Writable() {
		return nil, fmt.Errorf("cairn: sync needs a read-write transaction (%d changes pending)", len(todo))
	}
	sys, err := buckets.Ensure(tx, buckets.SysBucket)
	if err != nil {
		return nil, err
	}
	for _, w := range todo {
		for _, ix := range w.drop {
			if err := dropIndex(tx, sys, w.coll.Name, ix); err != nil {
				return changed, err
			}
			changed = append(changed, w.coll.Name+"/"+ix)
		}
		if !w.meta && len(w.build) == 0 && !w.recount {
			continue
		}
		if w.recount && !w.meta {
			if err := setCount(sys, docsKey(w.coll.Name), int64(countKeys(buckets.Lookup(tx, buckets.MetaBucket(w.coll.Name))))); err != nil {
				return changed, err
			}
			changed = append(changed, w.coll.Name+"/count")
		}
		if !w.meta && len(w.build) == 0 {
			continue
		}
		var p func(coll string, done, total int)
		if progress != nil {
			label := "metadata"
			if !w.meta {
				names := make([]string, len(w.build))
				for i, ci := range w.build {
					names[i] = ci.def.Name
				}
				label = strings.Join(names, ",")
			}
			p = func(coll string, done, total int) { progress(coll, label, done, total) }
		}
		if _, err := backfill(tx, sys, w.coll, w.meta, w.build, p); err != nil {
			return changed, err
		}
		if w.meta {
			changed = append(changed, w.coll.Name+"/metadata")
		}
		for _, ci := range w.build {
			changed = append(changed, w.coll.Name+"/"+ci.def.Name)
		}
	}
	return changed, nil
}

// SyncNeeded reports whether Sync would change anything; it only reads,
// so it can run in a read-only transaction.
func SyncNeeded(tx *bolt.Tx, s *schema.Schema) (bool, error) {
	todo, err := syncPlan(tx, s)
	return len(todo) > 0, err
}

type syncWork struct {
	coll    *schema.Collection
	meta    bool // rebuild metadata
	recount bool // document count missing
	build   []compiledIndex
	drop    []string
}

func syncPlan(tx *bolt.Tx, s *schema.Schema) ([]syncWork, error) {
	cs, err := derivedColls(tx, s, nil)
	if err != nil {
		return nil, err
	}
	sys := buckets.Lookup(tx, buckets.SysBucket)
	get := func(k []byte) []byte {
		if sys == nil {
			return nil
		}
		return sys.Get(k)
	}
	var todo []syncWork
	for _, c := range cs {
		coll := c.Name
		w := syncWork{coll: c}
		if string(get(metaKey(coll))) != metaVersion || !buckets.Exists(tx, buckets.MetaBucket(coll)) {
			// Fresh store: nothing to backfill, but record the version.
			w.meta = true
		} else if _, ok := getCount(sys, docsKey(coll)); !ok {
			w.recount = true
		}
		for _, ci := range compile(c) {
			fp := get(fpKey(coll, ci.def.Name))
			if string(fp) != fingerprint(c, &ci.def) || !buckets.Exists(tx, buckets.IndexBucket(coll, ci.def.Name)) {
				w.build = append(w.build, ci)
			} else if _, ok := getCount(sys, keysKey(coll, ci.def.Name)); !ok {
				w.build = append(w.build, ci)
			} else if _, ok := getCount(sys, multiKey(coll, ci.def.Name)); !ok {
				w.build = append(w.build, ci)
			}
		}
		for _, ix := range indexBucketNames(tx, coll) {
			if indexByName(c, ix) == nil {
				w.drop = append(w.drop, ix)
			}
		}
		// Fingerprints left by indexes no longer declared and without a bucket.
		if sys != nil {
			prefix := fpKey(coll, "")
			cur := sys.Cursor()
			for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
				ix := string(k[len(prefix):])
				if indexByName(c, ix) == nil && !slices.Contains(w.drop, ix) {
					w.drop = append(w.drop, ix)
				}
			}
		}
		if w.meta || w.recount || len(w.build) > 0 || len(w.drop) > 0 {
			todo = append(todo, w)
		}
	}
	return todo, nil
}

func indexByName(c *schema.Collection, name string) *IndexDef {
	for i := range c.Indexes {
		if c.Indexes[i].Name == name {
			return &c.Indexes[i]
		}
	}
	return nil
}
