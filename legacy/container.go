package legacy

import "encoding/base64"

// keepContainerRaw keeps what decoding changed in a file's container
// object, which is no document and so holds no RawField member of its
// own: an envelope's, a WAL line's or a chunked session file's repeated
// member name, whose earlier value the old app never read (JSON.parse
// keeps the last). Its notes go to Extras["legacyRaw:<source>"] (path,
// problem, original text), once per source however often the file is
// read, and Report.RawValues lists each, so that nothing is dropped
// silently.
func (s *scanner) keepContainerRaw(source string, notes []rawValue) {
	key := RawField + ":" + source
	if len(notes) == 0 || s.keptRaw[key] {
		return
	}
	if s.keptRaw == nil {
		s.keptRaw = map[string]bool{}
	}
	s.keptRaw[key] = true
	list := make([]any, len(notes))
	for i, n := range notes {
		list[i] = n.entry()
	}
	as := s.setExtra(key, list, source)
	for _, n := range notes {
		s.rep.RawValues = append(s.rep.RawValues, RawValue{Collection: "extras", ID: as, Path: n.path, Problem: n.problem, Source: source})
	}
}

// objectNotes returns the notes about the object m itself (path ""),
// a container's repeated or invalid member names, as rawValues.
func objectNotes(m map[string]any) []rawValue {
	var out []rawValue
	for _, n := range rawNotes(m) {
		if p, _ := n["path"].(string); p != "" {
			continue
		}
		out = append(out, noteValue(n))
	}
	return out
}

// noteValue is a RawField note n as a rawValue.
func noteValue(n map[string]any) rawValue {
	var rv rawValue
	rv.path, _ = n["path"].(string)
	rv.problem, _ = n["problem"].(string)
	if t, ok := n["text"].(string); ok {
		rv.raw = []byte(t)
	} else if b, ok := n["base64"].(string); ok {
		rv.raw, _ = base64.StdEncoding.DecodeString(b)
	}
	return rv
}
