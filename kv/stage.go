package kv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/snapshot"
	"github.com/cairnkv/cairn/txn"
	bolt "go.etcd.io/bbolt"
)

// stageSuffix names the private copy Staged writes beside data.db. A copy
// left by a crash is removed the next time the store opens.
const stageSuffix = ".stage"

// Stage is a private copy of a store that Staged changes in as many
// transactions as its function likes. Its commits reach the copy only: the
// store takes all of them at once when Staged succeeds, or none.
type Stage struct {
	db     *DB
	ctx    context.Context
	bolt   *bolt.DB
	pend   map[string]bool // blob hashes written by the stage's transactions
	zeroed []string        // blob hashes whose last reference the stage dropped
}

// Update runs fn in one transaction on the stage and commits it to the
// stage's copy, without an fsync: the copy is made durable once, before
// it replaces the store. Memory is bounded by what one transaction
// writes, so a large change can be cut into batches.
func (s *Stage) Update(fn func(tx *Tx) error) error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	var changes []buckets.Change
	var zeroed []string
	err := s.bolt.Update(func(btx *bolt.Tx) error {
		w := txn.New(btx, s.db.schema(), s.db.opts.Now)
		w.MaxSize = uint64(s.db.opts.MaxDocumentBytes)
		err := safeCall(func(w *txn.Writer) error {
			return fn(&Tx{ctx: s.ctx, db: s.db, w: w, tx: btx, pend: s.pend})
		}, w)
		changes, zeroed = w.Changes(), w.Zeroed()
		return err
	})
	if err != nil {
		return err
	}
	for _, ch := range changes {
		s.db.cache.drop(ch.Collection, ch.ID)
	}
	s.zeroed = append(s.zeroed, zeroed...)
	return nil
}

// View runs fn in a read-only transaction on the stage: it sees the
// stage's committed transactions.
func (s *Stage) View(fn func(tx *Tx) error) error {
	return s.bolt.View(func(btx *bolt.Tx) error {
		return guardRead(func() error { return fn(&Tx{ctx: s.ctx, db: s.db, tx: btx}) })
	})
}

