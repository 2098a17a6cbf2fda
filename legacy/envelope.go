package legacy

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
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
	var h int32
	for _, u := range utf16.Encode([]rune(text)) {
		h = h*31 + int32(u)
	}
	return strconv.FormatInt(int64(h), 36)
}

// DecodeEnvelope decodes the bytes of a legacy collection file: an
// envelope with a plain, GZIP_V1 or JSON-string payload, or a raw JSON
// file. The checksum is verified but only reported (Envelope.ChecksumOK).
// Errors wrap ErrCorrupt.
func DecodeEnvelope(b []byte) (*Envelope, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &top); err == nil {
			if env, ok, err := decodeWrapped(top); ok {
				return env, err
			}
		}
	}
	v, err := decodeJSON(b)
	if err != nil {
		return nil, err
	}
	return &Envelope{Encoding: EncodingRaw, Data: v}, nil
}

func decodeWrapped(top map[string]json.RawMessage) (*Envelope, bool, error) {
	rawData, hasData := top["data"]
	rawVersion, hasVersion := top["version"]
	if !hasData || !hasVersion {
		return nil, false, nil
	}
	ver, err := decodeJSON(rawVersion)
	if err != nil || !truthy(ver) {
		return nil, false, nil
	}
	env := &Envelope{Wrapped: true}
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
	var hashText []string // texts whose forms the checksum may cover
	dataTrim := bytes.TrimSpace(rawData)
	if len(dataTrim) > 0 && dataTrim[0] == '"' {
		var s string
		if err := json.Unmarshal(dataTrim, &s); err != nil {
			return nil, true, corruptf("envelope data: %v", err)
		}
		switch {
		case strings.HasPrefix(s, gzipPrefix):
			text, err := gunzipBase64(s[len(gzipPrefix):])
			if err != nil {
				return nil, true, err
			}
			v, err := decodeJSON(text)
			if err != nil {
				return nil, true, corruptf("decompressed payload: %v", err)
			}
			env.Encoding, env.Data = EncodingGzip, v
			hashText = []string{string(text)}
		case env.Compressed != nil && !*env.Compressed:
			v, err := decodeJSON([]byte(s))
			if err != nil {
				return nil, true, corruptf("uncompressed JSON-string payload: %v", err)
			}
			env.Encoding, env.Data = EncodingJSONString, v
			hashText = []string{s}
		default:
			env.Encoding, env.Data = EncodingPlain, s
			hashText = []string{string(dataTrim)}
		}
	} else {
		v, err := decodeJSON(dataTrim)
		if err != nil {
			return nil, true, corruptf("envelope data: %v", err)
		}
		env.Encoding, env.Data = EncodingPlain, v
		hashText = []string{string(dataTrim)}
	}
	if env.Checksum != "" {
		env.ChecksumOK = checksumMatches(env.Checksum, hashText)
	}
	return env, true, nil
}

// checksumMatches tries every text form the old app may have hashed: the
// text as stored, its compact form and its 2-space pretty form (the
// pretty-vs-compact bug of FORMAT.md §2.3).
func checksumMatches(want string, texts []string) bool {
	for _, t := range texts {
		if LegacyChecksum(t) == want {
			return true
		}
		var compact bytes.Buffer
		if json.Compact(&compact, []byte(t)) != nil {
			continue
		}
		if LegacyChecksum(compact.String()) == want {
			return true
		}
		var pretty bytes.Buffer
		if json.Indent(&pretty, compact.Bytes(), "", "  ") == nil && LegacyChecksum(pretty.String()) == want {
			return true
		}
	}
	return false
}

// gunzipBase64 decodes base64 (padding optional) and inflates gzip.
func gunzipBase64(s string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			return nil, corruptf("GZIP_V1 payload: bad base64: %v", err)
		}
	}
	return gunzip(raw)
}

func gunzip(raw []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, corruptf("gzip: %v", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, maxInflate+1))
	if err != nil {
		return nil, corruptf("gzip: %v", err)
	}
	if len(out) > maxInflate {
		return nil, corruptf("gzip: payload larger than %d bytes", maxInflate)
	}
	return out, nil
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
