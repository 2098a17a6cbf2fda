package secondary

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
)

// Filter operators.
const (
	OpEq       = "="
	OpNe       = "!="
	OpLt       = "<"
	OpLe       = "<="
	OpGt       = ">"
	OpGe       = ">="
	OpIn       = "in"
	OpContains = "contains"
	OpExists   = "exists"
	OpOr       = "or"
)

// Filter is one condition of a query. Conditions of a query are ANDed.
//
//   - Field is a top-level field or a dotted path (see the package
//     documentation), or LinksField.
//   - Op is one of =, !=, <, <=, >, >=, in, contains, exists.
//   - Value is the operand (bool, string, any Go number or json.Number;
//     nil matches nothing, and for != everything). For exists, Value nil
//     or true asks for a present non-null field, false for a missing or
//     null one.
//   - Values are the operands of in (the field equals any of them).
//   - Or, with Op "or" (and no Field), holds conditions of which at least
//     one must match; they may themselves be "or" filters. When every one
//     of them can use an index, the planner unions their index ranges.
type Filter struct {
	Field  string
	Op     string
	Value  any
	Values []any
	Or     []Filter
}

// Query is a query on one collection.
type Query struct {
	Collection string
	Filters    []Filter
	// Sort is the field to sort by; "" sorts by id, ascending (Desc
	// applies only to a Sort field).
	Sort string
	Desc bool
	// Limit is the most ids returned (0: all); Offset skips matches first.
	Limit  int
	Offset int
	// Count asks only for the number of matches (Run returns no ids).
	Count bool
	// NoScan makes Run fail with ErrFullScan instead of reading every
	// document or metadata entry of the collection.
	NoScan bool
	// Restrict, if not nil, limits the result to these ids (the caller's
	// full-text matches, for instance).
	Restrict map[string]struct{}
	// WarnFields are more fields to warn about when no document has them
	// (those of the caller's full-text filters); they filter nothing here.
	WarnFields []string
}

// Explain says how Run answered a query.
type Explain struct {
	// Plan is "index-range" (one index range drives), "index-intersection"
	// (several index ranges intersected), "index-order" (an index walked in
	// sort order, stopping early), "id-set" (the Restrict ids drive),
	// "id-order" (primary keys walked, nothing decoded), "metadata-scan"
	// or "full-scan".
	Plan string `json:"plan"`
	// Index names the index or indexes used, comma-separated.
	Index string `json:"index"` // "" for none: the field is always there (docs/KVTOOL.md)
	// Scanned counts the keys read while executing: index keys, or the
	// primary or metadata keys an id-order walk or a scan visits
	// (planning estimates are in Detail).
	Scanned int `json:"scanned"`
	// DocsRead counts documents and metadata entries decoded.
	DocsRead int `json:"docs_read"`
	// Returned counts the ids returned (or counted, for Count).
	Returned int    `json:"returned"`
	Detail   string `json:"detail,omitempty"`
	// Warnings name the filter and sort fields that no document of the
	// collection has (a likely typo); the query ran all the same.
	Warnings []string `json:"warnings,omitempty"`
}

// qvalue is a query operand coerced to each class it can compare with.
type qvalue struct {
	v  [4]scalar
	ok [4]bool
}

// docLevel is what a filter or sort needs to be evaluated.
const (
	levelMeta = iota
	levelHeader
	levelFull
)

// cfilter is a checked, compiled filter.
type cfilter struct {
	Filter
	ref    fieldRef
	vals   []qvalue
	exists bool // for OpExists: wanted presence
	level  int
	index  *IndexDef
	or     []*cfilter // for OpOr: the alternatives
	orIdx  bool       // for OpOr: every alternative has an index
}

// maxOr bounds the alternatives of one "or" filter, nested ones included.
const maxOr = 256

