package legacy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// stdDecode is what encoding/json makes of b, decodeJSON's reference.
func stdDecode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

// stripRaw removes RawField members (the inputs compared have none of
// their own).
func stripRaw(v any) any {
	switch x := v.(type) {
	case map[string]any:
		delete(x, RawField)
		for _, e := range x {
			stripRaw(e)
		}
	case []any:
		for _, e := range x {
			stripRaw(e)
		}
	}
	return v
}

// sameAsStd fails unless decodeJSON accepts exactly what encoding/json
// accepts and, apart from its RawField notes, gives the same value.
func sameAsStd(t *testing.T, b []byte) {
	t.Helper()
	want, werr := stdDecode(b)
	got, gerr := decodeJSON(b)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: encoding/json error %v, decodeJSON error %v", b, werr, gerr)
	}
	if werr != nil {
		if !errors.Is(gerr, ErrCorrupt) {
			t.Fatalf("%q: error %v does not wrap ErrCorrupt", b, gerr)
		}
		return
	}
	if !reflect.DeepEqual(stripRaw(got), want) {
		t.Fatalf("%q: decodeJSON %#v, encoding/json %#v", b, got, want)
	}
}

func TestDecodeJSON_sameAsStd(t *testing.T) {
	for _, s := range []string{
		``, ` `, `{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `01`, `1.`, `1.5e`, `1e+5`, `-`, `--1`, `1.0E-10`,
		`12345678901234567890123`, `"a"`, `"\u00e9\n\t\"\\\/"`, `"\ud83d\ude00"`, `"\ud800"`, `"\udc00\ud800"`, `"\ud800\u0041"`,
		`"\ud800\"`, `"\u12"`, `"\u12x4"`, `"\x"`, "\"a\x01\"", "\"\xff\"", "\"\xe2\x82\"", `{"a":1,"a":2}`, `{"a" 1}`,
		`{"a":1,}`, `[1,]`, `[1 2]`, `{1:2}`, `[`, `{"a":`, `{"a":[{"b":"\ud800"}]}`, "[\"\xff\"]", `tru`, `nul`, `truex`,
		`{} {}`, `{}  `, "\t\n {\"k\" : [ 1 , 2 ] } \r\n", `"unterminated`, `[1e5,-0.5,3]`, `{"":""}`,
		"{\"\xff\":1}", `{"\ud800":1,"\udc00":2}`,
	} {
		sameAsStd(t, []byte(s))
	}
	deep := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	sameAsStd(t, []byte(deep))
	sameAsStd(t, []byte("["+deep+"]"))
}

// randJSON writes a random JSON value, sometimes with the texts the old
// app's files may hold: invalid UTF-8, lone surrogates, duplicate names.
func randJSON(r *rand.Rand, w *bytes.Buffer, depth int) {
	str := func() {
		w.WriteByte('"')
		for n := r.IntN(6); n > 0; n-- {
			switch r.IntN(12) {
			case 0:
				w.WriteString(`\ud800`)
			case 1:
				w.WriteByte(0xff)
			case 2:
				w.WriteString(`\u00e9\n`)
			case 3:
				w.WriteString("é€")
			case 4:
				w.WriteString(`\ud83d\ude00`)
			default:
				w.WriteByte(byte('a' + r.IntN(26)))
			}
		}
		w.WriteByte('"')
	}
	switch k := r.IntN(7); {
	case depth > 4 || k == 0:
		w.WriteString(strconv.Itoa(r.IntN(1000) - 500))
	case k == 1:
		str()
	case k == 2:
		w.WriteString([]string{"true", "false", "null", "1.5e3", "-0.25"}[r.IntN(5)])
	case k <= 4:
		w.WriteByte('[')
		for i, n := 0, r.IntN(4); i < n; i++ {
			if i > 0 {
				w.WriteByte(',')
			}
			randJSON(r, w, depth+1)
		}
		w.WriteByte(']')
	default:
		w.WriteByte('{')
		for i, n := 0, r.IntN(4); i < n; i++ {
			if i > 0 {
				w.WriteByte(',')
			}
			if r.IntN(5) == 0 {
				w.WriteString(`"dup"`)
			} else {
				str()
			}
			w.WriteByte(':')
			randJSON(r, w, depth+1)
		}
		w.WriteByte('}')
	}
}

