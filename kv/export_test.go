package kv

import "time"

// SetTicker replaces the clock of periodic backups for a test and returns
// a function restoring it.
func SetTicker(f func(d time.Duration) (<-chan time.Time, func())) (restore func()) {
	old := newTicker
	newTicker = f
	return func() { newTicker = old }
}

// PagesWritten returns how many pages bbolt has written for db's
// committed transactions so far (benchmarks report pages per commit).
func PagesWritten(db *DB) int64 {
	db.mu.RLock()
	defer db.mu.RUnlock()
	st := db.bolt.Stats()
	return st.TxStats.GetWrite()
}
