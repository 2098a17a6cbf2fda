package jsonx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// DefaultMaxDepth is the nesting limit when Options.MaxDepth is 0.
const DefaultMaxDepth = 1000

// bufSize is the read buffer of a streaming Decoder.
const bufSize = 64 << 10

// chunkSize is the piece in which a long string is gathered.
const chunkSize = 1 << 20

// Options tune a Decoder. The zero value decodes without size limits.
type Options struct {
	// MaxBytes, if positive, bounds one Value (and one member name of a
	// container walked with Key) by its size as compact JSON: the bytes
	// of its text without insignificant whitespace, strings counted as
	// their decoded UTF-8 plus the quotes. That is never more than what
	// encoding/json's compact form measures, and bounds what the value
	// takes in memory. A larger value is refused with ErrTooLarge as
	// soon as the limit is passed, before more of it is decoded.
	MaxBytes int64
	// MaxValues, if positive, is the most values (the value itself, and
	// every element and member value inside it) one Value may hold.
	MaxValues int
	// MaxDepth is how deep arrays and objects may nest: a value more
	// than MaxDepth levels below the top one is refused. 0 means
	// DefaultMaxDepth.
	MaxDepth int
	// Number converts a number literal (valid JSON grammar; the slice is
	// the decoder's, copy what is kept). Nil means json.Number. An error
	// refuses the input at the number.
	Number func(literal []byte) (any, error)
	// BadString, if set, keeps strings that are not valid UTF-8 or hold
	// a lone surrogate instead of refusing them: it is called with each
	// one (see BadString) and the string decodes as encoding/json would
	// decode it, with U+FFFD for each bad byte and each lone surrogate.
	// An error it returns stops the decoding.
	BadString func(BadString) error
}

// BadString is a string a tolerant Decoder kept (see Options.BadString).
type BadString struct {
	Offset int64  // of the opening quote
	Path   string // of the value, or of the member for a name
	Name   bool   // a member name rather than a value
	// Raw is the string's exact text in the input, quotes included; it
	// is the callee's to keep.
	Raw []byte
	// InvalidUTF8 and LoneSurrogate say what it holds.
	InvalidUTF8, LoneSurrogate bool
	// Decoded is what the string decodes to (with U+FFFD).
	Decoded string
}

// A Decoder reads JSON from a byte slice or a stream. It is not safe for
// concurrent use.
type Decoder struct {
	opts     Options
	maxDepth int

	r    io.Reader // nil when decoding a byte slice
	buf  []byte
	pos  int   // next unread byte of buf
	end  int   // end of the valid bytes of buf
	base int64 // input offset of buf[0]
	eof  bool
	rerr error // a read error, returned at every later read
	bom  bool  // the start of the input was looked at for a byte order mark

	// Line tracking: newlines before buf[0], and the offset of the last
	// one (-1 if none). Positions of offsets before buf[0] are kept only
	// for the marks below.
	lines  int
	lastNL int64
	marks  [2]mark // the current value's start and the current token's start

	// Per-Value accounting.
	valStart int64
	size     int64 // compact size decoded so far
	limit    int64 // 0: none
	inValue  bool
	values   int

	path    []pathElem // inside Value
	frames  []frame    // containers opened with OpenObject and OpenArray
	scratch []byte
	raw     []byte
}

type mark struct {
	off          int64
	line, column int
	set          bool // line and column known
}

const (
	markValue = 0
	markToken = 1
)

type pathElem struct {
	key   string
	index int // -1 for a member
}

type frame struct {
	array bool
	path  string
	n     int    // elements seen
	key   string // the current member's name, once read
	named bool
	keys  map[string]struct{}
}

// NewDecoder returns a Decoder reading from r through a 64 KiB buffer.
func NewDecoder(r io.Reader, opts Options) *Decoder {
	d := &Decoder{r: r, buf: make([]byte, bufSize), lastNL: -1}
	d.init(opts)
	return d
}

// NewBytesDecoder returns a Decoder reading data in place.
func NewBytesDecoder(data []byte, opts Options) *Decoder {
	d := &Decoder{buf: data, end: len(data), eof: true, lastNL: -1}
	d.init(opts)
	return d
}

