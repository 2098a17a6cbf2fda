package legacy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

func corpusFile(t *testing.T, fuzzer string, n int, vals ...any) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, v := range vals {
		switch x := v.(type) {
		case string:
			fmt.Fprintf(&b, "string(%s)\n", strconv.Quote(x))
		case []byte:
			fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(x)))
		}
	}
	p := filepath.Join("testdata", "fuzz", fuzzer, fmt.Sprintf("seed-%02d", n))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func genFuzzCorpus(t *testing.T) {
	envs := [][]byte{}
	for _, enc := range []string{EncodingPlain, EncodingGzip, EncodingJSONString} {
		b, _ := EncodeEnvelope([]any{map[string]any{"id": "n1", "n": json.Number("1e400")}}, enc, T0, enc != EncodingJSONString)
		envs = append(envs, b)
	}
	envs = append(envs, []byte(`[{"id":"raw"}]`), []byte(`{"version":1,"data":"GZIP_V1:!!!"}`), envs[1][:len(envs[1])/2],
		[]byte(`{"version":0,"data":[1]}`), []byte(`{"version":1,"compressed":false,"data":"{\"a\":"}`))
	for i, b := range envs {
		corpusFile(t, "FuzzEnvelope", i, b)
	}
	chunk, _ := EncodeEnvelope(map[string]any{"sessionId": "s", "chunkIndex": 0, "screenshots": []any{map[string]any{"id": "x"}}}, EncodingGzip, T0, false)
	for i, b := range [][]byte{chunk, chunk[:30], []byte(`{"segments":[]}`), []byte(`{"screenshots":{}}`)} {
		corpusFile(t, "FuzzChunk", i, b)
	}
	for i, l := range []string{
		`{"id":"1","timestamp":1760600000000,"operation":"write","collection":"notes","data":[{"id":"n"}],"checksum":"-1a"}`,
		`{"id":"2","timestamp":1,"operation":"transaction-commit","collection":"","transactionId":"tx-1"}`,
		`{"id":"3","timestamp":1,"operation":"write","collection":"db/sessions/session-x.json","data":{"id":"x"}}`,
		`{"id":"4","timestamp":1,"operation":"write","collection":"notes","data":`,
		`{"timestamp":"x"}`,
	} {
		corpusFile(t, "FuzzWALLine", i, []byte(l))
	}
	corpusFile(t, "FuzzPerEntity", 0, "sessions/session-s1.json", []byte(`{"id":"s1","version":2}`))
	corpusFile(t, "FuzzPerEntity", 1, "tasks/task-k1.json", []byte(`{"0":{"id":"k1"},"id":"k1"}`))
	corpusFile(t, "FuzzPerEntity", 2, "notes/note-n1.json.gz", gz([]byte(`{"id":"n1"}`)))
	corpusFile(t, "FuzzPerEntity", 3, "companies/companie-c.json", []byte(`[1]`))
	for i, s := range []string{
		`{"topics":[],"companies":[],"contacts":[],"notes":[{"id":"n1","x":1.50}],"tasks":[],"sessions":[],"aiSettings":{},"preferences":null,"exportedAt":"2025-10-16T00:00:00.000Z","version":"1.0.0","appVersion":"0.5.1"}`,
		`{"topics":[{"id":"t"}],"notes":[],"tasks":[],"aiSettings":{},"preferences":{},"exportedAt":"2025-10-16T00:00:00.000Z"}`,
		`{"sessions":[{"name":"no id"}],"version":"1.0.0","exportedAt":"x"}`,
		`{"version":"2.0.0"}`,
		`{"notes":[{"id":"n1"}`,
	} {
		corpusFile(t, "FuzzReadExport", i, []byte(s))
	}
}

