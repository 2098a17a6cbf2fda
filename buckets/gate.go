package buckets

import (
	"errors"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// The page gate. One damaged child pointer of a branch page can lead back
// to the page itself or to one above it, and bbolt's cursors then go round
// the cycle until the stack overflows or the memory runs out: a crash no
// recover catches. Walking every bucket's branch pages at each open costs
// a store of 10,000 sessions 5 ms warm and 90 ms cold (1,700 scattered
// pages), most of it for buckets a short-lived process never reads, so a
// gated store's top-level buckets are walked one at a time, the first time
// the process asks for each: every path of Cairn's to a top-level bucket
// goes through Lookup, Ensure, Drop or Each (a test in internal/lint keeps
// it so).

// A GateError is the panic Lookup, Ensure, Drop and Each raise when the
// check of a bucket's pages failed: Err is the check's error. Cairn reads
// the store under a recover (kv's guard) that returns Err.
type GateError struct{ Err error }

func (e *GateError) Error() string { return e.Err.Error() }

// Unwrap returns the check's error.
func (e *GateError) Unwrap() error { return e.Err }

// A gate is the state of one gated bbolt handle.
type gate struct {
	check func(tx *bolt.Tx, name []byte, whole bool) error
	close func() error
	mu    sync.RWMutex
	done  map[string]error // the buckets checked for reads, and what was found
	whole map[string]error // those checked whole for a write, and what was found
}

var gates sync.Map // *bolt.DB → *gate

// GatePages makes Lookup, Ensure, Drop and Each call check(tx, name,
// false) before they first hand out top-level bucket name of db, until
// UngatePages(db), and check(tx, name, true) before they first hand it out
// to a writable transaction: a read must not loop round a cycle, and a
// write must not make lasting what damaged pages hide (a leaf that lost an
// element to its count, whose next write drops that element for good) or
// spread it (a pointer misled to another bucket's page). A check that
// fails with an error wrapping ErrCorrupt fails every later ask of its
// kind for that bucket the same way (any other error, such as a failed
// read, is tried again at the next ask). A bucket checked once is not
// checked again: bbolt writes its pages whole from memory, so only damage
// from outside the process can harm them, and a process that wants to see
// such damage checks the whole file (kvtool check) or reopens it. Checks
// are made one at a time, under the gate's lock. UngatePages calls close,
// which may be nil, to release what check holds.
func GatePages(db *bolt.DB, check func(tx *bolt.Tx, name []byte, whole bool) error, close func() error) {
	gates.Store(db, &gate{check: check, close: close, done: map[string]error{}, whole: map[string]error{}})
}

// UngatePages ends what GatePages(db) started, once db is closed, and
// returns what its close returned.
func UngatePages(db *bolt.DB) error {
	v, ok := gates.LoadAndDelete(db)
	if !ok || v.(*gate).close == nil {
		return nil
	}
	g := v.(*gate)
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.close()
}

// pass checks bucket name of tx's file if its gate has not yet (for a
// writable tx, whole), and panics with a *GateError if a check failed.
func pass(tx *bolt.Tx, name []byte) {
	v, ok := gates.Load(tx.DB())
	if !ok {
		return
	}
	g := v.(*gate)
	err := g.pass(tx, name, g.done, false)
	if err == nil && tx.Writable() {
		err = g.pass(tx, name, g.whole, true)
	}
	if err != nil {
		panic(&GateError{Err: err})
	}
}

// pass returns what check(tx, name, whole) found, once recorded in done.
func (g *gate) pass(tx *bolt.Tx, name []byte, done map[string]error, whole bool) error {
	g.mu.RLock()
	err, ok := done[string(name)]
	g.mu.RUnlock()
	if ok {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err, ok = done[string(name)]; !ok {
		err = g.check(tx, name, whole)
		if err == nil || errors.Is(err, ErrCorrupt) {
			done[string(name)] = err
		}
	}
	return err
}

// Lookup returns tx's top-level bucket name, or nil if there is none,
// once the gate of tx's file (GatePages) let it through.
func Lookup(tx *bolt.Tx, name []byte) *bolt.Bucket {
	b := tx.Bucket(name)
	if b != nil {
		pass(tx, name)
	}
	return b
}

// Ensure returns tx's top-level bucket name, created if there is none:
// bolt.Tx.CreateBucketIfNotExists behind the gate of tx's file.
func Ensure(tx *bolt.Tx, name []byte) (*bolt.Bucket, error) {
	if b := Lookup(tx, name); b != nil {
		return b, nil
	}
	return tx.CreateBucketIfNotExists(name)
}

// Drop deletes tx's top-level bucket name (bbolt frees its pages, which it
// walks): bolt.Tx.DeleteBucket behind the gate of tx's file.
func Drop(tx *bolt.Tx, name []byte) error {
	if tx.Bucket(name) != nil {
		pass(tx, name)
	}
	return tx.DeleteBucket(name)
}

// Each calls fn for every top-level bucket of tx in key order, each once
// the gate of tx's file let it through: bolt.Tx.ForEach behind the gate.
// A caller that needs only the names calls tx.ForEach with a function
// that leaves its bucket alone: bbolt reads only the root bucket then.
func Each(tx *bolt.Tx, fn func(name []byte, b *bolt.Bucket) error) error {
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		pass(tx, name)
		return fn(name, b)
	})
}

// Exists reports whether tx has a top-level bucket name. It reads only the
// root bucket, which every open walks whole, so it needs no gate.
func Exists(tx *bolt.Tx, name []byte) bool { return tx.Bucket(name) != nil }
