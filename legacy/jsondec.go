package legacy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf16"
	"unicode/utf8"
)

// RawField is the member Scan adds to an object holding a value whose
// text the old app's file does not give exactly as a decoded JSON value
// can hold it (see the package documentation, "Input kept exactly").
const RawField = "legacyRaw"

// Problems noted in a RawField entry.
const (
	ProblemInvalidUTF8  = "invalid UTF-8"
	ProblemSurrogate    = "unpaired surrogate escape"
	ProblemDuplicate    = "duplicate member name"
	ProblemBadMemberKey = "member name not valid Unicode"
)

// maxDepth is encoding/json's nesting limit, kept so that the same
// documents are accepted.
const maxDepth = 10000

// rawValue is a value the decoding changed: where it is (a JSON pointer
// relative to the object the note is attached to, or to the decoded root
// for a loose one), why, and its exact original text.
type rawValue struct {
	path    string
	problem string
	raw     []byte
}

// entry is the RawField element for v: its path, problem, and original
// text as a string when it is valid UTF-8, else as base64.
func (v rawValue) entry() map[string]any {
	m := map[string]any{"path": v.path, "problem": v.problem}
	if utf8.Valid(v.raw) {
		m["text"] = string(v.raw)
	} else {
		m["base64"] = base64.StdEncoding.EncodeToString(v.raw)
	}
	return m
}

// rawMarked counts the RawField notes the decoder ever made: while it is
// zero, nothing decoded carries one, and no document needs to be searched
// for them.
var rawMarked atomic.Int64

// open is an array or object being decoded.
type open struct {
	obj    map[string]any // nil for an array
	key    string         // the member being decoded (objects)
	idx    int            // the element being decoded (arrays)
	start  int            // offset of '[' or '{'
	notes  []rawValue     // notes to attach to this object when it closes
	issues []string       // problems of the object itself
}

// jdec decodes JSON text: the values encoding/json's Decoder with
// UseNumber gives (map[string]any, []any, string, json.Number, bool,
// nil), accepting exactly the same texts and, like it, replacing invalid
// UTF-8 and unpaired surrogate escapes by U+FFFD and keeping the last of
// duplicate member names. Unlike it, it does not do so silently: each
// value it changed is noted, with its original text, in the RawField
// member of the innermost object holding it (named as freeRawMember
// says); changes outside any object are returned as loose.
type jdec struct {
	b     []byte
	i     int
	stk   []open
	loose []rawValue
	buf   []byte // scratch for strings with escapes
}

// decodeJSON parses exactly one JSON value with numbers kept as
// json.Number. Trailing non-space bytes are an error. Changed values are
// noted in RawField members; those outside any object are dropped (use
// decodeJSONLoose where a non-object payload matters).
func decodeJSON(b []byte) (any, error) {
	v, _, err := decodeJSONLoose(b)
	return v, err
}

// decodeJSONLoose is decodeJSON, also returning the changed values that
// no object holds (their paths relative to the root).
func decodeJSONLoose(b []byte) (any, []rawValue, error) {
	// A byte order mark an editor put at the start of a file (Windows
	// Notepad saves UTF-8 with one) is no part of its JSON: skipped in
	// every file the migration reads, as in collection files (frame) and
	// wal.log.
	b = bytes.TrimPrefix(b, []byte(utf8BOM))
	d := jdec{b: b}
	return d.whole(0)
}

// whole decodes the one value of d.b at nesting depth base.
func (d *jdec) whole(base int) (any, []rawValue, error) {
	d.skipSpace()
	if d.i >= len(d.b) {
		return nil, nil, corruptf("empty input")
	}
	v, err := d.value(base)
	if err != nil {
		return nil, nil, err
	}
	d.skipSpace()
	if d.i < len(d.b) {
		return nil, nil, corruptf("trailing data after JSON value at byte %d", d.i)
	}
	return v, d.loose, nil
}

func (d *jdec) skipSpace() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jdec) eof() error { return corruptf("truncated JSON") }

