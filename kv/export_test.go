package kv

import "time"

// SetTicker replaces the clock of periodic backups for a test and returns
// a function restoring it.
func SetTicker(f func(d time.Duration) (<-chan time.Time, func())) (restore func()) {
	old := newTicker
	newTicker = f
	return func() { newTicker = old }
}
