package kv

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/cairnkv/cairn/buckets"
	bolt "go.etcd.io/bbolt"
)

// SetTicker replaces the clock of periodic backups for a test and returns
// a function restoring it.
func SetTicker(f func(d time.Duration) (<-chan time.Time, func())) (restore func()) {
	old := newTicker
	newTicker = f
	return func() { newTicker = old }
}

// SetTrimEvery changes how often the indexer trims the change log and
// returns a function restoring it.
func SetTrimEvery(d time.Duration) (restore func()) {
	old := trimEvery
	trimEvery = d
	return func() { trimEvery = old }
}

// SearchState waits for db's search index to be open and caught up, and
// returns why it was rebuilt at open ("" if it was not), LastApplied and
// DurableApplied.
func SearchState(db *DB) (rebuilt string, applied, durable uint64, err error) {
	ix, err := db.searchIndex(context.Background())
	if err != nil {
		return "", 0, 0, err
	}
	return db.runningIndexer().Rebuilt(), ix.LastApplied(), ix.DurableApplied(), nil
}

// SearchApplied returns the sequence the running indexer has applied
// (searchable), without waiting and without starting it: 0 if it is not
// running.
func SearchApplied(db *DB) uint64 {
	x := db.runningIndexer()
	if x == nil {
		return 0
	}
	return x.Applied()
}

// PagesWritten returns how many pages bbolt has written for db's
// committed transactions so far (benchmarks report pages per commit).
func PagesWritten(db *DB) int64 {
	db.mu.RLock()
	defer db.mu.RUnlock()
	st := db.bolt.Stats()
	return st.TxStats.GetWrite()
}

// DamageStaged damages the stored value of coll/id in the stage's file,
// behind the store's back, as a bad disk or a bug would: with sealed
// false a byte flips (the checksum no longer matches); with sealed true
// the payload becomes bytes that do not decode and the checksum is
// recomputed over them, so that only decoding finds the damage.
func DamageStaged(s *Stage, coll, id string, sealed bool) error {
	return s.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(buckets.PrimaryBucket(coll))
		if b == nil {
			return fmt.Errorf("no bucket for %s", coll)
		}
		v := b.Get([]byte(id))
		if v == nil {
			return fmt.Errorf("no %s %q in the stage", coll, id)
		}
		if sealed {
			// 0xc1 is the one byte msgpack never uses.
			return b.Put([]byte(id), buckets.Seal([]byte{0xc1, 0xc1, 0xc1, 0xc1}))
		}
		bad := bytes.Clone(v)
		bad[len(bad)/2] ^= 0x40
		return b.Put([]byte(id), bad)
	})
}
