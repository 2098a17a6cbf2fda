// Package txn is Cairn's write path. A Writer applies document changes
// inside one bbolt read-write transaction owned by the caller (package kv
// runs it inside its group commit): the primary record, the document's
// parts, the metadata summary and secondary index keys (through package
// secondary), blob reference counts and the change log change together, or
// the transaction is rolled back and none of them do.
//
// # Revisions
//
// Every change gets the next change-log sequence of the store; that
// sequence is the new revision of the document. Revisions therefore
// increase on every change of a document, across deletes and re-creates,
// and are unique store-wide. A write given an expected revision fails with
// ErrConflict, before it changes anything, if the stored one differs.
//
// # Enrichment-safe updates
//
// Patch applies a JSON merge patch (RFC 7396) against the version stored at
// the moment of the write, inside the transaction, and Modify runs a
// caller's read-modify-write there; since bbolt serialises write
// transactions, an AI enrichment patching one set of fields and a user
// editing another never lose each other's changes.
//
// # Parts
//
// Large fields of a collection (buckets.Collection.ArrayParts, BlobParts)
// are stored apart from the document: one key per array element, one key
// per large field. A write rewrites only the elements whose bytes changed;
// Append writes only the new elements, so appending a screenshot costs the
// same for a session with 10 screenshots as for one with 1,000.
//
// # Damaged documents
//
// Put and Delete replace or remove a whole document, so they do not need
// the stored version: when its record fails its checksum they remove its
// parts (by key prefix), its metadata entry and index keys
// (secondary.Remove) and, for an attachment, its blob reference (from its
// metadata entry, or by recounting the other attachments), then go on as
// for an absent document. Patch, Modify, Append and a write with an
// expected revision need the stored version and fail with the corruption
// error.
//
// # Never
//
// txn never commits, rolls back or opens a transaction, never keeps a
// reference to bbolt memory past the transaction, and never leaves a change
// half-applied inside a transaction that commits: an operation that fails
// before writing leaves the transaction untouched (Writer.Dirty reports
// whether it did).
package txn
