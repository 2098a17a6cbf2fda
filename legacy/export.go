package legacy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/cairnkv/cairn/internal/jsonx"
	"github.com/cairnkv/cairn/kv"
)

// ExportVersion and ExportAppVersion are what the old app writes and
// requires in an export file (docs/FORMAT.md §8.1).
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

	// offsets are where the extras' members and the unknown keys start
	// in the file, by "extras.<key>" and "<key>", for errors.
	offsets map[string]int64
}

// UserCollections returns the names of the user collections the file
// holds (Cairn's "collections" key), sorted.
func (x *Export) UserCollections() []string {
	var out []string
	for name := range x.Collections {
		if isUserCollection(name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// isUserCollection reports whether name is a user collection's name: valid,
// not a built-in collection, and not a device's own bookkeeping (sync
// state, kv.IsLocalCollection: exported or imported, it would clone the
// device).
func isUserCollection(name string) bool {
	if _, err := kv.LookupCollection(name); err != nil || kv.IsLocalCollection(name) {
		return false
	}
	return !slices.Contains(kv.BuiltinCollections(), name)
}

// ReadExport decodes and validates a whole export file before returning
// anything, as EachExport does with the default document limit of kv
// (kv.DefaultOptions().MaxDocumentBytes).
func ReadExport(r io.Reader) (*Export, error) {
	cols := map[string][]map[string]any{}
	x, err := EachExport(r, kv.DefaultOptions().MaxDocumentBytes, func(coll string, _ int, doc map[string]any) error {
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

// EachExport reads an export file, validating all of it, and hands the
// entities to fn one at a time instead of holding them: fn gets the
// collection, the entity's index in its array and the document, which is
// fn's to keep. The returned Export holds everything else; its
// Collections map has a key, with a nil slice, for every collection the
// file holds. An error from fn stops the read and is returned as it is.
//
// The file must be exact JSON (see kv's ParseJSON: no invalid UTF-8, lone
// surrogate or member name given twice, at any depth); entities must be
// objects with a usable id (see CheckID), each id once per collection;
// version, when present, must be "1.0.0" and then exportedAt is required.
// Numbers are kept as json.Number literals. Each value (an entity, or a
// top-level value other than the arrays) is refused once its text passes
// maxBytes (if positive) or it holds more than kv.MaxValues values, before
// it is decoded, so memory stays bounded by the limit whatever the file
// holds. Errors are *ExportError values naming the JSON path and byte
// offset, for example "sessions[3].id: missing (byte 1234)".
func EachExport(r io.Reader, maxBytes int64, fn func(coll string, i int, doc map[string]any) error) (*Export, error) {
	d := jsonx.NewDecoder(r, jsonx.Options{MaxBytes: maxBytes, MaxValues: kv.MaxValues})
	x := &Export{Collections: map[string][]map[string]any{}, Unknown: map[string]any{}, offsets: map[string]int64{}}
	if c, err := d.Peek(); err == nil && c != '{' {
		return nil, &ExportError{Offset: d.Offset(), Msg: "not a JSON object"}
	}
	if err := d.OpenObject(); err != nil {
		return nil, exportError(err)
	}
	hasVersion, hasExportedAt := false, false
	for {
		more, err := d.Next()
		if err != nil {
			return nil, exportError(err)
		}
		if !more {
			break
		}
		key, err := d.Key()
		if err != nil {
			return nil, exportError(err)
		}
		switch key {
		case "topics", "companies", "contacts", "notes", "tasks", "sessions", "attachments":
			present, err := readExportArray(d, key, func(i int, m map[string]any) error { return fn(key, i, m) })
			if err != nil {
				return nil, err
			}
			if present {
				x.Collections[key] = nil
			}
			continue
		case "collections":
			if err := readUserCollections(d, x, fn); err != nil {
				return nil, err
			}
			continue
		case "extras":
			if err := readExtras(d, x); err != nil {
				return nil, err
			}
			continue
		}
		v, err := d.Value()
		if err != nil {
			return nil, exportError(err)
		}
		off, _, _ := d.ValueStart()
		str := func() (string, error) {
			s, ok := v.(string)
			if !ok {
				return "", &ExportError{Path: key, Offset: off, Msg: kindOf(v) + ", want a string"}
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
				return nil, &ExportError{Path: key, Offset: off, Msg: fmt.Sprintf("unsupported version %q, want %q", s, ExportVersion)}
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
		case "settings":
			m, ok := v.(map[string]any)
			if !ok && v != nil {
				return nil, &ExportError{Path: key, Offset: off, Msg: kindOf(v) + ", want an object"}
			}
			x.Settings = m
		default:
			x.Unknown[key] = v
			x.offsets[key] = off
		}
	}
	if err := d.End(); err != nil {
		var e *jsonx.Error
		if errors.As(err, &e) && errors.Is(err, jsonx.ErrSyntax) {
			return nil, &ExportError{Offset: e.Offset, Msg: "data after the top-level object"}
		}
		return nil, exportError(err)
	}
	if hasVersion && !hasExportedAt {
		return nil, &ExportError{Path: "exportedAt", Offset: d.Offset(), Msg: "missing"}
	}
	return x, nil
}

// readUserCollections reads Cairn's "collections" key, an object of the
// user collections' arrays by name, handing each entity to fn.
func readUserCollections(d *jsonx.Decoder, x *Export, fn func(coll string, i int, doc map[string]any) error) error {
	_, err := eachMember(d, "collections", "an object of user collections' arrays", func(name string, off int64) error {
		p := "collections." + name
		if kv.IsLocalCollection(name) {
			// A device's sync state, in a file written before exports
			// left it out: read past it (valid JSON, each element within
			// the limits), never imported, so never checked as documents.
			return skipValues(d)
		}
		if !isUserCollection(name) {
			return &ExportError{Path: p, Offset: off, Msg: fmt.Sprintf("%q is not a user collection's name ([a-z][a-zA-Z0-9_-]{0,63}, not a built-in collection)", name)}
		}
		present, err := readExportArray(d, p, func(i int, m map[string]any) error { return fn(name, i, m) })
		if present {
			x.Collections[name] = nil
		}
		return err
	})
	return err
}

// skipValues reads past the next value, one element at a time when it
// is an array.
func skipValues(d *jsonx.Decoder) error {
	if c, _ := d.Peek(); c != '[' {
		_, err := d.Value()
		return exportError(err)
	}
	if err := d.OpenArray(); err != nil {
		return exportError(err)
	}
	for {
		more, err := d.Next()
		if err != nil || !more {
			return exportError(err)
		}
		if _, err := d.Value(); err != nil {
			return exportError(err)
		}
	}
}

// readExtras reads Cairn's "extras" key one member at a time, so that the
// limits of one document apply to each value, not to all of them.
func readExtras(d *jsonx.Decoder, x *Export) error {
	present, err := eachMember(d, "extras", "an object", func(k string, off int64) error {
		v, err := d.Value()
		if err != nil {
			return exportError(err)
		}
		if x.Extras == nil {
			x.Extras = map[string]any{}
		}
		x.Extras[k] = v
		x.offsets["extras."+k] = off
		return nil
	})
	if present && x.Extras == nil {
		x.Extras = map[string]any{}
	}
	return err
}

// eachMember reads the top-level value of key as an object, one member at
// a time: fn gets each member's name and offset and reads its value. A
// null is absent (present false); anything else but an object is an
// *ExportError saying it wants what.
func eachMember(d *jsonx.Decoder, key, what string, fn func(name string, off int64) error) (present bool, err error) {
	if c, _ := d.Peek(); c != '{' {
		v, err := d.Value()
		if err != nil {
			return false, exportError(err)
		}
		if v == nil {
			return false, nil
		}
		off, _, _ := d.ValueStart()
		return false, &ExportError{Path: key, Offset: off, Msg: kindOf(v) + ", want " + what}
	}
	if err := d.OpenObject(); err != nil {
		return false, exportError(err)
	}
	for {
		more, err := d.Next()
		if err != nil {
			return true, exportError(err)
		}
		if !more {
			return true, nil
		}
		off := d.Offset()
		name, err := d.Key()
		if err != nil {
			return true, exportError(err)
		}
		if err := fn(name, off); err != nil {
			return true, err
		}
	}
}

// readExportArray reads one collection's array, handing each valid
// entity to each; present is false for null.
func readExportArray(d *jsonx.Decoder, key string, each func(i int, m map[string]any) error) (present bool, err error) {
	if c, _ := d.Peek(); c != '[' {
		v, err := d.Value()
		if err != nil {
			return false, exportError(err)
		}
		if v == nil {
			return false, nil
		}
		off, _, _ := d.ValueStart()
		return false, &ExportError{Path: key, Offset: off, Msg: "not an array"}
	}
	if err := d.OpenArray(); err != nil {
		return false, exportError(err)
	}
	ids := map[string]int{}
	for i := 0; ; i++ {
		more, err := d.Next()
		if err != nil {
			return false, exportError(err)
		}
		if !more {
			return true, nil
		}
		p := fmt.Sprintf("%s[%d]", key, i)
		v, err := d.Value()
		if err != nil {
			return false, exportError(err)
		}
		off, _, _ := d.ValueStart()
		m, ok := v.(map[string]any)
		if !ok {
			return false, &ExportError{Path: p, Offset: off, Msg: kindOf(v) + ", want an object"}
		}
		id, err := CheckID(m["id"])
		if err != nil {
			msg := "missing"
			if m["id"] != nil {
				msg = err.Error()
			}
			return false, &ExportError{Path: p + ".id", Offset: off, Msg: msg}
		}
		if first, dup := ids[id]; dup {
			return false, &ExportError{Path: p + ".id", Offset: off, Msg: fmt.Sprintf("the id %q appears twice in %s (first at %s[%d]); an import stores each id once", id, key, key, first)}
		}
		ids[id] = i
		if err := each(i, m); err != nil {
			return false, err
		}
	}
}

// exportError converts the decoder's errors: every refusal of the JSON
// reader is an *ExportError with its path and offset; a read error stays
// as it is.
func exportError(err error) error {
	var e *jsonx.Error
	if !errors.As(err, &e) {
		return err
	}
	if errors.Is(err, jsonx.ErrTooLarge) {
		return &ExportError{Path: e.Path, Offset: e.Offset, Msg: e.Msg, Err: kv.ErrTooLarge}
	}
	for _, kind := range []error{jsonx.ErrSyntax, jsonx.ErrInvalidUTF8, jsonx.ErrLoneSurrogate, jsonx.ErrDuplicateKey, jsonx.ErrTooDeep} {
		if errors.Is(err, kind) {
			return &ExportError{Path: e.Path, Offset: e.Offset, Msg: e.Msg}
		}
	}
	return fmt.Errorf("byte %d: %w", e.Offset, e.Err)
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
	// Collections are the user collections, by name: Cairn's
	// "collections" key, written after extras in name order (omitted
	// when empty).
	Collections map[string]DocIter
	// Unknown are further top-level keys written after the collections,
	// in key order (Export.Unknown read back); names the format uses are
	// skipped.
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
	"settings": true, "attachments": true, "extras": true, "collections": true,
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
	for _, name := range x.UserCollections() {
		if src.Collections == nil {
			src.Collections = map[string]DocIter{}
		}
		src.Collections[name] = SliceDocs(x.Collections[name])
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
// keys settings, attachments, extras and collections (the user
// collections' arrays, by name). Only one document is held at a time.
// Every entity must have a usable id.
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
	if len(src.Collections) > 0 {
		if err := ew.userCollections(src.Collections); err != nil {
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
	return ew.elements(name, it, "  ")
}

// elements writes the array of it's documents, the array itself indented
// by indent (pretty form only); path names it in errors.
func (ew *exportWriter) elements(path string, it DocIter, indent string) error {
	ew.w.WriteByte('[')
	n := 0
	if it != nil {
		err := it(func(doc map[string]any) error {
			if _, err := CheckID(doc["id"]); err != nil {
				return fmt.Errorf("legacy: export %s[%d].id: %w", path, n, err)
			}
			if n > 0 {
				ew.w.WriteByte(',')
			}
			if !ew.compact {
				ew.w.WriteString("\n" + indent + "  ")
			}
			n++
			return ew.encode(doc, indent+"  ")
		})
		if err != nil {
			return err
		}
	}
	if n > 0 && !ew.compact {
		ew.w.WriteString("\n" + indent)
	}
	ew.w.WriteByte(']')
	return nil
}

// userCollections writes Cairn's "collections" key: an object of the user
// collections' arrays, in name order.
func (ew *exportWriter) userCollections(its map[string]DocIter) error {
	ew.key("collections")
	ew.w.WriteByte('{')
	names := slices.Sorted(maps.Keys(its))
	for i, name := range names {
		if i > 0 {
			ew.w.WriteByte(',')
		}
		if !ew.compact {
			ew.w.WriteString("\n    ")
		}
		kb, _ := json.Marshal(name)
		ew.w.Write(kb)
		ew.w.WriteByte(':')
		if !ew.compact {
			ew.w.WriteByte(' ')
		}
		if err := ew.elements("collections."+name, its[name], "    "); err != nil {
			return err
		}
	}
	if len(names) > 0 && !ew.compact {
		ew.w.WriteString("\n  ")
	}
	ew.w.WriteByte('}')
	return nil
}