// Staged makes a change too large for one transaction all or nothing. It
// copies the store to a private file beside data.db, runs fn, which
// changes the copy through s.Update in as many transactions as it likes,
// and then, only if fn returns nil, makes the copy durable, verifies it
// (bbolt's structure check and every value decoded) and renames it over
// data.db. An error from fn, a cancelled ctx or a failed verification
// removes the copy and leaves the store as it was; so does a crash at any
// point (the copy is removed on the next open). The search index catches
// up from the change log afterwards, as after any commit.
//
// When the change grew the file by at least 4 MiB and 25% (an import, a
// migration), the copy is compacted before it replaces data.db, so that a
// bulk load leaves the file as compact as kvtool compact would. Its values
// are then decoded while they are copied, and the compacted copy gets the
// structure check, every checksum and equal document counts: the same
// verification in one read of the values instead of two.
//
// Every other reader and writer of db waits until Staged returns. Take a
// backup first if the change is risky: Staged does not take one.
func (db *DB) Staged(ctx context.Context, fn func(s *Stage) error) error {
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return ErrClosed
	}
	db.commit.drain()
	db.blobs.async.Wait()
	tmp := db.Path() + stageSuffix
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cairn: staged change: %w", err)
	}
	if err := snapshot.Compact(ctx, db.bolt, tmp, 64<<20); err != nil {
		return fmt.Errorf("cairn: staged change: copy the store: %w", err)
	}
	var before int64 // the compacted copy's size: what the change grows
	if fi, err := os.Stat(tmp); err == nil {
		before = fi.Size()
	}
	o := *boltOptions(db.opts)
	o.NoSync = true // one Sync before the rename makes the whole copy durable
	// bbolt truncates and fsyncs the file each time it grows it, which
	// NoSync does not turn off: a bulk load grows the copy AllocSize at
	// a time, so it flushed everything written so far every MiB or so
	// (thousands of fsyncs for a 100k-session migration). The copy is
	// private and made durable once, before it replaces the store.
	o.NoGrowSync = true
	// A bulk change commits large transactions that free and allocate
	// thousands of pages each: the array freelist scans every free page
	// id per allocation, which made a 100k-session migration take 321 s
	// (457 s of CPU) instead of 230-239 s (385-398 s). The hashmap
	// freelist finds a run without a scan.
	o.FreelistType = bolt.FreelistMapType
	o.Timeout = time.Second
	sb, err := bolt.Open(tmp, 0o600, &o)
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("cairn: staged change: open the copy: %w", err)
	}
	sb.AllocSize = allocSize(before)
	s := &Stage{db: db, ctx: ctx, bolt: sb, pend: map[string]bool{}}
	defer db.releasePending(s.pend)
	ferr := fn(s)
	if ferr == nil {
		ferr = ctx.Err()
	}
	final := tmp
	verified := false // final has passed verification
	if ferr == nil {
		if fi, err := os.Stat(tmp); err == nil && bulkGrowth(before, fi.Size()) {
			// A bulk load: its pages were split at random points and
			// its summaries are spread among its parts. Compacting the
			// copy before it replaces the store costs one more copy now
			// and gives the layout a compaction gives (buckets' "Page
			// layout"). It is made durable by snapshot.Compact.
			final = db.Path() + ".compact"
			verified, ferr = compactVerified(ctx, sb, final)
		} else if err := sb.Sync(); err != nil {
			ferr = fmt.Errorf("cairn: staged change: sync the copy: %w", err)
		}
	}
	if err := sb.Close(); err != nil && ferr == nil {
		ferr = fmt.Errorf("cairn: staged change: close the copy: %w", err)
	}
	if final != tmp {
		_ = os.Remove(tmp) // replaced by its compacted copy, or failed
	}
	if ferr != nil {
		_ = os.Remove(final)
		return ferr
	}
	if !verified {
		if err := verifyFile(final, nil); err != nil {
			_ = os.Remove(final)
			return fmt.Errorf("cairn: staged change: the copy failed verification, store unchanged: %w", err)
		}
	}
	if err := db.swapLocked(final, replacement{}); err != nil {
		_ = os.Remove(final)
		return fmt.Errorf("cairn: staged change: %w", err)
	}
	db.deleteLater(s.zeroed)
	return nil
}

// compactVerified writes a compacted copy of the stage sb to path and
// verifies it, in one read of sb's values: while snapshot.Compact copies
// them, another goroutine checks sb's structure and decodes every value
// (buckets.VerifyTx) in a read transaction of its own, which sees the
// same committed state. The copy then gets bbolt's structure check and
// every value's checksum, and must hold as many documents per collection:
// a value passing its checksum is the bytes of the source value that
// decoded. This is Staged's full verification (structure, every value
// decoded) with the decoding moved off the critical path, as Backup does
// it. verified is true only if all of it passed.
func compactVerified(ctx context.Context, sb *bolt.DB, path string) (verified bool, err error) {
	var (
		counts map[string]int
		verr   error
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		verr = sb.View(func(tx *bolt.Tx) (err error) {
			counts, err = checkTx(tx, buckets.VerifyTx, nil)
			return err
		})
	}()
	err = snapshot.Compact(ctx, sb, path, 64<<20)
	<-done
	if err != nil {
		return false, fmt.Errorf("cairn: staged change: compact the copy: %w", err)
	}
	if verr != nil {
		return false, fmt.Errorf("cairn: staged change: the copy failed verification, store unchanged: %w", verr)
	}
	if err := checkCopy(path, counts); err != nil {
		return false, fmt.Errorf("cairn: staged change: the compacted copy failed verification, store unchanged: %w", err)
	}
	return true, nil
}

// bulkGrowth reports whether a staged change that took its compacted copy
// of the store from before to after bytes was a bulk load worth compacting: at least 4 MiB
// and 25% more.
func bulkGrowth(before, after int64) bool {
	return after-before >= 4<<20 && after*4 >= before*5
}
