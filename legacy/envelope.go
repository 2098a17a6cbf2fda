package legacy

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"strconv"
	"strings"
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

// gzipPrefix marks a compressed envelope payload (docs/FORMAT.md §2.2).
const gzipPrefix = "GZIP_V1:"

// maxInflate bounds how many bytes one gzip payload may expand to.
const maxInflate = 1 << 30

// Envelope is one decoded legacy collection file (docs/FORMAT.md §2).
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
	// advisory: a mismatch never discards the data (docs/FORMAT.md §2.3).
	ChecksumOK bool
	// AppRejected is true when the old app's own loader would have
	// failed this file's checksum: compressed:false, with a checksum
	// right over the compact payload and not over the pretty-printed one (the era G+ bug of docs/FORMAT.md
	// §2.3), so the app loaded the collection as empty (§11.2).
	AppRejected bool
	// Encoding is one of the Encoding* constants.
	Encoding string
	// Data is the decoded payload: JSON with numbers as json.Number.
	Data any
	// RoundTrips counts the times the payload was found wrapped in a
	// GZIP_V1 string once more, by the old app's ZIP import (docs/FORMAT.md
	// §8.1), and unwrapped.
	RoundTrips int

	loose []rawValue // values of a non-object payload decoding changed
	// repeated are the earlier values of the envelope's repeated member
	// names (its top-level object is no document: the scan keeps them
	// in Extras, keepContainerRaw), path "/<name>".
	repeated []rawValue
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
	env, _, err := decodeEnvelope(b, nil)
	return env, err
}

// decodeEnvelope is DecodeEnvelope; with a spill, a payload that is a
// JSON array is checked but not decoded: Data is then a *lazyArray whose
// elements are decoded one at a time by the caller. Its text is b itself
// (aliased reports it: the array then uses b after the call) or, for a
// GZIP_V1 or JSON-string payload, a spill file.
func decodeEnvelope(b []byte, sp *spill) (env *Envelope, aliased bool, err error) {
	f, err := frame(b)
	if err != nil {
		return nil, false, err
	}
	env = f.env
	var text []byte // the payload's JSON text
	switch {
	case !f.str:
		text = f.data
	case f.gzip:
		if sp != nil {
			if env.Data, err = spillGzip(sp, f.data); err != nil {
				return nil, false, err
			}
			break
		}
		buf := getBuf()
		defer putBuf(buf)
		if *buf, err = gunzipBase64Into((*buf)[:0], f.data); err != nil {
			return nil, false, err
		}
		text = *buf
	case env.Compressed != nil && !*env.Compressed:
		env.Encoding = EncodingJSONString
		if sp != nil {
			if env.Data, err = spillString(sp, f.data, env); err != nil {
				return nil, false, err
			}
			break
		}
		d := jdec{b: f.data}
		s, problem, err := d.str()
		if err != nil {
			return nil, false, corruptf("envelope data: %v", err)
		}
		env.noteString(problem, f.data)
		text = []byte(s)
	default:
		env.Encoding = EncodingPlain
		d := jdec{b: f.data}
		s, problem, err := d.str()
		if err != nil {
			return nil, false, corruptf("envelope data: %v", err)
		}
		env.noteString(problem, f.data)
		env.Data = s
		text = f.data // what the checksum covers: the string as stored
	}
	if env.Data == nil { // JSON text, possibly empty
		env.verify(text)
		if sp != nil {
			if a, ok := indexArray(text); ok {
				env.Data = a
				return env, true, nil
			}
		}
		v, loose, err := decodeJSONLoose(text)
		if err != nil {
			switch env.Encoding {
			case EncodingGzip:
				return nil, false, corruptf("decompressed payload: %v", err)
			case EncodingJSONString:
				return nil, false, corruptf("uncompressed JSON-string payload: %v", err)
			case EncodingPlain:
				return nil, false, corruptf("envelope data: %v", err)
			}
			return nil, false, err
		}
		env.Data = v
		env.loose = append(env.loose, loose...)
		env.unwrapRoundTrip()
		return env, false, nil
	}
	if a, ok := env.Data.(*lazyArray); ok {
		// Spilled: the checksum is verified over the spill text, and a
		// payload that is not an array is decoded from it.
		env.verify(a.text)
		if a.offs == nil {
			defer a.close()
			v, loose, err := decodeJSONLoose(a.text)
			if err != nil {
				if env.Encoding == EncodingGzip {
					return nil, false, corruptf("decompressed payload: %v", err)
				}
				return nil, false, corruptf("uncompressed JSON-string payload: %v", err)
			}
			env.Data = v
			env.loose = append(env.loose, loose...)
			env.unwrapRoundTrip()
		}
		return env, false, nil
	}
	env.verify(text)
	return env, false, nil
}

