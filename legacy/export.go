package legacy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// ExportVersion and ExportAppVersion are what the old app writes and
// requires in an export file (FORMAT.md §8.1).
const (
	ExportVersion    = "1.0.0"
	ExportAppVersion = "0.5.1"
)

// exportCollections are the entity arrays of an export file, in the
// order the old app writes them.
var exportCollections = []string{"topics", "companies", "contacts", "notes", "tasks", "sessions"}

// Export is a decoded export file: the old app's format 1.0.0 or its
// older shape without version, plus Cairn's extra keys.
type Export struct {
	Version    string // "" for the old A/B shape
	ExportedAt string
	AppVersion string

	// Collections holds topics, companies, contacts, notes, tasks,
	// sessions and (Cairn's extra key) attachments, in file order. A
	// missing or null array is absent from the map.
	Collections map[string][]map[string]any

	AISettings  any
	Preferences any
	Settings    map[string]any // Cairn extra key
	Extras      map[string]any // Cairn extra key
	// Unknown keeps every other top-level key verbatim.
	Unknown map[string]any
}

// ReadExport decodes and validates a whole export file before returning
// anything. Entities must be objects with a usable id (see CheckID);
// version, when present, must be "1.0.0" and then exportedAt is required.
// Extra keys are kept. Errors are *ExportError values naming the JSON
// path and byte offset, for example "sessions[3].id: missing (byte 1234)".
func ReadExport(r io.Reader) (*Export, error) {
	cols := map[string][]map[string]any{}
	x, err := EachExport(r, func(coll string, _ int, doc map[string]any) error {
		cols[coll] = append(cols[coll], doc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for coll := range x.Collections {
		if x.Collections[coll] = cols[coll]; cols[coll] == nil {
			x.Collections[coll] = []map[string]any{}
		}
	}
	return x, nil
}

// EachExport reads an export file as ReadExport does, with the same
// validation and errors, but hands the entities to fn one at a time
// instead of holding them: fn gets the collection, the entity's index in
// its array and the document, which is fn's to keep. The returned Export
// holds everything else; its Collections map has a key, with a nil slice,
// for every collection the file holds. An error from fn stops the read and
// is returned as it is. A top-level key given twice is an error.
func EachExport(r io.Reader, fn func(coll string, i int, doc map[string]any) error) (*Export, error) {
	cr := &countingReader{r: r}
	dec := json.NewDecoder(cr)
	dec.UseNumber()
	x := &Export{Collections: map[string][]map[string]any{}, Unknown: map[string]any{}}
	fail := func(p string, off int64, format string, args ...any) error {
		return &ExportError{Path: p, Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	decodeErr := func(p string, off int64, err error) error {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fail(p, se.Offset, "%v", se)
		case errors.As(err, &te):
			return fail(p, te.Offset, "%v", te)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return fail(p, cr.n, "truncated file")
		}
		return fail(p, off, "%v", err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, decodeErr("", 0, err)
	}
	if tok != json.Delim('{') {
		return nil, fail("", 0, "not a JSON object")
	}
	hasVersion, hasExportedAt := false, false
	seen := map[string]bool{}
	for dec.More() {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, decodeErr("", off, err)
		}
		key, _ := tok.(string)
		off = nextValueOffset(dec)
		if seen[key] {
			return nil, fail(key, off, "the key appears twice")
		}
		seen[key] = true
		switch key {
		case "topics", "companies", "contacts", "notes", "tasks", "sessions", "attachments":
			present, err := readExportArray(dec, key, decodeErr, fail, func(i int, m map[string]any) error { return fn(key, i, m) })
			if err != nil {
				return nil, err
			}
			if present {
				x.Collections[key] = nil
			}
			continue
		}
		v, err := decodeLimited(dec)
		if err != nil {
			return nil, limitErr(key, off, err, decodeErr, fail)
		}
		str := func() (string, error) {
			s, ok := v.(string)
			if !ok {
				return "", fail(key, off, "%s, want a string", kindOf(v))
			}
			return s, nil
		}
		switch key {
		case "version":
			s, err := str()
			if err != nil {
				return nil, err
			}
			if s != ExportVersion {
				return nil, fail(key, off, "unsupported version %q, want %q", s, ExportVersion)
			}
			x.Version, hasVersion = s, true
		case "exportedAt":
			s, err := str()
			if err != nil {
				return nil, err
			}
			x.ExportedAt, hasExportedAt = s, s != ""
		case "appVersion":
			if s, ok := v.(string); ok {
				x.AppVersion = s
			} else {
				x.Unknown[key] = v
			}
		case "aiSettings":
			x.AISettings = v
		case "preferences":
			x.Preferences = v
		case "settings", "extras":
			m, ok := v.(map[string]any)
			if !ok && v != nil {
				return nil, fail(key, off, "%s, want an object", kindOf(v))
			}
			if key == "settings" {
				x.Settings = m
			} else {
				x.Extras = m
			}
		default:
			x.Unknown[key] = v
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, decodeErr("", dec.InputOffset(), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail("", dec.InputOffset(), "data after the top-level object")
	}
	if hasVersion && !hasExportedAt {
		return nil, fail("exportedAt", dec.InputOffset(), "missing")
	}
	return x, nil
}

// readExportArray reads one collection's array, handing each valid
// entity to each; present is false for null.
func readExportArray(dec *json.Decoder, key string, decodeErr func(string, int64, error) error,
	fail func(string, int64, string, ...any) error, each func(i int, m map[string]any) error) (present bool, err error) {
	off := nextValueOffset(dec)
	tok, err := dec.Token()
	if err != nil {
		return false, decodeErr(key, off, err)
	}
	if tok == nil {
		return false, nil
	}
	if tok != json.Delim('[') {
		return false, fail(key, off, "not an array")
	}
	for i := 0; dec.More(); i++ {
		p := fmt.Sprintf("%s[%d]", key, i)
		off := nextValueOffset(dec)
		v, err := decodeLimited(dec)
		if err != nil {
			return false, limitErr(p, off, err, decodeErr, fail)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return false, fail(p, off, "%s, want an object", kindOf(v))
		}
		if _, err := CheckID(m["id"]); err != nil {
			msg := "missing"
			if m["id"] != nil {
				msg = err.Error()
			}
			return false, fail(p+".id", off, "%s", msg)
		}
		if err := each(i, m); err != nil {
			return false, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return false, decodeErr(key, dec.InputOffset(), err)
	}
	return true, nil
}

// errTooManyValues marks a value refused by kv.CheckValueCount.
type errTooManyValues struct{ err error }

func (e errTooManyValues) Error() string { return e.err.Error() }

// decodeLimited decodes the next value, refusing one that holds more than
// kv.MaxValues values before decoding it: ten million small numbers take
// gigabytes once decoded.
func decodeLimited(dec *json.Decoder) (any, error) {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	if err := kv.CheckValueCount(raw); err != nil {
		return nil, errTooManyValues{err}
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func limitErr(p string, off int64, err error, decodeErr func(string, int64, error) error, fail func(string, int64, string, ...any) error) error {
	if errors.As(err, new(errTooManyValues)) {
		return fail(p, off, "holds more than %d values (the limit of one document)", kv.MaxValues)
	}
	return decodeErr(p, off, err)
}

// DocIter yields documents one at a time; it stops and returns the first
// error yield returns. It lets WriteExport stream collections that do
// not fit in memory.
type DocIter func(yield func(doc map[string]any) error) error

// SliceDocs adapts a slice to a DocIter.
func SliceDocs(docs []map[string]any) DocIter {
	return func(yield func(map[string]any) error) error {
		for _, d := range docs {
			if err := yield(d); err != nil {
				return err
			}
		}
		return nil
	}
}

// EntityDocs adapts a Dataset collection to a DocIter, in id order.
func EntityDocs(m map[string]Entity) DocIter {
	return func(yield func(map[string]any) error) error {
		ids := make([]string, 0, len(m))
		for id := range m {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			if err := yield(m[id].Doc); err != nil {
				return err
			}
		}
		return nil
	}
}

// ExportSource is what WriteExport writes. Nil iterators write empty
// arrays (attachments is omitted when nil); nil Settings and Extras are
// omitted.
type ExportSource struct {
	Topics, Companies, Contacts, Notes, Tasks, Sessions DocIter
	AISettings, Preferences                             any
	// Cairn's extra keys; the old app ignores them.
	Settings    map[string]any
	Attachments DocIter // attachment metadata records (no bytes)
	Extras      map[string]any
	// Unknown are further top-level keys written after extras, in key
	// order (Export.Unknown read back); names the format uses are skipped.
	Unknown map[string]any
	// ExportedAt defaults to the current time.
	ExportedAt time.Time
	// Compact writes one line; the default is the old app's 2-space
	// indented form.
	Compact bool
}

var reservedExportKeys = map[string]bool{
	"topics": true, "companies": true, "contacts": true, "notes": true, "tasks": true, "sessions": true,
	"aiSettings": true, "preferences": true, "exportedAt": true, "version": true, "appVersion": true,
	"settings": true, "attachments": true, "extras": true,
}

// Source returns an ExportSource that writes x back out, unknown keys
// included.
func (x *Export) Source() ExportSource {
	at, _ := time.Parse(time.RFC3339Nano, x.ExportedAt)
	src := ExportSource{
		Topics: SliceDocs(x.Collections["topics"]), Companies: SliceDocs(x.Collections["companies"]),
		Contacts: SliceDocs(x.Collections["contacts"]), Notes: SliceDocs(x.Collections["notes"]),
		Tasks: SliceDocs(x.Collections["tasks"]), Sessions: SliceDocs(x.Collections["sessions"]),
		AISettings: x.AISettings, Preferences: x.Preferences, Settings: x.Settings, Extras: x.Extras, ExportedAt: at,
		Unknown: x.Unknown,
	}
	if a, ok := x.Collections["attachments"]; ok {
		src.Attachments = SliceDocs(a)
	}
	return src
}

// DatasetSource returns an ExportSource over a scanned Dataset.
func DatasetSource(ds *Dataset) ExportSource {
	return ExportSource{
		Topics: EntityDocs(ds.Collections["topics"]), Companies: EntityDocs(ds.Collections["companies"]),
		Contacts: EntityDocs(ds.Collections["contacts"]), Notes: EntityDocs(ds.Collections["notes"]),
		Tasks: EntityDocs(ds.Collections["tasks"]), Sessions: EntityDocs(ds.Collections["sessions"]),
		Attachments: EntityDocs(ds.Collections["attachments"]),
		AISettings:  ds.AISettings, Preferences: ds.Preferences, Settings: ds.Settings, Extras: ds.Extras,
	}
}

// WriteExport streams an export file in the old app's format 1.0.0
// ({topics, companies, contacts, notes, tasks, sessions, aiSettings,
// preferences, exportedAt, version, appVersion}) followed by Cairn's extra
// keys settings, attachments and extras. Only one document is held at a
// time. Every entity must have a usable id.
func WriteExport(w io.Writer, src ExportSource) error {
	ew := &exportWriter{w: bufio.NewWriterSize(w, 64<<10), compact: src.Compact}
	ew.w.WriteByte('{')
	iters := []DocIter{src.Topics, src.Companies, src.Contacts, src.Notes, src.Tasks, src.Sessions}
	for i, name := range exportCollections {
		if err := ew.array(name, iters[i]); err != nil {
			return err
		}
	}
	at := src.ExportedAt
	if at.IsZero() {
		at = time.Now()
	}
	fields := []struct {
		k string
		v any
	}{
		{"aiSettings", src.AISettings}, {"preferences", src.Preferences},
		{"exportedAt", at.UTC().Format("2006-01-02T15:04:05.000Z")},
		{"version", ExportVersion}, {"appVersion", ExportAppVersion},
	}
	if src.Settings != nil {
		fields = append(fields, struct {
			k string
			v any
		}{"settings", src.Settings})
	}
	for _, f := range fields {
		if err := ew.value(f.k, f.v); err != nil {
			return err
		}
	}
	if src.Attachments != nil {
		if err := ew.array("attachments", src.Attachments); err != nil {
			return err
		}
	}
	if src.Extras != nil {
		if err := ew.value("extras", src.Extras); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(src.Unknown))
	for k := range src.Unknown {
		if !reservedExportKeys[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := ew.value(k, src.Unknown[k]); err != nil {
			return err
		}
	}
	if !ew.compact {
		ew.w.WriteByte('\n')
	}
	ew.w.WriteByte('}')
	if !ew.compact {
		ew.w.WriteByte('\n')
	}
	return ew.w.Flush()
}

type exportWriter struct {
	w       *bufio.Writer
	compact bool
	n       int // top-level keys written
	buf     bytes.Buffer
}

func (ew *exportWriter) key(k string) {
	if ew.n > 0 {
		ew.w.WriteByte(',')
	}
	ew.n++
	if !ew.compact {
		ew.w.WriteString("\n  ")
	}
	kb, _ := json.Marshal(k)
	ew.w.Write(kb)
	ew.w.WriteByte(':')
	if !ew.compact {
		ew.w.WriteByte(' ')
	}
}

// encode writes v at the given indent depth (pretty form only).
func (ew *exportWriter) encode(v any, prefix string) error {
	b, err := marshalCompact(v)
	if err != nil {
		return err
	}
	if ew.compact {
		_, err = ew.w.Write(b)
		return err
	}
	ew.buf.Reset()
	if err := json.Indent(&ew.buf, b, prefix, "  "); err != nil {
		return err
	}
	_, err = ew.w.Write(ew.buf.Bytes())
	return err
}

func (ew *exportWriter) value(k string, v any) error {
	ew.key(k)
	return ew.encode(v, "  ")
}

func (ew *exportWriter) array(name string, it DocIter) error {
	ew.key(name)
	ew.w.WriteByte('[')
	n := 0
	if it != nil {
		err := it(func(doc map[string]any) error {
			if _, err := CheckID(doc["id"]); err != nil {
				return fmt.Errorf("legacy: export %s[%d].id: %w", name, n, err)
			}
			if n > 0 {
				ew.w.WriteByte(',')
			}
			if !ew.compact {
				ew.w.WriteString("\n    ")
			}
			n++
			return ew.encode(doc, "    ")
		})
		if err != nil {
			return err
		}
	}
	if n > 0 && !ew.compact {
		ew.w.WriteString("\n  ")
	}
	ew.w.WriteByte(']')
	return nil
}

// countingReader counts the bytes handed to the decoder (for the offset
// of a truncated file).
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// nextValueOffset is the byte offset where the next value starts: the
// decoder's position plus any separators (space, ',' and ':') still
// buffered before it.
func nextValueOffset(dec *json.Decoder) int64 {
	off := dec.InputOffset()
	br, ok := dec.Buffered().(*bytes.Reader)
	if !ok {
		return off
	}
	for {
		c, err := br.ReadByte()
		if err != nil {
			return off
		}
		switch c {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
}
