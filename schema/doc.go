// Package schema declares Cairn's collections: for each one, its kind, how
// its documents are keyed, which fields are stored as parts, summarised
// for listing, read as instants, indexed and searched, which field refers
// to attachment content, and the columns a listing shows. Every layer asks
// it (buckets for names and parts, secondary for summaries and indexes,
// txn for blob references, search for text, kv and kvtool for the rest),
// so that a collection is declared once.
//
// The built-in collections (the old app's: sessions, notes, tasks, topics,
// companies, contacts, attachments, extras, and the singletons settings,
// aiSettings and preferences) are declarations in builtin.go. Any other
// name that ValidName accepts is a user collection: an entity collection
// with a string id, no parts, no declared timestamp fields and no index
// until the application declares one (Schema.WithIndex); its text fields
// are searched by their names.
//
// A Schema is immutable: WithIndex and WithoutIndex return a new one, so a
// reader holding one never sees it change. The store persists the indexes
// declared on user collections and rebuilds its Schema from them on open.
//
// It imports nothing of Cairn's: it is the leaf of the import graph.
package schema