// maxRoundTrips bounds unwrapRoundTrip: each ZIP import of an export of
// the app's own files wraps a payload once more.
const maxRoundTrips = 8

// unwrapRoundTrip decodes a payload that decoded to a GZIP_V1 string: the
// old app's adapter-level ZIP import saved such a string, read from a
// file of its export without being decompressed, as the collection's
// value, which its next save compressed again (docs/FORMAT.md §8.1). The
// string is decoded as the payload it is (decompressed, then JSON), for as
// many imports as made it; a string that does not decode stays as it is.
func (env *Envelope) unwrapRoundTrip() {
	for range maxRoundTrips {
		str, ok := env.Data.(string)
		if !ok || !strings.HasPrefix(str, gzipPrefix) {
			return
		}
		text, err := gunzipBase64(str[len(gzipPrefix):])
		if err != nil {
			return
		}
		v, loose, err := decodeJSONLoose(text)
		if err != nil {
			return
		}
		env.Data = v
		env.loose = append(env.loose, loose...)
		env.RoundTrips++
	}
}

// verify sets ChecksumOK and AppRejected from the payload text t.
func (env *Envelope) verify(t []byte) {
	if env.Checksum == "" {
		return
	}
	env.ChecksumOK = checksumMatches(env.Checksum, t)
	if env.ChecksumOK && env.Compressed != nil && !*env.Compressed {
		// Right over another form (compact JSON) and wrong over the
		// pretty one: the bug's mark. A checksum wrong over every form
		// is damage, not this bug.
		_, _, pretty := checksumForms(t)
		env.AppRejected = strconv.FormatInt(int64(pretty), 36) != env.Checksum
	}
}

// noteString records that the envelope's string payload had to be
// changed to be decoded (invalid UTF-8, unpaired surrogates).
func (e *Envelope) noteString(problem string, token []byte) {
	if problem != "" {
		e.loose = append(e.loose, rawValue{problem: problem, raw: append([]byte(nil), token...)})
	}
}

// framed is a collection file's framing: the envelope's header fields
// and where its payload is.
type framed struct {
	env  *Envelope
	data []byte // the payload's JSON text, or its string token when str
	str  bool
	gzip bool // str, and the string is a GZIP_V1 payload
}

// frame finds the envelope of a collection file (docs/FORMAT.md §2.1): an
// object with a truthy version and a data member; anything else is a
// raw file whose whole text is the payload.
func frame(b []byte) (framed, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	raw := framed{env: &Envelope{Encoding: EncodingRaw}, data: b}
	members, repeated, ok := topMembers(b)
	if !ok {
		return raw, nil
	}
	data, hasData := members["data"]
	ver, hasVersion := members["version"]
	if !hasData || !hasVersion {
		return raw, nil
	}
	if v, err := decodeJSON(ver); err != nil || !truthy(v) {
		return raw, nil
	}
	env := &Envelope{Wrapped: true, repeated: repeated}
	if t, ok := members["timestamp"]; ok {
		if v, err := decodeJSON(t); err == nil {
			env.Timestamp, _ = numInt64(v)
		}
	}
	if c, ok := members["compressed"]; ok && (string(c) == "true" || string(c) == "false") {
		v := string(c) == "true"
		env.Compressed = &v
	}
	if c, ok := members["checksum"]; ok {
		if v, err := decodeJSON(c); err == nil {
			env.Checksum, _ = v.(string)
		}
	}
	f := framed{env: env, data: data, str: data[0] == '"'}
	if f.str {
		f.gzip = bytes.HasPrefix(data[1:], []byte(gzipPrefix))
		if f.gzip {
			env.Encoding = EncodingGzip
		}
	} else {
		env.Encoding = EncodingPlain
	}
	return f, nil
}