func (d *Decoder) init(opts Options) {
	d.opts = opts
	d.maxDepth = opts.MaxDepth
	if d.maxDepth <= 0 {
		d.maxDepth = DefaultMaxDepth
	}
}

// Offset is the input offset of the next unread byte (after Peek, of the
// next token).
func (d *Decoder) Offset() int64 { return d.base + int64(d.pos) }

// Peek skips whitespace and returns the next byte without consuming it;
// io.EOF at the end of the input.
func (d *Decoder) Peek() (byte, error) {
	if err := d.skipSpace(); err != nil {
		return 0, err
	}
	return d.buf[d.pos], nil
}

// Value decodes the next value whole, within the limits of Options. Its
// errors name the path below the innermost open container. Its nesting
// is counted from the value itself, not from the top of the input: a
// document read from inside an array nests as deep as the same document
// read alone.
func (d *Decoder) Value() (any, error) {
	if _, err := d.Peek(); err != nil {
		return nil, d.eofError(err, "a value")
	}
	d.startLimit()
	d.marks[markValue] = mark{off: d.valStart}
	d.values = 0
	d.path = d.path[:0]
	d.inValue = true
	v, err := d.value(0)
	d.inValue, d.limit = false, 0
	if err != nil {
		return nil, err
	}
	return v, nil
}

// startLimit starts counting the size of a value or member name against
// Options.MaxBytes, from the next byte.
func (d *Decoder) startLimit() {
	d.valStart = d.Offset()
	d.size, d.limit = 0, max(d.opts.MaxBytes, 0)
}

// grow counts n more bytes of the current value's compact size.
func (d *Decoder) grow(n int) error {
	d.size += int64(n)
	if d.limit > 0 && d.size > d.limit {
		return d.tooLarge()
	}
	return nil
}

// over reports whether pending more bytes would pass the limit.
func (d *Decoder) over(pending int) bool {
	return d.limit > 0 && d.size+int64(pending) > d.limit
}

func (d *Decoder) tooLarge() error {
	return d.errorf(d.Offset(), ErrTooLarge, "the value is larger than the limit of %s as compact JSON; refused after decoding that much of it", sizeText(d.limit))
}

// sizeText writes n bytes for people: "64 MiB (67108864 bytes)".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB (%d bytes)", n>>20, n)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB (%d bytes)", n>>10, n)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ValueStart returns the offset, line and column where the last Value
// began (for errors a caller finds in the decoded value).
func (d *Decoder) ValueStart() (off int64, line, column int) {
	m := d.position(d.valStart)
	return m.off, m.line, m.column
}

// OpenObject consumes the '{' of an object whose members the caller reads
// one at a time: Next, then Key, then Value (or a nested Open).
func (d *Decoder) OpenObject() error { return d.open('{') }

// OpenArray consumes the '[' of an array whose elements the caller reads
// one at a time: Next, then Value (or a nested Open).
func (d *Decoder) OpenArray() error { return d.open('[') }

func (d *Decoder) open(c byte) error {
	got, err := d.Peek()
	if err != nil {
		return d.eofError(err, "a value")
	}
	what := "an object"
	if c == '[' {
		what = "an array"
	}
	if got != c {
		return d.errorf(d.Offset(), ErrSyntax, "expected %s, found %s", what, describe(got))
	}
	if len(d.frames) > d.maxDepth {
		return d.errorf(d.Offset(), ErrTooDeep, "nested deeper than %d levels", d.maxDepth)
	}
	p := d.elemPath()
	d.pos++
	d.frames = append(d.frames, frame{array: c == '[', path: p})
	return nil
}