func (d *jdec) badChar(context string) error {
	if d.i >= len(d.b) {
		return d.eof()
	}
	return corruptf("invalid character %s %s at byte %d", quoteChar(d.b[d.i]), context, d.i)
}

func quoteChar(c byte) string {
	switch {
	case c == '\'':
		return `'\''`
	case c == '"':
		return `'"'`
	case c >= 0x20 && c < 0x7f:
		return "'" + string(c) + "'"
	}
	return strconv.Quote(string(rune(c)))
}

// value decodes the value at d.i (space skipped) at nesting depth depth.
func (d *jdec) value(depth int) (any, error) {
	if d.i >= len(d.b) {
		return nil, d.eof()
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		start := d.i
		s, problem, err := d.str()
		if err != nil {
			return nil, err
		}
		if problem != "" {
			d.note(rawValue{problem: problem, raw: d.b[start:d.i]})
		}
		return s, nil
	case c == '-' || c >= '0' && c <= '9':
		start := d.i
		if err := d.number(); err != nil {
			return nil, err
		}
		return json.Number(d.b[start:d.i]), nil
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, d.badChar("looking for beginning of value")
}

func (d *jdec) literal(lit string) error {
	for k := 0; k < len(lit); k++ {
		if d.i >= len(d.b) {
			return d.eof()
		}
		if d.b[d.i] != lit[k] {
			return d.badChar("in literal " + lit + " (expecting " + quoteChar(lit[k]) + ")")
		}
		d.i++
	}
	return nil
}

// number consumes a number (RFC 8259 grammar).
func (d *jdec) number() error {
	b := d.b
	if b[d.i] == '-' {
		d.i++
	}
	if d.i >= len(b) {
		return d.eof()
	}
	switch {
	case b[d.i] == '0':
		d.i++
	case b[d.i] >= '1' && b[d.i] <= '9':
		for d.i < len(b) && b[d.i] >= '0' && b[d.i] <= '9' {
			d.i++
		}
	default:
		return d.badChar("in numeric literal")
	}
	if d.i < len(b) && b[d.i] == '.' {
		d.i++
		if d.i >= len(b) {
			return d.eof()
		}
		if b[d.i] < '0' || b[d.i] > '9' {
			return d.badChar("after decimal point in numeric literal")
		}
		for d.i < len(b) && b[d.i] >= '0' && b[d.i] <= '9' {
			d.i++
		}
	}
	if d.i < len(b) && (b[d.i] == 'e' || b[d.i] == 'E') {
		d.i++
		if d.i < len(b) && (b[d.i] == '+' || b[d.i] == '-') {
			d.i++
		}
		if d.i >= len(b) {
			return d.eof()
		}
		if b[d.i] < '0' || b[d.i] > '9' {
			return d.badChar("in exponent of numeric literal")
		}
		for d.i < len(b) && b[d.i] >= '0' && b[d.i] <= '9' {
			d.i++
		}
	}
	return nil
}

func (d *jdec) object(depth int) (any, error) {
	if depth > maxDepth {
		return nil, corruptf("exceeded max depth at byte %d", d.i)
	}
	m := map[string]any{}
	d.stk = append(d.stk, open{obj: m, start: d.i})
	d.i++
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, d.closeObject()
	}
	for {
		if d.i >= len(d.b) {
			return nil, d.eof()
		}
		if d.b[d.i] != '"' {
			return nil, d.badChar("looking for beginning of object key string")
		}
		k, problem, err := d.str()
		if err != nil {
			return nil, err
		}
		f := &d.stk[len(d.stk)-1]
		if problem != "" {
			f.issues = append(f.issues, ProblemBadMemberKey+" ("+problem+")")
		}
		if _, dup := m[k]; dup {
			if is := ProblemDuplicate + " " + strconv.Quote(k); !slices.Contains(f.issues, is) {
				f.issues = append(f.issues, is)
			}
		}
		f.key = k
		d.skipSpace()
		if d.i >= len(d.b) {
			return nil, d.eof()
		}
		if d.b[d.i] != ':' {
			return nil, d.badChar("after object key")
		}
		d.i++
		d.skipSpace()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		m[k] = v
		d.skipSpace()
		if d.i >= len(d.b) {
			return nil, d.eof()
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.skipSpace()
		case '}':
			d.i++
			return m, d.closeObject()
		default:
			return nil, d.badChar("after object key:value pair")
		}
	}
}

