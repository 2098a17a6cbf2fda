package legacy

// Report says what Scan or Walk found, chose, skipped and could not read
// (each list sorted, see the package documentation). It is meant to be
// printed (kvtool migrate) and marshalled as JSON.
type Report struct {
	Root   string `json:"root"`   // the directory scanned
	DBDir  string `json:"dbDir"`  // its db/ directory, relative ("" if none)
	Layout string `json:"layout"` // "appdata", "db" or "era-a"

	// Counts is the number of entities imported per collection.
	Counts map[string]int `json:"counts"`
	// Sources counts the winning versions per collection and source kind
	// (SourceMain, SourceWAL, ...).
	Sources map[string]map[string]int `json:"sources"`

	WAL WALReport `json:"wal"`

	KeyChoices         []KeyChoice        `json:"keyChoices,omitempty"`
	Conflicts          []Conflict         `json:"conflicts,omitempty"`
	ChecksumMismatches []ChecksumMismatch `json:"checksumMismatches,omitempty"`
	Fallbacks          []Fallback         `json:"fallbacks,omitempty"`
	Restored           []Restored         `json:"restored,omitempty"`
	RollbackPoints     []RollbackPoint    `json:"rollbackPoints,omitempty"`
	ManifestShortfalls []ChunkIssue       `json:"manifestShortfalls,omitempty"`
	StaleChunks        []ChunkIssue       `json:"staleChunks,omitempty"`
	Unreadable         []Unreadable       `json:"unreadable,omitempty"`
	OutsideDir         []string           `json:"outsideDir,omitempty"`
	Skipped            []Skipped          `json:"skipped,omitempty"`           // directory entries not read (see Skipped)
	OrphanFiles        []string           `json:"orphanFiles,omitempty"`       // attachment bytes no attachment id names (kept as legacy-orphan-<hash>)
	OrphanAttachments  []string           `json:"orphanAttachments,omitempty"` // attachments stored by id that nothing refers to (imported with orphan: true)
	JunkSkipped        []string           `json:"junkSkipped,omitempty"`
	NotResurrected     []Dropped          `json:"notResurrected,omitempty"`
	// IndexOnly lists the entities a per-entity folder's index.json lists
	// that no file holds (deleted, or their file lost): index rows are
	// derived summaries (docs/FORMAT.md §3.3), not imported; each row is
	// kept in extras "index-only:<index path>#<id>".
	IndexOnly  []Dropped       `json:"indexOnly,omitempty"`
	Deleted    []Dropped       `json:"deleted,omitempty"`
	InvalidIDs []InvalidEntity `json:"invalidIds,omitempty"`
	// DuplicateIDs are elements of one file whose id another element of
	// the same file has too, and that lost to it (Conflicts says why):
	// their bytes are kept in extras "duplicate:<path>[<index>]" (Reason
	// holds the id).
	DuplicateIDs      []InvalidEntity `json:"duplicateIds,omitempty"`
	ChaptersRecovered []string        `json:"chaptersRecovered,omitempty"`
	// EnrichmentRecovered lists sessions whose chosen copy lacked
	// enrichment results that a versioned per-entity copy holds (eras
	// E–F, docs/FORMAT.md §3.3, §11.4): "<id> from <file> (<fields>)".
	EnrichmentRecovered []string `json:"enrichmentRecovered,omitempty"`
	// LostRecovered lists chunked sessions whose lost parts or chunks
	// (docs/FORMAT.md §3.4, §11.6) were filled from another copy of the
	// session: "<id> from <file> (<fields>, <items field> <n>)".
	LostRecovered []string   `json:"lostRecovered,omitempty"`
	RawValues     []RawValue `json:"rawValues,omitempty"`
	// ChecksumBugRecovered lists collections one of whose recent
	// timestamped backups would have failed the old app's own checksum
	// check (docs/FORMAT.md §2.3, §11.2): the app saw the collection as
	// empty, so the entities of that backup the save after it lacks were
	// lost, not deleted, and are imported: "<collection> from <file>".
	// Only when that save holds none of the backup's entities: one that
	// holds some came from an app that had the collection loaded. A
	// settings copy so refused is kept whole in extras
	// ("checksumLost:<file>"), which Notes names.
	ChecksumBugRecovered []string `json:"checksumBugRecovered,omitempty"`
	// Clobbered describes the collection files that hold one entity
	// instead of their array (the WAL replay's clobbering, docs/FORMAT.md
	// §5.3): the collection is restored from its other copies.
	Clobbered []string `json:"clobbered,omitempty"`
	// MacOSArtefacts counts the entries a copy from a Mac left that were
	// not read: AppleDouble ._<name> files, .DS_Store, __MACOSX/.
	MacOSArtefacts int `json:"macosArtefacts,omitempty"`
	// NotScanned lists the old app's directories beside the db/ directory
	// pointed at ("../attachments", "../videos", "../backups"): outside
	// the given directory, so not read.
	NotScanned []string `json:"notScanned,omitempty"`
	// MissingReferences are attachments an entity refers to (by id, by
	// recorded hash, or both) other than records of the attachments
	// collection, whose bytes no file of the directory holds.
	MissingReferences []MissingReference `json:"missingReferences,omitempty"`
	SettingsKeys      map[string]string  `json:"settingsKeys,omitempty"` // top-level settings key → source it came from
	// Ignored lists the files not read because their names are none the
	// old app wrote (db/notes.json.bak, a stray text file), relative to
	// the scanned directory. Derived files (indexes, checksums of files
	// not read) are not listed.
	Ignored []string `json:"ignored,omitempty"`
	// ExtrasRenamed lists storage keys kept in Dataset.Extras under
	// another name, because their own was taken by an entry the scan made
	// (an unreadable file's bytes, "unreadable:<path>", for one).
	ExtrasRenamed []ExtraRenamed `json:"extrasRenamed,omitempty"`
	Notes         []string       `json:"notes,omitempty"`
}

