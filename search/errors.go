package search

import (
	"errors"

	"github.com/cairnkv/cairn/buckets"
)

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("cairn: index closed")

// ErrInvalidChange is returned by Apply when a Change has an empty or
// malformed collection or id. Nothing of the call is applied.
var ErrInvalidChange = errors.New("cairn: invalid change")

// ErrEmptyQuery is returned by Search and MatchIDs when the query text holds
// nothing to look for: it is empty, only punctuation, only English stop
// words ("the", "and"), or only excluded items (-word).
var ErrEmptyQuery = errors.New("cairn: nothing to look for in the search text (common English words such as \"the\" or \"to\" are not indexed, and an excluded item alone finds nothing)")

// ErrSyntax is returned by Search and MatchIDs for a malformed search text
// (an unterminated phrase, OR without a word on one side, a bare -, * or
// ~, an edit distance above 2); the error is a *SyntaxError with the
// position.
var ErrSyntax = errors.New("cairn: malformed search text")

// ErrUnknownField is returned by Search and MatchIDs for field:word (or a
// MatchIDs field) naming a field that none of the built-in collections
// searched has; the message lists their fields.
var ErrUnknownField = errors.New("cairn: unknown search field")

// ErrQueryTooLong is returned by Search and MatchIDs when the query text has
// more than MaxQueryTerms distinct words or more than MaxQueryBytes bytes.
var ErrQueryTooLong = errors.New("cairn: query too long")

// ErrBadOptions is returned by Search and MatchIDs when the options hold a negative
// Limit or Offset, an Offset over MaxOffset, or a collection name that
// cannot exist.
var ErrBadOptions = errors.New("cairn: bad search options")

// ErrBusy is returned by Open when another open handle (in this or another
// process) holds the index. The index is left alone: a busy index is never
// mistaken for a damaged one and wiped.
var ErrBusy = errors.New("cairn: index in use by another handle")

// ErrForeignFiles is returned by Open and Reset when the index directory
// holds files that Bleve and this package never write there (a wrong path,
// such as the store directory itself). The directory is left untouched:
// only a directory that looks like a search index is ever deleted.
var ErrForeignFiles = errors.New("cairn: directory holds files that are not part of a search index")

// ErrCorrupt marks an index found damaged after it was opened (a panic or a
// decoding error inside Bleve while searching or walking). It is the same
// sentinel as buckets.ErrCorrupt so errors.Is works at every layer; the
// remedy is Reset and a re-feed from the primary store.
var ErrCorrupt = buckets.ErrCorrupt

// ErrLogGap marks a change log that cannot say what changed after the
// sequence asked for: an entry does not read (its value fails its
// checksum, and which document it changed is lost), or entries after it
// are gone. A Feeder that meets it rebuilds the index from the Source's
// documents, which brings LastApplied past the gap.
var ErrLogGap = errors.New("cairn: the change log cannot say what changed")

// ErrFeederClosed is returned by Feeder.Wait and Feeder.Rebuild once Close
// was called.
var ErrFeederClosed = errors.New("cairn: search feeder closed")

// ErrNotWritable is returned by Open when the index's files cannot be
// opened for writing (permission denied, a read-only file system): the
// index is not touched, neither used nor recreated. Bleve writes to an
// index even to search it.
var ErrNotWritable = errors.New("cairn: the search index cannot be written here")
