package kv

import (
	"context"
	"time"
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