// Next reports whether the innermost open container has another element
// or member, consuming the ',' before it. At the container's end it
// consumes the closing bracket, closes the container and returns false.
func (d *Decoder) Next() (bool, error) {
	if len(d.frames) == 0 {
		return false, errors.New("jsonx: Next without an open container")
	}
	f := &d.frames[len(d.frames)-1]
	closer, what := byte('}'), "object"
	if f.array {
		closer, what = ']', "array"
	}
	c, err := d.Peek()
	if err == io.EOF {
		return false, d.errorfPath(d.Offset(), f.path, ErrSyntax, "unexpected end of input (truncated?) where the end of the %s should be", what)
	}
	if err != nil {
		return false, d.readError(err)
	}
	if c == closer {
		d.pos++
		d.frames = d.frames[:len(d.frames)-1]
		return false, nil
	}
	if f.n > 0 {
		if c != ',' {
			return false, d.errorfPath(d.Offset(), f.path, ErrSyntax, "expected ',' or '%c' in the %s, found %s", closer, what, describe(c))
		}
		d.pos++
		if c, err = d.Peek(); err != nil {
			return false, d.eofError(err, "a value")
		}
		if c == closer {
			return false, d.errorfPath(d.Offset(), f.path, ErrSyntax, "'%c' after ',' (a trailing comma)", closer)
		}
	}
	f.n++
	f.key, f.named = "", false
	return true, nil
}

// Key reads the next member name of the innermost open object, and the
// ':' after it. A name the object already had is refused.
func (d *Decoder) Key() (string, error) {
	if len(d.frames) == 0 || d.frames[len(d.frames)-1].array {
		return "", errors.New("jsonx: Key outside an object")
	}
	f := &d.frames[len(d.frames)-1]
	d.startLimit()
	k, start, err := d.memberName()
	d.limit = 0
	if err != nil {
		return "", err
	}
	if _, dup := f.keys[k]; dup {
		return "", d.duplicate(start, f.path, k)
	}
	if f.keys == nil {
		f.keys = map[string]struct{}{}
	}
	f.keys[k] = struct{}{}
	f.key, f.named = k, true
	return k, nil
}

// End requires that only whitespace follows the value read.
func (d *Decoder) End() error {
	if err := d.skipSpace(); err != io.EOF {
		if err != nil {
			return d.readError(err)
		}
		return d.errorf(d.Offset(), ErrSyntax, "unexpected %s after the JSON value", describe(d.buf[d.pos]))
	}
	return nil
}

// elemPath is the path of the next element of the innermost open
// container ("" at the top level).
func (d *Decoder) elemPath() string {
	if len(d.frames) == 0 {
		return ""
	}
	f := &d.frames[len(d.frames)-1]
	switch {
	case f.array && f.n > 0:
		return PathIndex(f.path, f.n-1)
	case f.array, !f.named:
		return f.path // before a member's name
	}
	return PathKey(f.path, f.key)
}

// curPath is the path of the value being decoded inside Value.
func (d *Decoder) curPath() string {
	p := d.elemPath()
	for _, e := range d.path {
		if e.index >= 0 {
			p = PathIndex(p, e.index)
		} else {
			p = PathKey(p, e.key)
		}
	}
	return p
}

// --- decoding ---

func (d *Decoder) value(depth int) (any, error) {
	if depth > d.maxDepth {
		return nil, d.errorf(d.Offset(), ErrTooDeep, "nested deeper than %d levels", d.maxDepth)
	}
	c, err := d.Peek()
	if err != nil {
		return nil, d.eofError(err, "a value")
	}
	d.values++
	if d.opts.MaxValues > 0 && d.values > d.opts.MaxValues {
		return nil, d.errorf(d.Offset(), ErrTooLarge, "the value holds more than %d values (the limit)", d.opts.MaxValues)
	}
	switch c {
	case '{':
		return d.object(depth)
	case '[':
		return d.array(depth)
	case '"':
		return d.str(false)
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	}
	if c == '-' || c >= '0' && c <= '9' {
		return d.number()
	}
	return nil, d.errorf(d.Offset(), ErrSyntax, "%s where a value should begin", describe(c))
}