func FuzzEnvelope(f *testing.F) {
	sp := &spill{base: f.TempDir()}
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := DecodeEnvelope(b)
		// Read lazily (a spill file, elements decoded one at a time), it
		// is the same value or the same failure.
		lazy, _, lerr := decodeEnvelope(b, sp)
		if (err == nil) != (lerr == nil) {
			t.Fatalf("decoded: %v; lazily: %v", err, lerr)
		}
		if err != nil {
			return
		}
		if a, ok := lazy.Data.(*lazyArray); ok {
			var elems []any
			if _, err := eachElem(a, func(_ int, e any) error { elems = append(elems, e); return nil }); err != nil {
				t.Fatal(err)
			}
			a.close()
			if elems == nil {
				elems = []any{}
			}
			lazy.Data = elems
		}
		if !reflect.DeepEqual(lazy.Data, env.Data) || lazy.ChecksumOK != env.ChecksumOK {
			t.Fatalf("lazily %#v (checksum %v), decoded %#v (%v)", lazy.Data, lazy.ChecksumOK, env.Data, env.ChecksumOK)
		}
		if env.Wrapped && env.Encoding == EncodingRaw {
			t.Fatal("wrapped envelope with raw encoding")
		}
		if !env.Wrapped && env.Encoding != EncodingRaw {
			t.Fatalf("raw file with encoding %q", env.Encoding)
		}
		// A decoded payload re-encodes and decodes to the same value.
		out, err := EncodeEnvelope(env.Data, EncodingGzip, env.Timestamp, false)
		if err != nil {
			return // e.g. a json.Number JSON cannot carry
		}
		again, err := DecodeEnvelope(out)
		if err != nil || !again.ChecksumOK {
			t.Fatalf("re-encoded envelope: err=%v ok=%v", err, again != nil && again.ChecksumOK)
		}
	})
}

func FuzzWALLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseWALLine(b)
		if err != nil {
			return
		}
		if e.Operation == OpWrite && !e.HasData {
			t.Fatal("write without data accepted")
		}
		key, coll, id := NormalizeKey(e.Collection)
		if coll != "" && (id == "" || key == "") {
			t.Fatalf("per-entity key %q without id", key)
		}
		entries, bad, err := ReadWAL(bytes.NewReader(append(append([]byte{}, b...), '\n')))
		if err != nil || len(entries)+len(bad) != 1 {
			t.Fatalf("ReadWAL of one good line: %d entries, %d bad, %v", len(entries), len(bad), err)
		}
	})
}

func FuzzChunk(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeChunk(b)
		if err != nil {
			return
		}
		if c.Kind == "" || c.Items == nil {
			t.Fatalf("chunk without kind or items: %+v", c)
		}
	})
}

func FuzzPerEntity(f *testing.F) {
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		p, err := DecodePerEntity(name, b)
		if err != nil {
			return
		}
		if p.Junk == (p.Doc != nil) {
			t.Fatalf("junk=%v with doc=%v", p.Junk, p.Doc != nil)
		}
		if p.Collection == "" || p.FileID == "" {
			t.Fatal("per-entity file without collection or id")
		}
	})
}

func FuzzReadExport(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ReadExport(bytes.NewReader(b))
		if err != nil {
			if _, ok := err.(*ExportError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		// Whatever was accepted writes back and reads back the same.
		var out bytes.Buffer
		if err := WriteExport(&out, x.Source()); err != nil {
			t.Fatalf("WriteExport: %v", err)
		}
		y, err := ReadExport(&out)
		if err != nil {
			t.Fatalf("re-read: %v\n%s", err, out.Bytes())
		}
		for _, c := range exportCollections {
			if !equalJSON(x.Collections[c], y.Collections[c]) && !(len(x.Collections[c]) == 0 && len(y.Collections[c]) == 0) {
				t.Fatalf("%s differs after round trip", c)
			}
		}
	})
}

// FuzzSnapshotMembers: the one-pass reader of a backups/ snapshot's
// collections never panics, and every member it hands over is one JSON
// value.
func FuzzSnapshotMembers(f *testing.F) {
	f.Add([]byte(`{"version":1,"timestamp":5,"collections":{"notes":[{"id":"n"}],"settings":{"a":1}}}`))
	f.Add([]byte(`{"collections":{"a":[1,2`))
	f.Add([]byte(`{"x":"collections","collections":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = eachMemberOf(b, "collections", func(name string, span []byte) error {
			if !json.Valid(span) {
				t.Fatalf("member %q: %q is not one JSON value", name, span)
			}
			return nil
		})
	})
}
