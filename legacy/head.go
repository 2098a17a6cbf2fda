package legacy

import (
	"unicode/utf16"
	"unicode/utf8"
)

// head is what choosing a version of an entity needs from its document:
// the members the choice reads, without the rest. Indexing a collection
// reads only this from each element's text (headOfText), which is several
// times cheaper than decoding it.
type head struct {
	kind     string // kindOf the document ("an object" for an entity)
	id       any    // the id member (nil when absent)
	typ      any    // era-A topics' type
	updated  int64  // updatedAt, else lastUpdated, in ms
	hasUpd   bool
	ver      float64 // version
	hasVer   bool
	spread   bool   // a numeric member name: an array spread into an object (§3.3)
	chapters int8   // sessions: chapterState
	text     []byte // a lazy element's text (not to be kept: it is mapped)
}

// headOf reads the head of a decoded document.
func headOf(v any) head {
	doc, ok := v.(map[string]any)
	if !ok {
		return head{kind: kindOf(v)}
	}
	h := head{kind: kindOf(doc), id: doc["id"], typ: doc["type"], spread: isArraySpread(doc), chapters: chapterState(doc)}
	h.updated, h.hasUpd = entityUpdated(doc)
	h.ver, h.hasVer = entityVersion(doc)
	return h
}

// headMembers are the members headOfText decodes.
var headMembers = map[string]bool{"id": true, "type": true, "updatedAt": true, "lastUpdated": true, "version": true, "video": true}

// headOfText reads the head of a document's JSON text (checked valid when
// its array was indexed), as headOf would of its decoding.
func headOfText(text []byte) (head, error) {
	d := jdec{b: text}
	d.skipSpace()
	if d.i >= len(text) || text[d.i] != '{' {
		v, err := decodeJSON(text)
		return head{kind: kindOf(v)}, err
	}
	d.i++
	doc := map[string]any{}
	spread := false
	d.skipSpace()
	if d.i < len(text) && text[d.i] == '}' {
		return headOf(doc), nil
	}
	for {
		k, _, err := d.str()
		if err != nil {
			return head{}, err
		}
		spread = spread || isNumericKey(k)
		d.skipSpace()
		d.i++ // ':'
		d.skipSpace()
		if headMembers[k] {
			v, err := d.value(1)
			if err != nil {
				return head{}, err
			}
			doc[k] = v
		} else if err := d.skip(1); err != nil {
			return head{}, err
		}
		d.skipSpace()
		if d.i >= len(text) {
			return head{}, d.eof()
		}
		if text[d.i] == '}' {
			break
		}
		d.i++ // ','
		d.skipSpace()
	}
	h := headOf(doc)
	h.spread = spread
	return h, nil
}

// eachHead calls fn with the head of every element of an array payload
// ([]any or *lazyArray), reading lazy elements' heads from their text.
func eachHead(data any, fn func(i int, h head) error) error {
	switch d := data.(type) {
	case []any:
		for i, e := range d {
			if err := fn(i, headOf(e)); err != nil {
				return err
			}
		}
	case *lazyArray:
		for i := 0; i < d.Len(); i++ {
			text := d.text[d.offs[2*i]:d.offs[2*i+1]]
			h, err := headOfText(text)
			if err != nil {
				return err
			}
			h.text = text
			if err := fn(i, h); err != nil {
				return err
			}
		}
	}
	return nil
}

// topicCollection is TopicCollection for a head.
func (h head) topicCollection() string {
	switch h.typ {
	case "company":
		return "companies"
	case "person":
		return "contacts"
	}
	return "topics"
}

// decodedSize is what the store measures of the document decodeJSON
// makes of the valid JSON text b (buckets.JSONSize: compact JSON as kv
// writes it), computed without decoding it; a repeated member name is
// counted each time and legacyRaw notes are not counted. Every byte
// outside strings but spaces counts one (punctuation, numbers as written,
// literals); a string counts its quotes and its decoded characters as kv
// escapes them.
func decodedSize(b []byte) int64 {
	var n int64
	for i := 0; i < len(b); {
		c := b[i]
		if c != '"' {
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				n++
			}
			i++
			continue
		}
		n += 2
		i++
		for i < len(b) && b[i] != '"' {
			c := b[i]
			switch {
			case c == '\\' && i+1 < len(b):
				switch b[i+1] {
				case '"', '\\', 'b', 'f', 'n', 'r', 't':
					n += 2
					i += 2
				case 'u':
					r, _ := hexRuneAt(b, i+2)
					i += 6
					if utf16.IsSurrogate(r) {
						if r2, ok := hexRuneAt(b, i+2); ok && i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								n += int64(utf8.RuneLen(dec))
								i += 6
								continue
							}
						}
						r = utf8.RuneError
					}
					n += runeJSONSize(r)
				default: // '/'
					n++
					i += 2
				}
			case c < utf8.RuneSelf:
				n++
				i++
			default:
				r, size := utf8.DecodeRune(b[i:])
				n += runeJSONSize(r) // an invalid byte becomes U+FFFD
				i += size
			}
		}
		i++
	}
	return n
}

// runeJSONSize is how many bytes kv's JSON gives a decoded character.
func runeJSONSize(r rune) int64 {
	switch {
	case r == '"' || r == '\\' || r == '\b' || r == '\f' || r == '\n' || r == '\r' || r == '\t':
		return 2
	case r < 0x20 || r == '\u2028' || r == '\u2029':
		return 6
	}
	return int64(utf8.RuneLen(r))
}

// hexRuneAt reads the four hex digits at b[j:].
func hexRuneAt(b []byte, j int) (rune, bool) {
	if j+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[j : j+4] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}