// topMembers returns the text of each member of the JSON object that is
// the whole of b (the last of a repeated name, as the old app's
// JSON.parse), the earlier values of repeated names, and false when b is
// not exactly one valid JSON object.
func topMembers(b []byte) (map[string][]byte, []rawValue, bool) {
	d := jdec{b: b}
	d.skipSpace()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return nil, nil, false
	}
	var repeated []rawValue
	d.i++
	m := map[string][]byte{}
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
	} else {
		for {
			if d.i >= len(d.b) || d.b[d.i] != '"' {
				return nil, nil, false
			}
			k, _, err := d.str()
			if err != nil {
				return nil, nil, false
			}
			d.skipSpace()
			if d.i >= len(d.b) || d.b[d.i] != ':' {
				return nil, nil, false
			}
			d.i++
			d.skipSpace()
			start := d.i
			if d.skip(1) != nil {
				return nil, nil, false
			}
			if prev, ok := m[k]; ok {
				repeated = append(repeated, rawValue{path: "/" + pointerEscape(k), problem: ProblemDuplicate + " " + strconv.Quote(k), raw: append([]byte(nil), prev...)})
			}
			m[k] = d.b[start:d.i]
			d.skipSpace()
			if d.i >= len(d.b) {
				return nil, nil, false
			}
			if d.b[d.i] == '}' {
				d.i++
				break
			}
			if d.b[d.i] != ',' {
				return nil, nil, false
			}
			d.i++
			d.skipSpace()
		}
	}
	d.skipSpace()
	return m, repeated, d.i == len(d.b)
}

// checksumMatches tries every text form the old app may have hashed: the
// text as stored, its compact form and its 2-space pretty form (the
// pretty-vs-compact bug of docs/FORMAT.md §2.3).
func checksumMatches(want string, t []byte) bool {
	if strconv.FormatInt(int64(legacyHashBytes(t)), 36) == want {
		return true // the usual case, cheaper than the other forms
	}
	stored, compact, pretty := checksumForms(t)
	for _, h := range []int32{stored, compact, pretty} {
		if strconv.FormatInt(int64(h), 36) == want {
			return true
		}
	}
	return false
}

// checksumForms computes the old app's hash of valid JSON text t as it
// is, as compact JSON and as json.Indent(compact, "", "  ") would print
// it, in one pass and without building either form.
func checksumForms(t []byte) (stored, compact, pretty int32) {
	inStr, esc, needIndent := false, false, false
	depth := 0
	add := func(h *int32, c byte) { *h = *h*31 + int32(c) }
	newline := func() {
		add(&pretty, '\n')
		for range depth {
			add(&pretty, ' ')
			add(&pretty, ' ')
		}
	}
	for i := 0; i < len(t); {
		c := t[i]
		if c >= utf8.RuneSelf {
			// Only inside strings (the text is valid JSON): every form
			// holds it as it is.
			r, n := utf8.DecodeRune(t[i:])
			stored, compact, pretty = addUTF16(stored, r), addUTF16(compact, r), addUTF16(pretty, r)
			i += n
			continue
		}
		i++
		add(&stored, c)
		if inStr {
			add(&compact, c)
			add(&pretty, c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		add(&compact, c)
		if needIndent && c != '}' && c != ']' {
			needIndent = false
			depth++
			newline()
		}
		switch c {
		case '{', '[':
			needIndent = true
			add(&pretty, c)
		case ',':
			add(&pretty, c)
			newline()
		case ':':
			add(&pretty, c)
			add(&pretty, ' ')
		case '}', ']':
			if needIndent {
				needIndent = false
			} else {
				depth--
				newline()
			}
			add(&pretty, c)
		default:
			if c == '"' {
				inStr = true
			}
			add(&pretty, c)
		}
	}
	return stored, compact, pretty
}

// bufs are reused for decoded base64 and decompressed text: every
// chunked-session file is a GZIP_V1 payload, decoded and let go.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func getBuf() *[]byte { return bufs.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 8<<20 { // a rare large one is not kept
		*b = (*b)[:0]
		bufs.Put(b)
	}
}

// gunzipBase64 decodes base64 (padding optional) and inflates gzip.
func gunzipBase64(s string) ([]byte, error) { return gunzipBase64Into(nil, []byte(s)) }

