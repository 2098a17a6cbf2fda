package buckets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

var words = strings.Fields(`the a user edits reviews quarterly report revenue table chart
	spreadsheet cell comment thread meeting notes email draft browser tab code
	review pull request terminal build failed test passed design mockup figma
	slack message calendar invite budget forecast customer interview summary
	focus context switch deep work blocker insight achievement progress next`)

// text returns n pseudo-random words, the same for the same seed.
func text(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 99))
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[r.IntN(len(words))])
		if r.IntN(12) == 0 {
			fmt.Fprintf(&b, " %d", r.IntN(10000))
		}
	}
	return b.String()
}

// sessionDoc returns a session-like document in the value model with n
// screenshot records of about 1.5 KB of JSON each.
func sessionDoc(n int) map[string]any {
	shots := make([]any, n)
	for i := range shots {
		seed := uint64(i)
		shots[i] = map[string]any{
			"id":        fmt.Sprintf("shot-%04d", i),
			"timestamp": fmt.Sprintf("2026-11-26T01:%02d:%02d.000Z", i/60%60, i%60),
			"path":      fmt.Sprintf("attachments/%064x", i*7919),
			"aiAnalysis": map[string]any{
				"summary":          text(seed, 90),
				"detectedActivity": "spreadsheet editing",
				"keyElements":      []any{"revenue table", "chart", fmt.Sprintf("cell B%d", i), "comment thread"},
				"confidence":       0.5 + float64(i%50)/100,
				"progress": map[string]any{
					"achievements": []any{"finished Q3 numbers", "added chart"},
					"blockers":     []any{},
					"insights":     text(seed+1000, 40),
				},
				"curiosity": floatValue(float64(i%10) / 10),
			},
			"userComment": nil,
			"flagged":     i%7 == 0,
			"width":       int64(2560),
			"height":      int64(1440),
		}
	}
	return map[string]any{
		"id":          "session-2026-11-26-0001",
		"name":        "Quarterly report — ünïcödé 日本語 🪨",
		"description": "Working on the Q3 report",
		"status":      "completed",
		"startTime":   "2026-11-26T01:00:00.000Z",
		"endTime":     "2026-11-26T03:00:00.000Z",
		"tags":        []any{"work", "finance", "q3"},
		"screenshots": shots,
		"extra": map[string]any{
			"unknownNested": map[string]any{"deep": []any{int64(1), nil, true, "x"}},
			"bigInt":        int64(1 << 53),
			"huge":          json.Number("123456789012345678901234567890"),
		},
	}
}

// modelValues are values of the document model covering every type.
func modelValues() []any {
	return []any{
		nil, true, false, "", "x", "ünïcödé 日本語 🪨 \u2028 \x00 \x7f", int64(0), int64(-1),
		int64(math.MaxInt64), int64(math.MinInt64), int64(1 << 53), int64(-(1 << 53)), int64(1<<53 + 1),
		uint64(math.MaxInt64) + 1, uint64(math.MaxUint64),
		0.5, -0.25, 1e300, -1e-300, math.MaxFloat64, math.SmallestNonzeroFloat64, float64(1 << 53), 1e100, math.Copysign(0, -1),
		json.Number("123456789012345678901234567890"), json.Number("-123456789012345678901234567890"),
		json.Number("1e400"), json.Number("-2.5E+999"), json.Number("0.1e-400"),
		[]any{}, map[string]any{},
		[]any{nil, int64(1), "two", []any{3.5, map[string]any{"four": nil}}},
		map[string]any{"a": nil, "": "empty key", "日本": []any{}, "n": map[string]any{"m": map[string]any{}}},
		sessionDoc(2),
	}
}

// assertModelEqual compares model values exactly: same types, same
// numbers (including the sign of zero), same literals.
func assertModelEqual(t *testing.T, got, want any) {
	t.Helper()
	if err := modelDiff(got, want, "$"); err != "" {
		t.Errorf("%s", err)
	}
}