// Source kinds, in ascending tie-break precedence (see doc.go).
const (
	SourceExport    = "export"     // a state or export file found in the directory
	SourceBackup    = "backup"     // <key>.backup.json, <key>.<ms>.backup.json, backups/
	SourceRollback  = "rollback"   // rollback-points/<id>/sessions.json (StorageRollback snapshots, §6)
	SourceStaged    = "staged"     // .tx-<ms>/ or tx-temp-<ms>/
	SourcePerEntity = "per-entity" // <c>/<singular>-<id>.json[.gz], db/db/ replay junk
	SourceTmp       = "tmp"        // <key>.tmp.json
	SourceMain      = "main"       // <key>.json, chunked session files
	SourceWAL       = "wal"        // db/wal.log
)

var sourceRank = map[string]int{
	SourceExport: 0, SourceBackup: 1, SourceRollback: 1, SourceStaged: 2, SourcePerEntity: 3,
	SourceTmp: 4, SourceMain: 5, SourceWAL: 6,
}

// WALReport summarises the write-ahead log replay.
type WALReport struct {
	Present    bool      `json:"present"`
	Checkpoint int64     `json:"checkpoint"` // epoch ms from wal.checkpoint, 0 if none
	Entries    int       `json:"entries"`    // lines decoded
	Replayed   int       `json:"replayed"`   // write/delete entries used as candidates (a whole-key write superseded by its file or a later write is in Skipped)
	Skipped    []WALSkip `json:"skipped,omitempty"`
}

// Skipped is something the scan did not use, and why: a WAL line or
// entry (Line > 0), or a directory entry that is not read (a named pipe,
// socket or device, a file or directory that cannot be read).
type Skipped struct {
	Path          string `json:"path,omitempty"` // relative to the root; the WAL file for WAL skips in MigrateResult
	Line          int    `json:"line,omitempty"` // 1-based WAL line
	ID            string `json:"id,omitempty"`
	TransactionID string `json:"transactionId,omitempty"`
	Reason        string `json:"reason"`
}

// WALSkip is a WAL line or entry that was not replayed, with the reason.
type WALSkip = Skipped

// Version names one candidate version of an entity or key.
type Version struct {
	Source string `json:"source"` // path relative to the root, "#L<n>" for WAL lines
	Kind   string `json:"kind"`   // a Source* constant
	Time   int64  `json:"time"`   // epoch ms: entity time or file/WAL timestamp
}

// Conflict is an entity with differing candidate versions and the choice.
type Conflict struct {
	Collection string    `json:"collection"`
	ID         string    `json:"id"`
	Winner     Version   `json:"winner"`
	Losers     []Version `json:"losers"`
	Reason     string    `json:"reason"` // "version", "updatedAt", "time" or "precedence"
}

