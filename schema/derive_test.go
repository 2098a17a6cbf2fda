package schema

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// collapseRef is what collapseSpaces must return: the words joined by
// single spaces, cut to max runes.
func collapseRef(s string, max int) string {
	j := strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
	i := 0
	for n := 0; n < max && i < len(j); n++ {
		_, size := utf8.DecodeRuneInString(j[i:])
		i += size
	}
	return j[:i]
}

func FuzzCollapseSpaces(f *testing.F) {
	for _, s := range []string{
		"", " ", "a", "  lead and trail  ", "a\tb\nc\r\nd", "x\u00a0y\u3000z\u2028w",
		"bad \xff\xfe bytes", "\xff \xff", "é è ü 日本 語", strings.Repeat("word ", 40), strings.Repeat(" ", 100) + "late",
	} {
		f.Add(s, 81)
		f.Add(s, 1)
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 1000 {
			return
		}
		if got, want := collapseSpaces(s, max), collapseRef(s, max); got != want {
			t.Fatalf("collapseSpaces(%q, %d) = %q, want %q", s, max, got, want)
		}
	})
}

// TestTitle_longLine checks that a title cut from a long first line is the
// line's start, whether or not the cut falls on a space.
func TestTitle_longLine(t *testing.T) {
	for _, line := range []string{
		strings.Repeat("**word**   ", 50),
		strings.Repeat("x", 79) + "  yz and more",
		strings.Repeat("x", 80) + "  yz",
		strings.Repeat("x", 81),
		"- [ ] " + strings.Repeat("é ", 100),
	} {
		full := strings.Join(strings.FieldsFunc(strings.NewReplacer("**", "").Replace(strings.TrimPrefix(line, "- [ ] ")), unicode.IsSpace), " ")
		want := truncateRunes(full, TitleLen)
		if got := Title(map[string]any{"content": line + "\nsecond line"}, "content"); got != want {
			t.Errorf("Title(%.20q…) = %q, want %q", line, got, want)
		}
	}
}
