package secondary

import (
	"strings"

	"github.com/cairnkv/cairn/schema"
)

// A field is a top-level name or a dotted path. Resolving a path walks
// objects; where it meets an array before its last segment, it continues
// into every object element. The values at the end of the path are the
// field's raw values; an array there contributes its elements (one level),
// which is why "=" on an array field matches any element.

// fieldRef is a resolved query or index field.
type fieldRef struct {
	name  string
	paths [][]string // one path, or several for a virtual field
	ts    []bool     // per path: a declared timestamp field
}

func newFieldRef(c *schema.Collection, field string) fieldRef {
	if field == LinksField {
		if d := c.IndexFor(LinksField); d != nil {
			return pathsRef(c, field, d.Paths)
		}
	}
	return pathsRef(c, field, []string{field})
}

func pathsRef(c *schema.Collection, name string, paths []string) fieldRef {
	f := fieldRef{name: name}
	for _, p := range paths {
		f.paths = append(f.paths, strings.Split(p, "."))
		f.ts = append(f.ts, c.IsTimestamp(p))
	}
	return f
}

// timestamp reports whether every path of f is a declared instant.
func (f *fieldRef) timestamp() bool {
	for _, t := range f.ts {
		if !t {
			return false
		}
	}
	return len(f.ts) > 0
}

// walk calls fn with every raw value at path in doc (nil values included).
func walk(doc any, path []string, fn func(v any)) {
	if len(path) == 0 {
		fn(doc)
		return
	}
	switch x := doc.(type) {
	case map[string]any:
		v, ok := x[path[0]]
		if !ok {
			return
		}
		if len(path) == 1 {
			fn(v)
			return
		}
		walk(v, path[1:], fn)
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				walk(m, path, fn)
			}
		}
	}
}

// scalars calls fn with every scalar value of f in doc: the values at its
// paths, array elements expanded one level; nulls, objects and nested
// arrays are skipped.
func (f *fieldRef) scalars(doc any, fn func(s scalar)) {
	for i, p := range f.paths {
		ts := f.ts[i]
		walk(doc, p, func(v any) {
			if a, ok := v.([]any); ok {
				for _, e := range a {
					if s, ok := classify(e, ts); ok {
						fn(s)
					}
				}
				return
			}
			if s, ok := classify(v, ts); ok {
				fn(s)
			}
		})
	}
}

// present reports whether f has a non-null value in doc (an empty array or
// object counts as present).
func (f *fieldRef) present(doc any) bool {
	found := false
	for _, p := range f.paths {
		walk(doc, p, func(v any) {
			if v != nil {
				found = true
			}
		})
		if found {
			return true
		}
	}
	return false
}

// sortKey returns the smallest scalar of f in doc; ok is false when f has
// none (the document sorts last).
func (f *fieldRef) sortKey(doc any) (min scalar, ok bool) {
	f.scalars(doc, func(s scalar) {
		if !ok || compareScalar(s, min) < 0 {
			min, ok = s, true
		}
	})
	return min, ok
}

// topField is the first segment of a field name.
func topField(field string) string {
	top, _, _ := strings.Cut(field, ".")
	return top
}
