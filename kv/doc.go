// Package kv is Cairn's public API: an embedded entity store for
// local-first apps, on one bbolt file.
//
// # Basics
//
// Open a store directory, write and read JSON documents in collections, and
// Close it:
//
//	db, err := kv.Open("app-data", nil)
//	...
//	defer db.Close()
//	rev, err := db.Put(ctx, "notes", kv.Document{"id": "n1", "content": "hello"})
//	doc, rev, err := db.Get(ctx, "notes", "n1")
//
// Entity collections (sessions, notes, tasks, topics, companies, contacts,
// attachments) hold JSON objects with a string id of 1 to 256 bytes.
// Singletons (settings, aiSettings, preferences) hold one object each,
// addressed without an id. extras holds any JSON value under a key.
//
// Every field of a document is kept exactly, including fields no Go type
// declares; the typed entities of package kv/entity (Session, Note, Task,
// ...) keep unknown fields in their Extra and write them back (GetAs,
// PutAs, ModifyAs).
//
// JSON from outside (ParseJSON, ParseDocuments, ReadJSON, DocumentReader,
// Put of a json.RawMessage) is kept exactly or refused: invalid UTF-8, an
// escaped lone surrogate and a member name given twice are errors naming
// the line, byte offset and JSON path, never a U+FFFD or a dropped member;
// numbers keep the value they were written with, however many digits
// (see buckets.NumberValue). docmodel.ParseInstant (buckets.ParseInstant) is the one reader of times.
//
// # Transactions
//
// Update runs a function in one atomic, durable transaction across
// collections; View runs one in a consistent read snapshot. Concurrent
// writers share commits (group commit); a write that returned nil is on
// disk and survives a crash or power loss.
//
// Each document has a revision that increases on every change. IfRev makes
// a write fail with ErrConflict unless the stored revision is the one given.
// Patch (an RFC 7396 merge patch) and Modify (a read-modify-write) are
// applied to the version stored at commit time, so an AI enrichment writing
// the summary and a user renaming the session never lose each other's
// change.
//
// # Queries, search and listing
//
// List reads metadata summaries only (Summaries reads those of given ids,
// such as a sorted page of a Query for ids); Query filters, sorts and pages a
// collection through the secondary indexes (Explain says how); Search is
// ranked full-text search over a Bleve index fed from the change log after
// each commit (it waits until every earlier commit is indexed). A commit
// never waits for the index: the indexer gathers the commits of up to 50 ms
// into one batch, which Bleve persists in the background; the change log
// keeps what the index has not yet persisted, and catch-up after a crash
// re-applies it. The index is opened on the first commit, search or check,
// or at Open with Options.EagerSearch. Decoded documents are cached from
// their second read on (Options.CacheBytes, counted in bytes of heap), each
// hit validated against the stored record, so that reading many documents
// once fills nothing; Prefetch fills the cache at once, in the background,
// and ClearCache empties it.
//
// # Backups and attachments
//
// Backup takes a hot snapshot, verifies it and rotates old ones; Restore
// and Compact take a verified backup first and swap the file atomically.
// Staged makes a change too large for one transaction (a migration, an
// import) all or nothing: its batches go to a private copy of the file,
// swapped in the same way once complete and verified.
// By default a writable store backs itself up when it opens, when it
// closes and hourly while open, skipping a backup when nothing changed
// since the newest verified one (Options.NoAutoBackup, BackupInterval);
// BackupStatus and Options.OnBackupError report failures. A restore of a
// store whose data is damaged keeps the damaged file aside
// (data.db.damaged-<time>) instead of refusing for want of a pre-restore
// backup. After a restore the data is served at once and the search index
// is rebuilt in the background (searches wait for it); Close interrupts a
// rebuild and the next open resumes it.
//
// AddAttachment streams content into a content-addressed blob store
// (identical content is stored once; a damaged copy is replaced when the
// content is added again); MergeAttachment sets the content of an existing
// attachment and keeps its other fields; OpenAttachment verifies it while
// reading; GC removes what no document and no retained backup refers to,
// counting the attachments themselves before it deletes (a blob whose
// stored reference count is damaged to 0 is kept and reported).
//
// Damage: Check reports every problem with its Fix, the way back from it.
// A document stored under a key that is not its id (a damaged key: the
// checksum covers the value only) is damaged like one whose value fails
// its checksum, never returned as the document of that key. An existing
// data.db that is empty or shorter than bbolt's first four pages is
// refused as damaged, never taken for a new store, unless it is empty
// and the store has no backup (a creating open was killed before bbolt
// wrote the file): then it is no store (ErrNoStore) to a read-only open
// and a new store to a writable one.
// Put and Delete of a document whose stored value fails its checksum
// succeed and leave the store exact; Tx.EachReadable and Tx.Damaged let a
// reader go past, or look for, damaged documents (legacy.SalvageExport).
//
// # Contexts, iterators, logging, errors
//
// Every DB method that can block or read the disk takes a context.Context
// first; one already cancelled returns ctx.Err() and changes nothing, and
// walks over many keys stop soon after it is cancelled. Tx.Context gives
// the function of Update and View its caller's ctx.
//
// All, Summarize, QueryAll and DumpAll are range-over-func iterators
// (iter.Seq2) beside the callbacks of Tx.Each, List, Query and Dump: each
// holds its read transaction while the loop runs and ends it when the loop
// ends, by break included. A callback stops a walk by returning ErrStop or
// an error wrapping it.
//
// Options.Logger (a *slog.Logger; nil is silent) receives the store's own
// lines and Bleve's. Errors are returned, never only logged; their
// sentinels are in errors.go, all with the prefix "cairn:". A panic in the
// function of Update or View is returned as that function's panic, not as
// damage.
//
// # User collections and declared indexes
//
// Any valid name ([a-z][a-zA-Z0-9_-]{0,63}) that is not a built-in
// collection is a user collection, created on first write, holding JSON
// objects with a string id and searched on every string field.
// DeclareIndex (or Options.Indexes) adds a secondary index on one of its
// fields (string, number or time), built from the documents already there
// in one transaction, kept in the store, kept exact by every write and
// used by Query; Indexes lists them with their entry counts, DropIndex
// drops one. The built-in collections' indexes are fixed.
//
// # Concurrency
//
// A DB is safe for concurrent use. A Tx is not, and must not outlive its
// function. Never call a DB method from inside Update or View on the same
// goroutine: it deadlocks, as in bbolt.
//
// # Caveats
//
// Cairn creates data.db 0600 and its directories 0700, but the search
// index's files are created by Bleve with the process umask (kvtool sets
// 077); an application that wants them private sets its umask too.
//
// Update's function may run more than once when another writer of the same
// group commit fails after writing: it must have no effects outside the
// transaction. Documents are decoded into map[string]any; numbers become
// int64, uint64, float64 or, for a value none of them holds exactly,
// json.Number (the literal as written). A typed struct field reads a
// number through encoding/json: a float64 field rounds a json.Number.
package kv