// gunzipBase64Into decodes the GZIP_V1 string token tok (quotes and
// prefix included) or bare base64 text, appending the text to dst.
func gunzipBase64Into(dst, tok []byte) ([]byte, error) {
	s := tok
	if len(s) >= 2 && s[0] == '"' {
		s = s[1+len(gzipPrefix) : len(s)-1]
	}
	raw := getBuf()
	defer putBuf(raw)
	n := base64.RawStdEncoding.DecodedLen(len(s)) // room for either decoding (Decode panics without)
	if cap(*raw) < n {
		*raw = make([]byte, n)
	}
	*raw = (*raw)[:n]
	n, err := base64.StdEncoding.Decode(*raw, s)
	if err != nil {
		t := bytes.TrimRight(s, "=")
		if n, err = base64.RawStdEncoding.Decode(*raw, t); err != nil {
			return nil, corruptf("GZIP_V1 payload: bad base64: %v", err)
		}
	}
	return gunzipInto(dst, (*raw)[:n])
}

// gzipReaders are reused: a reader's window is 32 KB, and every chunked
// session file is a gzip stream.
var gzipReaders sync.Pool

func gunzip(raw []byte) ([]byte, error) { return gunzipInto(nil, raw) }

// gunzipInto inflates gzip bytes, appending the text to dst.
func gunzipInto(dst, raw []byte) ([]byte, error) {
	zr, err := gzipReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	defer gzipReaders.Put(zr)
	// The gzip trailer says how long the text is (modulo 4 GiB): read it
	// into one buffer of that size rather than a growing one. A deflate
	// stream expands at most 1032 times, which bounds a lying trailer.
	out := bytes.NewBuffer(dst)
	if n := len(raw); n >= 18 {
		hint := min(int64(binary.LittleEndian.Uint32(raw[n-4:])), 1032*int64(n), maxInflate)
		out.Grow(int(hint) + bytes.MinRead)
	}
	if _, err := out.ReadFrom(io.LimitReader(zr, maxInflate+1)); err != nil {
		return nil, corruptf("gzip: %v", err)
	}
	if out.Len()-len(dst) > maxInflate {
		return nil, corruptf("gzip: payload larger than %d bytes", maxInflate)
	}
	return out.Bytes(), nil
}

func gzipReader(r io.Reader) (*gzip.Reader, error) {
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(r)
	} else {
		err = zr.Reset(r)
	}
	if err != nil {
		return nil, corruptf("gzip: %v", err)
	}
	return zr, nil
}

// spillGzip decodes a GZIP_V1 string token into a spill file and
// returns its text as a lazy array (offs nil when it is not an array).
func spillGzip(sp *spill, tok []byte) (*lazyArray, error) {
	s := bytes.TrimRight(tok[1+len(gzipPrefix):len(tok)-1], "=")
	b64 := base64.NewDecoder(base64.RawStdEncoding, bytes.NewReader(s))
	return spillArray(sp, func(w io.Writer) error {
		zr, err := gzipReader(b64)
		if err != nil {
			if _, ok := err.(base64.CorruptInputError); ok {
				return corruptf("GZIP_V1 payload: bad base64: %v", err)
			}
			return err
		}
		defer gzipReaders.Put(zr)
		n, err := io.Copy(w, io.LimitReader(zr, maxInflate+1))
		if err != nil {
			if _, ok := err.(base64.CorruptInputError); ok {
				return corruptf("GZIP_V1 payload: bad base64: %v", err)
			}
			return corruptf("gzip: %v", err)
		}
		if n > maxInflate {
			return corruptf("gzip: payload larger than %d bytes", maxInflate)
		}
		return nil
	})
}

// spillString unescapes a JSON-string payload token into a spill file.
func spillString(sp *spill, tok []byte, env *Envelope) (*lazyArray, error) {
	return spillArray(sp, func(w io.Writer) error {
		d := jdec{b: tok}
		problem, err := d.strTo(w)
		if err != nil {
			return corruptf("envelope data: %v", err)
		}
		env.noteString(problem, tok)
		return nil
	})
}

// spillArray writes a payload's text to a spill file and indexes it
// when it is a JSON array.
func spillArray(sp *spill, write func(w io.Writer) error) (*lazyArray, error) {
	b, release, err := sp.text(write)
	if err != nil {
		return nil, err
	}
	if a, ok := indexArray(b); ok {
		a.release = release
		return a, nil
	}
	return &lazyArray{text: b, release: release}, nil
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
