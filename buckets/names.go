package buckets

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Collection kinds.
const (
	KindEntity    = iota // documents addressed by id
	KindSingleton        // one document, addressed by the collection name
	KindExtras           // any JSON value under a key (the old app's unknown keys)
)

// Collection describes one collection: its name, kind, and which fields of
// its documents are stored as parts (see the package documentation).
type Collection struct {
	Name string
	Kind int
	// ArrayParts are array fields stored one element per key, so appending
	// one element writes one key.
	ArrayParts []string
	// BlobParts are large fields stored whole under their own key, so a
	// document can be read without them.
	BlobParts []string
}

// The collections, in the order kvtool lists them.
var collections = []Collection{
	{Name: "sessions", Kind: KindEntity,
		ArrayParts: []string{"screenshots", "audioSegments", "contextItems"},
		BlobParts:  []string{"summary", "audioInsights", "canvasSpec", "fullTranscription", "audioKeyMoments"}},
	{Name: "notes", Kind: KindEntity},
	{Name: "tasks", Kind: KindEntity},
	{Name: "topics", Kind: KindEntity},
	{Name: "companies", Kind: KindEntity},
	{Name: "contacts", Kind: KindEntity},
	{Name: "attachments", Kind: KindEntity},
	{Name: "extras", Kind: KindExtras},
	{Name: "settings", Kind: KindSingleton},
	{Name: "aiSettings", Kind: KindSingleton},
	{Name: "preferences", Kind: KindSingleton},
}

var collectionIndex = func() map[string]*Collection {
	m := make(map[string]*Collection, len(collections))
	for i := range collections {
		m[collections[i].Name] = &collections[i]
	}
	return m
}()

// Collections returns every collection, entity collections first.
func Collections() []Collection {
	out := make([]Collection, len(collections))
	copy(out, collections)
	return out
}

// CollectionNames returns the names of all collections.
func CollectionNames() []string {
	out := make([]string, len(collections))
	for i, c := range collections {
		out[i] = c.Name
	}
	return out
}

// Lookup returns the collection named name, or an error wrapping
// ErrUnknownCollection that lists the valid names.
func Lookup(name string) (*Collection, error) {
	c, ok := collectionIndex[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (collections: %s)", ErrUnknownCollection, name, strings.Join(CollectionNames(), ", "))
	}
	return c, nil
}

// IsPart reports whether field is stored as a part of documents in c, and
// whether it is an array part.
func (c *Collection) IsPart(field string) (part, array bool) {
	for _, f := range c.ArrayParts {
		if f == field {
			return true, true
		}
	}
	for _, f := range c.BlobParts {
		if f == field {
			return true, false
		}
	}
	return false, false
}

// PartChunk is the number of array elements stored under one part key:
// element i of an array part lives in chunk i/PartChunk, a msgpack array.
// Chunks give snappy enough context to compress well (about 0.47 of the
// JSON size against 0.75 for single elements on session data), while an
// append still rewrites at most one chunk, whatever the array's length.
const PartChunk = 16

// Chunks returns how many chunks hold n array elements.
func Chunks(n uint32) int { return int((uint64(n) + PartChunk - 1) / PartChunk) }

// MaxIDLen is the longest id, in bytes.
const MaxIDLen = 256

// CheckID returns an error wrapping ErrInvalidID unless id is 1 to 256 bytes
// of valid UTF-8 without NUL.
func CheckID(id string) error {
	switch {
	case len(id) == 0:
		return fmt.Errorf("%w: empty", ErrInvalidID)
	case len(id) > MaxIDLen:
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrInvalidID, len(id), MaxIDLen)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidID)
	case strings.IndexByte(id, 0) >= 0:
		return fmt.Errorf("%w: contains a NUL byte", ErrInvalidID)
	}
	return nil
}

// Bucket name prefixes. Every bucket is at the top level of the bbolt file.
const (
	prefixPrimary = "c/"
	prefixMeta    = "m/"
	prefixParts   = "p/"
	prefixIndex   = "x/"
)

// Fixed bucket names.
var (
	// LogBucket holds the change log: 8-byte big-endian sequence → Change.
	LogBucket = []byte("log")
	// RefsBucket holds blob reference counts: 64-char SHA-256 hex → 8-byte
	// big-endian count.
	RefsBucket = []byte("refs")
	// SysBucket holds store-wide settings: the format version and the
	// declared index fingerprints.
	SysBucket = []byte("sys")
)

// PrimaryBucket names the bucket holding coll's documents: id → Record.
func PrimaryBucket(coll string) []byte { return []byte(prefixPrimary + coll) }

// MetaBucket names the bucket holding coll's listing summaries: id → Meta.
func MetaBucket(coll string) []byte { return []byte(prefixMeta + coll) }

// PartsBucket names the bucket holding coll's document parts (PartKey →
// value envelope).
func PartsBucket(coll string) []byte { return []byte(prefixParts + coll) }

// IndexBucket names the bucket of the secondary index index of coll
// (IndexKey → empty).
func IndexBucket(coll, index string) []byte { return []byte(prefixIndex + coll + "/" + index) }

// BucketKind tells what a bucket name holds.
type BucketKind int

// Kinds of bucket, as told by ParseBucket.
const (
	BucketUnknown BucketKind = iota
	BucketPrimary
	BucketMeta
	BucketParts
	BucketIndex
	BucketLog
	BucketRefs
	BucketSys
)

// ParseBucket is the inverse of the bucket name functions: it returns the
// kind of bucket, its collection and, for an index bucket, the index name.
// ok is false for a name Cairn does not write.
func ParseBucket(name []byte) (kind BucketKind, coll, index string, ok bool) {
	s := string(name)
	switch s {
	case string(LogBucket):
		return BucketLog, "", "", true
	case string(RefsBucket):
		return BucketRefs, "", "", true
	case string(SysBucket):
		return BucketSys, "", "", true
	}
	for _, p := range []struct {
		prefix string
		kind   BucketKind
	}{{prefixPrimary, BucketPrimary}, {prefixMeta, BucketMeta}, {prefixParts, BucketParts}} {
		if rest, found := strings.CutPrefix(s, p.prefix); found {
			if _, known := collectionIndex[rest]; known {
				return p.kind, rest, "", true
			}
			return BucketUnknown, "", "", false
		}
	}
	if rest, found := strings.CutPrefix(s, prefixIndex); found {
		c, ix, cut := strings.Cut(rest, "/")
		if _, known := collectionIndex[c]; cut && known && ix != "" {
			return BucketIndex, c, ix, true
		}
	}
	return BucketUnknown, "", "", false
}
