package buckets

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestNumberValue_exact: every literal of issue 15 comes back with its
// value, as the narrowest type that holds it exactly.
func TestNumberValue_exact(t *testing.T) {
	tests := []struct {
		lit  string
		want any
	}{
		{"9007199254740993.0", int64(9007199254740993)},
		{"123456789.123456789123456789", json.Number("123456789.123456789123456789")},
		{"1.00000000000000001", json.Number("1.00000000000000001")},
		{"123456789012345678901234567890e0", json.Number("123456789012345678901234567890e0")},
		{"1.5", 1.5},
		{"0.1", 0.1},
		{"0.30000000000000004", 0.30000000000000004},
		{"0.3000000000000000444", json.Number("0.3000000000000000444")},
		{"1e30", 1e30},
		{"1E+2", int64(100)},
		{"18446744073709551615.000", uint64(math.MaxUint64)},
		{"18446744073709551616", json.Number("18446744073709551616")},
		{"-9223372036854775808.0", int64(math.MinInt64)},
		{"5e-324", 5e-324},
		{"4.9e-324", json.Number("4.9e-324")},
		{"2.2250738585072014e-308", 2.2250738585072014e-308},
		{"1.7976931348623157e308", math.MaxFloat64},
		{"1.7976931348623159e308", json.Number("1.7976931348623159e308")},
		{"1e400", json.Number("1e400")},
		{"-1e-400", json.Number("-1e-400")},
		{"0.000", int64(0)},
		{"-0e10", math.Copysign(0, -1)},
		{"100e-2", int64(1)},
		{"12345678901234567890123.0e-3", json.Number("12345678901234567890123.0e-3")},
	}
	for _, tt := range tests {
		got := NumberValue(json.Number(tt.lit))
		assertModelEqual(t, got, tt.want)
		if !sameRat(t, tt.lit, got) {
			t.Errorf("%s: %v does not have the literal's value", tt.lit, got)
		}
	}
}

// ratOf is the exact value of a number of the model, a float64 being the
// decimal its shortest form writes.
func ratOf(t testing.TB, v any) *big.Rat {
	t.Helper()
	var s string
	switch x := v.(type) {
	case int64:
		s = strconv.FormatInt(x, 10)
	case uint64:
		s = strconv.FormatUint(x, 10)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case json.Number:
		s = string(x)
	default:
		t.Fatalf("not a number: %T", v)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("big.Rat cannot read %q", s)
	}
	return r
}

func sameRat(t testing.TB, lit string, v any) bool {
	r, ok := new(big.Rat).SetString(lit)
	if !ok {
		t.Fatalf("big.Rat cannot read %q", lit)
	}
	return r.Cmp(ratOf(t, v)) == 0
}

// numberSeed returns the seed of a randomised test, from CAIRN_SEED when
// set, and logs it.
func numberSeed(t *testing.T) uint64 {
	seed := uint64(rand.Int64())
	if s := os.Getenv("CAIRN_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CAIRN_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (CAIRN_SEED=%d to replay)", seed, seed)
	return seed
}

// randomLiteral returns a JSON number literal of up to 40 significant
// digits, with or without fraction and exponent, often near a float64
// or 64-bit boundary.
func randomLiteral(r *rand.Rand) string {
	var b strings.Builder
	if r.IntN(3) == 0 {
		b.WriteByte('-')
	}
	switch r.IntN(6) {
	case 0: // a float64's shortest form, perhaps with a digit more
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			f = 1
		}
		s := strconv.FormatFloat(math.Abs(f), 'e', -1, 64)
		if r.IntN(2) == 0 {
			m, e, _ := strings.Cut(s, "e")
			if !strings.Contains(m, ".") {
				m += "."
			}
			s = m + strconv.Itoa(r.IntN(10)) + "e" + e
		}
		b.WriteString(s)
		return b.String()
	case 1: // near 2^53, 2^63, 2^64
		base := []uint64{1 << 53, 1 << 63, math.MaxUint64}[r.IntN(3)]
		b.WriteString(strconv.FormatUint(base-uint64(r.IntN(3)), 10))
		if r.IntN(2) == 0 {
			b.WriteString(".0")
		}
		return b.String()
	}
	n := 1 + r.IntN(40)
	intDigits := r.IntN(n + 1)
	if intDigits == 0 {
		b.WriteByte('0')
	}
	for i := 0; i < intDigits; i++ {
		c := byte('0' + r.IntN(10))
		if i == 0 && c == '0' {
			c = '1'
		}
		b.WriteByte(c)
	}
	if intDigits < n {
		b.WriteByte('.')
		for i := intDigits; i < n; i++ {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
	}
	if r.IntN(2) == 0 {
		fmt.Fprintf(&b, "e%d", r.IntN(700)-350)
	}
	return b.String()
}

