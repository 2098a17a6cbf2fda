package secondary

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TitleLen is the longest derived note title, in runes.
const TitleLen = 80

// Summary returns the metadata entry Apply stores in buckets.MetaBucket(coll)
// for document id in version st (encoded with buckets.EncodeValue):
//
//	sessions:    id, name, status, startTime, endTime, tags, screenshotCount, audioSegmentCount
//	notes:       id, title (derived from content, see NoteTitle), timestamp, lastUpdated, tags
//	tasks:       id, title, status, priority, done, dueDate
//	topics, companies, contacts: id, name, lastUpdated
//	attachments: id, name, lastUpdated, type, mimeType, fileSize (the attachment's size field), hash
//	extras:      id
//
// and always rev and size (the record's revision and logical size). Fields
// copied from the document keep their values; a field that is missing or
// null is absent. The counts come from st.ArrayParts and are always
// present. Values alias st.Doc: encode before changing it.
func Summary(coll, id string, st *DocState) map[string]any {
	m := map[string]any{"id": id, "rev": modelUint(st.Rev), "size": modelUint(st.Size)}
	doc, _ := st.Doc.(map[string]any)
	copyFields := func(fields ...string) {
		for _, f := range fields {
			if v, ok := doc[f]; ok && v != nil {
				m[f] = v
			}
		}
	}
	switch coll {
	case "sessions":
		copyFields("name", "status", "startTime", "endTime", "tags")
		m["screenshotCount"] = int64(st.ArrayParts["screenshots"])
		m["audioSegmentCount"] = int64(st.ArrayParts["audioSegments"])
	case "notes":
		copyFields("timestamp", "lastUpdated", "tags")
		if t := NoteTitle(doc); t != "" {
			m["title"] = t
		}
	case "tasks":
		copyFields("title", "status", "priority", "done", "dueDate")
	case "topics", "companies", "contacts":
		copyFields("name", "lastUpdated")
	case "attachments":
		copyFields("name", "lastUpdated", "type", "mimeType", "hash")
		if v, ok := doc["size"]; ok && v != nil {
			m["fileSize"] = v
		}
	}
	return m
}

// modelUint returns n as the value model holds it: int64 up to MaxInt64.
func modelUint(n uint64) any {
	if n <= math.MaxInt64 {
		return int64(n)
	}
	return n
}

// NoteTitle derives a note's listing title: the first non-empty line of its
// content with HTML tags, common entities and Markdown markup removed,
// whitespace collapsed, cut to TitleLen runes. A note without usable
// content falls back to its summary field; the result may be empty.
func NoteTitle(doc map[string]any) string {
	for _, f := range []string{"content", "summary"} {
		s, _ := doc[f].(string)
		if t := titleOf(s); t != "" {
			return t
		}
	}
	return ""
}

func titleOf(s string) string {
	if s == "" {
		return ""
	}
	if strings.IndexByte(s, '<') >= 0 {
		s = stripTags(s)
	}
	if strings.IndexByte(s, '&') >= 0 {
		s = entityReplacer.Replace(s)
	}
	for line := range strings.Lines(s) {
		if t := stripMarkdown(line); t != "" {
			return truncateRunes(t, TitleLen)
		}
	}
	return ""
}

var entityReplacer = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&apos;", "'", "&nbsp;", " ")

// stripTags removes HTML tags; block-level tags become line breaks.
func stripTags(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		tag := strings.ToLower(strings.TrimLeft(s[i+1:i+j], "/ "))
		name, _, _ := strings.Cut(tag, " ")
		switch strings.TrimRight(name, "/") {
		case "br", "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "pre":
			b.WriteByte('\n')
		}
		s = s[i+j+1:]
	}
	return b.String()
}

var mdReplacer = strings.NewReplacer("**", "", "__", "", "~~", "", "`", "")

// stripMarkdown removes line-leading markup (headings, quotes, list and
// task markers), emphasis markers and link targets, and collapses spaces.
func stripMarkdown(line string) string {
	s := strings.TrimSpace(line)
	for changed := true; changed; {
		changed = false
		t := strings.TrimLeft(s, "#>")
		for _, p := range []string{"- [ ] ", "- [x] ", "- [X] ", "* [ ] ", "* [x] ", "- ", "* ", "+ ", "[ ] ", "[x] "} {
			if rest, ok := strings.CutPrefix(t, p); ok {
				t = rest
				break
			}
		}
		if i := strings.IndexByte(t, '.'); i > 0 && i < 4 && isDigits(t[:i]) && strings.HasPrefix(t[i:], ". ") {
			t = t[i+2:]
		}
		t = strings.TrimSpace(t)
		if t != s {
			s, changed = t, true
		}
	}
	s = mdReplacer.Replace(s)
	s = stripLinks(s)
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// stripLinks turns [text](target) and ![alt](target) into text and alt.
func stripLinks(s string) string {
	if !strings.Contains(s, "](") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "](")
		if i < 0 {
			break
		}
		open := strings.LastIndexByte(s[:i], '[')
		end := strings.IndexByte(s[i+2:], ')')
		if open < 0 || end < 0 {
			b.WriteString(s[:i+2])
			s = s[i+2:]
			continue
		}
		pre := s[:open]
		pre = strings.TrimSuffix(pre, "!")
		b.WriteString(pre)
		b.WriteString(s[open+1 : i])
		s = s[i+2+end+1:]
	}
	b.WriteString(s)
	return b.String()
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := 0; k < n; k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return strings.TrimSpace(s[:i])
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
