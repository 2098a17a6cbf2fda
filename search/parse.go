package search

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Search text, as docs/KVTOOL.md describes it:
//
//	text    = group { space group }       every group must match (AND)
//	group   = item { space "OR" space item }  any item of the group (OR binds tighter)
//	item    = [ "-" ] [ field ":" ] ( word | '"' phrase '"' )
//	word    = plain | plain "*" | plain "~" [ digit ]
//
// A plain word is analysed like the indexed text (English: lower case,
// stop words dropped, stemmed) and all its words must occur; a phrase
// must occur in that order; "pre*" matches any word starting with pre
// (lower-cased, not stemmed); "word~" matches words within an edit
// distance of 2 ("word~1": 1); "-" excludes documents that match the item;
// "field:" looks in that search field only. A word or phrase that
// analyses to nothing (a stop word, punctuation) is dropped.

// maxFuzziness is the largest edit distance of word~N (Bleve's limit).
const maxFuzziness = 2

// clauseKind is what one item of the search text asks for.
type clauseKind int

const (
	kindWord   clauseKind = iota // analysed words, all required
	kindPhrase                   // analysed words, in order
	kindPrefix                   // a lower-cased prefix
	kindFuzzy                    // a lower-cased word within fuzz edits
)

func (k clauseKind) String() string {
	return [...]string{"word", "phrase", "prefix", "fuzzy"}[k]
}

// clause is one item of the search text.
type clause struct {
	kind  clauseKind
	field string // "" for every field
	text  string // the word, phrase or prefix as written (without * or ~N)
	fuzz  int    // edit distance of a fuzzy word
	neg   bool   // exclude documents that match
	pos   int    // 1-based character position of the item in the text
}

// parsed is search text parsed: every group must match; within a group,
// any clause.
type parsed struct {
	groups [][]clause
}

// SyntaxError is a malformed search text. It wraps ErrSyntax.
type SyntaxError struct {
	Pos int    // 1-based character (not byte) position of the problem
	Msg string // what is wrong there
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("cairn: search text: syntax error at position %d: %s", e.Pos, e.Msg)
}

// Unwrap makes errors.Is(err, ErrSyntax) true.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// token is a lexical unit of the search text.
type token struct {
	or     bool   // the operator OR
	neg    bool   // a leading "-"
	field  string // "field:" before the word or phrase
	phrase bool   // text was quoted
	text   string // the word (suffix included) or the phrase's inside
	pos    int    // 1-based character position
}

