package secondary

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"testing"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	bolt "go.etcd.io/bbolt"
)

// testStore is a tiny stand-in for txn/kv: it writes primary records with
// buckets.EncodeRecord, stores part fields whole in the parts bucket, and
// calls Apply with the old and new versions, all in one transaction.
type testStore struct {
	tb  testing.TB
	db  *bolt.DB
	rev uint64
}

// openStore opens a fresh bbolt file in a temporary directory, runs Sync
// (as Open would), and checks Verify is clean when the test ends.
func openStore(tb testing.TB) *testStore {
	tb.Helper()
	db, err := bolt.Open(filepath.Join(tb.TempDir(), "data.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	s := &testStore{tb: tb, db: db}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := Sync(tx, nil, nil)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if !tb.Failed() {
			if ps := s.verify(); len(ps) > 0 {
				tb.Errorf("Verify at teardown: %d problems, first: %v", len(ps), ps[0])
			}
		}
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

func (s *testStore) verify() []buckets.Problem {
	var ps []buckets.Problem
	if err := s.db.View(func(tx *bolt.Tx) error {
		ps = Verify(tx, nil, &txLoader{tx: tx, coll: ""})
		return nil
	}); err != nil {
		s.tb.Fatal(err)
	}
	return ps
}

// split separates a document into its header and part fields.
func split(coll string, doc any) (header any, parts map[string]any, arrayParts map[string]uint32) {
	c, err := (*schema.Schema)(nil).Lookup(coll)
	m, ok := doc.(map[string]any)
	if err != nil || !ok {
		return doc, nil, nil
	}
	h := make(map[string]any, len(m))
	for k, v := range m {
		part, array := c.IsPart(k)
		if !part {
			h[k] = v
			continue
		}
		if parts == nil {
			parts = map[string]any{}
		}
		parts[k] = v
		if array {
			if arrayParts == nil {
				arrayParts = map[string]uint32{}
			}
			a, _ := v.([]any)
			arrayParts[k] = uint32(len(a))
		}
	}
	return h, parts, arrayParts
}

// readState returns the stored version of id, nil if absent.
func readState(tx *bolt.Tx, coll, id string) (*DocState, error) {
	b := tx.Bucket(buckets.PrimaryBucket(coll))
	if b == nil {
		return nil, nil
	}
	v := b.Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	rec, err := buckets.DecodeRecord(buckets.PrimaryBucket(coll), []byte(id), v, true)
	if err != nil {
		return nil, err
	}
	return &DocState{Doc: rec.Doc, Rev: rec.Rev, Size: rec.Size, ArrayParts: rec.ArrayParts}, nil
}

// putTx writes doc (already in the value model) as id in coll.
func (s *testStore) putTx(tx *bolt.Tx, coll, id string, doc any) error {
	old, err := readState(tx, coll, id)
	if err != nil {
		return err
	}
	s.rev++
	header, parts, arrayParts := split(coll, doc)
	rec := &buckets.Record{Rev: s.rev, Size: uint64(buckets.JSONSize(doc)), ArrayParts: arrayParts, Doc: header}
	for f := range parts {
		if _, array := mustLookup(coll).IsPart(f); !array {
			rec.BlobParts = append(rec.BlobParts, f)
		}
	}
	sort.Strings(rec.BlobParts)
	v, err := buckets.EncodeRecord(rec)
	if err != nil {
		return err
	}
	pb, err := tx.CreateBucketIfNotExists(buckets.PrimaryBucket(coll))
	if err != nil {
		return err
	}
	if err := pb.Put([]byte(id), v); err != nil {
		return err
	}
	if err := s.writeParts(tx, coll, id, parts); err != nil {
		return err
	}
	return Apply(tx, mustLookup(coll), id, old, &DocState{Doc: header, Rev: rec.Rev, Size: rec.Size, ArrayParts: arrayParts})
}

func (s *testStore) writeParts(tx *bolt.Tx, coll, id string, parts map[string]any) error {
	b, err := tx.CreateBucketIfNotExists(buckets.PartsBucket(coll))
	if err != nil {
		return err
	}
	var stale [][]byte
	c := b.Cursor()
	p := buckets.PartPrefix(id)
	for k, _ := c.Seek(p); k != nil && len(k) >= len(p) && string(k[:len(p)]) == string(p); k, _ = c.Next() {
		stale = append(stale, append([]byte(nil), k...))
	}
	for _, k := range stale {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	for f, v := range parts {
		ev, err := buckets.EncodeValue(v)
		if err != nil {
			return err
		}
		if err := b.Put(buckets.PartKey(id, f, -1), ev); err != nil {
			return err
		}
	}
	return nil
}

func (s *testStore) deleteTx(tx *bolt.Tx, coll, id string) error {
	old, err := readState(tx, coll, id)
	if err != nil || old == nil {
		return err
	}
	if err := tx.Bucket(buckets.PrimaryBucket(coll)).Delete([]byte(id)); err != nil {
		return err
	}
	if err := s.writeParts(tx, coll, id, nil); err != nil {
		return err
	}
	return Apply(tx, mustLookup(coll), id, old, nil)
}

func (s *testStore) put(coll, id string, doc any) {
	s.tb.Helper()
	if err := s.db.Update(func(tx *bolt.Tx) error { return s.putTx(tx, coll, id, doc) }); err != nil {
		s.tb.Fatal(err)
	}
}

func (s *testStore) delete(coll, id string) {
	s.tb.Helper()
	if err := s.db.Update(func(tx *bolt.Tx) error { return s.deleteTx(tx, coll, id) }); err != nil {
		s.tb.Fatal(err)
	}
}

// run runs q in a read transaction.
func (s *testStore) run(q Query) (ids []string, total int, ex Explain, err error) {
	return s.runForced(q, "")
}

// runForced runs q with the plan kind force when it is one of the
// candidates (see run).
func (s *testStore) runForced(q Query, force string) (ids []string, total int, ex Explain, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		var err error
		ids, total, ex, err = run(tx, nil, q, &txLoader{tx: tx, coll: q.Collection}, force)
		return err
	})
	return
}

func mustLookup(coll string) *schema.Collection {
	c, err := (*schema.Schema)(nil).Lookup(coll)
	if err != nil {
		panic(err)
	}
	return c
}

// txLoader is the test Loader: headers from primary records, parts from
// the parts bucket.
type txLoader struct {
	tx   *bolt.Tx
	coll string
}

// ForCollection makes txLoader a CollectionLoader for Verify.
func (l *txLoader) ForCollection(coll string) Loader { return &txLoader{tx: l.tx, coll: coll} }

func (l *txLoader) collection(string) (string, error) {
	if l.coll == "" {
		return "", errors.New("txLoader: no collection")
	}
	return l.coll, nil
}

func (l *txLoader) Header(id string) (map[string]any, error) {
	coll, err := l.collection(id)
	if err != nil {
		return nil, nil
	}
	st, err := readState(l.tx, coll, id)
	if err != nil || st == nil {
		return nil, err
	}
	m, ok := st.Doc.(map[string]any)
	if !ok {
		return map[string]any{}, nil
	}
	return m, nil
}

func (l *txLoader) Full(id string) (map[string]any, error) {
	h, err := l.Header(id)
	if err != nil || h == nil {
		return h, err
	}
	coll, _ := l.collection(id)
	b := l.tx.Bucket(buckets.PartsBucket(coll))
	if b == nil {
		return h, nil
	}
	out := make(map[string]any, len(h))
	for k, v := range h {
		out[k] = v
	}
	p := buckets.PartPrefix(id)
	c := b.Cursor()
	for k, v := c.Seek(p); k != nil && len(k) >= len(p) && string(k[:len(p)]) == string(p); k, v = c.Next() {
		_, field, _, err := buckets.ParsePartKey(k)
		if err != nil {
			return nil, err
		}
		val, err := buckets.DecodeValue(buckets.PartsBucket(coll), k, v)
		if err != nil {
			return nil, err
		}
		out[field] = val
	}
	return out, nil
}

func mustNormalize(tb testing.TB, v any) any {
	tb.Helper()
	n, err := buckets.Normalize(v)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func idf(prefix string, i int) string { return fmt.Sprintf("%s-%04d", prefix, i) }
