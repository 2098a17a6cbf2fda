package legacy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLegacyChecksum(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hello", "1n1e4y"}, // Java/JS String hash 99162322
		{`[{"id":"n1"}]`, "seq54i"},
		{"a\U0001F600 long text with more chars to overflow", "-fmb8yg"}, // surrogate pair, negative
		{"", "0"},
	}
	for _, tt := range tests {
		if got := LegacyChecksum(tt.in); got != tt.want {
			t.Errorf("LegacyChecksum(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDecodeEnvelope(t *testing.T) {
	value := []any{map[string]any{"id": "n1", "big": json.Number("123456789012345678901234567890"), "f": json.Number("0.30000000000000004")}}
	enc := func(e string, pretty bool) []byte {
		b, err := EncodeEnvelope(value, e, 1760600000000, pretty)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	gzipBytes := enc(EncodingGzip, false)
	tests := []struct {
		name     string
		in       []byte
		encoding string
		wrapped  bool
		sumOK    bool
		wantErr  bool
	}{
		{"plain pretty hash (B–F)", enc(EncodingPlain, true), EncodingPlain, true, true, false},
		{"plain compact hash (G)", enc(EncodingPlain, false), EncodingPlain, true, true, false},
		{"gzip", gzipBytes, EncodingGzip, true, true, false},
		{"json string compact hash (the §2.3 false positive)", enc(EncodingJSONString, false), EncodingJSONString, true, true, false},
		{"json string pretty hash", enc(EncodingJSONString, true), EncodingJSONString, true, true, false},
		{"raw array", []byte(`[{"id":"n1","big":123456789012345678901234567890,"f":0.30000000000000004}]`), EncodingRaw, false, false, false},
		{"raw object without version", []byte(`{"data":[1]}`), EncodingRaw, false, false, false},
		{"falsy version is raw", []byte(`{"version":0,"data":[1]}`), EncodingRaw, false, false, false},
		{"wrong checksum kept", bytes.Replace(enc(EncodingPlain, false), []byte(`"checksum": "`), []byte(`"checksum": "x`), 1), EncodingPlain, true, false, false},
		{"truncated", gzipBytes[:len(gzipBytes)/2], "", false, false, true},
		{"bad base64", []byte(`{"version":1,"compressed":true,"data":"GZIP_V1:@@@"}`), "", false, false, true},
		{"bad gzip", []byte(`{"version":1,"compressed":true,"data":"GZIP_V1:aGVsbG8="}`), "", false, false, true},
		{"base64 shorter than a quantum", []byte(`{"version":1,"compressed":true,"data":"GZIP_V1:abc"}`), "", false, false, true},
		{"bad json string", []byte(`{"version":1,"compressed":false,"data":"[1,"}`), "", false, false, true},
		{"empty", nil, "", false, false, true},
		{"trailing garbage", []byte(`[1] x`), "", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := DecodeEnvelope(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("err = %v, want ErrCorrupt", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if env.Encoding != tt.encoding || env.Wrapped != tt.wrapped || env.ChecksumOK != tt.sumOK {
				t.Fatalf("got encoding %q wrapped %v sumOK %v", env.Encoding, env.Wrapped, env.ChecksumOK)
			}
			if tt.wrapped && env.Timestamp != 1760600000000 {
				t.Errorf("timestamp %d", env.Timestamp)
			}
			if tt.encoding != EncodingRaw || tt.name == "raw array" {
				if !equalJSON(env.Data, value) {
					t.Errorf("data %#v", env.Data)
				}
			}
		})
	}
}

func TestDecodeEnvelope_stringPayload(t *testing.T) {
	// A payload that is legitimately a string (sessions/<id>/transcription).
	for _, e := range []string{EncodingPlain, EncodingGzip, EncodingJSONString} {
		b, err := EncodeEnvelope("GZIP_V1: not really", e, 1, false)
		if err != nil {
			t.Fatal(err)
		}
		if e == EncodingPlain {
			continue // a plain string starting with the prefix is undecodable by the app's rule too
		}
		env, err := DecodeEnvelope(b)
		if err != nil || env.Data != "GZIP_V1: not really" {
			t.Errorf("%s: %v %#v", e, err, env)
		}
	}
	env, err := DecodeEnvelope([]byte(`{"version":1,"data":"plain text"}`))
	if err != nil || env.Data != "plain text" {
		t.Errorf("plain string: %v %#v", err, env)
	}
}

func TestNormalizeKey(t *testing.T) {
	tests := []struct{ in, key, coll, id string }{
		{"notes", "notes", "", ""},
		{"sessions/123-abc/metadata", "sessions/123-abc/metadata", "", ""},
		{"db/sessions/session-1-a.json", "sessions/session-1-a", "sessions", "1-a"},
		{"db/companies/companie-c1.json.gz", "companies/companie-c1", "companies", "c1"},
		{"db/db/notes/note-n1.json.json", "notes/note-n1", "notes", "n1"},
		{"db/tasks/task-k1.json.gz.json", "tasks/task-k1", "tasks", "k1"},
		{"notes/index.json", "notes/index", "", ""},
		{"notes/note-", "notes/note-", "", ""},
		{"unknown/thing-1", "unknown/thing-1", "", ""},
	}
	for _, tt := range tests {
		k, c, id := NormalizeKey(tt.in)
		if k != tt.key || c != tt.coll || id != tt.id {
			t.Errorf("NormalizeKey(%q) = %q %q %q", tt.in, k, c, id)
		}
	}
}

func TestParseWALLine(t *testing.T) {
	tests := []struct {
		line string
		ok   bool
	}{
		{`{"id":"1","timestamp":1,"operation":"write","collection":"notes","data":[]}`, true},
		{`{"id":"1","timestamp":1,"operation":"delete","collection":"db/notes/note-1.json","transactionId":"tx"}`, true},
		{`{"id":"1","timestamp":1,"operation":"transaction-commit","collection":"","transactionId":"tx"}`, true},
		{`{"id":"1","timestamp":1,"operation":"write","collection":"notes"}`, false},
		{`{"id":"1","timestamp":1,"operation":"write","collection":"","data":1}`, false},
		{`{"id":"1","operation":"write","collection":"notes","data":1}`, false},
		{`{"id":"1","timestamp":1,"operation":"explode","collection":"notes"}`, false},
		{`[1]`, false},
		{`{"id":"1","timestamp":1,"operation":"wri`, false},
	}
	for _, tt := range tests {
		_, err := ParseWALLine([]byte(tt.line))
		if (err == nil) != tt.ok {
			t.Errorf("ParseWALLine(%s): %v", tt.line, err)
		}
	}
}

func TestReadWAL_badLines(t *testing.T) {
	in := "{\"id\":\"1\",\"timestamp\":1,\"operation\":\"write\",\"collection\":\"a\",\"data\":1}\nnot json\n\n{\"id\":\"2\",\"timestamp\":2,\"operation\":\"write\",\"collection\":\"b\",\"data\":2}\n{\"id\":\"3\",\"tim"
	entries, bad, err := ReadWAL(bytes.NewReader([]byte(in)))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[1].Line != 4 {
		t.Errorf("entries %+v", entries)
	}
	if len(bad) != 2 || bad[0].Line != 2 || bad[0].Last || bad[1].Line != 5 || !bad[1].Last {
		t.Errorf("bad %+v", bad)
	}
}

func TestDecodePerEntity(t *testing.T) {
	tests := []struct {
		name, file string
		content    []byte
		coll, id   string
		junk, err  bool
	}{
		{"plain", "sessions/session-s1.json", []byte(`{"id":"s1"}`), "sessions", "s1", false, false},
		{"gzip", "notes/note-n1.json.gz", gz([]byte(`{"id":"n1"}`)), "notes", "n1", false, false},
		{"companie", "companies/companie-c1.json", []byte(`{"id":"c1"}`), "companies", "c1", false, false},
		{"junk spread", "tasks/task-k1.json", []byte(`{"0":{"id":"k1"},"1":{"id":"k2"},"id":"k1"}`), "tasks", "k1", true, false},
		{"not an object", "tasks/task-k1.json", []byte(`[1]`), "", "", false, true},
		{"truncated gzip", "notes/note-n1.json.gz", gz([]byte(`{"id":"n1"}`))[:10], "", "", false, true},
		{"not per-entity", "notes/index.json", []byte(`[]`), "", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := DecodePerEntity(tt.file, tt.content)
			if tt.err {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil || p.Collection != tt.coll || p.FileID != tt.id || p.Junk != tt.junk {
				t.Fatalf("%+v %v", p, err)
			}
		})
	}
}

func TestDecodeChunk(t *testing.T) {
	b, _ := EncodeEnvelope(map[string]any{"sessionId": "s", "chunkIndex": 2, "segments": []any{1, 2}}, EncodingGzip, 1, false)
	c, err := DecodeChunk(b)
	if err != nil || c.Kind != "audio-segments" || c.ChunkIndex != 2 || len(c.Items) != 2 || c.SessionID != "s" {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []string{`{"version":1,"data":{"screenshots":{}}}`, `[1]`, `{"version":1,"data":{}}`} {
		if _, err := DecodeChunk([]byte(bad)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if i, ok := parseChunkName(chunkName(7)); !ok || i != 7 || chunkName(7) != "chunk-007" {
		t.Error("chunk name round trip")
	}
}

func TestCheckID(t *testing.T) {
	long := string(bytes.Repeat([]byte("a"), MaxIDLen))
	for _, ok := range []any{"a", long, "1760600000000-abc123xyz"} {
		if _, err := CheckID(ok); err != nil {
			t.Errorf("CheckID(%v): %v", ok, err)
		}
	}
	for _, bad := range []any{nil, "", long + "a", "a\x00b", json.Number("1"), "\xff"} {
		if _, err := CheckID(bad); !errors.Is(err, ErrBadID) {
			t.Errorf("CheckID(%q) = %v", bad, err)
		}
	}
}

// TestReadWAL_bomAndCompleteLastLine: a byte order mark before the first
// line does not lose its entry, and a complete last line that does not
// decode (an unknown operation) is not called a truncated one; only a
// last line without its newline is.
func TestReadWAL_bomAndCompleteLastLine(t *testing.T) {
	in := "\xef\xbb\xbf{\"id\":\"1\",\"timestamp\":1,\"operation\":\"write\",\"collection\":\"a\",\"data\":1}\n{\"id\":\"2\",\"timestamp\":2,\"operation\":\"upsert\",\"collection\":\"b\",\"data\":2}\n"
	entries, bad, err := ReadWAL(bytes.NewReader([]byte(in)))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].ID != "1" {
		t.Errorf("entries %+v", entries)
	}
	if len(bad) != 1 || bad[0].Line != 2 || bad[0].Last {
		t.Errorf("bad %+v", bad)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "db"), 0o755)
	os.WriteFile(filepath.Join(dir, "db", "notes.json"), []byte(`[{"id":"n0"}]`), 0o644)
	os.WriteFile(filepath.Join(dir, "db", "wal.log"), []byte("\xef\xbb\xbf{\"id\":\"e\",\"timestamp\":1760000000000,\"operation\":\"write\",\"collection\":\"db/notes/note-n5.json\",\"data\":{\"id\":\"n5\"}}\n{\"id\":\"u\",\"timestamp\":1760000000001,\"operation\":\"upsert\",\"collection\":\"notes\",\"data\":{}}\n"), 0o644)
	ds, rep, err := Scan(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ds.Collections["notes"]["n5"]; !ok {
		t.Errorf("the entry after the BOM was lost: %v", ids(ds))
	}
	if len(rep.WAL.Skipped) != 1 || strings.Contains(rep.WAL.Skipped[0].Reason, "truncated") {
		t.Errorf("skipped %+v", rep.WAL.Skipped)
	}
}
