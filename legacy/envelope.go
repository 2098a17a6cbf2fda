package legacy

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// Payload encodings reported in Envelope.Encoding.
const (
	EncodingRaw        = "raw"         // not an envelope: the file is the payload
	EncodingPlain      = "plain"       // era B: data is the value itself
	EncodingGzip       = "gzip"        // eras C+: "GZIP_V1:" + base64(gzip(JSON text))
	EncodingJSONString = "json-string" // compressed:false, data is the JSON text
)

// gzipPrefix marks a compressed envelope payload (FORMAT.md §2.2).
const gzipPrefix = "GZIP_V1:"

// maxInflate bounds how many bytes one gzip payload may expand to.
const maxInflate = 1 << 30

// Envelope is one decoded legacy collection file (FORMAT.md §2).
type Envelope struct {
	// Wrapped is false for raw files (no truthy version or no data key):
	// the whole file is the payload and the other header fields are zero.
	Wrapped bool
	// Timestamp is the envelope's write time in epoch ms (0 if absent).
	Timestamp int64
	// Compressed is the envelope's compressed flag; nil when absent (era B).
	Compressed *bool
	// Checksum is the stored 31-bit base-36 hash ("" when absent).
	Checksum string
	// ChecksumOK is true when Checksum matches the payload text in any of
	// the forms the old app hashed (as stored, compact, pretty). It is
	// advisory: a mismatch never discards the data (FORMAT.md §2.3).
	ChecksumOK bool
	// Encoding is one of the Encoding* constants.
	Encoding string
	// Data is the decoded payload: JSON with numbers as json.Number.
	Data any
}

// ChecksumMismatch reports whether the envelope carried a checksum that
// matched none of the payload forms.
func (e *Envelope) ChecksumMismatch() bool {
	return e.Wrapped && e.Checksum != "" && !e.ChecksumOK
}

// LegacyChecksum computes the old app's envelope hash of text: h = h*31 +
// c over UTF-16 code units in signed 32-bit arithmetic, in base 36.
func LegacyChecksum(text string) string {
	return strconv.FormatInt(int64(legacyHash(text)), 36)
}

// legacyHash is LegacyChecksum's sum. Ranging over the text visits the
// runes []rune(text) would hold (an invalid byte is U+FFFD) without
// converting it: a collection file's text can be tens of megabytes.
func legacyHash(text string) int32 {
	var h int32
	for _, r := range text {
		h = addUTF16(h, r)
	}
	return h
}

func legacyHashBytes(text []byte) int32 {
	var h int32
	for i := 0; i < len(text); {
		if c := text[i]; c < utf8.RuneSelf {
			h = h*31 + int32(c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(text[i:])
		h = addUTF16(h, r)
		i += n
	}
	return h
}

func addUTF16(h int32, r rune) int32 {
	if r >= 0x10000 {
		r1, r2 := utf16.EncodeRune(r)
		return (h*31+int32(r1))*31 + int32(r2)
	}
	return h*31 + int32(r)
}

// DecodeEnvelope decodes the bytes of a legacy collection file: an
// envelope with a plain, GZIP_V1 or JSON-string payload, or a raw JSON
// file. The checksum is verified but only reported (Envelope.ChecksumOK).
// Errors wrap ErrCorrupt.
func DecodeEnvelope(b []byte) (*Envelope, error) {
	return decodeEnvelope(b, false)
}

// decodeEnvelope is DecodeEnvelope; with lazy, a payload that is a JSON
// array is checked but not decoded: Data is then a *lazyArray whose
// elements are decoded one at a time by the caller.
func decodeEnvelope(b []byte, lazy bool) (*Envelope, error) {
	env, text, hashText, err := openEnvelope(b)
	if err != nil {
		return nil, err
	}
	if env.Data == nil { // JSON text, possibly empty
		v, err := decodePayload(text, lazy)
		if err != nil {
			switch env.Encoding {
			case EncodingGzip:
				return nil, corruptf("decompressed payload: %v", err)
			case EncodingJSONString:
				return nil, corruptf("uncompressed JSON-string payload: %v", err)
			case EncodingPlain:
				return nil, corruptf("envelope data: %v", err)
			}
			return nil, err
		}
		env.Data = v
	}
	if env.Checksum != "" {
		env.ChecksumOK = checksumMatches(env.Checksum, hashText)
	}
	return env, nil
}

// decodePayload decodes JSON text, or with lazy and an array, indexes it.
func decodePayload(text []byte, lazy bool) (any, error) {
	if lazy {
		if a, ok := splitArray(text); ok {
			return a, nil
		}
	}
	return decodeJSON(text)
}

// openEnvelope decodes the framing of a collection file. When the payload
// is JSON text (a raw file, a GZIP_V1, JSON-string or inline plain
// payload) it returns that text undecoded, env.Data being nil; a plain
// string payload is returned in env.Data with a nil text. hashText is the
// text whose forms the envelope checksum may cover (not yet verified).
func openEnvelope(b []byte) (env *Envelope, text, hashText []byte, err error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &top); err == nil {
			if env, text, hashText, ok, err := openWrapped(top); ok {
				return env, text, hashText, err
			}
		}
	}
	return &Envelope{Encoding: EncodingRaw}, b, nil, nil
}

