package kv_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/txn"
)

// Fuzz targets for the decoders of outside bytes that kv owns (docs/STYLE.md
// rule 12): ParseJSON, ParseDocuments (kvtool put and import input), and
// the merge patch (RFC 7396) as Patch applies it. Seed corpora live in
// testdata/fuzz; CI runs the seeds; `go test -fuzz FuzzXxx ./kv` runs more.

var fuzzSeeds = []string{
	`{"id":"n1","content":"hello"}`,
	`[{"id":"a"},{"id":"b","x":[1,2.5,-3e10,null,true,{"y":"z"}]}]`,
	`{"id":"big","n":123456789012345678901234567890}`,
	`{"id":"u","s":"\u00e9\ud83d\ude00\u0000"}`,
	`  {"id":"ws"}  `,
	`[]`,
	`[1,2]`,
	`{"a":1}{"b":2}`,
	`{"id":"x",}`,
	`{"id":"n1","nested":{"a":{"b":{"c":[[[[]]]]}}}}`,
	"\xff\xfe",
	`{"id":"dup","a":1,"a":2}`,
	`"just a string"`,
	`{"id":"trunc","a":[1,2`,
	"[\n{\"id\":\"a\"},\n{\"id\":\"b\" \"x\":1}\n]",
	`{"id":"f","x":1e400}`,
	`{"id":"f","x":-0}`,
	strings.Repeat("[", 2000) + strings.Repeat("]", 2000),
}

// checkPositionError requires a syntax error to wrap ErrSyntax with a
// position inside the input.
func checkParseError(t *testing.T, data []byte, err error) {
	t.Helper()
	if !errors.Is(err, kv.ErrSyntax) && !errors.Is(err, kv.ErrInvalid) {
		t.Fatalf("error is neither ErrSyntax nor ErrInvalid: %v", err)
	}
	var pe *kv.PositionError
	if errors.As(err, &pe) {
		if pe.Offset < 0 || pe.Offset > int64(len(data)) || pe.Line < 1 || pe.Column < 1 {
			t.Fatalf("position out of the input (%d bytes): %+v", len(data), pe)
		}
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := kv.ParseJSON(data)
		if err != nil {
			checkParseError(t, data, err)
			return
		}
		if !json.Valid(data) {
			t.Fatalf("ParseJSON accepted invalid JSON %q", data)
		}
		// The document model round-trips through JSON.
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("a parsed value does not marshal: %v", err)
		}
		w, err := kv.ParseJSON(b)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", b, err)
		}
		if !reflect.DeepEqual(v, w) {
			t.Fatalf("round trip changed the value:\n%#v\n%#v", v, w)
		}
	})
}

func FuzzParseDocuments(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, single, err := kv.ParseDocuments(data)
		if err != nil {
			checkParseError(t, data, err)
			return
		}
		if !json.Valid(data) {
			t.Fatalf("ParseDocuments accepted invalid JSON %q", data)
		}
		if single && len(docs) != 1 {
			t.Fatalf("single with %d documents", len(docs))
		}
		for i, d := range docs {
			if _, ok := d.(map[string]any); !ok {
				t.Fatalf("element %d is %T, not an object", i, d)
			}
		}
		if !single {
			var arr []json.RawMessage
			if err := json.Unmarshal(data, &arr); err != nil || len(arr) != len(docs) {
				t.Fatalf("%d documents from an array of %d (%v)", len(docs), len(arr), err)
			}
		}
	})
}

// refMergePatch is RFC 7396's pseudo-code, written independently of
// txn.MergePatch.
func refMergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	out := map[string]any{}
	if t, ok := target.(map[string]any); ok {
		for k, v := range t {
			out[k] = v
		}
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = refMergePatch(out[k], v)
		}
	}
	return out
}

func FuzzMergePatch(f *testing.F) {
	f.Add(`{"id":"a","name":"x","tags":["t"],"s":{"a":1,"b":2}}`, `{"name":"y","s":{"a":null,"c":3}}`)
	f.Add(`{"id":"a","x":1}`, `{"x":null}`)
	f.Add(`{"id":"a","x":{"y":{"z":1}}}`, `{"x":{"y":null}}`)
	f.Add(`{"id":"a"}`, `{"id":"b"}`)
	f.Add(`{"id":"a"}`, `{"id":null}`)
	f.Add(`{"id":"a","arr":[1,2,3]}`, `{"arr":[null]}`)
	f.Add(`{"id":"a"}`, `[1,2]`)
	f.Add(`{"id":"a"}`, `"replace"`)
	f.Add(`{"id":"a","e":{}}`, `{"e":{"k":{}}}`)
	db, err := kv.Open(f.TempDir(), &kv.Options{NoSearch: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = db.Close() })
	n := 0
	f.Fuzz(func(t *testing.T, target, patch string) {
		tv, err := kv.ParseJSON([]byte(target))
		if err != nil {
			return
		}
		pv, err := kv.ParseJSON([]byte(patch))
		if err != nil {
			return
		}
		tm, ok := tv.(map[string]any)
		if !ok {
			return
		}
		before, _ := json.Marshal(tv)
		got := txn.MergePatch(tv, pv)
		after, _ := json.Marshal(tv)
		if string(before) != string(after) {
			t.Fatalf("MergePatch modified its target: %s → %s", before, after)
		}
		want := refMergePatch(tv, pv)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("MergePatch(%s, %s) = %#v, RFC 7396 says %#v", target, patch, got, want)
		}
		if again := txn.MergePatch(got, pv); !reflect.DeepEqual(again, got) {
			t.Fatalf("a merge patch applied twice changed the result again: %#v, then %#v", got, again)
		}
		// Through the store: Patch either fails or stores exactly the
		// merge result under the same id.
		n++
		id := fmt.Sprint("fz", n)
		tm["id"] = id
		if err := kv.Validate("notes", tm); err != nil {
			return
		}
		if _, err := db.Put(context.Background(), "notes", tm); err != nil {
			return // a document the store refuses (too deep, ...)
		}
		if _, err := db.Patch(context.Background(), "notes", id, pv); err != nil {
			if doc, _, gerr := db.Get(context.Background(), "notes", id); gerr != nil || !reflect.DeepEqual(doc, tm) {
				t.Fatalf("a failed patch (%v) changed the document: %v %v", err, doc, gerr)
			}
			return
		}
		doc, _, err := db.Get(context.Background(), "notes", id)
		if err != nil {
			t.Fatalf("get after patch %s: %v", patch, err)
		}
		if doc["id"] != id {
			t.Fatalf("patch %s left document %q with id %v", patch, id, doc["id"])
		}
		if w := refMergePatch(tm, pv); !reflect.DeepEqual(doc, w) {
			t.Fatalf("stored %#v after patch %s, want %#v", doc, patch, w)
		}
		_, _ = db.Delete(context.Background(), "notes", id)
	})
}