// TestNumberValue_property: random literals of up to 40 digits keep their
// value through NumberValue, msgpack, and JSON text back.
func TestNumberValue_property(t *testing.T) {
	r := rand.New(rand.NewPCG(numberSeed(t), 15))
	for i := 0; i < 20000; i++ {
		lit := randomLiteral(r)
		v := NumberValue(json.Number(lit))
		if !sameRat(t, lit, v) {
			t.Fatalf("%s became %#v", lit, v)
		}
		b, err := MarshalValue(v)
		if err != nil {
			t.Fatal(err)
		}
		back, err := UnmarshalValue(b)
		if err != nil {
			t.Fatal(err)
		}
		text, err := json.Marshal(back)
		if err != nil {
			t.Fatal(err)
		}
		if !sameRat(t, string(text), v) {
			t.Fatalf("%s became %s through msgpack and JSON", lit, text)
		}
		// Canonical: what NumberValue makes of the text again is the
		// same value and type.
		assertModelEqual(t, NumberValue(json.Number(text)), v)
	}
}

// TestCompareNumbers_property: CompareNumbers agrees with exact rational
// comparison on random pairs of every type, close to each other, and
// NumberFloat (the index key) never inverts it.
func TestCompareNumbers_property(t *testing.T) {
	r := rand.New(rand.NewPCG(numberSeed(t), 16))
	for i := 0; i < 20000; i++ {
		lit := randomLiteral(r)
		a := NumberValue(json.Number(lit))
		var b any
		switch r.IntN(4) {
		case 0:
			b = NumberValue(json.Number(randomLiteral(r)))
		case 1: // the float64 nearest to a
			b = a
			if f := NumberFloat(a); !math.IsInf(f, 0) {
				b = floatValue(f)
			}
		case 2: // a with a digit changed or added
			mant, exp, hasExp := strings.Cut(lit, "e")
			if !strings.Contains(mant, ".") {
				mant += ".0"
			}
			mant += strconv.Itoa(r.IntN(10))
			if hasExp {
				mant += "e" + exp
			}
			b = NumberValue(json.Number(mant))
		default:
			b = int64(r.Int64N(1<<54) - 1<<53)
		}
		want := ratOf(t, a).Cmp(ratOf(t, b))
		if got := CompareNumbers(a, b); got != want {
			t.Fatalf("CompareNumbers(%#v, %#v) = %d, want %d", a, b, got, want)
		}
		if got := CompareNumbers(b, a); got != -want {
			t.Fatalf("CompareNumbers(%#v, %#v) = %d, want %d", b, a, got, -want)
		}
		fa, fb := NumberFloat(a), NumberFloat(b)
		if want < 0 && fa > fb || want > 0 && fa < fb || want == 0 && fa != fb {
			t.Fatalf("NumberFloat inverts %#v (%v) and %#v (%v)", a, fa, b, fb)
		}
	}
}

func TestCompareNumbers(t *testing.T) {
	tests := []struct {
		a, b any
		want int
	}{
		{int64(1), 1.5, -1},
		{0.1, json.Number("0.10000000000000000001"), -1},
		{json.Number("0.09999999999999999999"), 0.1, -1},
		{float64(1 << 60), int64(1 << 60), 1}, // the float writes 1152921504606847000
		{float64(1 << 60), json.Number("1152921504606847000"), 0},
		{uint64(math.MaxUint64), 1.8446744073709552e19, -1},
		{uint64(1 << 63), 1.5, 1},
		{json.Number("1e400"), math.MaxFloat64, 1},
		{json.Number("-1e400"), -math.MaxFloat64, -1},
		{json.Number("1e-400"), 0.0, 1},
		{math.Copysign(0, -1), int64(0), 0},
		{json.Number("-1e-400"), json.Number("1e-400"), -1},
		{json.Number("123456789012345678901234567890"), json.Number("1.2345678901234567890123456789e29"), 0},
		{1, int64(1), 0},
		{int64(1)<<53 + 1, float64(1 << 53), 1},
		{int64(-1), uint64(1) << 63, -1},
		{uint64(1)<<63 + 1, uint64(1) << 63, 1},
		{5.5, int64(5), 1},
		{-5.5, int64(-5), -1},
		{json.Number("123456789012345678901234567890"), uint64(1) << 63, 1},
		{json.Number("123456789012345678901234567890"), 1.3e29, -1},
		{json.Number("123456789012345678901234567890"), 1.2e29, 1},
		{int64(3), 3.0, 0},
	}
	for _, tt := range tests {
		if got := CompareNumbers(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareNumbers(%#v, %#v) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := CompareNumbers(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareNumbers(%#v, %#v) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}
