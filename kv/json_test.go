package kv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/kv/entity"
)

// inexactInputs are the inputs of issue 15 that used to be stored changed
// with no error. Each must be refused, naming the path and byte offset.
var inexactInputs = []struct {
	name, in string
	path     string
	off      int64
	msg      string
}{
	{"raw invalid UTF-8", "{\"id\":\"n1\",\"content\":\"caf\xe9\"}", "$.content", 25, "0xe9 is not UTF-8"},
	{"lone high surrogate", `{"id":"\ud800"}`, "$.id", 7, `\ud800`},
	{"lone low surrogate", `{"id":"\udfff"}`, "$.id", 7, `\udfff`},
	{"surrogate member names", `{"id":"x","m":{"\ud800":"A","\udc00":"B"}}`, "$.m", 16, `\ud800`},
	{"duplicate member", `{"id":"d2","id":"d3"}`, "$.id", 11, `"id" appears twice`},
	{"nested duplicate", `[{"id":"a"},{"id":"b","x":{"k":1,"k":1}}]`, "$[1].x.k", 33, `"k" appears twice`},
}

func TestParseJSON_refusesInexact(t *testing.T) {
	for _, tc := range inexactInputs {
		t.Run(tc.name, func(t *testing.T) {
			check := func(what string, err error) {
				t.Helper()
				var pe *kv.PositionError
				if !errors.As(err, &pe) || !errors.Is(err, kv.ErrSyntax) {
					t.Fatalf("%s: %v, want a *PositionError wrapping ErrSyntax", what, err)
				}
				if pe.Path != tc.path || pe.Offset != tc.off || pe.Line != 1 || pe.Column != int(tc.off)+1 || !strings.Contains(pe.Msg, tc.msg) {
					t.Fatalf("%s: %v\nwant path %s, byte %d, %q", what, err, tc.path, tc.off, tc.msg)
				}
			}
			_, err := kv.ParseJSON([]byte(tc.in))
			check("ParseJSON", err)
			_, _, err = kv.ParseDocuments([]byte(tc.in))
			check("ParseDocuments", err)
			r := kv.NewDocumentReader(strings.NewReader(tc.in), 1<<20)
			for err == nil || err == io.EOF {
				if _, err = r.Next(); err == io.EOF {
					t.Fatal("DocumentReader accepted it")
				}
			}
			check("DocumentReader", err)

			// Through the library's JSON entry point, nothing is stored.
			db := openTest(t)
			_, err = db.Put(context.Background(), "notes", json.RawMessage(tc.in))
			if !errors.Is(err, kv.ErrSyntax) || !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("Put(json.RawMessage): %v", err)
			}
			n := 0
			if err := db.List(context.Background(), "notes", 0, 0, func(kv.Document) error { n++; return nil }); err != nil || n != 0 {
				t.Fatalf("%d documents stored (%v)", n, err)
			}
		})
	}
}

// TestParseJSON_keepsNumbers: numbers that float64 cannot hold come back
// from put and get with their value.
func TestParseJSON_keepsNumbers(t *testing.T) {
	lits := []string{"9007199254740993.0", "123456789.123456789123456789", "1.00000000000000001",
		"123456789012345678901234567890e0", "0.1", "1e400", "-1e-400", "18446744073709551616.5"}
	db := openTest(t)
	if _, err := db.Put(context.Background(), "notes", json.RawMessage(`{"id":"n","nums":[`+strings.Join(lits, ",")+`]}`)); err != nil {
		t.Fatal(err)
	}
	doc, _, err := db.Get(context.Background(), "notes", "n")
	if err != nil {
		t.Fatal(err)
	}
	text, err := json.Marshal(doc["nums"])
	if err != nil {
		t.Fatal(err)
	}
	var got []json.Number
	if err := json.Unmarshal(text, &got); err != nil {
		t.Fatal(err)
	}
	for i, lit := range lits {
		a, _ := new(big.Rat).SetString(lit)
		b, _ := new(big.Rat).SetString(string(got[i]))
		if a.Cmp(b) != 0 {
			t.Errorf("%s came back as %s", lit, got[i])
		}
	}
}

// TestDocumentReader_limit: a document over the limit is refused while it
// is read; the documents before it were returned whole.
func TestDocumentReader_limit(t *testing.T) {
	in := `[{"id":"a"},{"id":"b","s":"` + strings.Repeat("x", 5000) + `"},{"id":"c"}]`
	r := kv.NewDocumentReader(strings.NewReader(in), 1000)
	if doc, err := r.Next(); err != nil || doc.(map[string]any)["id"] != "a" {
		t.Fatalf("first: %v %v", doc, err)
	}
	_, err := r.Next()
	var pe *kv.PositionError
	if !errors.As(err, &pe) || !errors.Is(err, kv.ErrTooLarge) || pe.Path != "$[1].s" || pe.Offset > 1100 {
		t.Fatalf("second: %v", err)
	}
}

// TestDocumentReader_errors: what is not one object or an array of
// objects is refused at its element.
func TestDocumentReader_errors(t *testing.T) {
	for _, tc := range []struct{ in, path, msg string }{
		{``, "$", "empty input"},
		{"  \n ", "$", "empty input"},
		{`"s"`, "$", "expected a JSON object"},
		{`[{"id":"a"},2]`, "$[1]", "element 1 is a number"},
		{`[{"id":"a"}] x`, "$", "after the JSON value"},
		{`{"id":"a"} {}`, "$", "after the JSON value"},
		{`[{"id":"a"},]`, "$", "trailing comma"},
	} {
		_, _, err := kv.ParseDocuments([]byte(tc.in))
		var pe *kv.PositionError
		if !errors.As(err, &pe) || pe.Path != tc.path || !strings.Contains(pe.Msg, tc.msg) {
			t.Errorf("%q: %v, want %s: %q", tc.in, err, tc.path, tc.msg)
		}
	}
	docs, single, err := kv.ParseDocuments([]byte(` [ ] `))
	if err != nil || single || len(docs) != 0 {
		t.Fatalf("empty array: %v %v %v", docs, single, err)
	}
	var buf bytes.Buffer
	buf.WriteString(`{"id":"x"}`)
	if docs, single, err := kv.ParseDocuments(buf.Bytes()); err != nil || !single || len(docs) != 1 {
		t.Fatalf("single: %v %v %v", docs, single, err)
	}
}

// TestTyped_keepsNumbers: a typed read and write keeps a number its Go
// field cannot hold (a float64 duration of 1.00000000000000001) unless the
// caller changes that field.
func TestTyped_keepsNumbers(t *testing.T) {
	db := openTest(t)
	if _, err := db.Put(context.Background(), "sessions", json.RawMessage(`{"id":"s","name":"a","audioSegments":[{"id":"a1","duration":1.00000000000000001},{"id":"a2","duration":2.00000000000000002}]}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.ModifyAs(context.Background(), db, "sessions", "s", func(s *entity.Session) error {
		s.Name = "renamed"
		s.AudioSegments[1].Duration = 3
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	doc, _, err := db.Get(context.Background(), "sessions", "s")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(doc["audioSegments"])
	if doc["name"] != "renamed" || string(b) != `[{"duration":1.00000000000000001,"id":"a1"},{"duration":3,"id":"a2"}]` {
		t.Fatalf("after a typed update: name %v, audioSegments %s", doc["name"], b)
	}
}
