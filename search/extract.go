package search

import (
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
)

// extract builds the flat document indexed for one entity of collection
// c (nil: the declaration of collection among the built-in collections
// and user defaults), from its search fields (schema.SearchField: a title
// field, body text, tags), or, for a user collection, from its name or
// title and every other string field (schema.Collection.AllText), and the
// dates of dateFields it declares as timestamps. It never fails: a
// missing field, a field of the wrong type or a date that does not parse
// is skipped. The returned map holds only the fields of mapping.go. size
// is the number of text bytes extracted, used to bound a Bleve batch.
func extract(c *schema.Collection, collection string, rev uint64, body map[string]any) (doc map[string]any, size int) {
	if c == nil {
		var err error
		if c, err = (*schema.Schema)(nil).Lookup(collection); err != nil {
			c = &schema.Collection{Name: collection, Kind: schema.Entity, AllText: true}
		}
	}
	var x extractor
	for _, f := range c.Search {
		var vals []string
		if f.Derived != "" {
			for _, d := range c.Derived {
				if d.Name == f.Derived {
					if v, ok := d.Value(body, nil); ok {
						vals = appendStrings(vals, v)
					}
				}
			}
		}
		for _, p := range f.Paths {
			vals = pathStrings(vals, body, strings.Split(p, "."))
		}
		for _, v := range vals {
			x.field(f.Name, v)
			switch f.Role {
			case schema.RoleTitle:
				if x.nameVal == "" {
					x.name(v)
					// A derived title repeats the text it comes from:
					// it only ranks, the text holds it already.
					x.nameInText = f.Derived == ""
				} else {
					x.text(v)
				}
			case schema.RoleTags:
				x.tags([]string{v})
			default:
				x.text(v)
			}
		}
	}
	if c.AllText {
		nameKey := ""
		if _, ok := body["name"].(string); ok {
			nameKey = "name"
		} else if _, ok := body["title"].(string); ok {
			nameKey = "title"
		}
		if nameKey != "" {
			x.name(body[nameKey])
			x.field(nameKey, body[nameKey])
			x.nameInText = true
		}
		for _, k := range sortedKeys(body) {
			if k != nameKey && k != "id" && k != "tags" {
				x.text(body[k])
				x.field(k, body[k])
			}
		}
		x.tags(body["tags"])
		for _, t := range x.tagVals {
			x.field("tags", t)
		}
	}
	for _, f := range dateFields {
		if c.IsTimestamp(f) || c.AllText && f == "lastUpdated" {
			x.dates(body, f)
		}
	}

	doc = map[string]any{
		fieldCollection: collection,
		fieldRev:        strconv.FormatUint(rev, 10),
	}
	text := make([]string, 0, 1+len(x.body)+len(x.tagVals))
	if x.nameVal != "" {
		doc[fieldName] = x.nameVal
		doc[fieldNameKW] = x.nameVal
		if x.nameInText {
			text = append(text, x.nameVal)
		}
	}
	text = append(text, x.body...)
	if len(x.tagVals) > 0 {
		doc[fieldTagsKW] = x.tagVals
		text = append(text, x.tagVals...)
	}
	if len(text) > 0 {
		// One array element per value (the name, each body text, each
		// tag): Bleve gives each its own array position, and a phrase
		// matches within one, never across two values (phrase.go). The
		// raw field, for prefixes and fuzzy words, has no positions to
		// keep apart: one string costs less to index.
		v, _ := boundedValues(text, maxIndexedText)
		doc[fieldText] = v
		doc[fieldRaw], _ = joinValues(v)
	}
	if len(x.fields) > 0 {
		per := make(map[string]any, len(x.fields))
		budget := maxIndexedText
		for _, k := range slices.Sorted(maps.Keys(x.fields)) {
			if budget <= 0 {
				break
			}
			v, n := boundedValues(x.fields[k], budget)
			budget -= n
			per[k] = v
		}
		doc[fieldPerField] = per
	}
	for k, t := range x.times {
		doc[k] = t
	}
	return doc, x.size
}

// maxIndexedText bounds the text of one document that is indexed (its
// text field, and its per-field text together), and maxWord the length
// of a run of characters without a space that is: Bleve's segments cost
// memory per distinct term, and a document of 4 MiB of distinct words
// took 6.7 GB and minutes to index, one with a 12 MB data: URI in its
// HTML ran out of memory. Words past the bound are not found by search;
// the document itself is stored whole.
const (
	maxIndexedText = 1 << 20
	maxWord        = 256
)

// boundedValues returns vals, each bounded, together at most n bytes (the
// values past n are left out), and their size: a plain string for one
// value, as a single text was always indexed, else one array element per
// value. Bleve positions the words of each element from 1 under an array
// position of its own, so that no phrase spans two values.
func boundedValues(vals []string, n int) (v any, size int) {
	out := make([]string, 0, len(vals))
	for _, s := range vals {
		if size >= n {
			break
		}
		s = bounded(s, n-size)
		out = append(out, s)
		size += len(s)
	}
	if len(out) == 1 {
		return out[0], size
	}
	return out, size
}

