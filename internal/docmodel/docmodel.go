// Package docmodel holds the document-model helpers that code beside kv
// needs and kv's public API should not carry: the old app's migration and
// the export reader (legacy), kvtool and the web inspector. A value of the
// document model is what kv stores: nil, bool, string, an exact number,
// []any and map[string]any (see buckets.Normalize).
package docmodel

import (
	"bytes"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
)

// CheckID returns an error wrapping schema.ErrInvalidID unless id is a
// valid document id: 1 to 256 bytes of UTF-8 without NUL.
func CheckID(id string) error { return schema.CheckID(id) }

// MaxDepth is the deepest nesting of arrays and objects a document may
// have (buckets.MaxDepth): the document itself is at depth 0.
const MaxDepth = buckets.MaxDepth

// Normalize converts a JSON-marshalable value into the document model.
func Normalize(v any) (any, error) { return buckets.Normalize(v) }

// JSONSize is the length of v, a value of the document model, as compact
// JSON: the logical size that kv's MaxDocumentBytes bounds and its
// statistics report.
func JSONSize(v any) int { return buckets.JSONSize(v) }

// SameValue reports whether two document-model values are the same JSON
// value (object key order does not matter).
func SameValue(a, b any) bool {
	x, err1 := buckets.MarshalValue(a)
	y, err2 := buckets.MarshalValue(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// ParseInstant reads a time as every part of Cairn does (queries and
// indexes on timestamp fields, import's newer-wins rule, the old app's
// version choice): epoch milliseconds as a number or numeric string, a
// date (midnight UTC) or an RFC 3339-like date-time; see
// buckets.ParseInstant. It returns epoch milliseconds, or false for a
// value it cannot read, which is to be reported, never taken as time 0.
func ParseInstant(v any) (ms int64, ok bool) { return buckets.ParseInstant(v) }
