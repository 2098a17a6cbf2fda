package jsonx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// decodeAll decodes data as one top-level value, from a byte slice or,
// with stream, through a reader handing out one byte at a time (so every
// token crosses buffer refills).
func decodeAll(data []byte, opts Options, stream bool) (any, error) {
	var d *Decoder
	if stream {
		d = NewDecoder(iotest.OneByteReader(bytes.NewReader(data)), opts)
	} else {
		d = NewBytesDecoder(data, opts)
	}
	v, err := d.Value()
	if err != nil {
		return nil, err
	}
	return v, d.End()
}

func stdDecode(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}

// TestDecoder_agreesWithEncodingJSON: valid inputs decode to what
// encoding/json (UseNumber) makes of them, from bytes and from a stream.
func TestDecoder_agreesWithEncodingJSON(t *testing.T) {
	valid := []string{
		`null`, `true`, `false`, `0`, `-0`, `1.5e-7`, `-12.25E+3`, `123456789012345678901234567890`,
		`""`, `"a"`, `"\u00e9\ud83d\ude00 \" \\ \/ \b \f \n \r \t"`, `"é😀"`, `"\u0000"`,
		`[]`, `{}`, ` [ 1 , [ ] , { } ] `, `{"a":{"b":[1,{"c":null}]},"d":"x"}`,
		`{"":1,"a":2}`, "\n\t{\"id\" :\r\n \"x\"}\n", `[1e400,-1e-400,0.1]`,
		`"` + strings.Repeat("x", 200000) + `"`, `"` + strings.Repeat("é", 70000) + `"`,
		`{"` + strings.Repeat("k", 70000) + `":1}`,
		`["` + strings.Repeat(`é\n\u00e9x`, 300000) + `"]`, // gathered in several chunks
	}
	for _, in := range valid {
		want, err := stdDecode([]byte(in))
		if err != nil {
			t.Fatalf("encoding/json refuses %q: %v", clip([]byte(in)), err)
		}
		for _, stream := range []bool{false, true} {
			got, err := decodeAll([]byte(in), Options{}, stream)
			if err != nil {
				t.Fatalf("%q (stream %v): %v", clip([]byte(in)), stream, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q (stream %v): got %#v, want %#v", clip([]byte(in)), stream, got, want)
			}
		}
	}
}

// refusals are inputs every reader of outside JSON must refuse: the
// offset, the path and the kind of each are checked.
var refusals = []struct {
	name string
	in   string
	kind error
	off  int64
	path string
	msg  string
}{
	{"raw invalid byte", "{\"name\":\"caf\xe9\"}", ErrInvalidUTF8, 12, "name", "0xe9"},
	{"invalid byte in a name", "{\"caf\xe9\":1}", ErrInvalidUTF8, 5, "", "0xe9"},
	{"invalid byte outside strings", "[1,\xff]", ErrSyntax, 3, "[1]", "0xff"},
	{"encoded surrogate", "\"\xed\xa0\x80\"", ErrInvalidUTF8, 1, "", "0xed"},
	{"truncated sequence", "\"\xe2\x82\"", ErrInvalidUTF8, 1, "", "0xe2"},
	{"lone high surrogate", `{"id":"\ud800"}`, ErrLoneSurrogate, 7, "id", `\ud800`},
	{"lone low surrogate", `{"id":"\udfff"}`, ErrLoneSurrogate, 7, "id", `\udfff`},
	{"high then text", `["\ud800x"]`, ErrLoneSurrogate, 2, "[0]", `\ud800`},
	{"high then non-surrogate escape", `["\ud800\u0041"]`, ErrLoneSurrogate, 2, "[0]", `\ud800`},
	{"low then high", `["\udc00\ud800"]`, ErrLoneSurrogate, 2, "[0]", `\udc00`},
	{"surrogate names", `{"\ud800":"A","\udc00":"B"}`, ErrLoneSurrogate, 2, "", `\ud800`},
	{"duplicate name", `{"id":"d2","id":"d3"}`, ErrDuplicateKey, 11, "id", `"id" appears twice`},
	{"nested duplicate", `{"a":[{"x":1},{"x":1,"y":2,"x":3}]}`, ErrDuplicateKey, 27, "a[1].x", "twice"},
	{"duplicate odd name", `{"a b":1,"a b":2}`, ErrDuplicateKey, 9, `["a b"]`, "twice"},
	{"trailing comma", `[1,2,]`, ErrSyntax, 5, "[2]", "']'"},
	{"leading zero", `[01]`, ErrSyntax, 2, "[0]", "invalid number"},
	{"bare minus", `[-]`, ErrSyntax, 2, "[0]", "invalid number"},
	{"plus", `[+1]`, ErrSyntax, 1, "[0]", "'+'"},
	{"NaN", `[NaN]`, ErrSyntax, 1, "[0]", "'N'"},
	{"single quotes", `{'a':1}`, ErrSyntax, 1, "", "member name"},
	{"control character", "[\"a\nb\"]", ErrSyntax, 3, "[0]", "U+000A"},
	{"bad escape", `["\x"]`, ErrSyntax, 2, "[0]", "escape"},
	{"short unicode escape", `["\u12"]`, ErrSyntax, 2, "[0]", `\u`},
	{"truncated string", `{"a":"bc`, ErrSyntax, 8, "a", "end of input"},
	{"truncated object", `{"a":1`, ErrSyntax, 6, "", "end of input"},
	{"truncated literal", `[tru`, ErrSyntax, 4, "[0]", "end of input"},
	{"truncated number", `[1e`, ErrSyntax, 3, "[0]", "end of input"},
	{"two values", `{} {}`, ErrSyntax, 3, "", "after the JSON value"},
	{"empty", ``, ErrSyntax, 0, "", "end of input"},
	{"missing colon", `{"a" 1}`, ErrSyntax, 5, "", "':'"},
	{"deep", strings.Repeat("[", 1002) + strings.Repeat("]", 1002), ErrTooDeep, 1001, strings.Repeat("[0]", 1001), "deeper"},
}

func TestDecoder_refusals(t *testing.T) {
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			for _, stream := range []bool{false, true} {
				_, err := decodeAll([]byte(tc.in), Options{}, stream)
				var e *Error
				if !errors.As(err, &e) || !errors.Is(err, tc.kind) {
					t.Fatalf("stream %v: err %v, want an *Error of kind %v", stream, err, tc.kind)
				}
				if e.Offset != tc.off || e.Path != tc.path || !strings.Contains(e.Msg, tc.msg) {
					t.Fatalf("stream %v: %v\n(offset %d path %q), want offset %d path %q message with %q", stream, err, e.Offset, e.Path, tc.off, tc.path, tc.msg)
				}
				if e.Line != 1 || e.Column != int(tc.off)+1 {
					t.Fatalf("stream %v: line %d column %d, want 1, %d", stream, e.Line, e.Column, tc.off+1)
				}
			}
		})
	}
}

