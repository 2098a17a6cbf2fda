package legacy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cairnkv/cairn/internal/docmodel"
)

// MaxIDLen is the longest entity id, in bytes, that Scan and ReadExport
// accept. Longer ids are reported, not imported.
const MaxIDLen = 256

// CheckID reports whether v is a usable entity id: a string of 1 to
// MaxIDLen bytes, valid UTF-8, without NUL. The error wraps ErrBadID.
func CheckID(v any) (string, error) {
	s, ok := v.(string)
	switch {
	case v == nil:
		return "", fmt.Errorf("%w: missing", ErrBadID)
	case !ok:
		return "", fmt.Errorf("%w: not a string", ErrBadID)
	case s == "":
		return "", fmt.Errorf("%w: empty", ErrBadID)
	case len(s) > MaxIDLen:
		return "", fmt.Errorf("%w: longer than 256 bytes", ErrBadID)
	case strings.IndexByte(s, 0) >= 0:
		return "", fmt.Errorf("%w: contains NUL", ErrBadID)
	case !utf8.ValidString(s):
		return "", fmt.Errorf("%w: not valid UTF-8", ErrBadID)
	}
	return s, nil
}

// numInt64 converts a decoded JSON number (json.Number or float64) to int64.
func numInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		if f, err := n.Float64(); err == nil {
			return int64(f), true
		}
	case float64:
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	}
	return 0, false
}

// numFloat converts a decoded JSON number to float64.
func numFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	}
	return 0, false
}

// isoMillis reads a time in epoch ms as every part of Cairn does: it is
// docmodel.ParseInstant, the one reader of instants.
func isoMillis(v any) (int64, bool) { return docmodel.ParseInstant(v) }

// truthy mirrors JavaScript truthiness for a decoded JSON value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case json.Number:
		f, err := x.Float64()
		return err != nil || (f != 0 && f == f)
	default:
		return true
	}
}

// isNumericKey reports whether k is a non-negative decimal integer as
// JavaScript writes array indexes ("0", "1", ..., no leading zeros).
func isNumericKey(k string) bool {
	if k == "" || (len(k) > 1 && k[0] == '0') {
		return false
	}
	_, err := strconv.ParseUint(k, 10, 64)
	return err == nil
}

// spreadEntities returns the entities of the junk object m (an array
// spread into an object, docs/FORMAT.md §3.3: a full collection snapshot),
// in the array's order: its numeric members that are objects, with the
// index each stood at.
func spreadEntities(m map[string]any) (idx []uint64, docs []map[string]any) {
	type el struct {
		i uint64
		d map[string]any
	}
	var els []el
	for k, v := range m {
		if !isNumericKey(k) {
			continue
		}
		if d, ok := v.(map[string]any); ok {
			i, _ := strconv.ParseUint(k, 10, 64)
			els = append(els, el{i, d})
		}
	}
	sort.Slice(els, func(a, b int) bool { return els[a].i < els[b].i })
	for _, e := range els {
		idx, docs = append(idx, e.i), append(docs, e.d)
	}
	return idx, docs
}

// isArraySpread reports whether m is the junk "array spread into an object"
// of docs/FORMAT.md §3.3: it has at least one numeric-string key.
func isArraySpread(m map[string]any) bool {
	for k := range m {
		if isNumericKey(k) {
			return true
		}
	}
	return false
}

// cloneValue deep-copies a decoded JSON value.
func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneValue(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = cloneValue(e)
		}
		return s
	default:
		return v
	}
}

func cloneDoc(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return cloneValue(m).(map[string]any)
}
