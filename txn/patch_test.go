package txn

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/cairnkv/cairn/buckets"
)

func parse(t testing.TB, s string) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	n, err := buckets.Normalize(v)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func canonical(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The test cases of RFC 7396, Appendix A.
func TestMergePatch_rfc7396(t *testing.T) {
	cases := []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	}
	for _, c := range cases {
		target := parse(t, c.target)
		before := canonical(t, target)
		got := MergePatch(target, parse(t, c.patch))
		if g, w := canonical(t, got), canonical(t, parse(t, c.want)); g != w {
			t.Errorf("MergePatch(%s, %s) = %s, want %s", c.target, c.patch, g, w)
		}
		if canonical(t, target) != before {
			t.Errorf("MergePatch changed its target %s", c.target)
		}
	}
}

func FuzzMergePatch(f *testing.F) {
	f.Add(`{"a":{"b":1}}`, `{"a":{"b":null,"c":[1,2]}}`)
	f.Add(`[]`, `{"x":null}`)
	f.Add(`{"a":"b"}`, `"s"`)
	f.Fuzz(func(t *testing.T, target, patch string) {
		var tv, pv any
		if json.Unmarshal([]byte(target), &tv) != nil || json.Unmarshal([]byte(patch), &pv) != nil {
			return
		}
		tn, err1 := buckets.Normalize(tv)
		pn, err2 := buckets.Normalize(pv)
		if err1 != nil || err2 != nil {
			return
		}
		out := MergePatch(tn, pn)
		// Applying the same patch twice changes nothing more (idempotence).
		if a, b := canonical(t, out), canonical(t, MergePatch(out, pn)); a != b {
			t.Fatalf("not idempotent: %s then %s", a, b)
		}
	})
}