// TestDecoder_linesAndColumns: positions across lines, from bytes and
// through a stream that refills its buffer.
func TestDecoder_linesAndColumns(t *testing.T) {
	pad := strings.Repeat(" \n", 40000) // more than one buffer of lines
	in := "[\n" + pad + "  1,\n  \"x\xff\"]"
	for _, stream := range []bool{false, true} {
		_, err := decodeAll([]byte(in), Options{}, stream)
		var e *Error
		if !errors.As(err, &e) || e.Line != 40003 || e.Column != 5 || e.Offset != int64(len(in)-3) {
			t.Fatalf("stream %v: %v, want line 40003 column 5 byte %d", stream, err, len(in)-3)
		}
	}
}

// hugeString is a reader producing a JSON document holding one string of
// n bytes, without holding it.
type hugeString struct {
	prefix, suffix string
	n, done        int64
	read           int64
}

func (h *hugeString) Read(p []byte) (int, error) {
	total := int64(len(h.prefix)) + h.n + int64(len(h.suffix))
	if h.done >= total {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && h.done < total {
		switch {
		case h.done < int64(len(h.prefix)):
			p[k] = h.prefix[h.done]
		case h.done < int64(len(h.prefix))+h.n:
			p[k] = 'x'
		default:
			p[k] = h.suffix[h.done-int64(len(h.prefix))-h.n]
		}
		k++
		h.done++
	}
	h.read += int64(k)
	return k, nil
}

// TestDecoder_maxBytes: a string far over the limit is refused after
// reading little more than the limit.
func TestDecoder_maxBytes(t *testing.T) {
	const limit = 1 << 20
	h := &hugeString{prefix: `{"id":"a","s":"`, suffix: `"}`, n: 64 << 20}
	d := NewDecoder(h, Options{MaxBytes: limit})
	_, err := d.Value()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrTooLarge) || e.Offset != limit || e.Path != "s" {
		t.Fatalf("err %v, want ErrTooLarge at byte %d, path s", err, limit)
	}
	if h.read > limit+2*bufSize {
		t.Fatalf("read %d bytes to refuse a value over %d", h.read, limit)
	}
	// Member names are bounded too, at the top level of a streamed object.
	h = &hugeString{prefix: `{"`, suffix: `":1}`, n: 64 << 20}
	d = NewDecoder(h, Options{MaxBytes: limit})
	if err := d.OpenObject(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Key(); !errors.Is(err, ErrTooLarge) || h.read > limit+2*bufSize {
		t.Fatalf("key: %v after %d bytes, want ErrTooLarge", err, h.read)
	}
	// Exactly at the limit is fine.
	in := `"` + strings.Repeat("y", 98) + `"`
	if _, err := decodeAll([]byte(in), Options{MaxBytes: 100}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := decodeAll([]byte(in+" "), Options{MaxBytes: 99}, false); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("one byte over: %v", err)
	}
}

func TestDecoder_maxValues(t *testing.T) {
	in := `{"a":[1,2,3],"b":{"c":4}}` // 7 values
	if _, err := decodeAll([]byte(in), Options{MaxValues: 7}, false); err != nil {
		t.Fatal(err)
	}
	_, err := decodeAll([]byte(in), Options{MaxValues: 6}, false)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrTooLarge) || e.Path != "b.c" {
		t.Fatalf("err %v, want ErrTooLarge at b.c", err)
	}
}

