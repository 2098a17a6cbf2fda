package kv

import (
	"context"
	"fmt"
	"github.com/cairnkv/cairn/schema"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/secondary"
	"github.com/cairnkv/cairn/snapshot"
	"github.com/cairnkv/cairn/txn"
	bolt "go.etcd.io/bbolt"
)

// CheckReport is the result of Check.
type CheckReport struct {
	OK       bool      `json:"ok"`
	Problems []Problem `json:"problems"`
	// Repaired says what was found damaged and repaired without loss
	// before Check looked (derived data rebuilt from the store: a search
	// index whose files the disk damaged). It is not a problem, and OK
	// may be true, but the disk that damaged it is worth watching.
	Repaired []string `json:"repaired,omitempty"`
}

// Check verifies the whole store in one read transaction: bbolt's
// structural check, every value's checksum, the metadata and every
// secondary index against the primary data, the parts of every document,
// and blob reference counts against the attachments that hold them. It
// returns an error only when it could not run; what it finds is in the
// report, each problem with its Fix: the way back from it (a restore is
// advised only from a backup that holds what was lost).
func (db *DB) Check(ctx context.Context) (*CheckReport, error) {
	rep := &CheckReport{Problems: []Problem{}}
	release := func() {}
	if x := db.runningIndexer(); x != nil && db.opts.ReadOnly {
		// On a read-only store bbolt's check loads the freelist, which it
		// assumes no other transaction is using: keep the indexer out
		// (until the search check, which waits for it).
		release = x.Hold()
	}
	structural := true
	err := db.View(ctx, func(t *Tx) error {
		tx := t.tx
		// Walk the page graph from the file first: bbolt's own check runs
		// in a goroutine of its own, where a memory fault on a damaged
		// page cannot be caught, and a cursor loops forever on a page
		// that refers back to its parent.
		pages, err := snapshot.CheckPages(tx)
		if err != nil {
			return err
		}
		if len(pages) > 0 {
			structural = false
			for _, p := range pages {
				rep.Problems = append(rep.Problems, Problem{Kind: "bbolt", Detail: "data.db: " + p})
			}
			// The values of the buckets whose pages are sound are still
			// checked: one damaged page must not hide a damaged document
			// elsewhere.
			_ = guard(func() error {
				_, probs := buckets.VerifyChecksumsOf(tx, func(name []byte) bool {
					pp, err := snapshot.CheckPages(tx, name)
					return err == nil && len(pp) == 0
				})
				rep.Problems = append(rep.Problems, probs...)
				return nil
			})
			return nil
		}
		// Then read every value, guarded: a damaged page is then a
		// reported problem, and bbolt's check only runs over a file whose
		// pages could all be read.
		var probs []Problem
		if err := guard(func() error {
			_, probs = buckets.VerifyTx(tx)
			return nil
		}); err != nil {
			structural = false
			rep.Problems = append(rep.Problems, Problem{Kind: "corrupt", Detail: err.Error()})
			return nil
		}
		for err := range tx.Check() {
			rep.Problems = append(rep.Problems, Problem{Kind: "bbolt", Detail: err.Error() + " (restore a verified backup: kvtool backup list)"})
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rep.Problems = append(rep.Problems, probs...)
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(probs) == 0 && len(rep.Problems) == 0 {
			// Derived data can only be compared against readable primary data.
			rep.Problems = append(rep.Problems, secondary.Verify(tx, db.schema(), nil)...)
			rep.Problems = append(rep.Problems, checkParts(tx)...)
			rep.Problems = append(rep.Problems, checkRefs(tx)...)
		}
		return ctx.Err()
	})
	release()
	if err != nil {
		return nil, err
	}
	// bbolt reads a file with one damaged meta page silently from the
	// other, which may be one commit older: say so. In a writable store a
	// commit may be writing a meta page meanwhile: a damaged one reads the
	// same twice, a page half written does not.
	lines, err := snapshot.DamagedMeta(db.Path())
	if len(lines) > 0 && err == nil && !db.opts.ReadOnly {
		time.Sleep(10 * time.Millisecond)
		if again, err := snapshot.DamagedMeta(db.Path()); err != nil || !slices.Equal(lines, again) {
			lines = nil
		}
	}
	if err != nil {
		rep.Problems = append(rep.Problems, Problem{Kind: "meta", Detail: "data.db: meta pages: " + err.Error()})
	} else {
		for _, l := range lines {
			rep.Problems = append(rep.Problems, Problem{Kind: "meta", Detail: "data.db: " + l})
		}
	}
	if !structural {
		rep.OK = false
		db.addFixes(rep)
		return rep, nil
	}
	rep.Problems = append(rep.Problems, db.checkBlobs(ctx)...)
	sp, repaired, err := db.checkSearch(ctx)
	if err != nil {
		return nil, err
	}
	rep.Problems = append(rep.Problems, sp...)
	rep.Repaired = repaired
	rep.OK = len(rep.Problems) == 0
	db.addFixes(rep)
	return rep, nil
}

// checkParts compares every parts bucket with the part fields and counts
// its documents' records claim.
func checkParts(tx *bolt.Tx) []Problem {
	var out []Problem
	for _, c := range schema.Builtins() { // user collections have no parts
		if len(c.ArrayParts) == 0 && len(c.BlobParts) == 0 {
			continue
		}
		type fieldKey struct{ id, field string }
		found := map[fieldKey]int{}
		blobs := map[fieldKey]bool{}
		if pb := buckets.Lookup(tx, buckets.PartsBucket(c.Name)); pb != nil {
			_ = pb.ForEach(func(k, _ []byte) error {
				id, field, idx, err := buckets.ParsePartKey(k)
				if err != nil {
					out = append(out, Problem{Kind: "part-extra", Collection: c.Name, Detail: fmt.Sprintf("unparsable part key %x", k)})
					return nil
				}
				if idx < 0 {
					blobs[fieldKey{id, field}] = true
				} else {
					found[fieldKey{id, field}]++ // chunks
				}
				return nil
			})
		}
		pname := buckets.PrimaryBucket(c.Name)
		if b := buckets.Lookup(tx, pname); b != nil {
			_ = b.ForEach(func(k, v []byte) error {
				rec, err := buckets.DecodeRecord(pname, k, v, false)
				if err != nil {
					return nil // reported by VerifyTx
				}
				id := string(k)
				for f, n := range rec.ArrayParts {
					fk := fieldKey{id, f}
					if want := buckets.Chunks(n); found[fk] != want {
						out = append(out, Problem{Kind: "part-missing", Collection: c.Name, ID: id, Detail: fmt.Sprintf("%s: record says %d elements in %d chunks, %d chunks stored", f, n, want, found[fk])})
					}
					delete(found, fk)
				}
				for _, f := range rec.BlobParts {
					fk := fieldKey{id, f}
					if !blobs[fk] {
						out = append(out, Problem{Kind: "part-missing", Collection: c.Name, ID: id, Detail: f + " is missing"})
					}
					delete(blobs, fk)
				}
				return nil
			})
		}
		for fk, n := range found {
			out = append(out, Problem{Kind: "part-extra", Collection: c.Name, ID: fk.id, Detail: fmt.Sprintf("%d stored chunks of %s belong to no record", n, fk.field)})
		}
		for fk := range blobs {
			out = append(out, Problem{Kind: "part-extra", Collection: c.Name, ID: fk.id, Detail: fk.field + " is stored but belongs to no record"})
		}
	}
	sortProblems(out)
	return out
}

// checkRefs recounts blob references from the attachments collection and
// compares them with the refs bucket.
func checkRefs(tx *bolt.Tx) []Problem {
	want, err := countRefs(tx)
	if err != nil {
		return []Problem{{Kind: "refs", Detail: err.Error()}}
	}
	var out []Problem
	have := map[string]uint64{}
	if b := buckets.Lookup(tx, buckets.RefsBucket); b != nil {
		_ = b.ForEach(func(k, v []byte) error {
			n, err := buckets.ParseCount(v)
			if err == nil {
				have[string(k)] = n
			}
			return nil
		})
	}
	for h, n := range want {
		if have[h] != n {
			out = append(out, Problem{Kind: "refcount", ID: h, Detail: fmt.Sprintf("blob %s: stored count %d, %d attachments refer to it", h, have[h], n)})
		}
	}
	for h, n := range have {
		if _, ok := want[h]; !ok {
			out = append(out, Problem{Kind: "refcount", ID: h, Detail: fmt.Sprintf("blob %s: stored count %d, no attachment refers to it", h, n)})
		}
	}
	sortProblems(out)
	return out
}

// countRefs derives the reference count of every blob hash from the
// attachments collection (txn.CountRefs).
func countRefs(tx *bolt.Tx) (map[string]uint64, error) { return txn.CountRefs(tx) }

func sortProblems(ps []Problem) {
	sort.Slice(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Collection != b.Collection {
			return a.Collection < b.Collection
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Detail < b.Detail
	})
}

// CheckPageGraph walks the page graph of the store's file
// (snapshot.CheckPages) in a read transaction and returns an error
// wrapping ErrCorrupt when it is damaged: a page reached twice (one
// collection's page reached from another's), a page of the wrong type,
// an element past its page. A read of the whole store (an export) runs it
// first, so that what bbolt's cursors would read from a damaged page is
// refused instead of returned as data. It reads every branch page and the
// first page of every leaf (about 0.25 s for 10,000 sessions, warm).
func (db *DB) CheckPageGraph(ctx context.Context) error {
	return db.View(ctx, func(t *Tx) error { return checkPages(t.tx) })
}

// checkPages walks the pages of tx's top-level buckets named (every one
// with none) from the file (snapshot.CheckPages) and returns an error
// wrapping ErrCorrupt if the page graph is damaged: bbolt would read past
// its map, or loop forever on a page that refers back to its parent; or,
// for a writable tx's DB, if the freelist lists one of the pages walked as
// free, so that the next commit would write over it.
func checkPages(tx *bolt.Tx, names ...[]byte) error {
	pp, err := snapshot.CheckPages(tx, names...)
	if err != nil || len(pp) == 0 {
		return err
	}
	return pageError(tx, pp)
}

// gatePages makes checkCycles the page gate of bdb (buckets.GatePages),
// as every bbolt file kv opens has: the first read or write of each
// top-level bucket in this process looks for a page cycle in it.
func gatePages(bdb *bolt.DB) {
	f := &snapshot.CycleFinder{}
	var freed struct {
		done bool
		err  error
	}
	buckets.GatePages(bdb, func(tx *bolt.Tx, name []byte, whole bool) error {
		if whole {
			// Before the first write: every page of the bucket, so that
			// the write does not drop for good what a damaged page hides
			// (salvage reads it still) or spread a misled pointer's
			// damage. Once a process, a bucket: 60 ms for the notes of
			// the 10k store, cold pages aside.
			if err := checkPages(tx, name); err != nil {
				return err
			}
			// And once a process, before its first write to any bucket:
			// a write may take any page the freelist lists, so one that
			// lists a page in use elsewhere (another bucket's leaf) makes
			// it destroy what that page holds. The gate holds its lock.
			if !freed.done {
				freed.done = true
				if pp, err := snapshot.FreedInUse(tx); err != nil {
					freed.err = err
				} else if len(pp) > 0 {
					freed.err = pageError(tx, pp)
				}
			}
			return freed.err
		}
		return checkCycles(f, tx, name)
	}, f.Close)
}

// checkCycles returns an error wrapping ErrCorrupt if a branch page of
// top-level bucket name of tx's file leads back to itself or above (f, a
// snapshot.CycleFinder), so that no read of the store follows a cursor
// round a cycle until the stack overflows, a crash no recover catches.
// Other damage is left to the reads, which fault or err where it is
// (guard), and to check.
func checkCycles(f *snapshot.CycleFinder, tx *bolt.Tx, name []byte) error {
	cc, err := f.Find(tx, name)
	if err != nil || len(cc) == 0 {
		return err
	}
	cc = slices.Clone(cc)
	for i := range cc {
		cc[i] = fmt.Sprintf("bucket %s: %s", name, cc[i])
	}
	return pageError(tx, cc)
}

// pageError is the error of the page problems pp found in tx's file.
func pageError(tx *bolt.Tx, pp []string) error {
	if tx.DB().IsReadOnly() {
		// A freelist that lists a page in use harms the next write only:
		// reads go on (check reports it).
		pp = slices.DeleteFunc(pp, func(p string) bool { return strings.HasSuffix(p, snapshot.WriteHazard) })
		if len(pp) == 0 {
			return nil
		}
	}
	return fmt.Errorf("%w: %s: %s; %s", ErrCorrupt, tx.DB().Path(), strings.Join(pp[:min(3, len(pp))], "; "), restoreAdvice(tx.DB().Path()))
}