func openWrapped(top map[string]json.RawMessage) (env *Envelope, text, hashText []byte, ok bool, err error) {
	rawData, hasData := top["data"]
	rawVersion, hasVersion := top["version"]
	if !hasData || !hasVersion {
		return nil, nil, nil, false, nil
	}
	ver, verr := decodeJSON(rawVersion)
	if verr != nil || !truthy(ver) {
		return nil, nil, nil, false, nil
	}
	env = &Envelope{Wrapped: true}
	if raw, ok := top["timestamp"]; ok {
		if v, err := decodeJSON(raw); err == nil {
			env.Timestamp, _ = numInt64(v)
		}
	}
	if raw, ok := top["compressed"]; ok {
		var c bool
		if json.Unmarshal(raw, &c) == nil {
			env.Compressed = &c
		}
	}
	if raw, ok := top["checksum"]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			env.Checksum = s
		}
	}
	dataTrim := bytes.TrimSpace(rawData)
	if len(dataTrim) > 0 && dataTrim[0] == '"' {
		// The string's bytes: without escapes (a GZIP_V1 payload has none)
		// they are those between the quotes, valid UTF-8 as decoding
		// would leave them; else decoded.
		var s []byte
		if n := len(dataTrim); n >= 2 && bytes.IndexByte(dataTrim[1:n-1], '\\') < 0 && utf8.Valid(dataTrim[1:n-1]) {
			s = dataTrim[1 : n-1]
		} else {
			var str string
			if err := json.Unmarshal(dataTrim, &str); err != nil {
				return nil, nil, nil, true, corruptf("envelope data: %v", err)
			}
			s = []byte(str)
		}
		switch {
		case bytes.HasPrefix(s, []byte(gzipPrefix)):
			t, err := gunzipBase64Bytes(s[len(gzipPrefix):])
			if err != nil {
				return nil, nil, nil, true, err
			}
			env.Encoding, text, hashText = EncodingGzip, t, t
		case env.Compressed != nil && !*env.Compressed:
			env.Encoding, text, hashText = EncodingJSONString, s, s
		default:
			env.Encoding, env.Data = EncodingPlain, string(s)
			hashText = dataTrim
		}
	} else {
		env.Encoding, text, hashText = EncodingPlain, dataTrim, dataTrim
	}
	return env, text, hashText, true, nil
}

// checksumMatches tries every text form the old app may have hashed: the
// text as stored, its compact form and its 2-space pretty form (the
// pretty-vs-compact bug of FORMAT.md §2.3).
func checksumMatches(want string, t []byte) bool {
	if strconv.FormatInt(int64(legacyHashBytes(t)), 36) == want {
		return true
	}
	var compact bytes.Buffer
	if json.Compact(&compact, t) != nil {
		return false
	}
	if strconv.FormatInt(int64(legacyHashBytes(compact.Bytes())), 36) == want {
		return true
	}
	var pretty bytes.Buffer
	return json.Indent(&pretty, compact.Bytes(), "", "  ") == nil && strconv.FormatInt(int64(legacyHashBytes(pretty.Bytes())), 36) == want
}

