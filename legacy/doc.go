// Package legacy reads everything the old desktop app (Taskerino) left on
// disk, resolves it to one newest-correct version per entity, and reads
// and writes the app's JSON export file, which Cairn keeps as its own
// export/import format. The formats are described in docs/FORMAT.md;
// section numbers below refer to it.
//
// # What it owns
//
//   - Envelope decoding (§2): plain, GZIP_V1 (gzip+base64), compressed:false
//     JSON-string payloads and raw files; the 31-bit base-36 checksum is
//     computed (LegacyChecksum) over the stored, compact and pretty forms of
//     the payload and is advisory only (§2.3): a mismatch is reported, the
//     data kept. A payload that decodes to a GZIP_V1 string, which the
//     app's ZIP import saved as a collection's value (§8.1), is decoded
//     again, as often as imports wrapped it (Envelope.RoundTrips).
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
//     collection taken as an upsert. A whole-key write that its key's
//     file (or a later write of the key) supersedes is not applied and
//     is counted in Report.WAL.Skipped, with the reason, not as
//     replayed.
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
//     attachments, extras (by id) and collections (the user collections'
//     arrays, by name). The export reader is strict and exact (the
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
// WAL write, by envelope or WAL timestamp (a raw main file has no
// timestamp: it is the WAL replay's write, so wal.checkpoint's time
// counts, at or after that replay; without a checkpoint its mtime counts
// when plausible, else 0, so a pending WAL entry beats the file it would
// have replayed into, §5.4). Backups
// (<key>.backup.json, <key>.<ms>.backup.json, backups/backup-<ms>.json
// snapshots) are read only when the main
// file is unreadable or the payload has the wrong shape, or when it is
// missing but expected (a session id in session-index, a chunk below the
// manifest's chunkCount, a part whose has* flag is set); the newest
// decodable copy (or a <key>.compressed.json duplicate) is then a
// candidate. Report.KeyChoices lists keys with several copies and which
// won; Report.Fallbacks lists every fallback and the copy used.
//
// An array collection (sessions, notes, tasks, topics, companies,
// contacts, attachments) whose file is bad is recovered from all its
// older copies rather than one (§5.3, §11.1–3): its file is unreadable,
// holds something other than an array, holds one entity object (the
// WAL replay's clobber of §5.3; a copy holding one entity is never a
// version of the collection, only of that entity, which is a candidate),
// or is stale: its envelope timestamp is older than its newest
// timestamped backup's (and than the time in that backup's name, the
// time of the save that wrote the main file: a main file saved later,
// under a clock that stepped back, is the newest state), or than the time in the name of a backups/
// snapshot holding the collection, which only happens when the era D+
// loader copied an old .backup.json over it (§11.1, §4.1: a timestamped
// backup is the previous main file; §3.6: a snapshot is the main files
// as they were when taken, and every later save gives a main file a later
// timestamp); the stale file is then one more of the copies. When the
// app saved again after such a put-back, the timestamped backup of that
// save carries the single-slot backup's timestamp, older than the backup
// before it: that earlier backup's entities are candidates beside the
// main file's (each the newest version of its id). Without a main file a
// collection was deleted: a newer snapshot does not bring it back.
// The copies read are the ScanOptions.RecoveryCopies newest decodable
// timestamped backups, the single-slot backup, the RecoveryCopies newest
// backups/ snapshots holding the collection; the newest of them by the
// time of its content (its envelope's timestamp, else the time in its
// name) says which entities the collection held, and every copy of each
// of those is a candidate, so the highest version wins. The clobbering entity of a raw main file is
// newer than every backup (a later save would have written the array
// back), so its time is the file's mtime even where mtimes are otherwise
// distrusted (see Caveats): it beats an older backup's copy unless that
// has a higher version or updatedAt. Report.Fallbacks names the bad file
// (and the clobbering entity), Report.Restored each restored entity and
// the copy it came from (OlderCopy when not the newest).
//
// Rollback points (rollback-points/<id>/sessions.json, "must import" in
// §6) are not backups: their sessions are candidates like the legacy
// db/sessions.json's, unioned by id (§11.5), so a session found only in a
// rollback point is imported (Report.RollbackPoints lists each snapshot
// and the sessions imported from it); the snapshot,
// rollback-points/<id>/metadata and rollback-points-index are kept whole
// in Extras.
//
// Entities next: every candidate of an id from every source (the winning
// collection array, chunked sessions, legacy db/sessions.json, rollback
// points, per-entity files, WAL upserts, state/export files found in the
// directory) is
// compared: the entity's own version number when both have one, then
// updatedAt/lastUpdated when both have one, then the source time
// (envelope/WAL timestamp; file mtime for per-entity files), then the
// precedence WAL > main file > tmp > per-entity > staged > backup or
// rollback point > export, then the later one scanned. Differing losers are reported as
// Conflicts.
//
// Deleted stays deleted (§4.4, §11.15): backups never add records; an id
// found only in a secondary source (per-entity file, WAL upsert, state
// file) and absent from the collection file is imported only if its own
// updatedAt/lastUpdated (else its source time; for a WAL write the later
// of the two, the entry's timestamp being when the app wrote it) is
// newer than that file
// (for a recovered collection: than its newest copy); an entity only in
// copies older than a recovered collection's newest copy was deleted
// since;
// a session directory with no metadata that is not in session-index is a
// deleted session, and none of its older copies (db/sessions.json,
// per-entity files, rollback points, export files) is imported; a key with only backups is a deleted key; ids in the
// newest backup of a top-level collection but not in its newer file were
// deleted since (unless a recent backup bears the mark of the checksum
// bug, docs/FORMAT.md §2.3, §11.2: compressed:false, its checksum right
// over compact JSON only, which the app's loader rejected, so it saw the
// collection as empty; then its ids the save after it lacks were lost,
// not deleted, and are imported, reported in Report.ChecksumBugRecovered;
// but not when that save holds some of the backup's ids: the app had the
// collection then, and a note says so; a settings copy so refused is kept
// whole in extras as checksumLost:<file>; the same holds for the items of
// a chunked session's chunk or array part, context-items say, whose
// timestamped backup bears that mark: its items no newer save holds are
// imported before the newer ones), and so were ids in backups/ snapshots (the newest
// RecoveryCopies holding each collection) that nothing else holds. All
// of these are reported in Report.NotResurrected, with the file. A
// committed WAL delete of a per-entity path removes the entity when no
// newer copy exists (Report.Deleted). An id a per-entity folder's
// index.json lists that no file holds is not imported either (an index
// row is a derived summary, §3.3): it is reported (Report.IndexOnly) and
// its row kept in extras "index-only:<index path>#<id>".
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
// from another copy of the same session (§11.8). So are the enrichment
// results (summary, audioInsights, canvasSpec, fullTranscription,
// audioKeyMoments, transcriptUpgradeCompleted, enrichmentStatus) a
// chosen copy without a version lacks, from the session's per-entity
// file with the highest version: in eras E–F enrichment went only there
// (§3.3, §11.4), while the UI kept saving db/sessions.json, whose
// sessions have no version; that later copy keeps its members
// (Report.EnrichmentRecovered). A chunked session whose parts or chunks
// were lost (a has* flag set with no file, chunks the manifest counts
// that are missing or unreadable, §11.6) gets them from the other
// copies of the session, best first: a missing part whole, and the
// items whose id its chunks lack added after its own
// (Report.LostRecovered). A chunked session's parts and chunks win over
// members of the same name its metadata.json holds (the app's
// sessionToMetadata strips them, §3.4); the metadata's values that
// differ are kept in extras "replaced:<metadata path>" ({path, reason,
// members}), which Report.Notes names.
//
// Attachments come from the content-addressed store, the dedup store
// (attachments/<hh>/<hash>.dat, with the <hash>.<ext> path bug mapped to
// .dat), attachments/<id>.dat, attachments/<subdir>/<id>.<ext>, inline
// base64 (data: prefix and whitespace stripped) and videos/, deduplicated
// by SHA-256 where it is known. Blob.Open streams file sources (the CAS
// data.json, being an envelope, is decoded in memory) and verifies the
// hash at EOF; it may be called concurrently and more than once. Blobs
// nothing refers to (deleted attachments, videos of lost sessions) are
// kept with Orphan set; those no attachment id names are listed in
// Report.OrphanFiles. Inline base64 stays in the documents as well (no
// field is dropped); the importer may replace it by a blob reference.
// Two records giving one attachment id different inline bytes (a note's
// and a task's) keep both: the first's (sessions, notes, tasks, then
// attachments) are its content, the other's an orphan attachment, and
// the disagreement is in Report.Conflicts. The same holds for two files of
// one id (attachments/<id>.dat and attachments/images/<id>.png) holding
// different bytes: the first in §7.6's order is its content, the other
// an orphan attachment (Report.OrphanFiles, Conflicts, Notes). Inline
// base64 a losing version of an entity holds (an older copy of a session
// whose newer chunked copy lost its screenshots' base64, §11.7) is a
// source too, and so is the inline base64 of the older copies of the
// collection files (the newest ScanOptions.RecoveryCopies timestamped
// backups of each key, chunks' included, the single-slot backup, a
// .tmp.json, staged copies, the WAL's whole-key writes and the newest
// RecoveryCopies backups/ snapshots) for the attachments the imported
// entities refer to (what only an older copy refers to was deleted
// since, §11.15): the id's content when nothing else holds any, one more
// copy when the bytes are the same, else an orphan attachment and a
// conflict; Report.Notes says which. An attachment no record of its
// own describes (db/attachments.json, <id>.meta.json) takes the name,
// type and createdAt of the first inline record of it (Blob.Meta), and
// so does Migrate's document of it.
// Each videos/ file is an attachment of its own: a session video's id
// names the file its path names (the raw recording), the file its
// optimizedPath names is "<video id>-optimized", and a file whose id
// another file took (two sessions' videos sharing an id) is
// "<id>-<file name without extension>" (Report.Notes says which).
//
// An attachment stored by id (§3.7.1–2: attachments/<id>.dat,
// <id>.meta.json, <subdir>/<id>.<ext>) is an entity of the attachments
// collection under its own id, whether anything refers to it or not.
// Every field of its <id>.meta.json is kept, unknown ones too: the file
// is the document when the collection has none for the id; otherwise it
// fills the fields the collection's document lacks, and when it says
// otherwise about one, the whole file is kept under legacyMeta. Without a
// meta file the document is a stub {id, name, legacySource}. One nothing
// refers to gets orphan: true and is listed in Report.OrphanAttachments.
// The markers Migrate adds to attachment documents (orphan,
// contentMissing, contentDamaged, legacyHash, legacySize) never replace
// a member of that name the old app's document has of its own: as with
// legacyRaw, that member stays as it is and the marker goes to the first
// free of <name>~2, <name>~3, ..., which Report.Notes names.
// The content-addressed store's metadata.json and the dedup store's
// <hash>.meta.json are kept whole in Extras, under their key
// (attachments-ca/<hh>/<hash>/metadata) and path
// (attachments/<hh>/<hash>.meta.json).
//
// # Input kept exactly
//
// The old app's JSON texts can hold what a JSON document cannot: strings
// with invalid UTF-8 (raw bytes in a file) or unpaired surrogate escapes
// ("\ud800", which JavaScript strings allow), objects that repeat a
// member name, member names that are not valid Unicode. Scan decodes
// them as encoding/json would (U+FFFD for what is not a character, the
// last of a repeated name) and never silently: the object holding such a
// value gets a member named legacyRaw (RawField), a list of
// {path, problem, text|base64}: path is the JSON pointer (RFC 6901) of
// the value from that object ("" for the object itself, for a repeated or
// invalid name), problem one of the Problem* constants, and text the
// value's exact original JSON text (base64 instead when that text is not
// valid UTF-8). When the object has a legacyRaw member of its own, that
// member is left as it is and the notes go to legacyRaw~2 (legacyRaw~3,
// ... when that is taken too; Report.RawValues names the member). A string payload that is not inside
// an object gets its note in the document that holds it (a session's
// transcription: the session, path /fullTranscription) or, for an extras
// value, in Extras["legacyRaw:<key>"]. An object that is no document
// (a collection file's envelope, a WAL line, a chunk of a chunked
// session) that repeats a member name gets its notes, with the earlier
// value's text, in Extras["legacyRaw:<file>"] (a WAL line's file is
// "<path>#L<line>"). Report.RawValues lists every such value. Numbers are kept as written (json.Number).
//
// # What it never does
//
// It never writes to the scanned directory, never resurrects deleted
// data from backups, never follows a symlink or an attachment path out
// of the directory (such links are reported in Report.OutsideDir; a db/
// linked out is no db/, so with nothing else there Scan returns
// ErrNoData naming it), never
// opens what is not a regular file (named pipes, sockets, devices:
// Report.Skipped, with the reason, as are entries that cannot be read and
// files of attachments/ in no known layout), never builds a path from an
// entity id (files are indexed by name during the walk and looked up),
// and never drops unknown fields: documents are decoded JSON with
// json.Number numbers, unknown storage keys go to Dataset.Extras (those
// under a chunked session's or a content-addressed entry's directory too), and
// unreadable files keep their bytes there under "unreadable:<path>" (one
// over 1 MiB as the content of attachment legacy-unreadable-<hash>, named
// in that entry; Migrate does the same for an attachment's base64 file,
// a .dat, that does not decode), and so do a WAL line that does not
// decode as an entry
// ("wal-skipped:<path>#L<n>"), a chunk of the wrong shape
// ("invalid:<path>") and session metadata that is not an object. So do
// what was to be an entity and is not one: an
// element or file without a usable id, or not an object, under
// "invalid:<path>[<index>]" (Report.InvalidIDs; a chunked session's
// metadata whose id is not a string, under "invalid:<metadata path>",
// with its parts and chunks), and an array spread into
// an object (§3.3, Report.JunkSkipped, possibly the only copy of the
// entities it holds) under "junk:<path>" or "junk:<path>[<index>]"; the
// entities of such an object in a per-entity file or a WAL write (the
// G+ relationshipManager's collection snapshot) are also candidates of
// their own, of the file's mtime or the entry's time, like per-entity
// copies: the newest copy of each entity wins. A
// storage key whose name one of these entries has taken already is kept
// as <key>~2 (~3, ...), listed in Report.ExtrasRenamed; Migrate does the
// same for two keys that would be one extras id. A key that is not a
// usable id (over 256 bytes) is kept under a shortened id ending in
// "#<hash>", reported, the key recorded in extras legacy:renamedKeys. The
// readers do not depend on a store: they hand
// entities to the caller (Walk) or a Dataset (Scan).
//
// # Writing to a store
//
// Migrate (migrate.go), ImportFile and ImportInto (import.go), ExportFrom
// and SalvageExport (export_store.go) are the glue to a Cairn store (kv):
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
//     is kept, marked the same way. Bytes that do not match the hash or
//     size their attachment record gives (a .dat cut short that still
//     decodes) are marked the same way, the recorded values kept as
//     legacyHash and legacySize, and reported. An attachment whose bytes no file
//     holds keeps its recorded hash as legacyHash, says contentMissing,
//     and is listed in ImportResult.WithoutContent; so is one that
//     records no hash (other than a link, which has a URL, no bytes).
//     Each is also in the problems, with the places its bytes were
//     looked for. A reference from another entity (a note's or task's
//     attachment record, a screenshot's attachmentId and hash, a
//     session's fullAudioAttachmentId) to bytes no file holds is in
//     Report.MissingReferences and the problems. A record whose inline base64 is "" with a size of 0
//     has empty content, stored as such (not contentMissing).
//   - A document over the store's MaxDocumentBytes (the old app's
//     monolithic sessions, a note holding hundreds of megabytes), nested
//     deeper than the store allows (docmodel.MaxDepth), or otherwise
//     refused by kv.Validate, is not dropped: its JSON is stored whole as
//     the content of an attachment "legacy-oversized-..." and reported in
//     the problems with its file. An entity of a
//     collection file whose text would decode to more than the limit is
//     never decoded: its original text is stored, streamed (Entity.Text).
//   - Migrate refuses a store whose directory is the old app's or its
//     db/, or lies in one of the old app's data folders (attachments/,
//     videos/, backups/, db/attachments-ca/, db/sessions/ and the other
//     per-entity folders, ...: the scan would leave the folder out)
//     (ErrStoreInside, CheckStoreDir), and leaves a store directory
//     inside the old app's out of the scan (ScanOptions.Exclude). The
//     scan leaves out any other Cairn store inside the directory too (a
//     directory holding a bbolt data.db, which the old app never wrote),
//     with a note: another migration's target, say.
//   - Migrate's spill files (see Caveats) go to a temporary directory in
//     the store's directory, removed when it returns. One left by a
//     migration that was killed (its .lock file no longer flocked: the
//     directory takes its cairn-legacy-* name only once its migration
//     holds that lock, so a free one proves it unused; without a lock
//     file, as older versions left them, once unchanged for an hour) is
//     removed by the next migration into that store, noted in
//     Report.Notes.
//   - Memory (the bound): besides Walk's index (about 200 bytes an
//     entity, see Caveats), a migration holds two batches of at most 256
//     decoded documents (one being written while the next is gathered),
//     each document under the store's MaxDocumentBytes (64 MiB by
//     default) since a larger one is never decoded, and the read-ahead's
//     window (64 files, 32 MB). File texts are read from mapped files,
//     not the heap. Measured: a 600 MB note in 6 MB of anonymous memory
//     (TestMigrate_largeNote); the bench's migrate/peak-anon rows.
//   - Entities already stored identically are not written again, so a
//     second run imports nothing new. The rules below hold for an import
//     of an export file as for a migration. A stored version that differs is
//     replaced only when both versions carry a time (updatedAt, else
//     lastUpdated) and the incoming one is later; otherwise (no time on one
//     side or both: tasks, attachments, extras) the stored version stays,
//     counted in ImportResult.Kept and listed in ImportResult.KeptStored,
//     so that a second run never undoes an edit made in the store. The
//     exception is a stored attachment marked contentMissing, without a
//     hash, whose bytes this run found: it takes their hash and size
//     (and the members it lacks), and loses the marker.
//     settings, aiSettings and preferences are merged member by member:
//     members the store lacks are added, the others keep the stored
//     value (those that differ are listed in KeptStored). Times are read
//     by docmodel.ParseInstant (epoch ms, dates, RFC 3339 and its
//     variants) here and when Walk chooses between versions; a time it
//     cannot read is listed in ImportResult.UnreadableTimes and the
//     stored version kept, never taken as time 0. An entity deleted from
//     the store between two runs is imported again (the store keeps no
//     record of old deletions).
//
// # Caveats
//
//   - Memory: Scan holds every resolved entity (as the Dataset API
//     requires); Walk holds none once its callback returns. Walk first
//     indexes every candidate version of every entity, keeping only what
//     the choice needs (id, version, updatedAt, source, time: about 200
//     bytes an entity) and where to read the document again, then emits
//     collection by collection. A collection file's text (and a backups/
//     snapshot's, a backup's read for recovery) is never in the heap: a
//     file over 1 MiB is mapped, and a GZIP_V1 or JSON-string payload is
//     decoded into a spill file in ScanOptions.TempDir, mapped and
//     unlinked; each element's head is read from that text to index it,
//     and it is decoded when emitted. Chunked sessions are assembled one
//     at a time; per-entity files are read again. So the memory of one
//     step is one document, and with ScanOptions.MaxDocumentBytes (as
//     Migrate sets it) no document over it is decoded. Decoded whole:
//     state and export files at the root, WAL lines, other keys' files,
//     chunk and part files (small in practice). Held for the whole walk:
//     the candidate index, the imported ids per collection, what documents
//     say about attachments, kept only for the files of the directory
//     (ids of per-id files, hashes of content files, video names) and for
//     attachment records (base64, path, type), the chunked sessions'
//     canonical files one small record per session, Settings, Extras
//     (unknown keys, rollback points' sessions snapshots, quarantined
//     chunks, unreadable files' bytes up to 1 MiB each), and the WAL's
//     newest write per key and its entity writes. Backups are never
//     held: *.backup.json files are listed by name and only the few
//     needed are read.
//   - Per-entity files and chunked sessions' metadata are read twice (to
//     index, then to emit); one that changed in between fails the walk
//     with ErrChanged. Collection files are read once (their text is kept
//     mapped until their collection is emitted); other chunked-session
//     files are read once, when their session is emitted.
//   - File mtimes are used for per-entity files and raw files (a raw
//     main file only without a wal.checkpoint) only when
//     they are not later than every timestamp read so far (plus a day):
//     a copied or checked-out directory has fresh mtimes that mean
//     nothing, and those count as 0. Per-entity files are judged after
//     the WAL, the backup and staging names, the collection files and
//     every session's metadata were read; a raw chunk or part file when
//     its session is assembled. The exception is a raw array-collection
//     file holding one entity (§5.3): its mtime always counts, since it
//     is newer than every backup of the collection anyway.
//   - A stale collection file is told by its time: a raw one's is its
//     mtime when that counts (above), and one whose time is unknown (0)
//     is never called stale.
//   - A collection file overwritten with an empty array by the old app's
//     checksum bug (§11.2) cannot be told apart from a deliberate
//     deletion; its entities are then only reported as not resurrected.
//     Likewise, a recovered collection's newest copy decides which
//     entities it held: one added after that copy and found nowhere else
//     is lost with the bad file, and one deleted after it comes back.
//   - Recovery reads at most RecoveryCopies (default 10) copies of each
//     kind: in era H, where timestamped backups are never rotated, older
//     ones are not read.
//   - Legacy db/sessions.json sessions and rollback points' sessions are
//     unioned with the chunked store as docs/FORMAT.md requires (§11.5),
//     so a session deleted in era G+ but still in that legacy file or in
//     a rollback point comes back.
//   - Pointed at db/ itself, Scan does not read attachments/, backups/
//     or videos/ beside it (they are outside the given directory); those
//     that exist are listed in Report.NotScanned and the problems.
//   - WebView localStorage and IndexedDB (§9) are not on disk in a
//     readable form and are not read. Era-A state is read from files at
//     the root named taskerino-v3-state*, taskerino-v2-state*,
//     taskerino-backup-*, taskerino-export-* or localStorage* (.json).
//   - Unreadable main, per-entity and chunk files keep their bytes in
//     Extras; unreadable .tmp, staged and backup copies are only reported
//     (they are partial or older copies).
//   - A file or directory the scan needs that cannot be opened for lack
//     of permission (EACCES) stops Walk, Scan, Probe and Migrate with
//     ErrDenied naming it, instead of an older copy standing in for it
//     (which could bring back old or deleted entities that a later run,
//     with the permissions fixed, would not remove). Migrate does the
//     same for attachment bytes when no other copy holds them intact.
//     Copies the scan never opens (older backups when the main file and
//     the newest backup are readable) are not checked.
//   - Stale chunk files beyond chunkCount are not imported; their payload
//     is kept in Extras under "quarantine:<key>". Chunk files whose names
//     are not the canonical chunk-NNN.json are not read as chunks.
//   - Main, .tmp, staged and per-entity files are read and decoded ahead
//     of use by ScanOptions.Workers goroutines, in the order the scan
//     uses them, at most 64 files and about 32 MB (estimated decoded
//     size) ahead; a larger file is read when it is needed. Results are
//     identical to a sequential scan. On a slow disk the number of files
//     (three or more per chunked session) dominates the run time.
//   - Report lists are sorted (by key, by collection then id, by path, by
//     session), not in the order things were found.
package legacy
