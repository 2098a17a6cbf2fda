package secondary

import (
	"cmp"
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
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
// float64 or json.Number, compared exactly), an instant (milliseconds since
// the epoch) or a string.
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
			if ms, ok := parseInstant(x); ok {
				return scalar{class: classTime, ms: ms}, true
			}
		}
		return scalar{class: classString, s: x}, true
	case int64, uint64, float64, json.Number:
		if ts {
			if ms, ok := numberInstant(x); ok {
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
		return compareNumbers(a.n, b.n)
	case classTime:
		return cmp.Compare(a.ms, b.ms)
	}
	return strings.Compare(a.s, b.s)
}

// encode returns the index value encoding of s (buckets.Index*). Folded
// strings are case-folded first. Numbers are encoded as float64, which is
// monotone but may merge integers beyond 2^53: the query engine rechecks
// every candidate, so a merged key only costs a read.
func (s scalar) encode(folded bool) []byte {
	switch s.class {
	case classBool:
		return buckets.IndexBool(s.b)
	case classNumber:
		return buckets.IndexNumber(toFloat(s.n))
	case classTime:
		return buckets.IndexTime(s.ms)
	}
	if folded {
		return buckets.IndexString(foldString(s.s))
	}
	return buckets.IndexString(s.s)
}

func toFloat(n any) float64 {
	switch x := n.(type) {
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case float64:
		return x
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64) // ±Inf or 0 on range errors: still monotone
		return f
	}
	return 0
}

// compareNumbers compares two numbers of the value model exactly.
func compareNumbers(a, b any) int {
	switch x := a.(type) {
	case int64:
		switch y := b.(type) {
		case int64:
			return cmp.Compare(x, y)
		case uint64:
			if x < 0 {
				return -1
			}
			return cmp.Compare(uint64(x), y)
		case float64:
			return -compareFloatInt(y, x)
		}
	case uint64:
		switch y := b.(type) {
		case uint64:
			return cmp.Compare(x, y)
		case int64:
			return -compareNumbers(y, x)
		case float64:
			return -compareFloatUint(y, x)
		}
	case float64:
		switch y := b.(type) {
		case float64:
			return cmp.Compare(x, y)
		case int64:
			return compareFloatInt(x, y)
		case uint64:
			return compareFloatUint(x, y)
		}
	}
	return bigFloat(a).Cmp(bigFloat(b))
}

func compareFloatInt(f float64, i int64) int {
	if f < -9223372036854775808.0 {
		return -1
	}
	if f >= 9223372036854775808.0 {
		return 1
	}
	t := math.Trunc(f)
	if c := cmp.Compare(int64(t), i); c != 0 {
		return c
	}
	return cmp.Compare(f-t, 0)
}

func compareFloatUint(f float64, u uint64) int {
	if f < 0 {
		return -1
	}
	if f >= 18446744073709551616.0 {
		return 1
	}
	t := math.Trunc(f)
	if c := cmp.Compare(uint64(t), u); c != 0 {
		return c
	}
	return cmp.Compare(f-t, 0)
}

const bigPrec = 512

func bigFloat(n any) *big.Float {
	f := new(big.Float).SetPrec(bigPrec)
	switch x := n.(type) {
	case int64:
		f.SetInt64(x)
	case uint64:
		f.SetUint64(x)
	case float64:
		f.SetFloat64(x)
	case json.Number:
		if _, _, err := f.Parse(string(x), 10); err != nil {
			// Beyond big.Float's exponent range: fall back to the
			// float64 rounding (±Inf or ±0), which keeps the order.
			f.SetFloat64(toFloat(x))
		}
	}
	return f
}

// numberInstant converts a number on a timestamp field to epoch
// milliseconds (floor), when it is finite and within int64.
func numberInstant(n any) (int64, bool) {
	switch x := n.(type) {
	case int64:
		return x, true
	case float64:
		f := math.Floor(x)
		if f >= -9223372036854775808.0 && f < 9223372036854775808.0 {
			return int64(f), true
		}
	}
	// uint64 (always above MaxInt64 in the value model) and json.Number
	// (beyond 64 bits or float64) are out of range.
	return 0, false
}

// parseInstant parses an ISO 8601 / RFC 3339 date or date-time: with or
// without fractional seconds, with Z, an offset, or no zone (UTC); a bare
// date is midnight UTC. It returns epoch milliseconds (floor).
func parseInstant(s string) (int64, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' || !isDigits(s[:4]) || !isDigits(s[5:7]) || !isDigits(s[8:10]) {
		return 0, false
	}
	if len(s) == 10 {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return 0, false
		}
		return t.UnixMilli(), true
	}
	if c := s[10]; c != 'T' && c != ' ' {
		return 0, false
	}
	if s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	for _, layout := range instantLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

var instantLayouts = []string{
	time.RFC3339Nano,                // 2006-01-02T15:04:05[.999999999](Z|±07:00)
	"2006-01-02T15:04:05.999999999", // no zone: UTC
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
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

// isNumberLiteral reports whether s is a JSON number literal.
func isNumberLiteral(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(s)
}