func (d *jdec) array(depth int) (any, error) {
	if depth > maxDepth {
		return nil, corruptf("exceeded max depth at byte %d", d.i)
	}
	out := []any{}
	d.stk = append(d.stk, open{start: d.i})
	d.i++
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		d.stk = d.stk[:len(d.stk)-1]
		return out, nil
	}
	for {
		d.stk[len(d.stk)-1].idx = len(out)
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		d.skipSpace()
		if d.i >= len(d.b) {
			return nil, d.eof()
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.skipSpace()
		case ']':
			d.i++
			d.stk = d.stk[:len(d.stk)-1]
			return out, nil
		default:
			return nil, d.badChar("after array element")
		}
	}
}

// note records a changed value at the current position: for the
// innermost open object, with its path from there.
func (d *jdec) note(v rawValue) {
	for k := len(d.stk) - 1; k >= 0; k-- {
		if d.stk[k].obj != nil {
			v.path = d.pathFrom(k) + v.path
			d.stk[k].notes = append(d.stk[k].notes, v)
			return
		}
	}
	v.path = d.pathFrom(0) + v.path
	v.raw = append([]byte(nil), v.raw...) // b may be a mapping or a buffer
	d.loose = append(d.loose, v)
}

// pathFrom is the JSON pointer of the current position relative to the
// container at stack index k.
func (d *jdec) pathFrom(k int) string {
	var sb strings.Builder
	for ; k < len(d.stk); k++ {
		sb.WriteByte('/')
		if f := &d.stk[k]; f.obj != nil {
			sb.WriteString(pointerEscape(f.key))
		} else {
			sb.WriteString(strconv.Itoa(f.idx))
		}
	}
	return sb.String()
}

// pointerEscape escapes a member name for a JSON pointer (RFC 6901).
func pointerEscape(k string) string {
	if !strings.ContainsAny(k, "~/") {
		return k
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}

// closeObject pops the object just decoded (d.i past its '}') and
// attaches its notes to it (see freeRawMember).
func (d *jdec) closeObject() error {
	f := d.stk[len(d.stk)-1]
	d.stk = d.stk[:len(d.stk)-1]
	if len(f.issues) > 0 {
		// The object itself: its whole text covers the values within.
		f.notes = append(f.notes[:0], rawValue{problem: strings.Join(f.issues, "; "), raw: d.b[f.start:d.i]})
	}
	if len(f.notes) == 0 {
		return nil
	}
	list := make([]any, len(f.notes))
	for i, n := range f.notes {
		list[i] = n.entry()
	}
	f.obj[freeRawMember(f.obj)] = list
	rawMarked.Add(1)
	return nil
}

// rawMemberName is the n-th name of the notes member: RawField, then
// RawField~2, RawField~3, ...
func rawMemberName(n int) string {
	if n < 2 {
		return RawField
	}
	return RawField + "~" + strconv.Itoa(n)
}

// freeRawMember is the name the decoder gives the notes member of object
// m: RawField, or, when m has a member of that name of its own (a
// document exported by Cairn and edited, say), the first of RawField~2,
// RawField~3, ... that m lacks. The notes stay in the object they are
// about, and m's own members are never replaced.
func freeRawMember(m map[string]any) string {
	for n := 1; ; n++ {
		if _, taken := m[rawMemberName(n)]; !taken {
			return rawMemberName(n)
		}
	}
}

// rawMember is the name of the notes member of object m (see
// freeRawMember): of RawField, RawField~2, ... up to the first m lacks,
// the last whose value has the notes' shape (RawField when none has).
func rawMember(m map[string]any) string {
	last := RawField
	for n := 1; ; n++ {
		v, ok := m[rawMemberName(n)]
		if !ok {
			return last
		}
		if notesList(v) != nil {
			last = rawMemberName(n)
		}
	}
}

// notesList returns v as a list of notes, or nil when it has another
// shape.
func notesList(v any) []map[string]any {
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		n, ok := e.(map[string]any)
		if !ok {
			return nil
		}
		if _, ok := n["path"].(string); !ok {
			return nil
		}
		out = append(out, n)
	}
	return out
}

