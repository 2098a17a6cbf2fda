package secondary

import (
	"encoding/json"

	"github.com/cairnkv/cairn/buckets"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A naive evaluator of the query semantics of docs/KVTOOL.md, written apart from
// the engine: it sees whole documents, compares numbers as big.Rat and
// parses dates with a regular expression.

type nval struct {
	rank int // 0 bool, 1 number, 2 instant, 3 string
	b    bool
	r    *big.Rat
	t    int64
	s    string
}

var dateRE = regexp.MustCompile(`^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$`)

func naiveDate(s string) (int64, bool) {
	m := dateRE.FindStringSubmatch(s)
	if m == nil || m[1] == "-000000" {
		return 0, false
	}
	atoi := func(x string) int { n, _ := strconv.Atoi(x); return n }
	y, mo, d, h, mi, sec := atoi(m[1]), atoi(m[2]), atoi(m[3]), atoi(m[4]), atoi(m[5]), atoi(m[6])
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59 {
		return 0, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
	if t.Day() != d {
		return 0, false
	}
	ms := t.Unix() * 1000
	if frac := m[7]; frac != "" {
		frac = (frac + "000")[:3]
		ms += int64(atoi(frac))
	}
	if z := strings.ReplaceAll(m[8], ":", ""); len(z) > 1 {
		zh, zm := atoi(z[1:3]), 0
		if len(z) == 5 {
			zm = atoi(z[3:5])
		}
		if zh > 23 || zm > 59 {
			return 0, false
		}
		off := int64(zh*60+zm) * 60 * 1000
		if z[0] == '+' {
			ms -= off
		} else {
			ms += off
		}
	}
	return ms, true
}

// naiveRat is the exact value of a number; a float64 is the decimal its
// shortest form writes.
func naiveRat(v any) (*big.Rat, bool) {
	r := new(big.Rat)
	switch x := v.(type) {
	case int64:
		return r.SetInt64(x), true
	case uint64:
		return r.SetUint64(x), true
	case float64:
		_, ok := r.SetString(strconv.FormatFloat(x, 'g', -1, 64))
		return r, ok
	case json.Number:
		_, ok := r.SetString(string(x))
		return r, ok
	}
	return nil, false
}

// naiveInstant reads a timestamp: a date string, or epoch milliseconds as
// a number or a numeric string, floored, within int64.
func naiveInstant(v any) (int64, bool) {
	if s, ok := v.(string); ok {
		if t, ok := naiveDate(s); ok {
			return t, true
		}
		if !jsonNumberRE.MatchString(s) {
			return 0, false
		}
		v = json.Number(s)
	}
	r, ok := naiveRat(v)
	if !ok {
		return 0, false
	}
	fl := new(big.Int).Div(r.Num(), r.Denom()) // Euclidean: the floor, the denominator being positive
	if !fl.IsInt64() {
		return 0, false
	}
	return fl.Int64(), true
}

// naiveScalar types a stored value; ts marks a timestamp field.
func naiveScalar(v any, ts bool) (nval, bool) {
	switch x := v.(type) {
	case bool:
		return nval{rank: 0, b: x}, true
	case string:
		if ts {
			if t, ok := naiveInstant(x); ok {
				return nval{rank: 2, t: t}, true
			}
		}
		return nval{rank: 3, s: x}, true
	case int64, uint64, float64, json.Number:
		if ts {
			if t, ok := naiveInstant(x); ok {
				return nval{rank: 2, t: t}, true
			}
		}
		r, _ := naiveRat(x)
		return nval{rank: 1, r: r}, true
	}
	return nval{}, false
}

func naiveCmp(a, b nval) int {
	if a.rank != b.rank {
		return a.rank - b.rank
	}
	switch a.rank {
	case 0:
		if a.b == b.b {
			return 0
		}
		if !a.b {
			return -1
		}
		return 1
	case 1:
		return a.r.Cmp(b.r)
	case 2:
		switch {
		case a.t < b.t:
			return -1
		case a.t > b.t:
			return 1
		}
		return 0
	}
	return strings.Compare(a.s, b.s)
}

// naiveLeaves returns the raw values at a dotted path.
func naiveLeaves(v any, segs []string) []any {
	if len(segs) == 0 {
		return []any{v}
	}
	switch x := v.(type) {
	case map[string]any:
		if c, ok := x[segs[0]]; ok {
			return naiveLeaves(c, segs[1:])
		}
	case []any:
		var out []any
		for _, e := range x {
			if _, ok := e.(map[string]any); ok {
				out = append(out, naiveLeaves(e, segs)...)
			}
		}
		return out
	}
	return nil
}

type naiveField struct {
	paths []string
	ts    bool
}

func naiveFieldOf(coll, field string) naiveField {
	if field == LinksField {
		var ps []string
		for _, d := range mustLookup(coll).Indexes {
			if d.Name == "links" {
				ps = d.Paths
			}
		}
		return naiveField{paths: ps}
	}
	return naiveField{paths: []string{field}, ts: mustLookup(coll).IsTimestamp(field)}
}

func (f naiveField) values(doc any) (vals []nval, present bool) {
	for _, p := range f.paths {
		for _, leaf := range naiveLeaves(doc, strings.Split(p, ".")) {
			if leaf == nil {
				continue
			}
			present = true
			if a, ok := leaf.([]any); ok {
				for _, e := range a {
					if s, ok := naiveScalar(e, f.ts); ok {
						vals = append(vals, s)
					}
				}
				continue
			}
			if s, ok := naiveScalar(leaf, f.ts); ok {
				vals = append(vals, s)
			}
		}
	}
	return vals, present
}

var jsonNumberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// naiveOperand returns the typed forms a query operand takes for each rank.
func naiveOperand(v any, ts bool) map[int]nval {
	out := map[int]nval{}
	if i, ok := v.(int); ok {
		v = int64(i)
	}
	if v == nil {
		return out
	}
	if ts {
		if t, ok := naiveInstant(v); ok {
			out[2] = nval{rank: 2, t: t}
		}
		return out
	}
	switch x := v.(type) {
	case bool:
		out[0] = nval{rank: 0, b: x}
		out[3] = nval{rank: 3, s: strconv.FormatBool(x)}
	case string:
		out[3] = nval{rank: 3, s: x}
		if x == "true" || x == "false" {
			out[0] = nval{rank: 0, b: x == "true"}
		}
		if jsonNumberRE.MatchString(x) {
			// As the value model would hold the number.
			if r, ok := naiveRat(buckets.NumberValue(json.Number(x))); ok {
				out[1] = nval{rank: 1, r: r}
			}
		}
	case int64:
		out[1] = nval{rank: 1, r: new(big.Rat).SetInt64(x)}
		out[3] = nval{rank: 3, s: strconv.FormatInt(x, 10)}
	case float64:
		r, _ := naiveRat(x)
		out[1] = nval{rank: 1, r: r}
		out[3] = nval{rank: 3, s: strconv.FormatFloat(x, 'g', -1, 64)}
	case uint64:
		out[1] = nval{rank: 1, r: new(big.Rat).SetUint64(x)}
		out[3] = nval{rank: 3, s: strconv.FormatUint(x, 10)}
	case json.Number:
		r, _ := naiveRat(buckets.NumberValue(x))
		out[1] = nval{rank: 1, r: r}
		out[3] = nval{rank: 3, s: string(x)}
	}
	return out
}

func naiveMatch(coll string, doc any, f Filter) bool {
	if f.Op == OpOr {
		for _, a := range f.Or {
			if naiveMatch(coll, doc, a) {
				return true
			}
		}
		return false
	}
	nf := naiveFieldOf(coll, f.Field)
	vals, present := nf.values(doc)
	if f.Op == OpExists {
		want := f.Value == nil || f.Value == true
		return present == want
	}
	equalsAny := func(ops []any) bool {
		for _, o := range ops {
			forms := naiveOperand(o, nf.ts)
			for _, v := range vals {
				if q, ok := forms[v.rank]; ok && naiveCmp(v, q) == 0 {
					return true
				}
			}
		}
		return false
	}
	switch f.Op {
	case OpEq, OpContains:
		return equalsAny([]any{f.Value})
	case OpIn:
		return equalsAny(f.Values)
	case OpNe:
		return !equalsAny([]any{f.Value})
	}
	forms := naiveOperand(f.Value, nf.ts)
	for _, v := range vals {
		q, ok := forms[v.rank]
		if !ok {
			continue
		}
		c := naiveCmp(v, q)
		if (f.Op == OpLt && c < 0) || (f.Op == OpLe && c <= 0) || (f.Op == OpGt && c > 0) || (f.Op == OpGe && c >= 0) {
			return true
		}
	}
	return false
}

// naiveRun answers q over docs (id → full document).
func naiveRun(q Query, docs map[string]any) (ids []string, total int) {
	type row struct {
		id  string
		key nval
		has bool
	}
	var rows []row
	for id, doc := range docs {
		if q.Restrict != nil {
			if _, ok := q.Restrict[id]; !ok {
				continue
			}
		}
		ok := true
		for _, f := range q.Filters {
			if !naiveMatch(q.Collection, doc, f) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		r := row{id: id}
		if q.Sort != "" {
			vals, _ := naiveFieldOf(q.Collection, q.Sort).values(doc)
			for _, v := range vals {
				if !r.has || naiveCmp(v, r.key) < 0 {
					r.key, r.has = v, true
				}
			}
		}
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if q.Sort != "" {
			if a.has != b.has {
				return a.has
			}
			if a.has {
				c := naiveCmp(a.key, b.key)
				if q.Desc {
					c = -c
				}
				if c != 0 {
					return c < 0
				}
			}
		}
		return a.id < b.id
	})
	total = len(rows)
	if q.Offset < len(rows) {
		rows = rows[q.Offset:]
	} else {
		rows = nil
	}
	if q.Limit > 0 && len(rows) > q.Limit {
		rows = rows[:q.Limit]
	}
	for _, r := range rows {
		ids = append(ids, r.id)
	}
	return ids, total
}
