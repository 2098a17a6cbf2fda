package secondary

import (
	"cmp"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cairnkv/cairn/buckets"
)

// Value classes, in query (and index) order.
const (
	classBool = iota
	classNumber
	classTime
	classString
)

// scalar is one comparable value: a boolean, a number (int64, uint64,
// float64 or json.Number, compared exactly by buckets.CompareNumbers), an
// instant (milliseconds since the epoch, read by buckets.ParseInstant) or
// a string.
type scalar struct {
	class uint8
	b     bool
	n     any
	ms    int64
	s     string
}

// classify turns a stored value into a scalar. ts tells whether the path is
// a declared timestamp field: there strings that parse as dates and finite
// numbers within range are instants. Null, objects and arrays are not
// scalars.
func classify(v any, ts bool) (scalar, bool) {
	switch x := v.(type) {
	case bool:
		return scalar{class: classBool, b: x}, true
	case string:
		if ts {
			if ms, ok := buckets.ParseInstant(x); ok {
				return scalar{class: classTime, ms: ms}, true
			}
		}
		return scalar{class: classString, s: x}, true
	case int64, uint64, float64, json.Number:
		if ts {
			if ms, ok := buckets.ParseInstant(x); ok {
				return scalar{class: classTime, ms: ms}, true
			}
		}
		return scalar{class: classNumber, n: x}, true
	case int:
		return classify(int64(x), ts)
	}
	return scalar{}, false
}

// compareScalar orders scalars: booleans < numbers < instants < strings;
// within a class false < true, numbers exactly, instants by time, strings
// by bytes.
func compareScalar(a, b scalar) int {
	if a.class != b.class {
		return cmp.Compare(a.class, b.class)
	}
	switch a.class {
	case classBool:
		switch {
		case a.b == b.b:
			return 0
		case !a.b:
			return -1
		}
		return 1
	case classNumber:
		return buckets.CompareNumbers(a.n, b.n)
	case classTime:
		return cmp.Compare(a.ms, b.ms)
	}
	return strings.Compare(a.s, b.s)
}

// encode returns the index value encoding of s (buckets.Index*). Folded
// strings are case-folded first. Numbers are encoded as the nearest
// float64, which is monotone but merges numbers that differ beyond
// float64's precision: the query engine rechecks every candidate, so a
// merged key only costs a read.
func (s scalar) encode(folded bool) []byte {
	switch s.class {
	case classBool:
		return buckets.IndexBool(s.b)
	case classNumber:
		return buckets.IndexNumber(buckets.NumberFloat(s.n))
	case classTime:
		return buckets.IndexTime(s.ms)
	}
	if folded {
		return buckets.IndexString(foldString(s.s))
	}
	return buckets.IndexString(s.s)
}

// foldString maps every rune to the smallest rune of its Unicode simple
// case-folding orbit, so foldString(a) == foldString(b) exactly when
// strings.EqualFold(a, b).
func foldString(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return asciiFold(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func asciiFold(s string) string {
	// The smallest rune in the orbit of an ASCII letter is its upper case.
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			return strings.ToUpper(s)
		}
	}
	return s
}

func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < m {
			m = f
		}
	}
	return m
}