func compileFilter(c *schema.Collection, f Filter) (*cfilter, error) {
	if f.Op == OpOr {
		return compileOr(c, f, new(int))
	}
	if f.Field == "" || f.Field[0] == '.' || f.Field[len(f.Field)-1] == '.' || containsEmptySegment(f.Field) {
		return nil, fmt.Errorf("%w: field %q is empty or has an empty path segment", ErrBadQuery, f.Field)
	}
	cf := &cfilter{Filter: f, ref: newFieldRef(c, f.Field)}
	cf.level = fieldLevel(c, f.Field)
	ts := cf.ref.timestamp()
	switch f.Op {
	case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe, OpContains:
		q, err := coerce(f.Value, ts)
		if err != nil {
			return nil, fmt.Errorf("%s %s %v: %w", f.Field, f.Op, f.Value, err)
		}
		cf.vals = []qvalue{q}
	case OpIn:
		for _, v := range f.Values {
			q, err := coerce(v, ts)
			if err != nil {
				return nil, fmt.Errorf("%s in %v: %w", f.Field, v, err)
			}
			cf.vals = append(cf.vals, q)
		}
	case OpExists:
		switch v := f.Value.(type) {
		case nil:
			cf.exists = true
		case bool:
			cf.exists = v
		default:
			return nil, fmt.Errorf("%w: %s exists takes true, false or nothing, not %v", ErrBadQuery, f.Field, f.Value)
		}
	default:
		return nil, fmt.Errorf("%w %q in a filter on %s (operators: =, !=, <, <=, >, >=, in, contains, exists)", ErrUnknownOperator, f.Op, f.Field)
	}
	if d := c.IndexFor(f.Field); d != nil && cf.indexable(d) {
		cf.index = d
	}
	return cf, nil
}

// compileOr compiles an "or" filter; n counts the alternatives so far.
func compileOr(c *schema.Collection, f Filter, n *int) (*cfilter, error) {
	if f.Field != "" || f.Value != nil || f.Values != nil {
		return nil, fmt.Errorf("%w: an \"or\" filter takes only Or, not a field (%q) or a value", ErrBadQuery, f.Field)
	}
	if len(f.Or) == 0 {
		return nil, fmt.Errorf("%w: an \"or\" filter needs at least one alternative", ErrBadQuery)
	}
	cf := &cfilter{Filter: f, orIdx: true}
	for _, a := range f.Or {
		*n++
		if *n > maxOr {
			return nil, fmt.Errorf("%w: more than %d alternatives in an \"or\" filter", ErrBadQuery, maxOr)
		}
		var sub *cfilter
		var err error
		if a.Op == OpOr {
			sub, err = compileOr(c, a, n)
		} else {
			sub, err = compileFilter(c, a)
		}
		if err != nil {
			return nil, err
		}
		cf.or = append(cf.or, sub)
		cf.level = max(cf.level, sub.level)
		if sub.Op == OpOr && !sub.orIdx || sub.Op != OpOr && sub.index == nil {
			cf.orIdx = false
		}
	}
	return cf, nil
}

// leaves returns the non-"or" filters of f (f itself unless it is an or).
func (f *cfilter) leaves(out []*cfilter) []*cfilter {
	if f.Op != OpOr {
		return append(out, f)
	}
	for _, s := range f.or {
		out = s.leaves(out)
	}
	return out
}

func containsEmptySegment(field string) bool {
	for i := 1; i < len(field); i++ {
		if field[i] == '.' && field[i-1] == '.' {
			return true
		}
	}
	return false
}

// indexable reports whether index d can produce a superset of f's matches.
func (f *cfilter) indexable(d *IndexDef) bool {
	switch f.Op {
	case OpEq, OpIn, OpContains:
		return true
	case OpLt, OpLe, OpGt, OpGe:
		return !d.Folded
	}
	return false
}

// fieldLevel tells what must be decoded to evaluate field in c.
func fieldLevel(c *schema.Collection, field string) int {
	if field == LinksField {
		return levelHeader
	}
	if part, _ := c.IsPart(topField(field)); part {
		return levelFull
	}
	if slices.Contains(c.Summary, field) {
		return levelMeta
	}
	return levelHeader
}