// TestDecoder_tokens walks a document container by container, as the
// export reader does, with paths in errors.
func TestDecoder_tokens(t *testing.T) {
	in := `{"notes":[{"id":"a"},{"id":"b"}],"v":"1","notes2":[]}`
	d := NewDecoder(iotest.OneByteReader(strings.NewReader(in)), Options{})
	if err := d.OpenObject(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		more, err := d.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			break
		}
		k, err := d.Key()
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := d.Peek(); c == '[' {
			if err := d.OpenArray(); err != nil {
				t.Fatal(err)
			}
			for {
				more, err := d.Next()
				if err != nil {
					t.Fatal(err)
				}
				if !more {
					break
				}
				v, err := d.Value()
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%s:%v", k, v))
			}
			continue
		}
		v, err := d.Value()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s=%v", k, v))
	}
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
	if want := "notes:map[id:a] notes:map[id:b] v=1"; strings.Join(got, " ") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, " "), want)
	}

	cases := []struct{ in, path, msg string }{
		{`{"a":1,"a":2}`, "a", "twice"},
		{`{"s":[{"id":"x"},{"id":"\ud800"}]}`, "s[1].id", "surrogate"},
		{`{"s":[{"id":"x"},]}`, "s", "trailing comma"},
		{`{"s":[{"id":"x"} {"id":"y"}]}`, "s", "expected ','"},
		{`{"s":[{"id":"x"}`, "s", "end of input"},
	}
	for _, tc := range cases {
		d := NewDecoder(strings.NewReader(tc.in), Options{})
		err := walk(d)
		var e *Error
		if !errors.As(err, &e) || e.Path != tc.path || !strings.Contains(e.Msg, tc.msg) {
			t.Errorf("%s: %v, want path %q and %q", tc.in, err, tc.path, tc.msg)
		}
	}
}

// walk reads an object of arrays of values token by token.
func walk(d *Decoder) error {
	if err := d.OpenObject(); err != nil {
		return err
	}
	for {
		more, err := d.Next()
		if err != nil || !more {
			return err
		}
		if _, err := d.Key(); err != nil {
			return err
		}
		if c, _ := d.Peek(); c != '[' {
			if _, err := d.Value(); err != nil {
				return err
			}
			continue
		}
		if err := d.OpenArray(); err != nil {
			return err
		}
		for {
			more, err := d.Next()
			if err != nil {
				return err
			}
			if !more {
				break
			}
			if _, err := d.Value(); err != nil {
				return err
			}
		}
	}
}

// TestDecoder_badString: a tolerant decoder keeps what encoding/json
// would make of a bad string and hands over its exact text.
func TestDecoder_badString(t *testing.T) {
	in := "{\"a\":\"x\\ud800y\",\"b\":[\"caf\xe9\"],\"\\udc00\":1,\"ok\":\"\\ud83d\\ude00\"}"
	var got []BadString
	opts := Options{BadString: func(b BadString) error { got = append(got, b); return nil }}
	for _, stream := range []bool{false, true} {
		got = nil
		v, err := decodeAll([]byte(in), opts, stream)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := stdDecode([]byte(in))
		if !reflect.DeepEqual(v, want) {
			t.Fatalf("got %#v, want %#v", v, want)
		}
		if len(got) != 3 {
			t.Fatalf("got %d bad strings, want 3: %+v", len(got), got)
		}
		checks := []struct {
			path, raw string
			name      bool
			off       int64
		}{
			{"a", `"x\ud800y"`, false, 5},
			{"b[0]", "\"caf\xe9\"", false, 21},
			{"[\"\ufffd\"]", `"\udc00"`, true, 29},
		}
		for i, c := range checks {
			b := got[i]
			if b.Path != c.path || string(b.Raw) != c.raw || b.Name != c.name || b.Offset != c.off {
				t.Errorf("bad string %d: %+v, want %+v", i, b, c)
			}
		}
		if !got[0].LoneSurrogate || got[0].InvalidUTF8 || !got[1].InvalidUTF8 {
			t.Errorf("kinds: %+v", got)
		}
	}
	// Names that collide once replaced are still duplicates.
	if _, err := decodeAll([]byte(`{"\ud800":"A","\udc00":"B"}`), opts, false); !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("colliding replaced names: %v", err)
	}
}