func (d *Decoder) object(depth int) (any, error) {
	d.pos++ // '{'
	if err := d.grow(2); err != nil {
		return nil, err
	}
	m := map[string]any{}
	c, err := d.Peek()
	if err != nil {
		return nil, d.eofError(err, "a member name or '}'")
	}
	if c == '}' {
		d.pos++
		return m, nil
	}
	d.path = append(d.path, pathElem{index: -1})
	slot := len(d.path) - 1
	for {
		d.path = d.path[:slot] // the name's path is its object's
		k, start, err := d.memberName()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, d.duplicate(start, d.curPath(), k)
		}
		d.path = append(d.path[:slot], pathElem{key: k, index: -1})
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[k] = v
		d.path = d.path[:slot] // errors between members name the object
		c, err := d.Peek()
		if err != nil {
			return nil, d.eofError(err, "',' or '}'")
		}
		d.pos++
		if c == '}' {
			return m, nil
		}
		if c != ',' {
			d.pos--
			return nil, d.errorf(d.Offset(), ErrSyntax, "expected ',' or '}' after an object member, found %s", describe(c))
		}
		if err := d.grow(1); err != nil {
			return nil, err
		}
	}
}

// memberName reads a member name and the ':' after it, and returns the
// name's offset.
func (d *Decoder) memberName() (string, int64, error) {
	c, err := d.Peek()
	if err != nil {
		return "", 0, d.eofError(err, "a member name")
	}
	if c != '"' {
		return "", 0, d.errorf(d.Offset(), ErrSyntax, "expected a member name (a string), found %s", describe(c))
	}
	start := d.Offset()
	k, err := d.str(true)
	if err != nil {
		return "", 0, err
	}
	if c, err = d.Peek(); err != nil {
		return "", 0, d.eofError(err, "':'")
	}
	if c != ':' {
		return "", 0, d.errorf(d.Offset(), ErrSyntax, "expected ':' after the member name, found %s", describe(c))
	}
	d.pos++
	return k, start, d.grow(1)
}

// duplicate is the error for member name k given twice in the object at
// objPath; start is the offset of the second one.
func (d *Decoder) duplicate(start int64, objPath, k string) error {
	return d.errorfPath(start, PathKey(objPath, k), ErrDuplicateKey, "the member name %s appears twice in one object", shorten(strconv.Quote(k), maxShownPath))
}

func (d *Decoder) array(depth int) (any, error) {
	d.pos++ // '['
	if err := d.grow(2); err != nil {
		return nil, err
	}
	out := []any{}
	c, err := d.Peek()
	if err != nil {
		return nil, d.eofError(err, "a value or ']'")
	}
	if c == ']' {
		d.pos++
		return out, nil
	}
	d.path = append(d.path, pathElem{})
	slot := len(d.path) - 1
	for i := 0; ; i++ {
		d.path = append(d.path[:slot], pathElem{index: i})
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		d.path = d.path[:slot]
		c, err := d.Peek()
		if err != nil {
			return nil, d.eofError(err, "',' or ']'")
		}
		d.pos++
		if c == ']' {
			return out, nil
		}
		if c != ',' {
			d.pos--
			return nil, d.errorf(d.Offset(), ErrSyntax, "expected ',' or ']' after an array element, found %s", describe(c))
		}
		if err := d.grow(1); err != nil {
			return nil, err
		}
	}
}

func (d *Decoder) literal(word string) error {
	start := d.Offset()
	d.need(len(word))
	for i := 0; i < len(word); i++ {
		if d.pos+i >= d.end {
			if d.rerr != nil {
				return d.readError(d.rerr)
			}
			return d.errorf(d.base+int64(d.end), ErrSyntax, "unexpected end of input (truncated?) in %q", word)
		}
		if c := d.buf[d.pos+i]; c != word[i] {
			return d.errorf(start+int64(i), ErrSyntax, "%s in the literal %s (expected '%c')", describe(c), word, word[i])
		}
	}
	d.pos += len(word)
	return d.grow(len(word))
}