// KeyChoice records which copy of a storage key won when several
// non-backup copies existed (main file, .tmp.json, staged, WAL).
type KeyChoice struct {
	Key    string    `json:"key"`
	Winner Version   `json:"winner"`
	Losers []Version `json:"losers"`
}

// ChecksumMismatch is an advisory checksum that did not match; the data
// was kept.
type ChecksumMismatch struct {
	Path string `json:"path"`
	Kind string `json:"kind"` // "envelope" (31-bit base 36) or "sha256"
}

// Fallback records that a key's main file was bad or missing and which
// older copy was used instead.
type Fallback struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
	Used   string `json:"used"` // "" when no usable copy existed
}

// RollbackPoint is one rollback point's sessions snapshot
// (rollback-points/<id>/sessions.json, docs/FORMAT.md §6): its sessions
// are unioned with the other stores by id (§11.5), and the snapshot, its
// metadata and rollback-points-index are kept in Dataset.Extras.
type RollbackPoint struct {
	Path     string `json:"path"`
	Time     int64  `json:"time"`     // envelope timestamp, 0 if none
	Sessions int    `json:"sessions"` // elements of its array
	// Imported lists the sessions whose imported version is this
	// snapshot's (found in no newer store, or newest here).
	Imported []string `json:"imported,omitempty"`
}

// Restored is an entity of a collection whose file was bad (unreadable,
// or clobbered with one entity by the WAL replay), restored from an older
// copy of the collection.
type Restored struct {
	Collection string `json:"collection"`
	ID         string `json:"id"`
	Source     string `json:"source"` // the copy its version came from
	// OlderCopy is set when that copy is older than the newest one (which
	// held an older version of it).
	OlderCopy bool `json:"olderCopy,omitempty"`
}

// RawValue is a value whose text in the old app's file is not valid JSON
// text as Cairn keeps it: a string holding invalid UTF-8 or an unpaired
// surrogate escape (the value holds U+FFFD instead), or an object with a
// duplicate member name (the last one is the value) or a member name that
// is not valid Unicode. Its exact original text is in the legacyRaw
// member of the object holding it (see RawField).
type RawValue struct {
	Collection string `json:"collection"` // an entity collection, "settings" or "extras"
	ID         string `json:"id"`         // the entity id or extras key
	Path       string `json:"path"`       // JSON pointer of the value in the document
	Problem    string `json:"problem"`
	Source     string `json:"source"` // the file it was read from
	// Member is the name of the member holding the original text:
	// RawField, or RawField~2, ... when the object had a RawField member
	// of its own (empty: RawField, or an extras entry).
	Member string `json:"member,omitempty"`
}

// ChunkIssue is a chunk manifest problem of one chunked session.
type ChunkIssue struct {
	SessionID string `json:"sessionId"`
	Which     string `json:"which"` // for example "screenshots/chunk-002"
	Detail    string `json:"detail"`
}

// Unreadable is a file that could not be decoded; its bytes are kept in
// Dataset.Extras under "unreadable:<path>".
type Unreadable struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// Dropped is an entity (or key) seen only in a source that must not
// resurrect it, or removed by a newer delete.
type Dropped struct {
	Collection string `json:"collection"`
	ID         string `json:"id"`
	Source     string `json:"source"`
	Reason     string `json:"reason"`
}

// InvalidEntity is a record without a usable id.
type InvalidEntity struct {
	Collection string `json:"collection"`
	Source     string `json:"source"`
	Index      int    `json:"index"` // position in its array, -1 if not in one
	Reason     string `json:"reason"`
}

// MissingReference is one reference to attachment bytes that are in no
// file of the old directory: the attachment id and/or the hash recorded,
// and the entity ("notes/n1") that refers to it.
type MissingReference struct {
	ID   string `json:"id,omitempty"`
	Hash string `json:"hash,omitempty"`
	From string `json:"from"`
}

func (r *Report) note(s string) { r.Notes = append(r.Notes, s) }

// ExtraRenamed is a value kept in Dataset.Extras under As because Key,
// its own name, was taken.
type ExtraRenamed struct {
	Key    string `json:"key"`
	As     string `json:"as"`
	Source string `json:"source"`
}