// coerce converts a query operand into each class it compares with. On a
// timestamp field only instants compare, and the operand must be a date or
// epoch milliseconds. Elsewhere an operand compares with a stored value of
// its own type, and with the other types it parses as: a string "true" with
// booleans, a numeric string with numbers, and anything with strings as
// its literal text.
func coerce(v any, ts bool) (qvalue, error) {
	var q qvalue
	lit, isLiteral := v.(json.Number)
	v, err := normalizeOperand(v)
	if err != nil {
		return q, err
	}
	if v == nil {
		return q, nil
	}
	if ts {
		ms, ok := buckets.ParseInstant(v)
		if !ok {
			return q, fmt.Errorf("%w: %v is neither an ISO 8601 date nor epoch milliseconds", ErrBadDate, v)
		}
		q.v[classTime], q.ok[classTime] = scalar{class: classTime, ms: ms}, true
		return q, nil
	}
	switch x := v.(type) {
	case bool:
		q.v[classBool], q.ok[classBool] = scalar{class: classBool, b: x}, true
		q.v[classString], q.ok[classString] = scalar{class: classString, s: strconv.FormatBool(x)}, true
	case string:
		q.v[classString], q.ok[classString] = scalar{class: classString, s: x}, true
		if x == "true" || x == "false" {
			q.v[classBool], q.ok[classBool] = scalar{class: classBool, b: x == "true"}, true
		}
		if buckets.IsNumberLiteral(x) {
			q.v[classNumber], q.ok[classNumber] = scalar{class: classNumber, n: buckets.NumberValue(json.Number(x))}, true
		}
	default: // a number
		q.v[classNumber], q.ok[classNumber] = scalar{class: classNumber, n: v}, true
		text := numberText(v)
		if isLiteral {
			text = string(lit) // the operand as written
		}
		q.v[classString], q.ok[classString] = scalar{class: classString, s: text}, true
	}
	return q, nil
}

// normalizeOperand brings a Go operand into the value model.
func normalizeOperand(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, int64:
		return x, nil
	case json.Number:
		if !buckets.IsNumberLiteral(string(x)) {
			return nil, fmt.Errorf("%w: %q is not a number", ErrBadQuery, string(x))
		}
		n := buckets.NumberValue(x)
		if _, big := n.(json.Number); big {
			return x, nil
		}
		return n, nil
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint:
		return normalizeOperand(uint64(x))
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), nil
		}
		return x, nil
	case float32:
		return normalizeOperand(float64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%w: %v is not a JSON number", ErrBadQuery, x)
		}
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
		return x, nil
	}
	return nil, fmt.Errorf("%w: operand of type %T (use a bool, string or number)", ErrBadQuery, v)
}

func numberText(n any) string {
	switch x := n.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case json.Number:
		return string(x)
	}
	return fmt.Sprint(n)
}

// eq reports whether s equals q (in s's class).
func (q *qvalue) eq(s scalar) bool {
	return q.ok[s.class] && compareScalar(s, q.v[s.class]) == 0
}

// match evaluates f on doc.
func (f *cfilter) match(doc any) bool {
	switch f.Op {
	case OpOr:
		for _, s := range f.or {
			if s.match(doc) {
				return true
			}
		}
		return false
	case OpExists:
		return f.ref.present(doc) == f.exists
	case OpEq, OpContains, OpIn:
		return f.anyEqual(doc)
	case OpNe:
		return !f.anyEqual(doc)
	}
	q := &f.vals[0]
	found := false
	f.ref.scalars(doc, func(s scalar) {
		if found || !q.ok[s.class] {
			return
		}
		c := compareScalar(s, q.v[s.class])
		switch f.Op {
		case OpLt:
			found = c < 0
		case OpLe:
			found = c <= 0
		case OpGt:
			found = c > 0
		case OpGe:
			found = c >= 0
		}
	})
	return found
}

func (f *cfilter) anyEqual(doc any) bool {
	found := false
	f.ref.scalars(doc, func(s scalar) {
		if found {
			return
		}
		for i := range f.vals {
			if f.vals[i].eq(s) {
				found = true
				return
			}
		}
	})
	return found
}