// number reads the longest run of number characters and checks it against
// the grammar: in valid JSON a number is never followed by one of them.
func (d *Decoder) number() (any, error) {
	start := d.Offset()
	d.marks[markToken] = mark{off: start}
	lit := d.scratch[:0]
	from := d.pos
	for {
		if d.pos == d.end {
			lit = append(lit, d.buf[from:d.pos]...)
			if d.over(len(lit)) {
				d.scratch = lit
				return nil, d.tooLarge()
			}
			if err := d.fill(); err != nil {
				if err != io.EOF {
					return nil, d.readError(err)
				}
				break
			}
			from = d.pos
			continue
		}
		if c := d.buf[d.pos]; c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			d.pos++
			continue
		}
		lit = append(lit, d.buf[from:d.pos]...)
		break
	}
	d.scratch = lit
	if err := d.grow(len(lit)); err != nil {
		return nil, err
	}
	if bad := badNumber(lit); bad >= 0 {
		if bad == len(lit) && d.eof && d.pos == d.end {
			return nil, d.errorf(start+int64(bad), ErrSyntax, "unexpected end of input (truncated?) in the number %q", clip(lit))
		}
		return nil, d.errorf(start+int64(bad), ErrSyntax, "invalid number %q", clip(lit))
	}
	if d.opts.Number == nil {
		return json.Number(string(lit)), nil
	}
	v, err := d.opts.Number(lit)
	if err != nil {
		return nil, d.errorf(start, err, "number %s: %v", clip(lit), err)
	}
	return v, nil
}

// badNumber returns -1 if s is a JSON number, else the index of the first
// byte that breaks the grammar (len(s) if it ends too early).
func badNumber(s []byte) int {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i == len(s):
		return i
	case s[i] == '0':
		i++
	case s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return i
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return i
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return i
		}
	}
	if i < len(s) {
		return i
	}
	return -1
}