// TestDecodeJSON_random compares decodeJSON with encoding/json on random
// values, intact, truncated and with a byte changed. CAIRN_SEED replays.
func TestDecodeJSON_random(t *testing.T) {
	seed := uint64(rand.Int64())
	if s := os.Getenv("CAIRN_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (CAIRN_SEED=%d replays)", seed, seed)
	r := rand.New(rand.NewPCG(seed, 16))
	for range 3000 {
		var w bytes.Buffer
		randJSON(r, &w, 0)
		b := w.Bytes()
		sameAsStd(t, b)
		sameAsStd(t, b[:r.IntN(len(b)+1)])
		c := append([]byte(nil), b...)
		chars := "{}[]\",:\\0a \xff"
		c[r.IntN(len(c))] = chars[r.IntN(len(chars))]
		sameAsStd(t, c)
	}
}

// TestDecodeJSON_notes: every changed value is noted in the innermost
// object with its exact original text; loose ones are returned.
func TestDecodeJSON_notes(t *testing.T) {
	note := func(path, problem, text string) map[string]any {
		m := map[string]any{"path": path, "problem": problem}
		if strings.Contains(text, "\xff") {
			m["base64"] = base64.StdEncoding.EncodeToString([]byte(text))
		} else {
			m["text"] = text
		}
		return m
	}
	for _, tc := range []struct {
		in    string
		want  any
		loose []string
	}{
		{`{"a":"x\ud800y"}`, map[string]any{"a": "x\ufffdy", RawField: []any{note("/a", ProblemSurrogate, `"x\ud800y"`)}}, nil},
		{"{\"a\":[1,{\"b\":\"\xff\"}],\"c\":\"\\udc00\"}", map[string]any{
			"a": []any{json.Number("1"), map[string]any{"b": "\ufffd", RawField: []any{note("/b", ProblemInvalidUTF8, "\"\xff\"")}}},
			"c": "\ufffd", RawField: []any{note("/c", ProblemSurrogate, `"\udc00"`)}}, nil},
		{`{"t":["ok","\ud800"]}`, map[string]any{"t": []any{"ok", "\ufffd"}, RawField: []any{note("/t/1", ProblemSurrogate, `"\ud800"`)}}, nil},
		{`{"a":1, "a":2}`, map[string]any{"a": json.Number("2"), RawField: []any{note("", ProblemDuplicate+` "a"`, `{"a":1, "a":2}`)}}, nil},
		{`{"x":{"legacyRaw":5,"s":"\ud800"}}`, map[string]any{"x": map[string]any{RawField: json.Number("5"), "s": "\ufffd",
			RawField + "~2": []any{note("/s", ProblemSurrogate, `"\ud800"`)}}}, nil},
		{`{"a/b":"\ud800"}`, map[string]any{"a/b": "\ufffd", RawField: []any{note("/a~1b", ProblemSurrogate, `"\ud800"`)}}, nil},
		{`"\ud800"`, "\ufffd", []string{""}},
		{`["a",["\ud800"]]`, []any{"a", []any{"\ufffd"}}, []string{"/1/0"}},
		{`{"legacyRaw":1,"s":"\ud800"}`, map[string]any{RawField: json.Number("1"), "s": "\ufffd", RawField + "~2": []any{note("/s", ProblemSurrogate, `"\ud800"`)}}, nil},
		{`{"legacyRaw~2":2,"s":"\ud800"}`, map[string]any{RawField + "~2": json.Number("2"), "s": "\ufffd",
			RawField: []any{note("/s", ProblemSurrogate, `"\ud800"`)}}, nil},
		{`{"legacyRaw":1,"legacyRaw~2":2,"s":"\ud800"}`, map[string]any{RawField: json.Number("1"), RawField + "~2": json.Number("2"), "s": "\ufffd",
			RawField + "~3": []any{note("/s", ProblemSurrogate, `"\ud800"`)}}, nil},
	} {
		got, loose, err := decodeJSONLoose([]byte(tc.in))
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", tc.in, got, tc.want)
		}
		var paths []string
		for _, l := range loose {
			paths = append(paths, l.path)
		}
		if !reflect.DeepEqual(paths, tc.loose) {
			t.Errorf("%s: loose %q, want %q", tc.in, paths, tc.loose)
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,"\ud800",{"a":1,"a":2}]}`, "[\"\xff\"]", `{"legacyRaw":1}`, `1e5`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if bytes.Contains(b, []byte(RawField)) {
			return // a member of that name changes where notes go; compared above
		}
		sameAsStd(t, b)
	})
}