// gunzipBase64 decodes base64 (padding optional) and inflates gzip.
func gunzipBase64(s string) ([]byte, error) { return gunzipBase64Bytes([]byte(s)) }

func gunzipBase64Bytes(s []byte) ([]byte, error) {
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(raw, s)
	if err != nil {
		t := bytes.TrimRight(s, "=")
		raw = make([]byte, base64.RawStdEncoding.DecodedLen(len(t)))
		if n, err = base64.RawStdEncoding.Decode(raw, t); err != nil {
			return nil, corruptf("GZIP_V1 payload: bad base64: %v", err)
		}
	}
	return gunzip(raw[:n])
}

// gzipReaders are reused: a reader's window is 32 KB, and every chunked
// session file is a gzip stream.
var gzipReaders sync.Pool

func gunzip(raw []byte) ([]byte, error) {
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(raw))
	} else {
		err = zr.Reset(bytes.NewReader(raw))
	}
	if err != nil {
		return nil, corruptf("gzip: %v", err)
	}
	defer gzipReaders.Put(zr)
	// The gzip trailer says how long the text is (modulo 4 GiB): read it
	// into one buffer of that size rather than a growing one. A deflate
	// stream expands at most 1032 times, which bounds a lying trailer.
	var out bytes.Buffer
	if n := len(raw); n >= 18 {
		hint := min(int64(binary.LittleEndian.Uint32(raw[n-4:])), 1032*int64(n), maxInflate)
		out.Grow(int(hint) + bytes.MinRead)
	}
	if _, err := out.ReadFrom(io.LimitReader(zr, maxInflate+1)); err != nil {
		return nil, corruptf("gzip: %v", err)
	}
	if out.Len() > maxInflate {
		return nil, corruptf("gzip: payload larger than %d bytes", maxInflate)
	}
	return out.Bytes(), nil
}

// EncodeEnvelope builds the bytes the old app would have written for
// value: a pretty envelope with encoding EncodingPlain, EncodingGzip or
// EncodingJSONString, the given timestamp and a correct checksum over
// the compact JSON text (era G+ behaviour) or, when prettyHash is set,
// over the pretty text (eras B–F). It exists for tests and tools that
// need legacy fixtures.
func EncodeEnvelope(value any, encoding string, timestamp int64, prettyHash bool) ([]byte, error) {
	compact, err := marshalCompact(value)
	if err != nil {
		return nil, err
	}
	text := compact
	if prettyHash {
		var pb bytes.Buffer
		if err := json.Indent(&pb, compact, "", "  "); err != nil {
			return nil, err
		}
		text = pb.Bytes()
	}
	env := map[string]any{"version": 1, "checksum": LegacyChecksum(string(text)), "timestamp": timestamp}
	var data any
	switch encoding {
	case EncodingPlain:
		data = json.RawMessage(compact)
	case EncodingGzip:
		var zb bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&zb, gzip.BestCompression)
		if _, err := zw.Write(text); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		data = gzipPrefix + base64.StdEncoding.EncodeToString(zb.Bytes())
		env["compressed"] = true
	case EncodingJSONString:
		data = string(text)
		env["compressed"] = false
	default:
		return nil, corruptf("unknown encoding %q", encoding)
	}
	env["data"] = data
	// Field order as the old app wrote it.
	var out bytes.Buffer
	out.WriteString("{")
	first := true
	for _, k := range []string{"version", "checksum", "timestamp", "compressed", "data"} {
		v, ok := env[k]
		if !ok {
			continue
		}
		if !first {
			out.WriteString(",")
		}
		first = false
		kb, _ := json.Marshal(k)
		vb, err := marshalCompact(v)
		if err != nil {
			return nil, err
		}
		out.Write(kb)
		out.WriteString(":")
		out.Write(vb)
	}
	out.WriteString("}")
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	return pretty.Bytes(), nil
}

// marshalCompact encodes v as compact JSON without HTML escaping, like
// JavaScript's JSON.stringify (map keys sorted).
func marshalCompact(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
