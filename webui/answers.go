package webui

import "github.com/cairnkv/cairn/kv"

// The shapes of the API's requests and answers (JSON).

// tally is a collection's number of documents and their logical size (as
// compact JSON), as Stats counts them.
type tally struct {
	Count int    `json:"count"`
	Bytes uint64 `json:"logical_bytes"`
}

// queryRequest is a query as kvtool query takes it.
type queryRequest struct {
	Collection string
	Where      []string // kvtool --where expressions, ANDed
	Sort       string   // [-]field
	Limit      int
	Offset     int
}

// queryResult is one page of a query: its plan and the page's summaries.
type queryResult struct {
	Explain kv.Explain    `json:"explain"`
	Total   int           `json:"total"` // -1 when the plan did not count
	IDs     []string      `json:"ids"`
	Rows    []kv.Document `json:"rows"`
}

// searchHit is one search result with what the page shows of it.
type searchHit struct {
	Collection string      `json:"collection"`
	ID         string      `json:"id"`
	Score      float64     `json:"score"`
	Summary    kv.Document `json:"summary,omitempty"`
	Fragments  [][]segment `json:"fragments"`
}

// document is a document as the page shows it: without its large parts,
// which are read on demand (parts, part).
type document struct {
	Collection string `json:"collection"`
	ID         string `json:"id"`
	Rev        uint64 `json:"rev"`
	// JSON is the document (for a session, without its parts), indented,
	// with every number exactly as stored.
	JSON string `json:"json"`
}

// restoreResult says what a restore did: the backup restored, and where the
// state it replaced went (a pre-restore backup, or the damaged file kept
// beside the store).
type restoreResult struct {
	Restored kv.Manifest `json:"restored"`
	// PreviousBackup names the verified backup of the replaced state.
	PreviousBackup string `json:"previous_backup,omitempty"`
	// Damaged is the path the damaged data file was kept under, when the
	// replaced state could not be backed up because it was damaged.
	Damaged string `json:"damaged,omitempty"`
}

// collectionInfo is one row of the collections page.
type collectionInfo struct {
	Collection
	tally
}

// listPage is one page of a collection's summaries.
type listPage struct {
	Collection string        `json:"collection"`
	Sort       string        `json:"sort"`
	Offset     int           `json:"offset"`
	Total      int           `json:"total"`
	Rows       []kv.Document `json:"rows"`
	// Sortable lists the fields of these rows the page can be sorted by
	// (those the summary copies from the document).
	Sortable []string `json:"sortable"`
}

// partInfo describes one large part of a document, not its content.
type partInfo struct {
	Field string `json:"field"`
	Type  string `json:"type"`             // array, object, string, ...
	Len   int    `json:"length,omitempty"` // elements of an array, bytes of a string
	Bytes int    `json:"bytes"`            // as compact JSON
}

// segment is a piece of a search excerpt; Mark is set on matched words.
type segment struct {
	Text string `json:"t"`
	Mark bool   `json:"m,omitempty"`
}

// backupRequest names a backup to verify or restore.
type backupRequest struct {
	Name string `json:"name"`
	// Confirm must repeat Name for a restore: the page asks, the API
	// refuses an unconfirmed one (as kvtool does without --yes).
	Confirm string `json:"confirm,omitempty"`
}

// patchRequest is an edit of one document.
type patchRequest struct {
	Collection string `json:"collection"`
	ID         string `json:"id"`
	// Rev is the revision the patch was written against: the patch fails
	// with a conflict if the document changed since.
	Rev uint64 `json:"rev"`
	// Patch is the JSON merge patch (RFC 7396) as the user typed it,
	// read exactly (numbers as written, no duplicate names).
	Patch string `json:"patch"`
}