// TestDecoder_number: literals reach Options.Number verbatim, and its
// error refuses the input at the number.
func TestDecoder_number(t *testing.T) {
	var lits []string
	opts := Options{Number: func(b []byte) (any, error) {
		lits = append(lits, string(b))
		if string(b) == "7" {
			return nil, errors.New("seven")
		}
		return len(b), nil
	}}
	v, err := decodeAll([]byte(`[1.50, -0e+00, 123456789012345678901234567890.5]`), opts, true)
	if err != nil || !reflect.DeepEqual(v, []any{4, 6, 32}) {
		t.Fatalf("%v %v", v, err)
	}
	if strings.Join(lits, " ") != "1.50 -0e+00 123456789012345678901234567890.5" {
		t.Fatal(lits)
	}
	_, err = decodeAll([]byte(`{"n":7}`), opts, false)
	var e *Error
	if !errors.As(err, &e) || e.Offset != 5 || e.Path != "n" || !strings.Contains(err.Error(), "seven") {
		t.Fatalf("%v", err)
	}
}

// TestDecoder_readError: a failing reader ends the decoding with its
// error, at the offset reached.
func TestDecoder_readError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader(`{"a":"bc`), iotest.ErrReader(boom))
	_, err := NewDecoder(r, Options{}).Value()
	var e *Error
	if !errors.Is(err, boom) || !errors.As(err, &e) || e.Offset != 8 {
		t.Fatalf("%v", err)
	}
}

// TestDecoder_depthFromValue checks that a value read inside open
// containers may nest as deep as the same value read alone: an export
// file's document is no shallower than the document put took.
func TestDecoder_depthFromValue(t *testing.T) {
	doc := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, tc := range []struct {
		n       int
		tooDeep bool
	}{{3, false}, {4, true}} {
		alone := NewDecoder(strings.NewReader(doc(tc.n)), Options{MaxDepth: 2})
		_, errAlone := alone.Value()
		inside := NewDecoder(strings.NewReader(`{"notes":[`+doc(tc.n)+`]}`), Options{MaxDepth: 2})
		if err := inside.OpenObject(); err != nil {
			t.Fatal(err)
		}
		if _, err := inside.Next(); err != nil {
			t.Fatal(err)
		}
		if _, err := inside.Key(); err != nil {
			t.Fatal(err)
		}
		if err := inside.OpenArray(); err != nil {
			t.Fatal(err)
		}
		if _, err := inside.Next(); err != nil {
			t.Fatal(err)
		}
		_, errInside := inside.Value()
		for name, err := range map[string]error{"alone": errAlone, "inside": errInside} {
			if got := errors.Is(err, ErrTooDeep); got != tc.tooDeep {
				t.Errorf("%d levels %s: err %v, want too deep %v", tc.n, name, err, tc.tooDeep)
			}
		}
	}
}

// TestDecoder_byteOrderMark: a UTF-8 byte order mark at the start of the
// input is skipped (offsets still count it); anywhere else it is refused.
func TestDecoder_byteOrderMark(t *testing.T) {
	for _, stream := range []bool{false, true} {
		v, err := decodeAll([]byte("\xef\xbb\xbf {\"a\":1}"), Options{}, stream)
		if err != nil {
			t.Fatalf("stream %v: a leading mark: %v", stream, err)
		}
		if want := map[string]any{"a": json.Number("1")}; !reflect.DeepEqual(v, want) {
			t.Errorf("stream %v: got %#v, want %#v", stream, v, want)
		}
		for _, in := range []string{" \xef\xbb\xbf{}", "[\xef\xbb\xbf1]", "\xef\xbb\xbf\xef\xbb\xbf{}", "\xef\xbb"} {
			if _, err := decodeAll([]byte(in), Options{}, stream); err == nil {
				t.Errorf("stream %v: %q accepted", stream, in)
			}
		}
	}
	d := NewBytesDecoder([]byte("\xef\xbb\xbf{\"a\":}"), Options{})
	_, err := d.Value()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("want a syntax error, got %v", err)
	}
	if se.Offset != 8 {
		t.Errorf("the error's offset is %d, want 8 (the mark counted)", se.Offset)
	}
}
