// Package buckets is Cairn's on-disk format. It is the only package that
// knows bucket names, key encodings and the value envelope; every other
// package asks it. This comment is the format's specification: a reader
// written from it alone must be able to decode every byte Cairn writes.
// Every fixed-width integer is big-endian. FormatVersion names this version
// of the format.
//
// # The store directory
//
// A store is a directory (mode 0700):
//
//	<store>/data.db    the bbolt file holding the buckets described below
//	                   (mode 0600)
//	<store>/lock       the store lock (empty, mode 0600): every opener holds
//	                   an flock on it, shared to read, exclusive to write, for
//	                   as long as it has the store open, across every
//	                   replacement of data.db (see kv.LockFile)
//	<store>/search/    the Bleve full-text index; derived data, rebuilt from
//	                   data.db at any time
//	<store>/blobs/     attachment contents, immutable, content-addressed:
//	                   blobs/<hh>/<hash>, hash the 64 lowercase hex digits of
//	                   SHA-256(contents), hh its first two; blobs/tmp/ holds
//	                   writes in progress (see internal/blobstore)
//	<store>/backups/   verified snapshots: <name>.db (a bbolt file in this
//	                   format) and <name>.json (its manifest) per backup,
//	                   <name> the UTC creation time like
//	                   20261126T010203.123456789Z (see package snapshot)
//
// data.db holds every document. The search index can be rebuilt from it;
// blob files hold attachment bytes, which documents refer to by hash and
// data.db counts (the refs bucket).
//
// # Collections
//
// Collections are declared by package schema. The built-in ones, each of
// one kind:
//
//	sessions     entity: documents addressed by id
//	notes        entity
//	tasks        entity
//	topics       entity
//	companies    entity
//	contacts     entity
//	attachments  entity
//	extras       extras: any JSON value under a key (the old app's unknown keys)
//	settings     singleton: one document, whose key is the collection name
//	aiSettings   singleton
//	preferences  singleton
//
// Any other name matching [a-z][a-zA-Z0-9_-]{0,63} is a user collection
// (schema.ValidName), an entity collection created by its first write;
// its buckets are named like the built-in ones. The indexes an
// application declares on user collections are recorded in the sys
// bucket under "schema/user-indexes", as JSON (collection name → array
// of schema.Index), so that every opener maintains them.
//
// A collection may store some top-level fields of its documents as parts
// (see Parts). Today only sessions does:
//
//	array parts  screenshots, audioSegments, contextItems
//	blob parts   summary, audioInsights, canvasSpec, fullTranscription,
//	             audioKeyMoments
//
// The key of a document (its "id" below) is, for entity and extras
// collections, the document's id: 1 to MaxIDLen (256) bytes of valid UTF-8
// without a NUL byte (schema.CheckID). For a singleton it is the collection
// name.
//
// # Buckets
//
// Every bucket is at the top level of data.db; no bucket holds a nested
// bucket. <coll> is one of the collection names above, byte for byte.
//
//	c/<coll>          primary: id → Record envelope
//	m/<coll>          metadata: id → envelope of a summary value
//	p/<coll>          parts: part key → envelope of a value
//	x/<coll>/<index>  secondary index: index key → empty value
//	log               change log: log key → Change envelope
//	refs              blob reference counts: SHA-256 hex → 8-byte count
//	sys               store-wide settings (the format version, the declared
//	                  index fingerprints)
//
// <index> is a non-empty name and may itself contain "/": everything after
// the second slash is the index name. A bucket is created when its first key
// is written and may be absent when empty. ParseBucket is the inverse of
// PrimaryBucket, MetaBucket, PartsBucket, IndexBucket and the three fixed
// names; a name it does not accept (an unknown prefix or collection, an
// empty index name) was not written by Cairn.
//
// # Page layout
//
// Where pages sit in data.db is not part of the format (any reader of the
// buckets above reads any layout), but it decides what a process reads
// from disk. A compaction (kvtool compact, kv.DB.Compact, the copy a
// staged change starts from, and the compaction after a bulk load) writes
// the buckets in this order, each region in transactions of its own, so
// that each region's pages sit together (Region, LayoutOrder):
//
//	sys         read on every open
//	m/<coll>    listing summaries: a fresh process that lists reads only these
//	c/<coll>    records (whole small documents, session headers)
//	x/<coll>/*  secondary indexes
//	refs        blob reference counts
//	log         the change log
//	p/<coll>    parts, the bulk of the file
//
// Pages are filled to 0.9 where later writes land between existing keys
// and to 1.0 for the change log (keys are sequences: appends only) and
// parts (values mostly larger than a page). A few pages of a later region
// may take pages an earlier region's commit freed. Writes after the
// compaction allocate where bbolt finds room, so the layout decays with
// use until the next compaction.
//
// # Parts
//
// A part field of a document is stored outside its primary record, so that
// appending one screenshot rewrites one small key and a session can be read
// without its large fields.
//
// An array part (when the field holds an array) of n elements, n recorded in
// Record.ArrayParts, is stored in chunks of PartChunk (16) elements: chunk c
// holds elements 16c to min(16c+16, n)-1 as a msgpack array under
// PartKey(id, field, c), for c in 0..Chunks(n)-1. Every chunk but the last
// holds exactly 16 elements, the last 1 to 16; an empty array is recorded
// with n = 0 and has no keys. (Chunks give snappy enough context to compress
// well, and an append still rewrites at most one chunk.)
//
// A blob part (when the field holds a non-null value) stores the whole value
// under PartKey(id, field, -1) and is listed in Record.BlobParts. A part
// field holding anything else stays in the primary document. The full
// document is the primary document plus every part field.
//
// # Part keys
//
//	blob part:   id 0x00 field
//	array part:  id 0x00 field 0x00 index
//
// index is the chunk's position as 4 bytes big-endian, 0 to 2^31-1. Ids
// never contain NUL, so every part of a document starts with
// PartPrefix(id) = id 0x00, parts of different documents never interleave,
// and the parts of one document sort by field name, then by index. Field
// names are non-empty and contain no NUL. ParsePartKey is the inverse of
// PartKey (index -1 for a blob part).
//
// # Change-log keys
//
// A change-log key is the sequence number as 8 bytes big-endian (LogKey,
// ParseLogKey), so the log sorts in sequence order. Sequences start at 1
// and increase by one per change; the sequence of the write that produced a
// document version is also that version's revision (Record.Rev).
//
// # Index keys
//
// An index key is an encoded value followed directly by the document id
// (IndexKey); the value of the bbolt pair is empty. Encoded values are
// self-delimiting, so SplitIndexKey recovers both, and byte order of whole
// keys is: by value in query order, then by id bytes. An encoded value is a
// type tag and a body:
//
//	0x02                  false
//	0x03                  true
//	0x10 + 8 bytes        number: the IEEE 754 bits of the float64, with the
//	                      sign bit set if it was clear and all 64 bits
//	                      inverted if it was set; -0 is written as +0; NaN
//	                      has no place in the order and must never be
//	                      written
//	0x18 + 8 bytes        instant: milliseconds since the Unix epoch as an
//	                      int64, XOR 1<<63 (so negative instants sort first)
//	0x20 bytes 0x00 0x01  string: its bytes with every 0x00 written as
//	                      0x00 0xFF, then the terminator 0x00 0x01
//
// So types sort false < true < numbers < instants < strings; numbers in
// numeric order (-Inf first, +Inf last); instants in time order; strings by
// their bytes (for UTF-8, code point order), a string before every string it
// is a prefix of, and "a\x00" after "a" and before "a\x01". A number is
// indexed as the float64 nearest to its value (NumberFloat; ±Inf and ±0
// beyond float64's range). That is monotone, not injective: numbers that
// differ only beyond float64's precision (integers beyond 2^53, literals
// kept exactly, see below) share a key, so a reader of an index rechecks
// the values of a key's documents (CompareNumbers) and learns no more from
// a key than that order. DecodeIndexValue returns bool, float64,
// IndexInstant or string.
//
// # Reference keys and counts
//
// A refs key is the 64 lowercase hex digits of a blob's SHA-256 (RefKey,
// ParseRefKey); its value is the number of references as 8 bytes big-endian
// (EncodeCount, ParseCount).
//
// # The value envelope
//
// Every value in the c/, m/, p/ and log buckets is an envelope around a
// msgpack payload (Seal, Open):
//
//	offset 0       format: 1
//	offset 1       flags: bit 0 set means the body is snappy-compressed;
//	               every other bit is zero
//	offset 2..n-4  body: the payload, or its snappy block encoding
//	               (github.com/golang/snappy Encode, not the framing format)
//	offset n-4..n  CRC-32C (Castagnoli polynomial) of bytes 0..n-4, as a
//	               big-endian uint32
//
// The payload is compressed only when it is at least 64 bytes and the
// snappy block is strictly shorter than the payload, so an envelope is never
// longer than its payload plus 6 bytes. A reader checks, in this order: the
// value is at least 6 bytes, the checksum matches, the format is 1, no
// unknown flag is set, and for a snappy body that the decoded length it
// declares is at most 22 times the body and at most 1 GiB (snappy expands at
// most 64 bytes from a 3-byte element) and that the body decodes to exactly
// that length. Any failure is corruption.
//
// # The document value model
//
// A document is a JSON value. Decoded, it is made of exactly these Go types:
// nil, bool, string, int64, uint64 (only above math.MaxInt64), float64,
// json.Number (see below), []any and map[string]any. Normalize brings any
// JSON-marshalable Go value into the model; it refuses NaN, infinities,
// strings and object keys that are not UTF-8, and nesting more than
// MaxDepth (1000) levels below the top.
//
// A JSON number keeps the value it was written with (NumberValue):
//
//   - a literal whose value is an integer becomes an int64 if it fits, else
//     a uint64 if it fits: "1.0", "1e2" and "9007199254740993.0" are the
//     integers 1, 100 and 9007199254740993;
//   - a zero is the int64 0, or float64 -0 when written with '-';
//   - any other literal becomes the nearest float64 when that float64's
//     shortest form (strconv.FormatFloat with precision -1) has exactly the
//     literal's value ("0.1", "2.5e-8", "1e30"), else stays json.Number,
//     the literal exactly as written ("1.00000000000000001",
//     "123456789.123456789123456789", "123456789012345678901234567890e0",
//     "1e400", "1e-400").
//
// The value of a float64 in the model is the decimal its shortest form
// writes, the number get and export print: 0.1 is one tenth.
// CompareNumbers orders numbers of every type by that value, exactly, so
// that 0.1 < json.Number("0.10000000000000000001") < 0.2, and int64 2^60 <
// float64 2^60 (which writes 1152921504606847000). Go float64 values given
// to Normalize are taken the same way.
//
// # Instants
//
// Timestamp fields are compared and indexed as instants, milliseconds
// since the Unix epoch, read by ParseInstant: a number (or a string
// holding a JSON number) of epoch milliseconds, rounded down; a date
// YYYY-MM-DD as midnight UTC; a date-time with 'T', 't' or a space, hh:mm,
// optional seconds and fraction, and a zone Z, ±hh:mm, ±hhmm, ±hh or none
// (UTC). A value it cannot read is no instant; it never reads as time 0.
//
// JSONSize is the length of the value as compact JSON from encoding/json
// with HTML escaping off: the "logical size" of a document.
//
// # The msgpack encoding of values
//
// MarshalValue writes a model value as msgpack:
//
//	nil            nil (0xc0)
//	bool           false (0xc2), true (0xc3)
//	int64          the shortest msgpack integer: positive fixint or
//	               uint8/16/32/64 for values >= 0, negative fixint or
//	               int8/16/32/64 below
//	uint64         uint64 (0xcf)
//	float64        float64 (0xcb), always
//	string         fixstr, str8, str16 or str32 with the UTF-8 bytes
//	[]any          fixarray, array16 or array32, then the elements
//	map[string]any fixmap, map16 or map32, then each key as a string
//	               followed by its value, keys in increasing byte order (so
//	               equal documents encode to equal bytes)
//	json.Number    extension type 1 (fixext or ext8/16/32) whose data is the
//	               literal in ASCII, matching the JSON number grammar
//	               -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, for a
//	               number no int64, uint64 or float64 holds exactly
//
// UnmarshalValue also accepts any integer encoding (uint64 up to MaxInt64
// becomes int64), float32 (widened to float64), bin8/16/32 (read as a
// string) and an extension literal that a 64-bit type holds exactly (read as
// that type, as NumberValue converts it), so what it returns is always in the
// model. It refuses map keys that are not strings, extension types other
// than 1, literals outside the grammar, NaN and infinities, nesting deeper
// than MaxDepth, trailing bytes and every other code.
//
// # Primary records
//
// A c/<coll> value is the envelope of a msgpack array of exactly 5
// elements (EncodeRecord, DecodeRecord, type Record):
//
//	0  rev         unsigned integer: the revision (change-log sequence of
//	               the write that produced this version)
//	1  size        unsigned integer: the JSONSize of the whole document,
//	               parts included
//	2  array parts map from field name to element count (unsigned, below
//	               2^32), keys in increasing byte order; empty if none
//	3  blob parts  array of field names stored as blob parts
//	4  document    the document without its part fields, in the msgpack
//	               encoding above: an object with an "id" equal to the key
//	               for entities, an object for singletons, any value in
//	               extras
//
// # Metadata values
//
// An m/<coll> value is the envelope of a model value, the small summary
// kept beside each document so that listing decodes no document body (for
// sessions: id, name, status, times, tags, part counts). Its fields are
// chosen by the writer (package txn); this package fixes only the envelope.
//
// # Part values
//
// A p/<coll> value is the envelope of one model value: for an array part, a
// chunk (an array of 1 to 16 elements); for a blob part, the whole value of
// the field.
//
// # Change-log entries
//
// A log value is the envelope of a msgpack array of 4 or 5 elements
// (EncodeChange, DecodeChange, type Change); the sequence is the key:
//
//	0  collection  string
//	1  id          string: the document's key
//	2  op          string: "put" or "delete"
//	3  time        integer: milliseconds since the Unix epoch (an int64)
//	4  fields      array of strings, optional (format version 3): the
//	               top-level fields a put changed, sorted; absent for a
//	               delete, an extras value, and entries written before
//
// # Format version
//
// FormatVersion (3) is the version of this whole specification. It is
// stored in the sys bucket and in every backup manifest (format_version);
// a store or backup with a newer version is refused, never guessed at. The
// envelope's format byte versions only the envelope; a change to any of the
// bytes described here increments FormatVersion.
//
//	1  the first version
//	2  numbers that no 64-bit type holds exactly are written as extension
//	   literals, where version 1 wrote the nearest float64 unless it was
//	   infinite or zero (and its readers would round the new literals).
//	   The bytes are otherwise the same: a version 1 store is read as it
//	   is, and marked version 2 when first opened for writing.
//	3  change-log entries may carry a fifth element, the fields changed
//	   (a version 2 reader would call them damaged). Older entries are
//	   read as they are; a version 2 store is marked version 3 when first
//	   opened for writing.
//
// # Errors
//
// Damage in a value is a *CorruptError naming the bucket, the key (for the
// log, its sequence in decimal) and what is wrong; errors.Is(err,
// ErrCorrupt) is true for it. A key that a Parse function did not make is
// ErrBadKey. VerifyTx reads every bucket of a transaction and reports each
// problem with its collection and id.
//
// # What it never does
//
//   - Panic on damaged or hostile bytes: every decoder (Open, DecodeValue,
//     UnmarshalValue, DecodeRecord, DecodeChange, the Parse functions,
//     SplitIndexKey, DecodeIndexValue) returns an error instead, and each
//     has a fuzz test.
//   - Allocate more than the input describes: every length a header claims
//     (arrays, maps, strings, extensions, the snappy decoded length) is
//     checked against the bytes left before anything is allocated, and the
//     claims of nested headers are counted together, so a 10-byte value
//     claiming 2^31 elements fails at once.
//   - Decode unchecked bytes: the checksum is verified before anything in a
//     value is interpreted.
//   - Hand out bbolt memory from a decoded value: strings and literals are
//     copied. (Two results do alias their input and must be copied, or
//     used up, before the transaction ends: Open's payload when it was not
//     compressed, and the encoded value SplitIndexKey returns.)
//   - Touch files, open bbolt itself, or import any other Cairn package.
//
// # Caveats
//
//   - The checksum covers a value, not its key. A value copied under
//     another key, or damage in a key's bytes, is not detected by the
//     envelope; keys are checked only as far as their Parse functions go
//     (index, part, log and refs keys) and by the consistency checks of the
//     layers above (metadata and indexes against primary data). bbolt's own
//     structural check (Tx.Check) covers the pages.
//   - CRC-32C detects every single-bit error and every burst of up to 32
//     bits; other random damage passes with probability about 2^-32. It is not a MAC: deliberate tampering
//     is not detected.
//   - Decoded strings are not re-validated as UTF-8 (Normalize guarantees it
//     on the way in); a crafted value with a valid checksum can carry bytes
//     that encoding/json then writes as U+FFFD. Likewise the unsigned record
//     fields accept a negative msgpack integer from crafted bytes.
//   - Numbers keep their value, not their spelling: 1.0 comes back as 1,
//     1e2 as 100 and 2.50 as 2.5. Two literals kept exactly that are equal
//     in value but spelled differently ("1.00000000000000001",
//     "100000000000000001e-17") encode to different bytes.
//   - Decimal exponents beyond ±2^50 (literals like 1e9999999999999999)
//     are kept, but compare as if they were ±2^50.
//   - A record's element count is a uint32, but writers refuse arrays of
//     2^31 elements or more.
//   - ParseBucket accepts any valid collection name, so a file written by a
//     later Cairn with a new built-in collection reads it as a user
//     collection.
//   - The keys of the sys bucket are defined by the writer, not yet here,
//     and VerifyTx does not read them.
//   - VerifyTx checks each value on its own. That indexes and metadata equal
//     what the primary data derives is for the layers that derive them.
package buckets