// joinValues returns the text of a text field as extract made it (a
// string, or one array element per value), its values joined by
// newlines, and where each value starts in that string, by array
// position (nil for a string).
func joinValues(v any) (text string, starts []int) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []string:
		var b strings.Builder
		starts = make([]int, len(x))
		for i, s := range x {
			if i > 0 {
				b.WriteByte('\n')
			}
			starts[i] = b.Len()
			b.WriteString(s)
		}
		return b.String(), starts
	}
	return "", nil
}

// bounded returns s without its runs of more than maxWord bytes that hold
// no space (a data: URI, an encoded blob), cut to at most n bytes at a
// character boundary.
func bounded(s string, n int) string {
	if hasLongRun(s) {
		var b strings.Builder
		b.Grow(min(len(s), n+maxWord))
		for s != "" && b.Len() < n {
			i := strings.IndexFunc(s, unicode.IsSpace)
			if i < 0 {
				i = len(s)
			}
			if i <= maxWord {
				b.WriteString(s[:i])
			}
			s = s[i:]
			j := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsSpace(r) })
			if j < 0 {
				j = len(s)
			}
			b.WriteString(s[:j])
			s = s[j:]
		}
		s = b.String()
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// hasLongRun reports whether s holds a run of more than maxWord bytes
// without a space.
func hasLongRun(s string) bool {
	run := 0
	for _, r := range s {
		if unicode.IsSpace(r) {
			run = 0
			continue
		}
		if run += utf8.RuneLen(r); run > maxWord {
			return true
		}
	}
	return false
}

// extractor accumulates the text of one document.
type extractor struct {
	nameVal    string
	nameInText bool // the name goes into the text field too
	body       []string
	tagVals    []string
	times      map[string]time.Time
	size       int
	fields     map[string][]string // search field name → its strings
}

// field adds v, if it is a non-blank string, to the search field name
// (field:word). A name that Bleve would read as a path (a dot) or that is
// empty is left out.
func (x *extractor) field(name string, v any) {
	s, ok := v.(string)
	if !ok || strings.TrimSpace(s) == "" || name == "" || strings.Contains(name, ".") {
		return
	}
	if x.fields == nil {
		x.fields = make(map[string][]string)
	}
	x.fields[name] = append(x.fields[name], s)
}

func (x *extractor) name(v any) {
	if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
		x.nameVal = s
		x.size += len(s)
	}
}

func (x *extractor) text(v any) {
	if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
		x.body = append(x.body, s)
		x.size += len(s)
	}
}

func (x *extractor) tags(v any) {
	add := func(e any) {
		if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
			x.tagVals = append(x.tagVals, s)
			x.size += len(s)
		}
	}
	switch a := v.(type) {
	case []any:
		for _, e := range a {
			add(e)
		}
	case []string:
		for _, e := range a {
			add(e)
		}
	}
}

func (x *extractor) dates(body map[string]any, keys ...string) {
	for _, k := range keys {
		if t, ok := parseDate(body[k]); ok {
			if x.times == nil {
				x.times = make(map[string]time.Time, len(keys))
			}
			x.times[k] = t
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Bleve stores datetimes as int64 nanoseconds since the epoch.
var (
	minDate = time.Unix(0, math.MinInt64).UTC().AddDate(1, 0, 0)
	maxDate = time.Unix(0, math.MaxInt64).UTC().AddDate(-1, 0, 0)
)

// parseDate reads an instant as every part of Cairn does
// (buckets.ParseInstant), within Bleve's range.
func parseDate(v any) (time.Time, bool) {
	ms, ok := buckets.ParseInstant(v)
	if !ok {
		return time.Time{}, false
	}
	t := time.UnixMilli(ms)
	t = t.UTC()
	if t.Before(minDate) || t.After(maxDate) {
		return time.Time{}, false
	}
	return t, true
}

// pathStrings appends to out the strings at path in v: through arrays,
// every element; a last segment "*" takes every field of an object, by
// name, or the value itself when it is a string (a topic's profile is
// free text, a company's an object); an array of strings at the end
// contributes each.
func pathStrings(out []string, v any, path []string) []string {
	if len(path) == 0 {
		return appendStrings(out, v)
	}
	if s, ok := v.(string); ok && len(path) == 1 && path[0] == "*" {
		return append(out, s)
	}
	switch x := v.(type) {
	case map[string]any:
		if path[0] == "*" && len(path) == 1 {
			for _, k := range sortedKeys(x) {
				out = appendStrings(out, x[k])
			}
			return out
		}
		if e, ok := x[path[0]]; ok {
			return pathStrings(out, e, path[1:])
		}
	case []any:
		for _, e := range x {
			out = pathStrings(out, e, path)
		}
	}
	return out
}

// appendStrings appends v if it is a string, or its string elements if it
// is an array.
func appendStrings(out []string, v any) []string {
	switch x := v.(type) {
	case string:
		return append(out, x)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	case []string:
		out = append(out, x...)
	}
	return out
}
