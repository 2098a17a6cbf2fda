// Package legacy reads everything the old desktop app (Taskerino) left on
// disk, resolves it to one newest-correct version per entity, and reads
// and writes the app's JSON export file, which Cairn keeps as its own
// export/import format. The formats are described in FORMAT.md (shared
// legacy notes); section numbers below refer to it.
//
// # What it owns
//
//   - Envelope decoding (§2): plain, GZIP_V1 (gzip+base64), compressed:false
//     JSON-string payloads and raw files; the 31-bit base-36 checksum is
//     computed (LegacyChecksum) over the stored, compact and pretty forms of
//     the payload and is advisory only (§2.3): a mismatch is reported, the
//     data kept.
//   - Scan and Walk: the whole old app-data directory (db/, attachments/,
//     backups/, videos/), or db/ itself, or an era-A directory
//     (attachments/ and taskerino-*-state / export JSON files). Walk hands
//     the resolved entities over one at a time; Scan collects them. Eras
//     handled: A (state files and $HOME/taskerino/attachments), B (plain
//     envelopes, single-slot backups, backups/ snapshots,
//     attachments/<id>.dat), C (GZIP_V1), D (timestamped backups,
//     .tx-<ms>/ staging), E/F (WAL, per-entity files with .checksum,
//     .json.gz), G (chunked sessions, content-addressed attachments,
//     dedup store, tx-temp-<ms>/), H (unbounded backups, no backups/
//     folder).
//   - WAL replay by §5.4: committed transactions only, rolled-back and
//     unfinished ones skipped, checkpoint respected, a truncated last line
//     tolerated, per-entity paths (including db/db/...json.json junk)
//     normalised (NormalizeKey), an object with an id written to an array
//     collection taken as an upsert.
//   - Chunked sessions (§3.4) assembled into whole Session documents:
//     metadata, summary, audio-insights→audioInsights,
//     canvas-spec→canvasSpec, transcription→fullTranscription,
//     context-items→contextItems, screenshot and audio-segment chunks
//     (0-based chunk-NNN, loaded 0..chunkCount-1). The storage-only
//     fields chunks, has* and storageVersion are kept in the document
//     under their own names (no field is ever dropped); consumers may
//     ignore them.
//   - ReadExport, EachExport and WriteExport (§8): format 1.0.0 and the
//     old shape without version, plus Cairn's extra keys settings,
//     attachments and extras. The export reader is strict and exact (the
//     strict JSON reader of internal/jsonx, as kv's ParseJSON): invalid
//     UTF-8, escaped lone surrogates, a member name twice and an id twice
//     in one collection are refused with the JSON path and byte offset;
//     numbers stay literals; each document is bounded by the store's
//     MaxDocumentBytes while it is read.
//
// # Choosing versions
//
// Storage keys first: a key's content is the newest of its main file,
// <key>.tmp.json, staged copies (.tx-<ms>/, tx-temp-<ms>/) and its newest
// WAL write, by envelope or WAL timestamp (a raw file has no timestamp:
// its mtime counts when plausible, else 0, so a pending WAL entry beats
// the file it would have replayed into, §5.4). Backups
// (<key>.backup.json, <key>.<ms>.backup.json, backups/backup-<ms>.json
// snapshots, rollback-points/*/sessions.json) are read only when the main
// file is unreadable or the payload has the wrong shape, or when it is
// missing but expected (a session id in session-index, a chunk below the
// manifest's chunkCount, a part whose has* flag is set); the newest
// decodable copy (or a <key>.compressed.json duplicate) is then a
// candidate. Report.KeyChoices lists keys with several copies and which
// won; Report.Fallbacks lists every fallback and the copy used.
//
// Entities next: every candidate of an id from every source (the winning
// collection array, chunked sessions, legacy db/sessions.json, per-entity
// files, WAL upserts, state/export files found in the directory) is
// compared: the entity's own version number when both have one, then
// updatedAt/lastUpdated when both have one, then the source time
// (envelope/WAL timestamp; file mtime for per-entity files), then the
// precedence WAL > main file > tmp > per-entity > staged > backup >
// export, then the later one scanned. Differing losers are reported as
// Conflicts.
//
// Deleted stays deleted (§4.4, §11.15): backups never add records; an id
// found only in a secondary source (per-entity file, WAL upsert, state
// file) and absent from the collection file is imported only if its own
// updatedAt/lastUpdated (else its source time) is newer than that file;
// a session directory with no metadata that is not in session-index is a
// deleted session; a key with only backups is a deleted key; ids in the
// newest backup of a top-level collection but not in its newer file were
// deleted since. All of these are reported in Report.NotResurrected. A
// committed WAL delete of a per-entity path removes the entity when no
// newer copy exists (Report.Deleted).
//
// Entity.Time is the winner's own updatedAt/lastUpdated in ms when it has
// one, else its source time (0 when unknown).
//
// Settings are merged newest-per-top-level-key over the winning copy,
// the other copies and the newest ScanOptions.SettingsBackups backups
// (§7.7). Legacy link fields (§7.1) are kept and also added as
// relationships entries (source "migration", deterministic ids), never
// duplicating an existing link between the same two entities. Era-A
// topics with type company or person become companies and contacts with
// the same id. Video chapters missing from the chosen session are copied
// from another copy of the same session (§11.8).
//
// Attachments come from the content-addressed store, the dedup store
// (attachments/<hh>/<hash>.dat, with the <hash>.<ext> path bug mapped to
// .dat), attachments/<id>.dat, attachments/<subdir>/<id>.<ext>, inline
// base64 (data: prefix and whitespace stripped) and videos/, deduplicated
// by SHA-256 where it is known. Blob.Open streams file sources (the CAS
// data.json, being an envelope, is decoded in memory) and verifies the
// hash at EOF; it may be called concurrently and more than once. Blobs
// nothing refers to (deleted attachments, videos of lost sessions) are
// kept with Orphan set and listed in Report.OrphanFiles. Inline base64
// stays in the documents as well (no field is dropped); the importer may
// replace it by a blob reference.
//
// # What it never does
//
// It never writes to the scanned directory, never resurrects deleted
// data from backups, never follows a symlink or an attachment path out
// of the directory (such links are reported in Report.OutsideDir), never
// builds a path from an entity id (files are indexed by name during the
// walk and looked up), and never drops unknown fields: documents are
// decoded JSON with json.Number numbers, unknown storage keys go to
// Dataset.Extras, and unreadable files keep their bytes there under
// "unreadable:<path>". The readers do not depend on a store: they hand
// entities to the caller (Walk) or a Dataset (Scan).
//
// # Writing to a store
//
// Migrate, ImportFile, ImportInto, ExportFrom and SalvageExport (store.go)
// are the glue to a Cairn store (kv):
//
//   - ExportFrom refuses a store holding a damaged document before writing
//     anything (an error wrapping kv.ErrCorrupt naming it); SalvageExport
//     writes every readable document and returns the damaged ones.
//   - Migrate takes a verified backup, then streams Walk's entities into
//     the store through kv's Staged in batches of 256 documents: the
//     batches go to a private copy that replaces data.db only once all is
//     written and verified, so a failure, a cancellation or a crash leaves
//     the store as it was. ImportFile does the same with an export file,
//     which it reads twice (validating all of it first, then writing), so
//     neither holds its input in memory.
//   - Attachment bytes go to the blob store. When a copy does not hash to
//     its recorded hash, another copy is looked for; when none is intact,
//     the first readable copy is kept as it is and its attachments carry
//     contentDamaged: true and legacyHash (damaged bytes rather than
//     none); of a copy that cannot be read to the end, the readable part
//     is kept, marked the same way. An attachment whose bytes no file
//     holds keeps its recorded hash as legacyHash, says contentMissing,
//     and is listed in ImportResult.WithoutContent.
//   - A document over the store's MaxDocumentBytes (the old app's
//     monolithic sessions, a large unreadable file kept in extras) is not
//     dropped: its JSON is stored whole as the content of an attachment
//     "legacy-oversized-..." and reported in the problems.
//   - Entities already stored identically are not written again, so a
//     second run imports nothing new; a stored version with a later
//     updatedAt/lastUpdated is kept. Times are read by kv.ParseInstant
//     (epoch ms, dates, RFC 3339 and its variants) here and when Walk
//     chooses between versions; a time it cannot read is listed in
//     ImportResult.UnreadableTimes and the imported version written,
//     never taken as time 0.
//
// # Caveats
//
//   - Memory: Scan holds every resolved entity (as the Dataset API
//     requires); Walk holds none once its callback returns. Walk first
//     indexes every candidate version of every entity, keeping only what
//     the choice needs (id, version, updatedAt, source, time) and where
//     to read the document again, then emits collection by collection:
//     collection files are kept as text and decoded one element at a
//     time, chunked sessions are assembled one at a time, per-entity
//     files are read again. What one step holds is bounded by the largest
//     single file: a collection file's text, or the whole decoded value
//     of a file that is not an array of entities (a state or export file,
//     a backups/ snapshot's collection, a non-array payload). Held for
//     the whole walk: the candidate index, the imported ids per
//     collection, what documents say about attachments (ids, hashes,
//     inline base64, video names), Settings, Extras (unknown keys,
//     quarantined chunks, unreadable files' bytes), and the WAL's newest
//     write per key and its entity writes. Backups are never held:
//     *.backup.json files are listed by name and only the few needed are
//     decoded, one at a time; backups/ snapshots are streamed for the one
//     key needed.
//   - Collection files, per-entity files and chunked sessions' metadata
//     are read twice (to index, then to emit); one that changed in
//     between fails the walk with ErrChanged. Other chunked-session files
//     are read once, when their session is emitted.
//   - File mtimes are used for per-entity files and raw files only when
//     they are not later than every timestamp read so far (plus a day):
//     a copied or checked-out directory has fresh mtimes that mean
//     nothing, and those count as 0. Per-entity files are judged after
//     the WAL, the backup and staging names, the collection files and
//     every session's metadata were read; a raw chunk or part file when
//     its session is assembled.
//   - A collection file overwritten with an empty array by the old app's
//     checksum bug (§11.2) cannot be told apart from a deliberate
//     deletion; its entities are then only reported as not resurrected.
//   - Legacy db/sessions.json sessions are unioned with the chunked store
//     as FORMAT.md requires, so a session deleted in era G+ but still in
//     that legacy file comes back.
//   - Pointed at db/ itself, Scan does not read attachments/, backups/
//     or videos/ beside it (they are outside the given directory).
//   - WebView localStorage and IndexedDB (§9) are not on disk in a
//     readable form and are not read. Era-A state is read from files at
//     the root named taskerino-v3-state*, taskerino-v2-state*,
//     taskerino-backup-*, taskerino-export-* or localStorage* (.json).
//   - Unreadable main, per-entity and chunk files keep their bytes in
//     Extras; unreadable .tmp, staged and backup copies are only reported
//     (they are partial or older copies).
//   - Stale chunk files beyond chunkCount are not imported; their payload
//     is kept in Extras under "quarantine:<key>".
//   - Main, .tmp, staged and per-entity files are read and decoded ahead
//     of use by ScanOptions.Workers goroutines, in the order the scan
//     uses them, at most 64 files and about 32 MB (estimated decoded
//     size) ahead; a larger file is read when it is needed. Results are
//     identical to a sequential scan. On a slow disk the number of files
//     (three or more per chunked session) dominates the run time.
//   - Report lists are sorted (by key, by collection then id, by path, by
//     session), not in the order things were found.
package legacy