// str consumes a string token, returning its value and, when the text
// had to be changed to be one (invalid UTF-8, unpaired surrogate
// escapes), the problem.
func (d *jdec) str() (string, string, error) {
	b := d.b
	start := d.i + 1
	ascii := true
	for j := start; j < len(b); j++ {
		c := b[j]
		switch {
		case c == '"':
			s := b[start:j]
			if ascii || utf8.Valid(s) {
				d.i = j + 1
				return string(s), "", nil
			}
			return d.strSlow(start, nil)
		case c == '\\':
			return d.strSlow(start, nil)
		case c < 0x20:
			d.i = j
			return "", "", d.badChar("in string literal")
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	d.i = len(b)
	return "", "", d.eof()
}

// strSlow decodes a string with escapes or invalid UTF-8 from start (just
// past the opening quote), as encoding/json does. With a writer, the
// text goes to it in pieces and the string returned is empty.
func (d *jdec) strSlow(start int, w io.Writer) (string, string, error) {
	b := d.b
	out := d.buf[:0]
	problem := ""
	add := func(p string) {
		if problem == "" {
			problem = p
		} else if !strings.Contains(problem, p) {
			problem += "; " + p
		}
	}
	j := start
	for j < len(b) {
		if w != nil && len(out) >= 1<<20 {
			if _, err := w.Write(out); err != nil {
				return "", "", err
			}
			out = out[:0]
		}
		c := b[j]
		switch {
		case c == '"':
			d.i = j + 1
			d.buf = out
			if w != nil {
				_, err := w.Write(out)
				return "", problem, err
			}
			return string(out), problem, nil
		case c == '\\':
			j++
			if j >= len(b) {
				d.i = j
				return "", "", d.eof()
			}
			switch b[j] {
			case '"', '\\', '/':
				out = append(out, b[j])
				j++
			case 'b':
				out = append(out, '\b')
				j++
			case 'f':
				out = append(out, '\f')
				j++
			case 'n':
				out = append(out, '\n')
				j++
			case 'r':
				out = append(out, '\r')
				j++
			case 't':
				out = append(out, '\t')
				j++
			case 'u':
				r, err := d.hex4(j + 1)
				if err != nil {
					return "", "", err
				}
				j += 5
				if utf16.IsSurrogate(r) {
					if j+6 <= len(b) && b[j] == '\\' && b[j+1] == 'u' {
						if r2, err := d.hex4(j + 2); err == nil {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								out = utf8.AppendRune(out, dec)
								j += 6
								continue
							}
						}
					}
					add(ProblemSurrogate)
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
			default:
				d.i = j
				return "", "", d.badChar("in string escape code")
			}
		case c < 0x20:
			d.i = j
			return "", "", d.badChar("in string literal")
		case c < utf8.RuneSelf:
			out = append(out, c)
			j++
		default:
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 {
				add(ProblemInvalidUTF8)
			}
			out = utf8.AppendRune(out, r)
			j += size
		}
	}
	d.i = len(b)
	return "", "", d.eof()
}

// hex4 reads the four hex digits of a \u escape at b[j:]. A bad digit is
// an error, as in encoding/json.
func (d *jdec) hex4(j int) (rune, error) {
	if j+4 > len(d.b) {
		// Truncated, unless a non-hex byte comes first.
		for k := j; k < len(d.b); k++ {
			if !isHex(d.b[k]) {
				d.i = k
				return 0, d.badChar("in \\u hexadecimal character escape")
			}
		}
		d.i = len(d.b)
		return 0, d.eof()
	}
	var r rune
	for k := j; k < j+4; k++ {
		c := d.b[k]
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			d.i = k
			return 0, d.badChar("in \\u hexadecimal character escape")
		}
		r = r<<4 | rune(v)
	}
	return r, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// skip consumes one value at d.i (space skipped) without building it,
// checking it as value would.
func (d *jdec) skip(depth int) error {
	if d.i >= len(d.b) {
		return d.eof()
	}
	switch c := d.b[d.i]; {
	case c == '{' || c == '[':
		if depth+1 > maxDepth {
			return corruptf("exceeded max depth at byte %d", d.i)
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		d.i++
		d.skipSpace()
		if d.i < len(d.b) && d.b[d.i] == end {
			d.i++
			return nil
		}
		for {
			if end == '}' {
				if d.i >= len(d.b) {
					return d.eof()
				}
				if d.b[d.i] != '"' {
					return d.badChar("looking for beginning of object key string")
				}
				if err := d.skipString(); err != nil {
					return err
				}
				d.skipSpace()
				if d.i >= len(d.b) {
					return d.eof()
				}
				if d.b[d.i] != ':' {
					return d.badChar("after object key")
				}
				d.i++
				d.skipSpace()
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			d.skipSpace()
			if d.i >= len(d.b) {
				return d.eof()
			}
			switch d.b[d.i] {
			case ',':
				d.i++
				d.skipSpace()
			case end:
				d.i++
				return nil
			default:
				if end == '}' {
					return d.badChar("after object key:value pair")
				}
				return d.badChar("after array element")
			}
		}
	case c == '"':
		return d.skipString()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	}
	return d.badChar("looking for beginning of value")
}

// skipString consumes a string token, checking its escapes.
func (d *jdec) skipString() error {
	b := d.b
	for j := d.i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			d.i = j + 1
			return nil
		case c == '\\':
			j++
			if j >= len(b) {
				d.i = j
				return d.eof()
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if _, err := d.hex4(j + 1); err != nil {
					return err
				}
				j += 4
			default:
				d.i = j
				return d.badChar("in string escape code")
			}
		case c < 0x20:
			d.i = j
			return d.badChar("in string literal")
		}
	}
	d.i = len(b)
	return d.eof()
}

// strTo decodes the string token at d.i to w, as str does, a piece at a
// time (the text of a JSON-string payload can be large), returning the
// problem str would.
func (d *jdec) strTo(w io.Writer) (string, error) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return "", d.badChar("looking for beginning of value")
	}
	_, problem, err := d.strSlow(d.i+1, w)
	return problem, err
}

