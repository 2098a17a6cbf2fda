package search

// Source is what a Feeder indexes: a primary store's change log and its
// documents. kv implements it over its bbolt file (kv/indexer.go);
// search never sees how the store is kept.
//
// The Feeder calls one method at a time, from one goroutine at a time, and
// expects each call to read one consistent state of the store (one read
// transaction). Two calls may see different states: the Feeder relies only
// on documents being read at their current state, never older than the
// entries that named them, which makes applying a change twice harmless.
type Source interface {
	// LogBounds returns the sequence of the oldest entry the change log
	// still holds (0 when it holds none) and the newest sequence ever
	// committed (0 for a store never written), which trimmed entries do
	// not lower.
	LogBounds() (oldest, newest uint64, err error)

	// ReadLog reads the change-log entries after seq, oldest first, and
	// returns the documents they changed in the collections the index
	// holds (searched collections), each once, in the order of their first
	// entry, stopping after max documents; upTo is the sequence of the last
	// entry read (0 when there is none after seq). Entries of collections
	// not searched are read past. An entry that cannot be read, or a first
	// entry after seq+1 (the entries in between are gone), fails the call
	// with an error wrapping ErrLogGap.
	ReadLog(after uint64, max int) (refs []DocRef, upTo uint64, err error)

	// Load returns the current state of each document named, in order: a
	// Change with Body, or with Deleted when the document is gone or
	// cannot be read because it is damaged (the repair that follows is
	// indexed like any change; failing would stop the index for every
	// other document). Decl is the collection's declaration. Other read
	// errors fail the call.
	Load(refs []DocRef) ([]Change, error)

	// Collections returns the searched collections of the store with how
	// many documents each holds, always in the same order.
	Collections() ([]SourceCollection, error)

	// Scan returns the current state (as Load) of up to max documents of
	// collection whose ids sort after after ("" : from the first), in the
	// byte order of their ids.
	Scan(collection, after string, max int) ([]Change, error)

	// Trim may delete the change-log entries up to seq, which the index
	// holds durably: the Feeder no longer needs them. It may keep any of
	// them (a retention window of its own). A failed Trim loses nothing;
	// the Feeder tries again later.
	Trim(seq uint64) error
}

// DocRef names one document of a Source.
type DocRef struct {
	Collection string
	ID         string
}

// SourceCollection is one searched collection of a Source and how many
// documents it holds (for a rebuild's progress).
type SourceCollection struct {
	Name string
	Docs uint64
}
