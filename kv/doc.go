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
// each commit (it waits until every earlier commit is indexed). The index is
// opened on the first commit, search or check, or at Open with
// Options.EagerSearch. Decoded documents are cached (Options.CacheBytes),
// each hit validated against the stored record.
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
// reading; GC removes what no document and no retained backup refers to.
//
// Damage: Check reports every problem with its Fix, the way back from it.
// Put and Delete of a document whose stored value fails its checksum
// succeed and leave the store exact; Tx.EachReadable and Tx.Damaged let a
// reader go past, or look for, damaged documents (legacy.SalvageExport).
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
