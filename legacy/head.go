package legacy

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
	spread   bool // a numeric member name: an array spread into an object (§3.3)
	chapters int8 // sessions: chapterState
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
			h, err := headOfText(d.text[d.offs[2*i]:d.offs[2*i+1]])
			if err != nil {
				return err
			}
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