// rawNotes returns the RawField notes the decoder attached to object m
// (none when m has no such member, or one not of the decoder's shape).
func rawNotes(m map[string]any) []map[string]any {
	return notesList(m[rawMember(m)])
}

// eachRaw calls fn for every RawField note within v, with the JSON
// pointer of the value it is about. It does nothing while the decoder has
// made no note at all (rawMarked).
func eachRaw(v any, fn func(path, problem, member string)) {
	if rawMarked.Load() == 0 {
		return
	}
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch x := v.(type) {
		case map[string]any:
			member := rawMember(x)
			for _, n := range rawNotes(x) {
				p, _ := n["path"].(string)
				pr, _ := n["problem"].(string)
				fn(at+p, pr, member)
			}
			for k, e := range x {
				if k != member {
					walk(e, at+"/"+pointerEscape(k))
				}
			}
		case []any:
			for i, e := range x {
				walk(e, at+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(v, "")
}

// attachLoose adds notes about values of a non-object payload to the
// object that holds the payload at member field.
func attachLoose(doc map[string]any, field string, loose []rawValue) {
	if len(loose) == 0 {
		return
	}
	member := rawMember(doc)
	if rawNotes(doc) == nil {
		member = freeRawMember(doc) // the document's member of that name is its own
	}
	list, _ := doc[member].([]any)
	for _, n := range loose {
		n.path = "/" + pointerEscape(field) + n.path
		list = append(list, n.entry())
	}
	doc[member] = list
	rawMarked.Add(1)
}
