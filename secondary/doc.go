// Package secondary owns Cairn's derived lookup data and the query engine
// that uses it: the metadata summary of every document, the secondary
// indexes each collection declares, how both are derived from a document,
// their exact maintenance inside the writer's bbolt transaction, their
// verification and rebuilding, and the planner and executor of queries.
//
// Collections and their indexes are declared in package schema (the
// built-in ones there, user collections' as the application declares
// them); every function here takes the declaration or the store's
// *schema.Schema. It imports only buckets, schema, bbolt and the standard
// library. It never returns
// a query result that differs from a full scan of the primary data, and
// never leaves an index or metadata entry that the primary data does not
// derive (docs/DESIGN.md invariant 2; Verify proves it, kvtool check runs
// Verify).
//
// # Metadata
//
// Apply stores Summary(coll, id, version) under id in
// buckets.MetaBucket(coll) for every entity collection and extras, encoded
// with buckets.EncodeValue: a few listing fields copied verbatim from the
// document (missing or null fields are absent), derived fields (a note's
// title, a session's screenshot and audio segment counts), and always rev
// and size. Listing reads this bucket without decoding a document.
//
// # Indexes
//
// Index name of collection coll is the bucket buckets.IndexBucket(coll,
// name), holding one key per (value, document) pair: buckets.IndexKey(v,
// id) with an empty value, where v is the value encoded by buckets.Index*.
// Non-unique values are never a growing list, and a range of values is a
// range of keys. Declared (see Indexes):
//
//	sessions:    startTime, endTime, status, tags, category, links
//	notes:       timestamp, lastUpdated, source, status, tags, parentNoteId, links
//	tasks:       status, priority, done, dueDate, createdAt, tags, links
//	topics, companies, contacts: name (case-folded), lastUpdated
//	attachments: type, hash, createdAt
//
// The links index is one index over every field that links a document to
// another: relationships[].targetId and the legacy link fields of
// docs/FORMAT.md §7.1 (sessions: extractedTaskIds, extractedNoteIds, companyIds,
// contactIds, topicIds, trackingNoteId; notes: topicId, companyIds,
// contactIds, topicIds, sourceSessionId; tasks: topicId, companyIds,
// contactIds, noteId, sourceNoteId, sourceSessionId, aiContext.sourceNoteId).
// It serves the virtual query field "@links" (LinksField): @links=c-1 finds
// whatever links to c-1; the kind of link is checked on the document. One
// index rather than one per target type keeps writes cheap; ids are opaque
// and may repeat across collections, so a filter on a target type goes on
// relationships.targetType.
//
// Values are derived per scalar: an array contributes each element (one
// key per distinct value), null, objects and nested arrays contribute
// nothing. On a declared timestamp field (TimestampFields) a value that
// buckets.ParseInstant reads (an ISO 8601 date or date-time, or epoch
// milliseconds as a number or numeric string) is encoded as an instant
// with IndexTime; anything else by its JSON type: IndexBool, IndexNumber
// (the nearest float64, buckets.NumberFloat), IndexString. Folded
// indexes (names) encode strings after Unicode simple case folding.
//
// The sys bucket holds, under keys starting with "secondary/": the document
// count per collection ("docs/<coll>"), the key count per index
// ("keys/<coll>/<index>"), the number of documents with more than one key
// per index ("multi/<coll>/<index>"), a histogram of values per index
// declared with Stats ("hist/<coll>/<index>/<bucket>": instants bucketed by
// about 50 days, numbers by their leading bits, strings and booleans by
// value), the fingerprint of each index's declaration
// ("index/<coll>/<index>") and the metadata derivation version
// ("meta/<coll>"). All counts are 8 bytes big-endian and, like the keys,
// are changed only with the keys, in the same transaction: they are exact,
// and Verify checks them.
//
// # Maintenance
//
// The write path calls Apply(tx, coll, id, old, new) inside its read-write
// transaction for every change: old is the stored version before the change
// (nil for a create), new the version written (nil for a delete). Apply
// removes the keys only old derives, adds the keys new derives that are
// absent, and rewrites the summary. Open calls Sync, which compares each
// declared index with its stored fingerprint and backfills an added or
// changed index (or one whose bucket is gone), drops an undeclared one, and
// otherwise reads only a few sys keys. kvtool reindex --secondary calls
// Rebuild; kvtool check calls Verify.
//
// # Query semantics
//
// Run answers a Query with the semantics of docs/KVTOOL.md:
//
//   - A field is a top-level name or a dotted path; where a path meets an
//     array of objects it continues into each element
//     (relationships.targetId). The values of a field are the scalars at
//     its end, array elements expanded one level.
//   - = (and contains, its synonym for arrays) matches when any value
//     equals the operand; != when none does; in when any equals any
//     operand; <, <=, >, >= when any value compares so. exists matches a
//     present, non-null field (with Value false: a missing or null one).
//   - A document without the field, or with null, matches no comparison
//     but != (and exists=false).
//   - The stored value's type decides the comparison. An operand compares
//     with a stored value of its own type, and with other types it parses
//     as: the strings "true"/"false" with booleans, a numeric string with
//     numbers, and any bool or number with strings as its text (a json.Number
//     operand, as ParseWhere makes them, keeps its literal text). Numbers
//     compare exactly across int64, uint64, float64 and json.Number, a
//     float64 as the decimal it writes (buckets.CompareNumbers); strings
//     by bytes.
//   - On a declared timestamp field only instants compare: the operand must
//     be an ISO 8601 date or date-time (a date alone is midnight UTC, a time
//     without zone is UTC) or epoch milliseconds, as buckets.ParseInstant
//     reads them, else Run fails with ErrBadDate; stored values that are not instants match nothing but !=.
//     Instants compare at millisecond precision.
//   - Sorting orders booleans < numbers < instants < strings, an array by
//     its smallest value, ties by id ascending, and documents without a
//     value last in both directions. Without Sort, results are in id order.
//   - Limit 0 returns every match; Offset skips matches first; negative
//     values are an error.
//
// # Planner
//
// Every filter on an indexed field with =, in, contains or a comparison
// (not != or exists; folded indexes: = and in only) gives index ranges that
// hold a superset of its matches. Filters on one index share a range
// (intersected) only while no document has two keys in it (the "multi"
// count is 0); otherwise each filter is a range of its own. Each range is
// estimated from its histogram, or by counting keys up to 1,024. The
// candidate plans, with a cost from these estimates, are:
//
//   - index-range / index-intersection: read the smallest range's ids, then
//     keep those also in further ranges while reading them costs less than
//     checking the candidates they remove; check candidates in id order.
//   - index-order (sort on an ordered index, with a limit): walk the sort
//     index in order (bounded by the sort field's range when the index is
//     single-valued), skip ids outside the id sets of selective filters, check
//     the rest, and stop after offset+limit matches. Keys with equal values
//     are taken as a group and ordered exactly by (value, id), so ties and
//     numbers float64 cannot tell apart order as the semantics say; an array document is
//     taken at its smallest value; after the walk, matching documents
//     without the sort field come last.
//   - id-set: the Restrict ids drive.
//   - metadata-scan (every filter and sort field is in the summary) or
//     full-scan: read every entry; without a sort, stop after offset+limit.
//   - id-order: no filter, no sort: walk the primary keys, decode nothing.
//
// An "or" filter (Filter.Or) whose alternatives all have an index is one
// use: the union of each alternative's ranges (Explain.Index "a|b"),
// estimated as the sum of theirs; an in is one use with one range per
// operand. A set plan is index-only (Explain.Detail says so, no document
// read) when there is no sort, some index drives or intersects, and every
// filter is an equality (=, in, contains, or an or of them) on an index
// that is neither folded nor typed, with operands that compare as strings,
// booleans or instants only: those keys are exactly the matches.
// After the run, each filter and sort field that no document has is
// reported in Explain.Warnings (an index with a key, or the first
// document that has the field, answers; only an absent field costs a
// pass).
//
// The cheapest wins; with NoScan, a scan fails with ErrFullScan instead.
// Whatever the plan, except index-only, every candidate is checked against every filter on
// its metadata entry (when all filter and sort fields are summary fields,
// which are verbatim copies) or on its header document from the Loader
// (its full document when a field is a part), so an estimate can only cost
// time, never change a result. Unordered plans keep the best offset+limit
// matches in a bounded heap. Explain reports the plan, the indexes, the
// index keys read, the documents decoded and the estimated costs.
//
// # Caveats
//
//   - Apply trusts old to be the version actually stored: a caller that
//     passes another version leaves keys of the stored one behind (Verify
//     reports them, Rebuild repairs them). When the stored version cannot
//     be decoded (its checksum fails), Remove takes its metadata entry and
//     index keys out without it, by scanning the index buckets for keys
//     that end in its id. Apply does add any key new derives
//     that is missing, and counts only keys really added or removed.
//   - A field name containing a dot cannot be addressed: dots always
//     separate path segments.
//   - Index values of numbers are float64, so numbers that differ beyond
//     float64's precision (integers beyond 2^53, decimals kept exactly)
//     share a key; the recheck keeps results exact.
//   - Histograms are coarse (about 50 days for instants); they steer plans,
//     never results.
//   - The summary of an attachment stores its own size field as fileSize,
//     since size is the record's logical size in every summary.
//   - Run reads the metadata bucket for documents whose summary is enough;
//     a summary missing for an id falls back on the document.
package secondary
