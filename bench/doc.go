// Command bench is Cairn's benchmark harness (go run ./bench). It answers
// the two questions a user choosing a store asks: is it fast enough for my
// data, and is it faster than what I would use instead.
//
// It generates the deterministic dataset of internal/gen (10,000 sessions
// averaging about 30 KB of JSON, notes, tasks, topics, companies, contacts
// and attachments with duplicated contents; 100,000 sessions at --scale
// 100k) into a cache directory once, keyed by a fingerprint, and measures
// on a working copy of it:
//
//   - startup: open the store and list every session summary in a fresh
//     process (the binary re-executes itself), warm and cold-ish (page cache
//     of the store dropped first), and the newest 50 sessions;
//   - resident memory of that process with the store open;
//   - the complex query (status, tag, six months, newest first, page 2),
//     a one-month range and a tag lookup, each beside a full scan that
//     decodes every session, with the ratio;
//   - full-text search of one and two words;
//   - durable commits per second with 1 and 8 writers, and the latency of
//     an enrichment patch;
//   - encode and decode time per session, stored size against JSON,
//     attachment deduplication;
//   - backup throughput against a plain copy of data.db;
//   - migration of a generated era-G legacy directory (time, peak RSS).
//
// Each figure is a median over --runs runs with its spread (min–max),
// judged against the old plan's targets and the issues' targets. With
// --peers the same workload runs on bolthold, SQLite and the old app's
// JSON files, in the separate module bench/peers (so the library's go.mod
// never requires them), and the table shows their figures beside Cairn's.
// Output: a table on stdout and, with --out, results-<scale>.json,
// bench-<scale>.txt (Go benchmark format, for benchstat) and latency.svg.
//
// Config and Run carry everything; there are no package-level variables
// holding state. The package owns measurement only: it never changes the
// library's behaviour, and its test (a tiny-scale smoke run) asserts the
// shape of the output, never a timing.
//
// # Caveats
//
// Figures depend on the machine and its load, which are printed with them.
// "Cold" drops the kernel's page cache (or, without the right, advises
// the kernel to drop the store's pages); the disk's and the hypervisor's
// caches stay warm. Full scans at 100k take minutes.
package main
