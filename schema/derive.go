package schema

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// TitleLen is the longest derived title, in runes.
const TitleLen = 80

// Value returns the value of derived field d for document doc, whose array
// parts hold arrayParts elements; ok is false when it has none (a Title
// that comes out empty, a Copy of a missing or null field).
func (d Derived) Value(doc map[string]any, arrayParts map[string]uint32) (v any, ok bool) {
	switch {
	case d.Count != "":
		return int64(arrayParts[d.Count]), true
	case len(d.Title) > 0:
		if t := Title(doc, d.Title...); t != "" {
			return t, true
		}
	case d.Copy != "":
		if v, ok := doc[d.Copy]; ok && v != nil {
			return v, true
		}
	}
	return nil, false
}

// Title derives a listing title from the first of fields that yields one:
// the first non-empty line of its text with HTML tags, common entities and
// Markdown markup removed, whitespace collapsed, cut to TitleLen runes. The
// result may be empty. (A note's title: Title(doc, "content", "summary").)
func Title(doc map[string]any, fields ...string) string {
	for _, f := range fields {
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
		// One rune more than the title keeps, so that truncateRunes
		// still sees whether it cuts.
		if t := stripMarkdown(line, TitleLen+1); t != "" {
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
// task markers), emphasis markers and link targets, and collapses spaces,
// and returns at most max runes of the result.
func stripMarkdown(line string, max int) string {
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
	return collapseSpaces(s, max)
}

// collapseSpaces returns the first max runes of the words of s (split at
// Unicode spaces) joined by single spaces:
// strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ") cut to max
// runes, without splitting a whole note to keep the start of its first
// line. Bytes that are not UTF-8 are kept, each one rune, as there.
func collapseSpaces(s string, max int) string {
	var b strings.Builder
	b.Grow(min(len(s), max*utf8.UTFMax))
	runes, space := 0, false
	for i := 0; i < len(s) && runes < max; {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			space = b.Len() > 0
		} else {
			if space {
				b.WriteByte(' ')
				space = false
				if runes++; runes == max {
					break
				}
			}
			b.WriteString(s[i : i+size])
			runes++
		}
		i += size
	}
	return b.String()
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
