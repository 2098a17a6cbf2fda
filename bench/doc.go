// Package bench will hold Cairn's benchmark harness (go run ./bench): it
// generates the deterministic dataset, runs each measurement in fresh
// processes where it matters, and prints Cairn's figures beside the old
// app's targets and beside peers (bolthold and SQLite, in their own module
// under bench/peers so the library's go.mod stays clean).
//
// It owns measurement only; it never changes the library's behaviour and
// never depends on timing in the default test run.
package bench
