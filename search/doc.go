// Package search is Cairn's full-text index: a Bleve v2 (scorch) index in
// <store>/search, derived from the primary bbolt data.
//
// # What it owns
//
// The directory given to Open (it deletes and recreates only its own entries
// there, index_meta.json, store/ and cairn-applied, and refuses to touch a
// directory holding anything else), and the rules that turn
// an entity into indexed text (extract.go) under one static mapping
// (mapping.go) whose version is MappingVersion. Every entity becomes one
// Bleve document with id collection + "/" + id (collections never contain
// "/", ids may; the id is split at the first "/") and these fields:
//
//	collection  keyword, stored        the collection name (filters)
//	rev         keyword, stored, doc values  the revision, decimal (Walk)
//	text        English text, term vectors, not stored
//	                                   all the extracted text, one array
//	                                   element per value: name or title,
//	                                   then the body texts below, then the
//	                                   tags
//	name        English text, indexed  name or title again (score boost)
//	raw         unicode words, lower-cased, indexed
//	                                   the text field again, unstemmed and
//	                                   with stop words (prefix, fuzzy), its
//	                                   values joined by line breaks
//	f.<field>   English text, indexed, term vectors (dynamic)
//	                                   each search field of the collection
//	                                   (schema.SearchField.Name; for a user
//	                                   collection each top-level string field
//	                                   and tags) for field:word; one array
//	                                   element per value when it has several
//	name_kw     keyword, lower-cased   the whole name (for exact filters)
//	tags_kw     keyword, lower-cased   each whole tag (for exact filters)
//	startTime endTime timestamp lastUpdated createdAt dueDate
//	            datetime, doc values   when buckets.ParseInstant reads the
//	                                   value (ISO 8601, epoch milliseconds);
//	                                   else skipped
//
// A text field of several values (text, and f.<field> of an array or of
// several paths) holds each as an array element of its own
// (MappingVersion 8): Bleve numbers the words of each element from 1
// under its array position, and a phrase matches words at consecutive
// positions of one element, so never the end of one field (or tag) and
// the start of the next. A line break inside one value is not a
// boundary. A field of one value is a plain string, as before.
//
// The text and per-field text of one document are cut at 1 MiB together,
// and runs of more than 256 bytes without a space (a data: URI, an
// encoded blob) are left out (maxIndexedText, maxWord): words past them
// are not found, while the document itself is stored whole.
//
// Text extracted per collection (a missing or wrong-typed field is skipped):
//
//	sessions     name; description, summary.narrative, summary.achievements[],
//	             summary.blockers[], fullTranscription,
//	             screenshots[].aiAnalysis.{summary,detectedActivity,extractedText},
//	             audioSegments[].transcription; tags[]; startTime, endTime
//	notes        content, summary, updates[].content; tags[]; timestamp, lastUpdated
//	tasks        title; description, subtasks[].title; tags[]; createdAt, dueDate
//	topics, companies, contacts
//	             name; every string of profile; lastUpdated
//	attachments  name; aiAnalysis.description, aiAnalysis.extractedText; lastUpdated
//	others       name (or title); every other top-level string; tags[]; lastUpdated
//
// The English analyzer lower-cases, drops stop words and stems (Porter), so
// "meetings" finds "meeting".
//
// Two internal keys live in the index beside the documents:
// cairn.mappingVersion and cairn.lastApplied, the change-log sequence of the
// last Apply, written in the same Bleve batch as that call's documents.
//
// # Query semantics
//
// Search text is parsed (parse.go) into groups ANDed, each group one item
// or several joined by OR. An item is a plain word (analysed like the
// indexed text: every resulting word must occur), a "quoted phrase" (the
// words in that order), pre* (a prefix of an unstemmed, lower-cased word,
// on the raw field), word~ or word~1 (within an edit distance of 2 or 1, on
// the raw field), any of those as field:item (that search field only, on
// f.<field>; there prefixes and fuzzy words compare with stemmed words),
// and -item (excluded). Malformed text is a *SyntaxError (ErrSyntax) with
// the position; text with nothing to look for is ErrEmptyQuery.
//
// The Bleve query is a conjunction: a conjunct per group (a term query
// per word on the text field, a phrase query (phrase.go: the conjunction
// of its words, each document's positions then checked in one pass), a
// prefix or fuzzy query, a disjunction for OR) and, when collections are
// given, a term query on the collection field with a boost of 0 (it
// keeps those collections without changing scores, and costs less than
// Bleve's filter clause, which tests every candidate). A boolean query
// wraps it only for a must-not clause (excluded items) or the optional
// clause (term queries on name) that raises the score of documents with
// plain words in their name or title: Bleve's boolean searcher costs
// about twice the bare conjunction on common words. All text in one
// field makes a query word one posting list rather than one per field:
// about three times faster on common words.
//
// Hits are ordered by score descending, then by collection/id, with one
// exception: for a text of plain words only (excluded items allowed; no
// phrase, prefix, fuzzy word, field:word or OR), the documents whose name
// or title holds every word come first, ranked by how well their name
// matches (the words' tf-idf in the name field: a shorter name that
// repeats them ranks higher), then collection/id; then the others, by
// their score over all text. That order is what makes a common search
// cost the page rather than the matches: the titled tier is found and
// scored on the name field's short posting lists alone, and when it fills
// the page the other matches are counted from the segments' postings
// bitmaps (count.go) rather than scored. Scoring the titled tier on the
// text as well would walk the text's long posting lists (Bleve decodes a
// chunk's frequencies up to each document it reads), which at 100,000
// sessions costs 17 ms for two common words. Otherwise every match is
// scored, as before. Highlights come from the text field: prefix and
// fuzzy matches, found on the raw field, are not marked.
//
// # What it never does
//
// It is never the source of truth: anything in it can be recomputed from the
// primary store, and Open throws away an index it cannot trust rather than
// fail. It never imports kv, txn, secondary or bbolt: a Feeder (feed.go)
// keeps the index equal to a Source (source.go), which kv implements over
// its bbolt file, and decides when to catch up, rebuild and trim; kv
// notifies it after each commit. It never blocks
// writers of the primary store: Apply is called after a bbolt commit, on
// kv's schedule, and a slow or failed Apply only delays search.
//
// # Crash behaviour
//
// By default Apply returns after scorch has persisted and fsynced the batch
// (the safe mode). With Options.DeferSync (what kv uses) Apply returns once
// the batch is searchable and scorch's "unsafe_batch" persists it in the
// background at most every half second; DurableApplied says how far that
// got, Durable waits for it, and CloseUnpersisted drops what is pending
// (the caller feeds it again: kv re-applies it from its change log on an
// index opened in the safe mode, which is faster than waiting out the
// persister's pause). A process killed at any moment leaves either the
// state of some persisted batch, or a later one whose documents and
// LastApplied agree. Large Apply calls are cut into
// several Bleve batches and only the last carries lastSeq, so a crash in the
// middle can leave documents newer than LastApplied; re-applying from
// LastApplied repairs that, because Apply is idempotent.
//
// # Caveats
//
//   - LastApplied never moves backwards across Open except to 0 with
//     OpenResult.Rebuilt; the caller must then re-feed every document (Reset
//     is the same on demand). If scorch can only load an older snapshot
//     (a segment file lost or damaged), it falls back silently; Open
//     notices through a small hint file (cairn-applied, the last
//     acknowledged lastSeq, written without fsync after each Apply) and
//     rebuilds. If the hint is lost too, the fallback state is still
//     consistent, only older, and re-feeding from LastApplied repairs it.
//   - Bleve does not checksum segments at open, and its merger, which
//     starts with a writable open, can loop forever (allocating) on a
//     damaged one, so that Close never returns. Open therefore checks the
//     CRC-32 of every segment of the newest snapshot it has not checked
//     before, their names read from root.bolt before zap opens any (zap
//     reads a segment's section index as it opens it, and on some damage
//     asks for terabytes: a fatal out of memory); the list of checked
//     ones, by name, size and modification time, is cairn-verified. It
//     rebuilds on a damaged one (OpenResult.Damaged): a new segment costs
//     one read of its file (about 0.35 s warm for the 390 MB of a
//     10,000-session store, which is why not all of them on every Open).
//     Damage that keeps a checked file's size and time is not seen by
//     Open. The merge guard (mergeguard.go) keeps the merger from reading
//     such a file into a new segment with a right CRC: before each merge
//     it checks the files the merge takes that this process has not
//     checked, and a damaged one stops the merges and removes the list,
//     so that VerifySegments still finds it and the next Open rebuilds.
//     Until then a search returns an error
//     (panics inside Bleve are recovered and marked ErrCorrupt) or wrong
//     hits, and a stuck merge is bounded by closeTimeout: Close gives up
//     with ErrCorrupt and abandons the index (its goroutines keep running,
//     and the stuck one allocating, until the process ends), Reset
//     abandons it and recreates the directory. Drift checks (Walk against
//     the primary store) catch missing or stale documents, not damaged
//     postings.
//   - Bleve's scorch writes some diagnostics (for example "unable to load
//     snapshot ... continuing") with the standard log package.
//   - The index stores no text (MappingVersion 5; stored text made it
//     larger and every merge copy it again): excerpts are cut after the
//     search from the text extracted again from the document, which the
//     caller loads (SearchOptions.Source; kv reads its primary store),
//     at the term locations of the text field's term vectors (also what
//     phrases need). Bleve's request highlighting gives one excerpt per
//     field, and its highlighter treats excerpts of different array
//     elements as overlapping when their offsets are: the highlighter is
//     given the values joined by line breaks, one string, and the term
//     locations moved from their elements into it (onText). A document
//     at another revision than the one indexed gets none.
//   - With DeferSync a crash loses the batches not yet persisted, so the
//     caller may trim its own record of changes only up to DurableApplied.
//     Bleve's offline Builder was measured and is no faster per document.
//   - Emails, URLs and dotted names are single tokens ("acme.example").
//     HTML in notes is indexed as text (tag names become words).
//   - Only one Index may be open on a directory: a second Open, in this or
//     another process, fails with ErrBusy after about a second.
package search
