package buckets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/cairnkv/cairn/schema"
	bolt "go.etcd.io/bbolt"
)

// VerifyTx reads every value in the store through tx, checks every checksum
// and envelope, and returns the number of documents per collection (primary
// bucket key counts) with every problem found. It never panics on damaged
// bytes. Snapshot verification and kvtool check both use it; bbolt's own
// structural check (tx.Check) is separate.
func VerifyTx(tx *bolt.Tx) (counts map[string]int, problems []Problem) {
	counts = map[string]int{}
	for _, c := range schema.BuiltinNames() {
		counts[c] = 0
	}
	add := func(kind, coll, id, detail string) {
		problems = append(problems, Problem{Kind: kind, Collection: coll, ID: id, Detail: detail})
	}
	corrupt := func(coll, id string, err error) {
		var ce *CorruptError
		if errors.As(err, &ce) {
			if id == "" && ce.Key != "" { // say which entry (a log sequence, a ref hash)
				add("corrupt", coll, id, fmt.Sprintf("bucket %s key %q: %s", ce.Bucket, ce.Key, ce.Detail))
				return
			}
			add("corrupt", coll, id, fmt.Sprintf("bucket %s: %s", ce.Bucket, ce.Detail))
			return
		}
		add("corrupt", coll, id, err.Error())
	}
	err := Each(tx, func(name []byte, b *bolt.Bucket) error {
		kind, coll, _, ok := ParseBucket(name)
		if !ok {
			add("unknown-bucket", "", "", fmt.Sprintf("bucket %q is not written by Cairn", name))
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				add("unexpected-bucket", coll, "", fmt.Sprintf("nested bucket %q in %q", k, name))
				return nil
			}
			switch kind {
			case BucketPrimary:
				counts[coll]++
				if _, err := DecodeRecord(name, k, v, true); err != nil {
					corrupt(coll, string(k), err)
				}
			case BucketMeta:
				if _, err := DecodeValue(name, k, v); err != nil {
					corrupt(coll, string(k), err)
				}
			case BucketParts:
				id, _, _, err := ParsePartKey(k)
				if err != nil {
					corrupt(coll, "", err)
					return nil
				}
				if _, err := DecodeValue(name, k, v); err != nil {
					corrupt(coll, id, err)
				}
			case BucketIndex:
				if _, _, err := SplitIndexKey(k); err != nil {
					corrupt(coll, "", fmt.Errorf("bucket %s: %w", name, err))
				}
			case BucketLog:
				if _, err := DecodeChange(k, v); err != nil {
					problems = append(problems, logProblem(k, err))
				}
			case BucketRefs:
				if _, err := ParseRefKey(k); err != nil {
					corrupt("", "", err)
				} else if _, err := ParseCount(v); err != nil {
					corrupt("", string(k), err)
				}
			}
			return nil
		})
	})
	if err != nil {
		add("read", "", "", err.Error())
	}
	return counts, problems
}

// VerifyChecksums is the fast form of VerifyTx used to verify backups:
// every value's envelope (format byte, flags, CRC32C) is checked without
// decompressing or decoding it, keys are parsed, and documents are counted
// per collection. A value that passes its checksum is the bytes that were
// written, which the write path had encoded and decoded; VerifyTx (kvtool
// check) decodes everything as well.
func VerifyChecksums(tx *bolt.Tx) (counts map[string]int, problems []Problem) {
	return VerifyChecksumsOf(tx, nil)
}

