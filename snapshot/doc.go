// Package snapshot owns Cairn's backups: hot snapshot files taken from a
// bbolt read transaction, the manifest written beside each one, their
// verification, and their rotation. It also holds the two file operations
// that restore and compaction need (CopyFile and Compact).
//
// # Owns
//
// A backups directory (normally <store>/backups, mode 0700) holding, per
// backup, two files named after the backup:
//
//	20261126T010203.123456789Z.db    the bbolt file, written by Tx.WriteTo (mode 0600)
//	20261126T010203.123456789Z.json  its manifest (mode 0600)
//
// A name is the UTC creation time with nanoseconds in a fixed-width layout
// (see Name and ParseName), so names sort in time order and can be parsed
// back. Names never come from user input without ParseName/Path validating
// them: a name with a separator, "..", NUL or anything else that does not
// match the layout is refused, so no path outside the directory is ever
// touched.
//
// # The commit point
//
// Create copies the transaction into a temporary file (".<name>.db.tmp-*"),
// file to file where the kernel can, hashing what it copied by reading it
// back, while the Verifier reads every value and the
// counts in the same transaction (one read of the store: the copy holds
// the pages the verified transaction sees), fsyncs and closes it, and
// (with CreateOptions.CheckCopy only) opens it read-only and verifies it
// again (bbolt's structural Tx.Check, the Verifier over every value, and
// per-collection counts equal to the source's). Only then does it rename
// it to <name>.db and durably write <name>.json, whose Checked says what
// was checked. The manifest is the commit point: a .db without a manifest
// is debris from a crashed Create, which List ignores and Prune removes.
// Any failure returns an error and removes what Create wrote; nothing is
// logged and continued.
//
// # Rotation
//
// Select (pure) and Prune (Select applied to a directory) keep:
//
//  1. the newest verified backup, always;
//  2. the newest KeepLast verified backups;
//  3. for each of the last Daily UTC calendar days (today included), the
//     newest verified backup made that day;
//  4. for each of the last Weekly ISO weeks (Monday to Sunday, UTC, this
//     week included), the newest verified backup made that week;
//  5. every unverified backup (Verified false: a damaged or unreadable
//     manifest, a missing data file, a size that disagrees with the
//     manifest) that is newer than the newest verified backup;
//  6. the newest verified backup whose structure was checked (its pages
//     walked, or its copy read back), and the newest verified backup
//     taken before a restore (ReasonPreRestore): the only copy of what the
//     last restore replaced, kept until the next restore however many
//     backups are taken meanwhile.
//
// Everything else is dropped. Unverified backups never fill a slot of rules
// 2 to 4, so damaged backups cannot push good ones out; and because slots
// count verified backups only, the verified backup that still holds data a
// later, failed backup lacks is kept. An unverified backup is dropped only
// once a newer verified backup exists, which holds everything it could have
// held. Kept forever this way are only backups that a person damaged
// (Create never commits an unverified backup), so the directory stays
// bounded in normal operation.
//
// # Never
//
//   - imports kv, txn, secondary or search (only buckets and internal/fsutil);
//   - opens or locks the store's own data file: it is handed a transaction
//     (Create) or a *bolt.DB (Compact) by kv, which holds the file lock and
//     alone can close, swap and reopen the store for a restore;
//   - deletes the newest verified backup, or leaves a partial file under a
//     backup's name;
//   - logs an error instead of returning it.
//
// # Caveats
//
//   - Create and Prune on the same directory must not run concurrently
//     (kv serializes them). Prune removes the temporary files of a Create
//     that is still running, which then fails with an error: never silently.
//   - Create needs the caller's read transaction open until it returns
//     (the copy, and with CheckCopy the verification of the copy). Meanwhile the source
//     cannot reuse pages freed by writers, so it may grow, and a writer
//     whose commit must grow bbolt's mmap waits for the transaction to end
//     (measured by BenchmarkWritersDuringBackup): open the store with a
//     generous bolt.Options.InitialMmapSize.
//   - The Verifier runs on the caller's transaction in a goroutine while
//     the same transaction is copied (with CheckPages, once the walk of
//     the page graph, which runs alongside the copy from its start, found
//     it sound), and on the copy while bbolt's Check walks it; it must
//     only read. The SHA-256 is computed on another
//     goroutine as the copy is written. On a machine with spare cores a
//     backup costs about max(copy, SHA-256, Verifier); SHA-256 is usually
//     the bound. Without CheckCopy, damage on the way from the hash to
//     the disk is not seen until Verify (which kv's Restore runs first):
//     Manifest.Checked says what Create checked.
//   - List does cheap checks only (the manifest parses and names its file,
//     the data file exists with the recorded size). Verified in a listing is
//     what Create proved when it wrote the backup; Verify re-proves it,
//     reading every byte. Verify never writes, so a backup found damaged by
//     Verify but not by List's cheap checks still counts as verified for
//     rotation until someone removes it.
//   - Names come from the caller's clock (CreateOptions.Now). If the clock
//     goes backwards, a new backup sorts before older ones and rotation
//     treats it as older.
//   - bbolt reads a file through mmap. Verify checks the meta pages itself
//     before opening a file (so a truncated file is reported, not mapped
//     past its end), then walks the page graph from the file (CheckPages:
//     page ids inside the file, page types, elements inside their pages,
//     no page referenced twice) before the Verifier (run with
//     debug.SetPanicOnFault, panics turned into problems) and bbolt's
//     Tx.Check, which runs in its own goroutine where a memory fault
//     cannot be recovered. CheckPages does not check key order; bbolt's
//     Check does, over pages it can read.
//   - Compact checks ctx between keys; a single large value is copied
//     whole. Its copy is written in several transactions (one region of
//     the page layout at least, see buckets' "Page layout"), so it is not
//     bbolt.Compact's output: pages are filled per bucket, not all at 1.0.
//   - Problem kinds reported here: "manifest", "missing", "size", "sha256",
//     "meta", "open", "structure", "count", "panic", plus whatever the
//     Verifier reports. Every Detail starts with the file it is about.
//   - A damaged manifest no longer says which blobs its backup references.
//     Blob garbage collection must treat a listed backup with a Problem as
//     referencing every blob (or refuse to run) until Prune removes it.
package snapshot
