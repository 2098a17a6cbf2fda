package txn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	"github.com/cairnkv/cairn/secondary"
	bolt "go.etcd.io/bbolt"
)

// The tests of this package run the Writer on a bare bbolt file, as kv
// does (one read-write transaction per operation, committed when the
// operation succeeded or changed nothing), and read everything back
// through the read side (buckets) and secondary.

// testNow is the clock of every test writer: change-log times are exact.
var testNow = time.UnixMilli(1_700_000_000_000)

// testStore is a bbolt file with the schema the tests write under: the
// built-in collections and a user collection, widgets, with a declared
// index on color.
type testStore struct {
	t  testing.TB
	db *bolt.DB
	s  *schema.Schema
}

func openStore(t testing.TB) *testStore {
	t.Helper()
	s, err := schema.New(map[string][]schema.Index{
		"widgets": {{Name: "color", Field: "color", Paths: []string{"color"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(t.TempDir(), "data.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// As kv's Open does: the declared indexes' fingerprints go in first.
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := secondary.Sync(tx, s, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return &testStore{t: t, db: db, s: s}
}

// run applies fn in one read-write transaction as kv's group commit
// does: committed when fn succeeds, and also when it fails on a writer
// that is not Dirty (its transaction is shared with other writes there),
// rolled back when it fails after changing something. It returns fn's
// error and the writer.
func (st *testStore) run(fn func(w *Writer) error) (*Writer, error) {
	st.t.Helper()
	var w *Writer
	var opErr error
	errRollback := fmt.Errorf("roll back")
	err := st.db.Update(func(tx *bolt.Tx) error {
		w = New(tx, st.s, func() time.Time { return testNow })
		opErr = fn(w)
		if opErr != nil && w.Dirty() {
			return errRollback
		}
		return nil
	})
	if err != nil && err != errRollback {
		st.t.Fatalf("commit: %v", err)
	}
	return w, opErr
}

// view runs fn in a read transaction.
func (st *testStore) view(fn func(tx *bolt.Tx)) {
	st.t.Helper()
	if err := st.db.View(func(tx *bolt.Tx) error { fn(tx); return nil }); err != nil {
		st.t.Fatal(err)
	}
}

// dump renders every bucket of the file (its name, sequence, keys and
// values) as text: two dumps are equal exactly when the stores are.
func (st *testStore) dump() string {
	st.t.Helper()
	var sb strings.Builder
	st.view(func(tx *bolt.Tx) {
		_ = tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			fmt.Fprintf(&sb, "bucket %q seq %d\n", name, b.Sequence())
			return b.ForEach(func(k, v []byte) error {
				fmt.Fprintf(&sb, "  %x = %x\n", k, v)
				return nil
			})
		})
	})
	return sb.String()
}

// corrupt flips a byte in the middle of the stored primary value of key
// in coll, so that its checksum fails.
func (st *testStore) corrupt(coll, key string) {
	st.t.Helper()
	if err := st.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(buckets.PrimaryBucket(coll))
		if b == nil || b.Get([]byte(key)) == nil {
			return fmt.Errorf("no record %s/%s to corrupt", coll, key)
		}
		v := bytes.Clone(b.Get([]byte(key)))
		v[len(v)/2] ^= 0x40
		return b.Put([]byte(key), v)
	}); err != nil {
		st.t.Fatal(err)
	}
}

// problems returns what secondary.Verify finds in the store.
func (st *testStore) problems() []buckets.Problem {
	var out []buckets.Problem
	st.view(func(tx *bolt.Tx) { out = secondary.Verify(tx, st.s, nil) })
	return out
}

// canon renders a document-model value as JSON with sorted keys.
func canon(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v: %v>", v, err)
	}
	return string(b)
}

// deepCopy copies a document-model value.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = deepCopy(e)
		}
		return a
	}
	return v
}

// mustNorm puts a Go value in the document model.
func mustNorm(t testing.TB, v any) any {
	t.Helper()
	n, err := buckets.Normalize(v)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// dumpDiff lists the lines of two dumps that only one of them has.
func dumpDiff(before, after string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	b, a := in(before), in(after)
	var sb strings.Builder
	for _, l := range strings.Split(before, "\n") {
		if !a[l] {
			sb.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(after, "\n") {
		if !b[l] {
			sb.WriteString("+ " + l + "\n")
		}
	}
	return sb.String()
}
