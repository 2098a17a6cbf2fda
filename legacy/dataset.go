package legacy

import "io"

// Collections are the entity collections Scan fills (and Walk walks, in
// this order): export order plus attachments.
var Collections = []string{"topics", "companies", "contacts", "notes", "tasks", "sessions", "attachments"}

// Entity is one resolved entity: the winning document and where it came
// from.
type Entity struct {
	// Doc is the decoded document; numbers are json.Number. It is never
	// shared with another Entity.
	Doc map[string]any
	// Source is the winning file, relative to the scanned root
	// ("db/notes.json", "db/wal.log#L12", "db/sessions/<id>/", ...).
	Source string
	// Time is what made it win, in epoch ms: the entity's own
	// updatedAt/lastUpdated when present, else the file or WAL timestamp
	// (0 when unknown).
	Time int64
	// Text, when set, is the entity's JSON text exactly as its
	// collection file holds it, for an entity that would be over
	// ScanOptions.MaxDocumentBytes decoded: it was not decoded, and Doc
	// holds only its id. Text is valid only during the call Walk makes
	// (it is read from a mapped file); copy it to keep it.
	Text []byte
}

// Blob is one attachment's bytes, deduplicated by hash where the hash is
// known.
type Blob struct {
	// AttachmentIDs are every attachment id known to refer to these bytes.
	AttachmentIDs []string
	// Hash is the lowercase hex SHA-256 of the decoded bytes when the old
	// app recorded it (CAS, dedup store, attachment records) or Scan
	// computed it (inline base64); "" when unknown. Open's reader fails
	// with ErrChecksum at EOF if the bytes do not match it.
	Hash string
	// MIME is the media type when known ("" otherwise).
	MIME string
	// Source is the file the bytes come from, relative to the root, or
	// "<collection>/<id>#base64" for inline base64.
	Source string
	// Orphan is true when nothing imported refers to the blob (deleted
	// attachments, videos of lost sessions). Kept so nothing is lost.
	Orphan bool
	// Open returns the decoded bytes: base64 decoded, data: URL prefix and
	// whitespace stripped; raw files as they are. File sources stream.
	Open func() (io.ReadCloser, error)
	// Copies are every file known to hold these bytes, in the order Open
	// tries them, each opened without verification: when the first fails
	// its hash, a reader can look for an intact copy, and keep damaged
	// bytes rather than none.
	Copies []BlobCopy
	// SourceOf maps an attachment id to the copy its own record holds
	// (inline base64), when that is not Source: the same bytes inline in
	// two records are one blob, each id with its own origin.
	SourceOf map[string]string
	// Meta maps an attachment id to what the inline attachment records of
	// entities say of it (name, type, createdAt: the first record's
	// values), for an id no attachment record of its own describes.
	Meta map[string]map[string]any
}

// BlobCopy is one file holding a blob's bytes.
type BlobCopy struct {
	Source string // relative to the scanned root, or "<collection>/<id>#base64"
	Open   func() (io.ReadCloser, error)
	// Raw opens the file's text as it is, for a base64 file (a .dat):
	// what is kept when it does not decode. nil for other copies.
	Raw func() (io.ReadCloser, error)
}

// Dataset is everything Scan recovered from a legacy directory (Walk
// leaves Collections nil: it hands the entities over instead).
type Dataset struct {
	// Collections maps a collection name (see Collections) to its
	// entities by id.
	Collections map[string]map[string]Entity
	// Settings is the settings object merged newest-per-top-level-key
	// (docs/FORMAT.md §7.7); nil if none was found.
	Settings map[string]any
	// AISettings is the aiSettings key, else settings.aiSettings, else nil.
	AISettings any
	// Preferences is the preferences key, else settings.ui.preferences,
	// else nil.
	Preferences any
	// Extras holds unknown storage keys by key (decoded payloads), stale
	// chunks under "quarantine:<key>", and unreadable files under
	// "unreadable:<path>" as {path, error, base64|text}.
	Extras map[string]any
	// Blobs are attachment and video bytes.
	Blobs []Blob
}
