package buckets

import (
	"sort"
	"strings"

	"github.com/cairnkv/cairn/schema"
	bolt "go.etcd.io/bbolt"
)

// Collections are declared by package schema: names, kinds, parts and
// the id rule. A bucket name holds a collection name that schema.ValidName
// accepts: a built-in collection or a user collection.

// PartChunk is the number of array elements stored under one part key:
// element i of an array part lives in chunk i/PartChunk, a msgpack array.
// Chunks give snappy enough context to compress well (about 0.47 of the
// JSON size against 0.75 for single elements on session data), while an
// append still rewrites at most one chunk, whatever the array's length.
const PartChunk = 16

// Chunks returns how many chunks hold n array elements.
func Chunks(n uint32) int { return int((uint64(n) + PartChunk - 1) / PartChunk) }

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
			if schema.ValidName(rest) == nil {
				return p.kind, rest, "", true
			}
			return BucketUnknown, "", "", false
		}
	}
	if rest, found := strings.CutPrefix(s, prefixIndex); found {
		c, ix, cut := strings.Cut(rest, "/")
		if cut && schema.ValidName(c) == nil && ix != "" {
			return BucketIndex, c, ix, true
		}
	}
	return BucketUnknown, "", "", false
}

// CollectionsIn returns the collections tx holds documents or derived data
// of: the built-in collections, in schema order, then every user
// collection that has a bucket in the file, sorted.
func CollectionsIn(tx *bolt.Tx) []string {
	out := schema.BuiltinNames()
	seen := map[string]bool{}
	for _, n := range out {
		seen[n] = true
	}
	var user []string
	_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		if _, coll, _, ok := ParseBucket(name); ok && coll != "" && !seen[coll] {
			seen[coll] = true
			user = append(user, coll)
		}
		return nil
	})
	sort.Strings(user)
	return append(out, user...)
}
