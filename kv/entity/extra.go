package entity

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"github.com/cairnkv/cairn/buckets"
)

// Extra keeps what a typed entity's Go struct does not declare: every
// unknown field, exactly as stored, and which declared fields the stored
// document had, so that a typed read followed by a typed write drops
// nothing and adds nothing (docs/DESIGN.md invariant 3).
type Extra struct {
	fields  map[string]any
	present map[string]bool
	// exact holds declared fields whose stored value holds a number the
	// Go field cannot keep (a json.Number read into a float64 rounds):
	// written back unchanged unless the caller changed the field.
	exact map[string]exactField
}

// exactField is a declared field's stored value, and the JSON the Go
// field made of it when read.
type exactField struct {
	stored any
	asRead []byte
}

// Fields returns the unknown fields (do not modify the map).
func (e Extra) Fields() map[string]any { return e.fields }

// Get returns one unknown field.
func (e Extra) Get(name string) (any, bool) {
	v, ok := e.fields[name]
	return v, ok
}

// Set sets an unknown field. It has no effect on a declared field.
func (e *Extra) Set(name string, v any) {
	if e.fields == nil {
		e.fields = map[string]any{}
	}
	e.fields[name] = v
}

var knownFields sync.Map // reflect.Type → map[string]bool

func jsonNames(t reflect.Type) map[string]bool {
	if v, ok := knownFields.Load(t); ok {
		return v.(map[string]bool)
	}
	m := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		m[name] = true
	}
	knownFields.Store(t, m)
	return m
}

// decodeTyped fills plain (a pointer to a struct without JSON methods) from
// data and records the rest in extra.
func decodeTyped(data []byte, plain any, extra *Extra) error {
	pd := json.NewDecoder(bytes.NewReader(data))
	pd.UseNumber() // numbers in untyped nested maps keep every digit
	if err := pd.Decode(plain); err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var all map[string]any
	if err := d.Decode(&all); err != nil {
		return err
	}
	known := jsonNames(reflect.TypeOf(plain).Elem())
	*extra = Extra{present: make(map[string]bool, len(all))}
	var literal []string
	for k, v := range all {
		if known[k] {
			extra.present[k] = true
			if v == nil {
				// A declared field stored as null stays null until set.
				extra.Set(k, nil)
			}
			if hasBigNumber(v) {
				literal = append(literal, k)
			}
			continue
		}
		extra.Set(k, v)
	}
	if len(literal) == 0 {
		return nil
	}
	read, err := marshalFields(plain)
	if err != nil {
		return err
	}
	extra.exact = make(map[string]exactField, len(literal))
	for _, k := range literal {
		extra.exact[k] = exactField{stored: all[k], asRead: read[k]}
	}
	return nil
}

// hasBigNumber reports whether v holds a number that only a literal keeps
// exactly (decoded with UseNumber, every number is a json.Number).
func hasBigNumber(v any) bool {
	switch x := v.(type) {
	case json.Number:
		_, lit := buckets.NumberValue(x).(json.Number)
		return lit
	case []any:
		for _, e := range x {
			if hasBigNumber(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if hasBigNumber(e) {
				return true
			}
		}
	}
	return false
}

// marshalFields returns the JSON of each field of plain.
func marshalFields(plain any) (map[string][]byte, error) {
	b, err := json.Marshal(plain)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out, nil
}

// encodeTyped marshals plain (a struct value without JSON methods) and
// merges extra back: declared fields the stored document did not have are
// left out while they hold their zero value, unknown fields are restored.
func encodeTyped(plain any, extra Extra) ([]byte, error) {
	b, err := json.Marshal(plain)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	for k, v := range m {
		if isZeroJSON(v) && !extra.present[k] {
			delete(m, k)
		}
	}
	if len(extra.exact) > 0 {
		now, err := marshalFields(plain)
		if err != nil {
			return nil, err
		}
		for k, f := range extra.exact {
			if bytes.Equal(now[k], f.asRead) {
				m[k] = f.stored // unchanged: keep every digit
			}
		}
	}
	for k, v := range extra.fields {
		if _, set := m[k]; !set {
			m[k] = v
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func isZeroJSON(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case json.Number:
		return x == "0"
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}