// parseText parses search text. It fails with a *SyntaxError for a
// malformed text, ErrEmptyQuery when nothing is left to look for, and
// ErrQueryTooLong beyond MaxQueryBytes or MaxQueryTerms items.
func parseText(text string) (parsed, error) {
	if len(text) > MaxQueryBytes {
		return parsed{}, fmt.Errorf("%w: %d bytes (max %d)", ErrQueryTooLong, len(text), MaxQueryBytes)
	}
	if !utf8.ValidString(text) {
		i := 0
		for i < len(text) {
			r, n := utf8.DecodeRuneInString(text[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return parsed{}, &SyntaxError{Pos: utf8.RuneCountInString(text[:i]) + 1, Msg: "the text is not valid UTF-8"}
	}
	toks, err := lex(text)
	if err != nil {
		return parsed{}, err
	}
	var p parsed
	items := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.or {
			return parsed{}, &SyntaxError{Pos: t.pos, Msg: "OR needs a word before it"}
		}
		group := []clause{}
		for {
			c, err := toClause(t)
			if err != nil {
				return parsed{}, err
			}
			items++
			if items > MaxQueryTerms {
				return parsed{}, fmt.Errorf("%w: more than %d words", ErrQueryTooLong, MaxQueryTerms)
			}
			group = append(group, c)
			if i+1 >= len(toks) || !toks[i+1].or {
				break
			}
			or := toks[i+1]
			if i+2 >= len(toks) {
				return parsed{}, &SyntaxError{Pos: or.pos, Msg: "OR needs a word after it"}
			}
			if toks[i+2].or {
				return parsed{}, &SyntaxError{Pos: toks[i+2].pos, Msg: "OR follows OR"}
			}
			i += 2
			t = toks[i]
		}
		if len(group) > 1 {
			for _, c := range group {
				if c.neg {
					return parsed{}, &SyntaxError{Pos: c.pos, Msg: "an excluded word (-) cannot be an alternative of OR"}
				}
			}
		}
		p.groups = append(p.groups, group)
	}
	if len(p.groups) == 0 {
		return parsed{}, fmt.Errorf("%w: empty text", ErrEmptyQuery)
	}
	return p, nil
}

// CheckText reports whether text is well-formed search syntax: nil, or
// the error Search would return for its form (a *SyntaxError wrapping
// ErrSyntax, ErrEmptyQuery for empty text, ErrQueryTooLong). Text that is
// only stop words passes here and fails in Search.
func CheckText(text string) error {
	_, err := parseText(text)
	return err
}

// lex splits text into tokens.
func lex(text string) ([]token, error) {
	var toks []token
	pos := 0 // characters consumed
	i := 0
	next := func() rune {
		r, n := utf8.DecodeRuneInString(text[i:])
		i += n
		pos++
		return r
	}
	for i < len(text) {
		r, n := utf8.DecodeRuneInString(text[i:])
		if unicode.IsSpace(r) {
			i += n
			pos++
			continue
		}
		t := token{pos: pos + 1}
		var b strings.Builder
		for i < len(text) {
			r, n := utf8.DecodeRuneInString(text[i:])
			if unicode.IsSpace(r) {
				break
			}
			if r == '"' {
				head := b.String()
				if head != "" && head != "-" && !strings.HasSuffix(head, ":") {
					break // word"phrase": two items
				}
				// [-][field:]"phrase"
				quote := pos + 1
				next()
				end := strings.IndexByte(text[i:], '"')
				if end < 0 {
					return nil, &SyntaxError{Pos: quote, Msg: "unterminated phrase: no closing \""}
				}
				t.phrase = true
				t.text = text[i : i+end]
				pos += utf8.RuneCountInString(t.text) + 1
				i += end + 1
				if head == "-" || strings.HasPrefix(head, "-") {
					t.neg = true
					head = head[1:]
				}
				if head != "" {
					f := strings.TrimSuffix(head, ":")
					if !validField(f) {
						return nil, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("%q is not a field name (letters, digits and _)", f)}
					}
					t.field = f
				}
				b.Reset()
				break
			}
			b.WriteRune(r)
			i += n
			pos++
		}
		if !t.phrase {
			t.text = b.String()
			if t.text == "" {
				continue // a phrase right after a word: lexed next round
			}
			if t.text == "OR" {
				t.or = true
			}
		}
		toks = append(toks, t)
	}
	return toks, nil
}

// validField reports whether f can name a search field.
func validField(f string) bool {
	if f == "" {
		return false
	}
	for i, r := range f {
		if !(unicode.IsLetter(r) || r == '_' || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

// toClause reads one word or phrase token.
func toClause(t token) (clause, error) {
	c := clause{pos: t.pos, field: t.field, neg: t.neg}
	if t.phrase {
		c.kind = kindPhrase
		c.text = t.text
		if strings.TrimSpace(c.text) == "" {
			return clause{}, &SyntaxError{Pos: t.pos, Msg: "empty phrase"}
		}
		return c, nil
	}
	s := t.text
	if strings.HasPrefix(s, "-") {
		c.neg = true
		s = s[1:]
		if s == "" {
			return clause{}, &SyntaxError{Pos: t.pos, Msg: "- needs a word right after it"}
		}
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		f := s[:i]
		if !validField(f) {
			return clause{}, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("%q is not a field name (letters, digits and _); leave out the colon to search for the word", f)}
		}
		c.field = f
		s = s[i+1:]
		if s == "" {
			return clause{}, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("%s: needs a word or a phrase right after it (leave out the colon to search for %q)", f, f)}
		}
	}
	switch {
	case strings.HasSuffix(s, "*"):
		c.kind = kindPrefix
		s = s[:len(s)-1]
		if s == "" {
			return clause{}, &SyntaxError{Pos: t.pos, Msg: "* needs the start of a word before it (pre*)"}
		}
	case strings.Contains(s, "~"):
		i := strings.LastIndexByte(s, '~')
		c.kind = kindFuzzy
		c.fuzz = maxFuzziness
		if d := s[i+1:]; d != "" {
			n, err := strconv.Atoi(d)
			if err != nil || n < 0 || n > maxFuzziness {
				return clause{}, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("~%s: the edit distance is 0, 1 or 2 (word~ is 2)", d)}
			}
			c.fuzz = n
		}
		s = s[:i]
		if s == "" {
			return clause{}, &SyntaxError{Pos: t.pos, Msg: "~ needs a word before it (word~)"}
		}
	}
	if j := strings.IndexAny(s, "*~"); j >= 0 {
		return clause{}, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("%q: %c can only end a word (pre*, word~1)", t.text, s[j])}
	}
	c.text = s
	return c, nil
}
