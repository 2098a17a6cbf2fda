// Package peers runs the benchmark harness's workload on the stores a user
// would otherwise pick, on the same generated data (internal/gen, same
// configuration and seed), so that bench/ can print them beside Cairn:
//
//   - bolthold (github.com/timshannon/bolthold), the common query layer
//     on bbolt: one record per session holding the whole document (JSON
//     encoder), with bolthold indexes on status and start time and a
//     slice index on tags. It has no full-text search.
//   - SQLite (modernc.org/sqlite, pure Go): the document as JSON in a TEXT
//     column beside extracted, B-tree indexed columns (status, start time,
//     a session_tags table), the header (the document without its large
//     parts) in its own column, and FTS5 (porter stemming) for text. WAL
//     journal with synchronous=FULL, so that a commit is durable.
//   - jsonfiles, the old app's approach: one JSON array per collection,
//     loaded whole and filtered in memory; every save rewrites the whole
//     collection file (temporary file, fsync, rename).
//
// It lives in its own module (bench/peers) so that the library's go.mod
// never requires bolthold or SQLite. cmd/peerbench prints the results as
// JSON for the harness; Config and Run carry all state.
//
// # Caveats
//
// Each peer is built once into a cache directory keyed by the dataset.
// Writes (commits, patches) go to scratch stores or working copies, never
// to the cache. Measurements a peer cannot make are reported with the
// reason ("n/a") rather than left out.
package peers
