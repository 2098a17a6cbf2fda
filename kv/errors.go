package kv

import (
	"errors"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
	"github.com/cairnkv/cairn/search"
	"github.com/cairnkv/cairn/secondary"
	"github.com/cairnkv/cairn/snapshot"
	"github.com/cairnkv/cairn/txn"
)

// Errors from the layers below, aliased so errors.Is works at every layer.
var (
	// ErrNotFound: the document does not exist.
	ErrNotFound = txn.ErrNotFound
	// ErrConflict: a write named a revision and the stored one differs.
	ErrConflict = txn.ErrConflict
	// ErrInvalid: the document breaks its collection's rules.
	ErrInvalid = txn.ErrInvalid
	// ErrCorrupt: stored bytes failed their checksum or did not decode.
	ErrCorrupt = buckets.ErrCorrupt
	// ErrUnknownCollection: the collection name is not one Cairn knows.
	ErrUnknownCollection = buckets.ErrUnknownCollection
	// ErrInvalidID: an id that is empty, over 256 bytes, not UTF-8 or has NUL.
	ErrInvalidID = buckets.ErrInvalidID
	// ErrTooLarge: an input over a configured limit.
	ErrTooLarge = buckets.ErrTooLarge
	// ErrInvalidIndex: an index declaration that is not valid (bad field
	// path or type).
	ErrInvalidIndex = schema.ErrInvalidIndex

	// ErrBadQuery: a malformed query (unknown operator, bad date, negative
	// limit, empty field, ...); the message names what was wrong.
	ErrBadQuery = secondary.ErrBadQuery
	// ErrFullScan: a query with NoScan would have read the whole collection.
	ErrFullScan = secondary.ErrFullScan

	// ErrBackupNotFound: no backup of that name.
	ErrBackupNotFound = snapshot.ErrNotFound
	// ErrBackupInvalid: the backup failed verification; the error lists why.
	ErrBackupInvalid = snapshot.ErrVerify
	// ErrBackupName: a backup name that is not one Cairn makes.
	ErrBackupName = snapshot.ErrInvalidName
	// ErrBackupNewer: a backup written by a newer format version.
	ErrBackupNewer = snapshot.ErrNewerFormat

	// ErrEmptyQuery: a search with no searchable words.
	ErrEmptyQuery = search.ErrEmptyQuery
	// ErrQueryTooLong: a search text over the index's limit.
	ErrQueryTooLong = search.ErrQueryTooLong
	// ErrSearchSyntax: malformed search text; the error is a
	// *SearchSyntaxError naming the position.
	ErrSearchSyntax = search.ErrSyntax
	// ErrUnknownSearchField: field:word, or field~text in a query, on a
	// field the collections searched do not have.
	ErrUnknownSearchField = search.ErrUnknownField
	// ErrBadSearchOptions: a negative limit or offset, or an offset
	// over search.MaxOffset.
	ErrBadSearchOptions = search.ErrBadOptions
)

// SearchSyntaxError is a malformed search text with its position.
type SearchSyntaxError = search.SyntaxError

// Errors decided here.
var (
	// ErrNoStore is returned when a read-only open finds no store.
	ErrNoStore = errors.New("cairn: no store")
	// ErrLocked is returned when another process holds the store's lock
	// past Options.Timeout.
	ErrLocked = errors.New("cairn: store is locked by another process")
	// ErrNewerFormat is returned for a store written by a newer Cairn.
	ErrNewerFormat = errors.New("cairn: store written by a newer format version")
	// ErrReadOnly is returned for a write on a store opened read-only.
	ErrReadOnly = errors.New("cairn: store is open read-only")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("cairn: store is closed")
	// ErrSyntax is returned for input that is not valid JSON; the error
	// names the line, column and byte offset.
	ErrSyntax = errors.New("cairn: invalid JSON")
	// ErrChangesTrimmed is returned by Changes when the entries after the
	// requested sequence have been trimmed from the change log (see
	// Options.ChangeLogRetention), or one of them cannot be read (its
	// value is damaged, and which document it changed is lost): the
	// reader must start over from the current state.
	ErrChangesTrimmed = errors.New("cairn: change log trimmed past the requested sequence")
	// ErrNoSearch is returned by Search on a store opened with NoSearch.
	ErrNoSearch = errors.New("cairn: full-text search is disabled (Options.NoSearch)")
)

// EntityError carries the operation, collection, id and field of a failed
// operation on one document.
type EntityError = txn.EntityError

// CorruptError says where corrupt bytes were found.
type CorruptError = buckets.CorruptError

// Problem is one finding of an integrity check.
type Problem = buckets.Problem

// ErrStop, returned by a callback (or wrapping the error it returns:
// errors.Is decides), ends an iteration early without error.
var ErrStop = errors.New("cairn: stop")

var errNegative = errors.New("cairn: negative offset or limit")