// VerifyChecksumsOf is VerifyChecksums over the top-level buckets for
// which only returns true (every one when only is nil): the sound part of
// a store whose other buckets' pages are damaged.
func VerifyChecksumsOf(tx *bolt.Tx, only func(name []byte) bool) (counts map[string]int, problems []Problem) {
	counts = map[string]int{}
	for _, c := range schema.BuiltinNames() {
		counts[c] = 0
	}
	err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		if only != nil && !only(name) {
			return nil // not even past the gate, which may refuse it
		}
		b := Lookup(tx, name)
		kind, coll, _, ok := ParseBucket(name)
		if !ok {
			problems = append(problems, Problem{Kind: "unknown-bucket", Detail: fmt.Sprintf("bucket %q is not written by Cairn", string(name))})
			return nil
		}
		var prev []byte
		return b.ForEach(func(k, v []byte) error {
			// bbolt keeps a bucket's keys in order; one out of order is
			// a damaged key, which bbolt's lookups can no longer find.
			if prev != nil && bytes.Compare(k, prev) <= 0 {
				// Copied before fmt sees them: a slice of a damaged page
				// may point past the map, which the garbage collector must
				// never find in an interface (a fatal error, where the copy
				// is a memory fault the caller recovers).
				key, bucket := string(k), string(name)
				problems = append(problems, Problem{Kind: "corrupt", Collection: coll, ID: key, Detail: fmt.Sprintf("bucket %s: key %q comes after key %q: one of them is damaged", bucket, key, string(prev))})
			}
			prev = append(prev[:0], k...)
			switch kind {
			case BucketLog:
				if err := CheckEnvelope(name, k, v); err != nil {
					problems = append(problems, logProblem(k, err))
				} else if _, err := ParseLogKey(k); err != nil {
					problems = append(problems, logProblem(k, err))
				}
			case BucketPrimary, BucketMeta, BucketParts:
				if kind == BucketPrimary {
					counts[coll]++
				}
				if err := CheckEnvelope(name, k, v); err != nil {
					id := string(k)
					if kind == BucketParts {
						id, _, _, _ = ParsePartKey(k)
					}
					problems = append(problems, Problem{Kind: "corrupt", Collection: coll, ID: id, Detail: err.Error()})
				}
			case BucketIndex:
				if _, err := checkIndexKey(k); err != nil {
					problems = append(problems, Problem{Kind: "corrupt", Collection: coll, Detail: fmt.Sprintf("bucket %s: %v", name, err)})
				}
			case BucketRefs:
				if _, err := ParseCount(v); err != nil {
					problems = append(problems, Problem{Kind: "corrupt", ID: string(k), Detail: err.Error()})
				}
			}
			return nil
		})
	})
	if err != nil {
		problems = append(problems, Problem{Kind: "read", Detail: err.Error()})
	}
	return counts, problems
}

// CheckEnvelope checks a value's envelope (length, format byte, flags,
// CRC32C) without decompressing or decoding its payload, and returns a
// *CorruptError naming bucket and key if it fails: the cheap test of
// whether a stored value is the bytes that were written.
func CheckEnvelope(bucket, key, b []byte) error {
	if len(b) < envelopeOverhead {
		return &CorruptError{Bucket: string(bucket), Key: string(key), Detail: fmt.Sprintf("value of %d bytes is shorter than the envelope", len(b))}
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if got := crc32.Checksum(body, castagnoli); got != sum {
		return &CorruptError{Bucket: string(bucket), Key: string(key), Detail: fmt.Sprintf("checksum mismatch (stored %08x, computed %08x)", sum, got)}
	}
	if body[0] != envelopeVersion || body[1]&^knownFlags != 0 {
		return &CorruptError{Bucket: string(bucket), Key: string(key), Detail: "unknown value format or flags"}
	}
	return nil
}

// logDetail starts the Detail of every problem of a change-log entry.
const logDetail = "bucket log "

// logProblem is the problem of change-log entry k that does not read.
func logProblem(k []byte, err error) Problem {
	key := fmt.Sprintf("%x", k)
	if seq, kerr := ParseLogKey(k); kerr == nil {
		key = fmt.Sprint(seq)
	}
	var ce *CorruptError
	if errors.As(err, &ce) {
		err = errors.New(ce.Detail)
	}
	return Problem{Kind: "corrupt", Detail: fmt.Sprintf("%skey %q: %v", logDetail, key, err)}
}

// IsLogProblem reports whether p is a change-log entry that does not read:
// derived data, which the documents do not depend on (kv's ReindexSearch
// drops it).
func IsLogProblem(p Problem) bool {
	return p.Kind == "corrupt" && p.Collection == "" && p.ID == "" && strings.HasPrefix(p.Detail, logDetail)
}
