// Package blobstore is the file side of Cairn's attachments: immutable,
// content-addressed files under <store>/blobs/, named by the SHA-256 of
// their contents.
//
// # Layout
//
//	<root>/tmp/<random>        a Put in progress (or crash debris)
//	<root>/<hh>/<hash>         a blob: hash is 64 lowercase hex digits of
//	                           SHA-256(contents), hh its first two digits
//
// Directories are created 0700 and files 0600. Nothing but a string accepted
// by [ValidHash] ever becomes part of a path, so no caller-supplied name can
// leave the root.
//
// # What it owns
//
// The bytes of every blob and the guarantee that a file under a final name is
// complete: [Store.Put] streams into a temporary file while hashing, syncs and
// closes it, and only then renames it into place and syncs the shard
// directory (the durable-replace pattern of internal/fsutil). A Put that
// returned is on disk and survives kill -9 and power loss. Content is never
// held in memory whole: a 2 GB video goes through a fixed-size buffer.
//
// Reading verifies: a [Reader] hashes while it streams and, at end of file,
// returns an error wrapping buckets.ErrCorrupt naming the hash instead of
// io.EOF when the contents do not match their name. [Store.Walk] lists every
// blob and reports every name that is not one, so an integrity check can say
// "unexplained file".
//
// # What it never does
//
//   - Count references. Reference counts live in bbolt, changed in the same
//     transaction as the documents that hold them; this package does not know
//     who uses a blob.
//   - Delete anything it was not asked to: [Store.Remove] removes one named
//     blob, [Store.CleanTemp] only old files in tmp/. Orphans are for gc to
//     decide.
//   - Follow symbolic links. A symlink where a blob or a shard directory
//     should be is reported as corrupt (or as a stray name by Walk) and is
//     never read, written or removed through.
//
// # Caveats
//
//   - Blobs are written before the bbolt transaction that references them
//     commits. A crash between the two leaves orphan files: that is expected,
//     and gc removes them. A crash during Put leaves at most a file in tmp/,
//     never a partial file under a final name; CleanTemp removes it.
//   - Corruption found while reading is reported at the end of the stream:
//     bytes a Reader already returned may be wrong. A caller that must not act
//     on wrong bytes reads to the end (or calls Verify) before using them.
//   - Put deduplicates by name and size: if a file of the same name and size
//     exists, the new copy is dropped without re-reading the old one. A file
//     of the right name but the wrong size (or a symlink) is replaced by the
//     freshly written, correct copy.
//   - Put and Remove of the same hash race: a Put that deduplicated against a
//     file that a concurrent Remove then deletes returns a hash whose file is
//     gone. The caller (the reference-counting layer and gc) must not remove a
//     hash while a Put of it may be about to commit a reference.
//   - Symlink checks use Lstat before opening and compare the opened file
//     with it; they guard against links placed in the tree (by a restore, a
//     copy, a user), not against a hostile process racing inside a 0700
//     directory.
//
// A Store is safe for concurrent use by multiple goroutines, and several
// processes may share a root: every file under a final name is written once,
// atomically, with identical contents.
package blobstore