func modelDiff(got, want any, path string) string {
	if reflect.TypeOf(got) != reflect.TypeOf(want) {
		return fmt.Sprintf("%s: got %T %#v, want %T %#v", path, got, got, want, want)
	}
	switch w := want.(type) {
	case float64:
		if math.Float64bits(got.(float64)) != math.Float64bits(w) {
			return fmt.Sprintf("%s: got %v, want %v", path, got, w)
		}
	case []any:
		g := got.([]any)
		if len(g) != len(w) {
			return fmt.Sprintf("%s: got %d elements, want %d", path, len(g), len(w))
		}
		for i := range w {
			if d := modelDiff(g[i], w[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
	case map[string]any:
		g := got.(map[string]any)
		if len(g) != len(w) {
			return fmt.Sprintf("%s: got %d keys, want %d", path, len(g), len(w))
		}
		for k := range w {
			if _, ok := g[k]; !ok {
				return fmt.Sprintf("%s: key %q missing", path, k)
			}
			if d := modelDiff(g[k], w[k], path+"."+k); d != "" {
				return d
			}
		}
	default:
		if got != want {
			return fmt.Sprintf("%s: got %#v, want %#v", path, got, want)
		}
	}
	return ""
}

func TestMarshalValue_roundTrip(t *testing.T) {
	for _, v := range modelValues() {
		b, err := MarshalValue(v)
		if err != nil {
			t.Fatalf("MarshalValue(%#v): %v", v, err)
		}
		got, err := UnmarshalValue(b)
		if err != nil {
			t.Fatalf("UnmarshalValue(MarshalValue(%#v)): %v", v, err)
		}
		assertModelEqual(t, got, v)
		// Normalize leaves model values as they are.
		n, err := Normalize(v)
		if err != nil {
			t.Fatalf("Normalize(%#v): %v", v, err)
		}
		assertModelEqual(t, n, v)
	}
}

func TestMarshalValue_deterministic(t *testing.T) {
	a := map[string]any{}
	b := map[string]any{}
	for i := 0; i < 100; i++ {
		a[fmt.Sprint(i)] = int64(i)
		b[fmt.Sprint(99-i)] = int64(99 - i)
	}
	ea, _ := MarshalValue(a)
	eb, _ := MarshalValue(b)
	if !bytes.Equal(ea, eb) {
		t.Error("equal maps encode differently")
	}
}

func TestMarshalValue_rejects(t *testing.T) {
	for _, v := range []any{
		math.NaN(), math.Inf(1), math.Inf(-1), json.Number("NaN"), json.Number("abc"), json.Number(`"1"`),
		struct{}{}, int32(1), []string{"a"}, map[string]int{"a": 1}, []any{make(chan int)},
	} {
		if b, err := MarshalValue(v); err == nil {
			t.Errorf("MarshalValue(%#v) = %x, want an error", v, b)
		}
	}
}

type testStruct struct {
	ID    string         `json:"id"`
	Count int            `json:"count"`
	Ratio float32        `json:"ratio"`
	Tags  []string       `json:"tags"`
	Extra map[string]int `json:"extra,omitempty"`
	Ptr   *int           `json:"ptr"`
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"int", 42, int64(42)},
		{"int32", int32(-7), int64(-7)},
		{"small uint64", uint64(5), int64(5)},
		{"big uint64", uint64(math.MaxUint64), uint64(math.MaxUint64)},
		{"integral float", 3.0, int64(3)},
		{"2^53-1 float", float64(1<<53 - 1), int64(1<<53 - 1)},
		{"2^53 float", float64(1 << 53), float64(1 << 53)},
		{"fraction", 2.5, 2.5},
		{"negative zero", math.Copysign(0, -1), math.Copysign(0, -1)},
		{"number int", json.Number("42"), int64(42)},
		{"number 2^53", json.Number("9007199254740992"), int64(1 << 53)},
		{"number 2^53+1", json.Number("9007199254740993"), int64(1<<53 + 1)},
		{"number max uint64", json.Number("18446744073709551615"), uint64(math.MaxUint64)},
		{"number below min int64", json.Number("-9223372036854775809"), json.Number("-9223372036854775809")},
		{"number big", json.Number("123456789012345678901234567890"), json.Number("123456789012345678901234567890")},
		{"number 1e400", json.Number("1e400"), json.Number("1e400")},
		{"number 1.0", json.Number("1.0"), int64(1)},
		{"number 1e2", json.Number("1e2"), int64(100)},
		{"number 0.1", json.Number("0.1"), 0.1},
		{"number -0", json.Number("-0"), math.Copysign(0, -1)},
		{"number -0.0", json.Number("-0.0"), math.Copysign(0, -1)},
		{"number 1e-400", json.Number("1e-400"), json.Number("1e-400")},
		{"number 0e-400", json.Number("0e-400"), int64(0)},
		{"number 0.000e5", json.Number("0.000e5"), int64(0)},
		{"number -1.5e-400", json.Number("-1.5e-400"), json.Number("-1.5e-400")},
		{"string", "ü", "ü"},
		{"strings", []string{"a", "b"}, []any{"a", "b"}},
		{"nil slice", []string(nil), nil},
		{"nil map", map[string]int(nil), nil},
		{"nil pointer", (*testStruct)(nil), nil},
		{"typed map", map[string]int{"a": 1}, map[string]any{"a": int64(1)}},
		{"struct", testStruct{ID: "x", Count: 3, Ratio: 0.5, Tags: []string{"t"}},
			map[string]any{"id": "x", "count": int64(3), "ratio": 0.5, "tags": []any{"t"}, "ptr": nil}},
		{"nested", map[string]any{"a": []any{1, map[string]any{"b": 2.0}}},
			map[string]any{"a": []any{int64(1), map[string]any{"b": int64(2)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			assertModelEqual(t, got, tt.want)
			// And it survives msgpack and the envelope exactly.
			b, err := EncodeValue(got)
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeValue(nil, nil, b)
			if err != nil {
				t.Fatal(err)
			}
			assertModelEqual(t, back, tt.want)
		})
	}
}

func TestNormalize_rejects(t *testing.T) {
	deep := any("leaf")
	for i := 0; i < MaxDepth+2; i++ {
		deep = []any{deep}
	}
	tests := []struct {
		name string
		in   any
	}{
		{"NaN", math.NaN()},
		{"Inf", math.Inf(1)},
		{"-Inf", math.Inf(-1)},
		{"bad UTF-8 string", "a\xffb"},
		{"bad UTF-8 key", map[string]any{"\xff": 1}},
		{"bad UTF-8 nested", map[string]any{"a": []any{"ok", "\xc3"}}},
		{"too deep", deep},
		{"channel", make(chan int)},
		{"function", func() {}},
	}
	for _, lit := range []string{"NaN", "Inf", "-Infinity", "0x10", "+1", `"1"`, " 1", "1 ", "1.", ".5", "01", "-", "1e", "1e+", "", "1_000", "0x1p3", "--1", "1.5.5"} {
		tests = append(tests, struct {
			name string
			in   any
		}{"literal " + lit, json.Number(lit)})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := Normalize(tt.in); err == nil {
				t.Errorf("Normalize = %#v, want an error", got)
			}
		})
	}
}

func TestIsNumberLiteral(t *testing.T) {
	// Agrees with encoding/json on what a number is.
	for _, s := range []string{
		"0", "-0", "1", "-1", "10", "0.5", "-0.5", "1e5", "1E5", "1e+5", "1e-5", "1.5e300", "123456789012345678901234567890",
		"00", "01", "-01", "1.", ".1", "+1", "1e", "1e+", "e1", "NaN", "Inf", "0x1", " 1", "1 ", `"1"`, "", "-", "1.e1", "1e1.5", "١",
	} {
		var n json.Number
		want := json.Unmarshal([]byte(s), new(float64)) == nil || (json.Unmarshal([]byte(s), &n) == nil && !strings.HasPrefix(strings.TrimSpace(s), `"`))
		want = want && strings.TrimSpace(s) == s
		if got := IsNumberLiteral(s); got != want {
			t.Errorf("IsNumberLiteral(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestUnmarshalValue_integersExact(t *testing.T) {
	for _, n := range []int64{1<<53 - 1, 1 << 53, -(1 << 53), 1<<53 + 1, math.MaxInt64} {
		var v any
		d := json.NewDecoder(strings.NewReader(fmt.Sprint(n)))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		m, err := Normalize(v)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := EncodeValue(m)
		got, err := DecodeValue(nil, nil, b)
		if err != nil || got != n {
			t.Errorf("%d came back as %#v, %v", n, got, err)
		}
		j, _ := json.Marshal(got)
		if string(j) != fmt.Sprint(n) {
			t.Errorf("%d marshals back as %s", n, j)
		}
	}
}

// TestUnmarshalValue_jsonRoundTrip takes JSON text through Normalize,
// msgpack and back to JSON and requires the same text.
func TestUnmarshalValue_jsonRoundTrip(t *testing.T) {
	for _, src := range []string{
		`{"a":1,"b":[true,false,null],"c":"ünïcödé 日本語 🪨","d":{"e":{"f":[]}}}`,
		`[123456789012345678901234567890,1e400,-1.5e-400,18446744073709551615,-9223372036854775808]`,
		`{"big":9007199254740993,"f":0.1,"g":-2.5,"h":1e+100,"z":-0}`,
		`"line\nbreak \u0001 \u2028 <>&"`,
	} {
		d := json.NewDecoder(strings.NewReader(src))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		m, err := Normalize(v)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := EncodeValue(m)
		back, err := DecodeValue(nil, nil, b)
		if err != nil {
			t.Fatal(err)
		}
		got := compactJSON(t, back)
		want := compactJSON(t, v)
		if got != want {
			t.Errorf("JSON round trip:\n got %s\nwant %s", got, want)
		}
	}
}

func compactJSON(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func TestJSONSize(t *testing.T) {
	vals := modelValues()
	vals = append(vals,
		"\b\f\n\r\t\"\\/<>&\x01\x1f\x7f",
		"\u2028\u2029 é 日 🪨",
		"a\xffb\xc3", // not UTF-8: each bad byte becomes \ufffd
		map[string]any{"\b<k>\u2028": "v"},
		0.1, 1e21, 1e20, 1e-7, 123456.789, -1e-6, float64(1<<53), 5e-324,
		json.Number("1e400"),
		[]any{int64(-5), uint64(math.MaxUint64), nil, map[string]any{"a": []any{}}},
	)
	for _, v := range vals {
		want := len(compactJSON(t, v))
		if got := JSONSize(v); got != want {
			t.Errorf("JSONSize(%#v) = %d, want %d (%s)", v, got, want, compactJSON(t, v))
		}
	}
}

// allocBytes returns the bytes allocated by one call of f, averaged.
func allocBytes(f func()) uint64 {
	const runs = 20
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	for i := 0; i < runs; i++ {
		f()
	}
	runtime.ReadMemStats(&b)
	return (b.TotalAlloc - a.TotalAlloc) / runs
}

func TestUnmarshalValue_hostileHeaders(t *testing.T) {
	nested := []byte{}
	for i := 0; i < 900; i++ {
		nested = append(nested, 0xdc, 0x0a, 0x00) // array16 of 2560 elements, first is the next array
	}
	nestedMaps := []byte{}
	for i := 0; i < 600; i++ {
		nestedMaps = append(nestedMaps, 0xde, 0x02, 0x00, 0xa0) // map16 of 512 entries, key "", value the next map
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"array32 of 2^31", []byte{0xdd, 0x80, 0, 0, 0, 1, 2, 3, 4, 5}},
		{"array32 of 2^32-1", []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0}},
		{"map32 of 2^31", []byte{0xdf, 0x80, 0, 0, 0, 0xa1, 'a', 1, 2, 3}},
		{"str32 of 4 GiB", []byte{0xdb, 0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd', 'e'}},
		{"bin32 of 2 GiB", []byte{0xc6, 0x80, 0, 0, 0, 'a', 'b', 'c', 'd', 'e'}},
		{"ext32 of 2 GiB", []byte{0xc9, 0x80, 0, 0, 0, 1, '1', '2', '3', '4'}},
		{"map with str32 key", []byte{0x81, 0xdb, 0x7f, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd'}},
		{"nested arrays", nested},
		{"nested maps", nestedMaps},
		{"unknown ext", []byte{0xd4, 0x07, 0x00}},
		{"bad literal ext", []byte{0xd5, 0x01, 'N', 'a'}},
		{"NaN", []byte{0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1}},
		{"+Inf float32", []byte{0xca, 0x7f, 0x80, 0, 0}},
		{"int key", []byte{0x81, 0x01, 0x01}},
		{"trailing bytes", []byte{0xc0, 0xc0}},
		{"reserved code", []byte{0xc1}},
		{"empty", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v, err := UnmarshalValue(tt.b); err == nil {
				t.Fatalf("UnmarshalValue = %#v, want an error", v)
			}
			limit := uint64(64*len(tt.b) + 4096)
			if n := allocBytes(func() { _, _ = UnmarshalValue(tt.b) }); n > limit {
				t.Errorf("allocated %d bytes decoding %d bytes (limit %d)", n, len(tt.b), limit)
			}
		})
	}
}

func TestUnmarshalValue_deepNesting(t *testing.T) {
	ok := bytes.Repeat([]byte{0x91}, MaxDepth) // MaxDepth nested 1-element arrays...
	ok = append(ok, 0xc0)                      // ...around a nil
	if _, err := UnmarshalValue(ok); err != nil {
		t.Errorf("%d levels: %v", MaxDepth, err)
	}
	tooDeep := append(bytes.Repeat([]byte{0x91}, MaxDepth+1), 0xc0)
	if _, err := UnmarshalValue(tooDeep); err == nil {
		t.Errorf("%d levels decoded", MaxDepth+1)
	}
}
