package buckets

import (
	"cmp"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Numbers of the value model. A JSON number is kept as the value it was
// written with: as int64, uint64 or float64 when that type holds the value
// exactly, else as its literal (json.Number, the msgpack extension
// extBigNumber). A float64 stands for the decimal number its shortest form
// writes (strconv.FormatFloat(f, 'g', -1, 64), what get and export print),
// so 0.1 is one tenth, not the binary fraction nearest to it.

// NumberValue converts a JSON number literal into the value model:
//
//   - a literal whose value is an integer becomes an int64 if it fits,
//     else a uint64 if it fits ("1.0", "1e2" and "9007199254740993.0" are
//     the integers 1, 100 and 9007199254740993);
//   - "-0" (with any fraction or exponent of zeros) becomes float64 -0, any
//     other zero the int64 0;
//   - any other literal becomes the float64 nearest to it when that
//     float64's shortest form has exactly the literal's value ("0.1",
//     "1e30", "2.5e-8"), and otherwise stays the literal, exactly as
//     written ("1.00000000000000001", "123456789.123456789123456789",
//     "1e400", "1e-400").
//
// s must match the JSON number grammar (IsNumberLiteral); anything else is
// returned as it is.
func NumberValue(n json.Number) any {
	s := string(n)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		if i == 0 && s[0] == '-' {
			return math.Copysign(0, -1) // keep JSON's -0
		}
		return i
	}
	d, ok := parseDecimal(s)
	if !ok {
		return n
	}
	if d.digits == "" {
		if s[0] == '-' {
			return math.Copysign(0, -1)
		}
		return int64(0)
	}
	if v, ok := d.integer(); ok {
		return v
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || f == 0 {
		return n // beyond float64's range (too large, or too small to be non-zero)
	}
	if len(d.digits) > 15 || math.Abs(f) < 0x1p-1022 {
		// Up to 15 significant digits, a normal float64 holds every
		// decimal's shortest form exactly (DBL_DIG); beyond, compare.
		if sd, _ := parseDecimal(strconv.FormatFloat(f, 'e', -1, 64)); sd != d {
			return n
		}
	}
	return floatValue(f)
}

// floatValue keeps integral floats as integers: in JSON 1.0 and 1 are the
// same number, and one representation keeps comparisons and indexes simple.
func floatValue(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 && !(f == 0 && math.Signbit(f)) {
		return int64(f)
	}
	return f
}

// IsNumberLiteral reports whether s matches the JSON number grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, whatever its magnitude.
// Nothing else is one: no quotes, spaces, NaN, Inf, hex or '+'.
func IsNumberLiteral(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// decimal is a number in canonical form: the value is
// (-1 if neg) × 0.digits × 10^exp, digits without leading or trailing
// zeros; zero has no digits (and exp 0). Equal numbers have equal
// decimals (neg aside for zero, which is always false).
type decimal struct {
	neg    bool
	digits string
	exp    int64
}

// maxExp bounds decimal exponents: a literal's exponent beyond it (some
// 10^15 digits) saturates, so such numbers compare as the bound.
const maxExp = 1 << 50

// parseDecimal reads a JSON number literal.
func parseDecimal(s string) (decimal, bool) {
	if !IsNumberLiteral(s) {
		return decimal{}, false
	}
	var d decimal
	if s[0] == '-' {
		d.neg = true
		s = s[1:]
	}
	mant, expPart, _ := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	var exp int64
	if expPart != "" {
		neg := expPart[0] == '-'
		if expPart[0] == '-' || expPart[0] == '+' {
			expPart = expPart[1:]
		}
		for i := 0; i < len(expPart) && exp < maxExp; i++ {
			exp = exp*10 + int64(expPart[i]-'0')
		}
		exp = min(exp, maxExp)
		if neg {
			exp = -exp
		}
	}
	all := intPart + frac
	exp += int64(len(intPart))
	lead := 0
	for lead < len(all) && all[lead] == '0' {
		lead++
	}
	all = strings.TrimRight(all[lead:], "0")
	if all == "" {
		return decimal{}, true
	}
	d.digits, d.exp = all, exp-int64(lead)
	return d, true
}

// integer returns d as an int64, else a uint64, when it is an integer one
// of them holds.
func (d decimal) integer() (any, bool) {
	if d.exp < int64(len(d.digits)) || d.exp > 20 {
		return nil, false
	}
	s := d.digits + strings.Repeat("0", int(d.exp)-len(d.digits))
	if d.neg {
		s = "-" + s
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, true
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return u, true
	}
	return nil, false
}

// floor returns the largest int64 not above d, if there is one.
func (d decimal) floor() (int64, bool) {
	if d.digits == "" {
		return 0, true
	}
	if d.exp > 19 {
		return 0, false
	}
	intDigits, fracDigits := "0", d.digits
	if d.exp > 0 {
		n := min(int(d.exp), len(d.digits))
		intDigits = d.digits[:n] + strings.Repeat("0", int(d.exp)-n)
		fracDigits = d.digits[n:]
	}
	if d.neg {
		intDigits = "-" + intDigits
	}
	i, err := strconv.ParseInt(intDigits, 10, 64)
	if err != nil {
		return 0, false
	}
	if d.neg && fracDigits != "" {
		if i == math.MinInt64 {
			return 0, false
		}
		i--
	}
	return i, true
}

func (d decimal) compare(e decimal) int {
	sign := func(x decimal) int {
		switch {
		case x.digits == "":
			return 0
		case x.neg:
			return -1
		}
		return 1
	}
	if c := cmp.Compare(sign(d), sign(e)); c != 0 || sign(d) == 0 {
		return c
	}
	c := cmp.Compare(d.exp, e.exp)
	if c == 0 {
		c = strings.Compare(d.digits, e.digits)
	}
	if d.neg {
		return -c
	}
	return c
}

// toDecimal returns the value of a number of the model.
func toDecimal(n any) (decimal, bool) {
	var s string
	switch x := n.(type) {
	case int64:
		s = strconv.FormatInt(x, 10)
	case int:
		s = strconv.Itoa(x)
	case uint64:
		s = strconv.FormatUint(x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return decimal{}, false
		}
		s = strconv.FormatFloat(x, 'e', -1, 64)
	case json.Number:
		s = string(x)
	default:
		return decimal{}, false
	}
	return parseDecimal(s)
}

// CompareNumbers orders two numbers of the value model (int64, uint64,
// float64 or json.Number; int is taken as int64) by value, exactly: -1, 0
// or +1. A float64 counts as the decimal its shortest form writes, so the
// order is the order of the numbers get and export print. Anything that is
// not a number compares as zero.
func CompareNumbers(a, b any) int {
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
			if math.Abs(y) < 1<<53 {
				return -compareFloatInt(y, x)
			}
		}
	case uint64:
		switch y := b.(type) {
		case uint64:
			return cmp.Compare(x, y)
		case int64:
			return -CompareNumbers(y, x)
		case float64:
			if y < 1<<53 {
				return 1 // a uint64 of the model is above math.MaxInt64
			}
		}
	case float64:
		switch y := b.(type) {
		case float64:
			// Distinct floats have distinct shortest forms in the same
			// order.
			return cmp.Compare(x, y)
		case int64, uint64:
			return -CompareNumbers(y, x)
		}
	case int:
		return CompareNumbers(int64(x), b)
	}
	if y, ok := b.(int); ok {
		return CompareNumbers(a, int64(y))
	}
	da, _ := toDecimal(a)
	db, _ := toDecimal(b)
	return da.compare(db)
}

// compareFloatInt compares f, with |f| < 2^53, and i exactly. In that
// range the binary value and the shortest form of f are on the same side
// of every integer.
func compareFloatInt(f float64, i int64) int {
	t := math.Trunc(f)
	if c := cmp.Compare(int64(t), i); c != 0 {
		return c
	}
	return cmp.Compare(f-t, 0)
}

// NumberFloat returns the float64 nearest to a number of the model (±Inf
// or ±0 beyond float64's range). It is monotone: a <= b by CompareNumbers
// implies NumberFloat(a) <= NumberFloat(b), which is what lets index keys
// be float64.
func NumberFloat(n any) float64 {
	switch x := n.(type) {
	case int64:
		return float64(x)
	case int:
		return float64(x)
	case uint64:
		return float64(x)
	case float64:
		return x
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64) // ±Inf or ±0 on range errors: still monotone
		return f
	}
	return 0
}