// str reads a string at '"'.
func (d *Decoder) str(name bool) (string, error) {
	start := d.Offset()
	d.marks[markToken] = mark{off: start}
	d.pos++
	// Fast path: printable ASCII up to the closing quote, in the buffer.
	for i := d.pos; i < d.end; i++ {
		c := d.buf[i]
		if c == '"' {
			if err := d.grow(i - d.pos + 2); err != nil {
				return "", err
			}
			s := string(d.buf[d.pos:i])
			d.pos = i + 1
			return s, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	return d.strSlow(start, name)
}

func (d *Decoder) strSlow(start int64, name bool) (string, error) {
	tolerant := d.opts.BadString != nil
	out := d.scratch[:0]
	// A long string is gathered in chunks, not one slice grown by
	// append: growing leaves copies behind for the collector, and RSS
	// would reach several times the string before the limit is noticed.
	var chunks [][]byte
	done := 0 // bytes in chunks
	raw := d.raw[:0]
	if tolerant {
		raw = append(raw, '"')
	}
	rawFrom := d.pos
	var badUTF8, lone bool
	flushRaw := func() {
		if tolerant {
			raw = append(raw, d.buf[rawFrom:d.pos]...)
		}
	}
	for {
		if d.over(done + len(out) + 2) {
			if chunks == nil {
				d.scratch = out[:0]
			}
			d.raw = raw[:0]
			return "", d.tooLarge()
		}
		if len(out) >= chunkSize {
			if chunks == nil {
				d.scratch = nil // given to the chunks
			}
			chunks = append(chunks, out)
			done += len(out)
			out = make([]byte, 0, chunkSize+bufSize)
		}
		if d.pos == d.end {
			flushRaw()
			if err := d.fill(); err != nil {
				if err == io.EOF {
					return "", d.errorf(d.Offset(), ErrSyntax, "unexpected end of input (truncated?) in a string")
				}
				return "", d.readError(err)
			}
			rawFrom = d.pos
			continue
		}
		c := d.buf[d.pos]
		switch {
		case c == '"':
			d.pos++
			flushRaw()
			if err := d.grow(done + len(out) + 2); err != nil {
				return "", err
			}
			var s string
			if chunks == nil {
				s = string(out)
				d.scratch = out[:0]
			} else {
				var b strings.Builder
				b.Grow(done + len(out))
				for _, c := range chunks {
					b.Write(c)
				}
				b.Write(out)
				s = b.String()
			}
			d.raw = raw[:0]
			if badUTF8 || lone {
				p := d.curPathOrElem()
				if name {
					p = PathKey(p, s)
				}
				if err := d.opts.BadString(BadString{Offset: start, Path: p, Name: name, Raw: bytes.Clone(raw),
					InvalidUTF8: badUTF8, LoneSurrogate: lone, Decoded: s}); err != nil {
					return "", err
				}
			}
			return s, nil
		case c == '\\':
			if d.pos+1 >= d.end {
				flushRaw()
				d.need(2)
				rawFrom = d.pos
				if d.pos+1 >= d.end {
					if d.rerr != nil {
						return "", d.readError(d.rerr)
					}
					return "", d.errorf(d.base+int64(d.end), ErrSyntax, "unexpected end of input (truncated?) in a string")
				}
			}
			at := d.Offset()
			switch e := d.buf[d.pos+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				flushRaw()
				d.need(12) // a pair, if it is one
				rawFrom = d.pos
				r, ok := d.hex4(d.pos + 2)
				if !ok {
					if d.rerr != nil {
						return "", d.readError(d.rerr)
					}
					return "", d.errorf(at, ErrSyntax, "invalid \\u escape (four hex digits needed)")
				}
				n := 6
				if utf16.IsSurrogate(r) {
					r2, ok2 := rune(0), false
					if d.pos+7 < d.end && d.buf[d.pos+6] == '\\' && d.buf[d.pos+7] == 'u' {
						r2, ok2 = d.hex4(d.pos + 8)
					}
					if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
						r, n = dec, 12
					} else {
						if !d.tolerate() {
							return "", d.errorf(at, ErrLoneSurrogate, "the escape \\u%04x is half of a UTF-16 surrogate pair without its other half (no UTF-8 text can hold it)", r)
						}
						r, lone = utf8.RuneError, true
					}
				}
				out = utf8.AppendRune(out, r)
				d.pos += n
				continue
			default:
				return "", d.errorf(at, ErrSyntax, "invalid escape %s in a string", describe(e))
			}
			d.pos += 2
		case c < 0x20:
			return "", d.errorf(d.Offset(), ErrSyntax, "control character U+%04X in a string (it must be escaped)", c)
		case c < utf8.RuneSelf:
			i, stop := d.pos+1, min(d.end, d.pos+chunkSize) // a run at most a chunk long
			for i < stop {
				if b := d.buf[i]; b == '"' || b == '\\' || b < 0x20 || b >= utf8.RuneSelf {
					break
				}
				i++
			}
			out = append(out, d.buf[d.pos:i]...)
			d.pos = i
		default:
			if d.end-d.pos < utf8.UTFMax && !d.eof {
				flushRaw()
				d.need(utf8.UTFMax)
				rawFrom = d.pos
			}
			r, size := utf8.DecodeRune(d.buf[d.pos:d.end])
			if r == utf8.RuneError && size == 1 {
				if !d.tolerate() {
					return "", d.errorf(d.Offset(), ErrInvalidUTF8, "byte 0x%02x is not UTF-8 (the text must be UTF-8)", c)
				}
				badUTF8 = true
			}
			out = utf8.AppendRune(out, r)
			d.pos += size
		}
	}
}

func (d *Decoder) tolerate() bool { return d.opts.BadString != nil }

func (d *Decoder) hex4(i int) (rune, bool) {
	if i+4 > d.end {
		return 0, false
	}
	var r rune
	for _, c := range d.buf[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// --- reading ---

// skipSpace advances to the next non-whitespace byte; io.EOF at the end.
func (d *Decoder) skipSpace() error {
	if !d.bom {
		d.skipBOM()
	}
	for {
		for d.pos < d.end {
			switch d.buf[d.pos] {
			case ' ', '\t', '\n', '\r':
				d.pos++
				continue
			}
			return nil
		}
		if err := d.fill(); err != nil {
			return err
		}
	}
}

// utf8BOM is the byte order mark an editor may put at the start of a
// UTF-8 file.
const utf8BOM = "\xef\xbb\xbf"

// skipBOM skips a UTF-8 byte order mark at the very start of the input:
// RFC 8259 §8.1 lets a parser ignore one, and editors on Windows write
// it. Offsets still count its three bytes, so that they stay offsets in
// the file. A mark anywhere else is not whitespace, and is refused.
func (d *Decoder) skipBOM() {
	d.bom = true
	if d.base != 0 || d.pos != 0 {
		return
	}
	d.need(len(utf8BOM))
	if d.end-d.pos >= len(utf8BOM) && string(d.buf[d.pos:d.pos+len(utf8BOM)]) == utf8BOM {
		d.pos += len(utf8BOM)
	}
}

// need tries to have n unread bytes in the buffer; fewer at the end of
// the input or on a read error (kept in rerr).
func (d *Decoder) need(n int) {
	for d.end-d.pos < n && d.fill() == nil {
	}
}

// fill reads more input into the buffer, keeping the unread bytes. It
// returns io.EOF at the end.
func (d *Decoder) fill() error {
	if d.rerr != nil {
		return d.rerr
	}
	if d.eof {
		return io.EOF
	}
	if d.pos > 0 {
		d.discard()
	}
	for {
		n, err := d.r.Read(d.buf[d.end:])
		d.end += n
		if err == io.EOF {
			d.eof = true
			if n > 0 {
				return nil
			}
			return io.EOF
		}
		if err != nil {
			d.rerr = err
			if n > 0 {
				return nil
			}
			return err
		}
		if n > 0 {
			return nil
		}
	}
}

// discard drops the bytes before pos, remembering the line and column of
// the marks they hold.
func (d *Decoder) discard() {
	for i := range d.marks {
		m := &d.marks[i]
		if !m.set && m.off >= d.base && m.off < d.base+int64(d.pos) {
			*m = d.position(m.off)
			m.set = true
		}
	}
	gone := d.buf[:d.pos]
	if n := bytes.Count(gone, []byte{'\n'}); n > 0 {
		d.lines += n
		d.lastNL = d.base + int64(bytes.LastIndexByte(gone, '\n'))
	}
	copy(d.buf, d.buf[d.pos:d.end])
	d.base += int64(d.pos)
	d.end -= d.pos
	d.pos = 0
}

// position returns the line and column of off: from a mark when off is
// before the buffer, else by counting the buffer's newlines.
func (d *Decoder) position(off int64) mark {
	if off < d.base {
		// A mark before off in the same token: tokens hold no newline.
		best := mark{off: off, line: d.lines + 1, column: 1} // not kept: the first line we know
		for _, m := range d.marks {
			if m.set && m.off <= off && (!best.set || m.off > best.off) {
				best = m
			}
		}
		if best.set {
			best.column += int(off - best.off)
			best.off = off
		}
		return best
	}
	upto := d.buf[:min(int(off-d.base), d.end)]
	line, lastNL := d.lines, d.lastNL
	if n := bytes.Count(upto, []byte{'\n'}); n > 0 {
		line += n
		lastNL = d.base + int64(bytes.LastIndexByte(upto, '\n'))
	}
	return mark{off: off, line: line + 1, column: int(off - lastNL), set: true}
}

func (d *Decoder) errorf(off int64, kind error, format string, args ...any) error {
	return d.errorfPath(off, d.curPathOrElem(), kind, format, args...)
}

func (d *Decoder) curPathOrElem() string {
	if d.inValue {
		return d.curPath()
	}
	return d.elemPath()
}

func (d *Decoder) errorfPath(off int64, path string, kind error, format string, args ...any) error {
	m := d.position(off)
	return &Error{Offset: off, Line: m.line, Column: m.column, Path: path, Msg: fmt.Sprintf(format, args...), Err: kind}
}

func (d *Decoder) eofError(err error, want string) error {
	if err == io.EOF {
		return d.errorf(d.Offset(), ErrSyntax, "unexpected end of input (truncated?) where %s should be", want)
	}
	return d.readError(err)
}

func (d *Decoder) readError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err // a limit
	}
	return d.errorf(d.Offset(), err, "read: %v", err)
}

func describe(c byte) string {
	switch {
	case c == '\'':
		return `"'"`
	case c >= 0x20 && c < 0x7f:
		return fmt.Sprintf("'%c'", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}
