package secondary

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
)

// ParseWhere parses one kvtool --where expression on coll. An expression
// is one or more alternatives separated by the word OR (in capitals, with
// white space around it); the filter matches when any alternative does.
// An alternative is one of
//
//	field=value  field!=value  field>=value  field<=value  field>value  field<value
//	field in (value, value, ...)
//	field exists  field !exists
//
// field is a top-level field, a dotted path or LinksField; value is typed
// as a boolean ("true", "false"), a number (a JSON number literal, kept
// exactly as json.Number) or else a string, taken verbatim (spaces
// included; it may be empty; in a list, trimmed and without commas). On a
// declared timestamp field the value must be an ISO 8601 date or date-time
// (a date alone is midnight UTC) or epoch milliseconds, else the error
// wraps ErrBadDate. field~text is a full-text filter: ParseWhere returns a
// *TextFilterError (errors.Is ErrTextFilter; see AsTextFilter) for the
// caller to answer with the search index; it cannot be one alternative of
// an OR. Several alternatives make one Filter with Op OpOr. Other errors
// wrap ErrUnknownOperator, ErrBadQuery or buckets.ErrUnknownCollection and
// quote the expression.
func ParseWhere(c *schema.Collection, expr string) (Filter, error) {
	if !utf8.ValidString(expr) {
		return Filter{}, fmt.Errorf("%w: %q is not valid UTF-8 (at byte %d): no stored field name or value can match it", ErrBadQuery, expr, invalidUTF8At(expr))
	}
	alts := splitOr(expr)
	if len(alts) == 1 {
		return parseAlternative(c, expr, expr, false)
	}
	if len(alts) > maxOr {
		return Filter{}, fmt.Errorf("%w: %q has more than %d alternatives", ErrBadQuery, expr, maxOr)
	}
	f := Filter{Op: OpOr}
	for i, a := range alts {
		if strings.TrimSpace(a) == "" {
			return Filter{}, fmt.Errorf("%w: %q has an empty alternative around OR", ErrBadQuery, expr)
		}
		sub, err := parseAlternative(c, a, expr, i < len(alts)-1)
		if errors.Is(err, ErrTextFilter) {
			return Filter{}, fmt.Errorf("%w: %q: a full-text filter (~) cannot be an alternative of OR", ErrBadQuery, expr)
		}
		if err != nil {
			return Filter{}, err
		}
		f.Or = append(f.Or, sub)
	}
	return f, nil
}

// splitOr splits expr at each word OR with white space on both sides,
// outside parentheses.
func splitOr(expr string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(expr); i++ {
		switch expr[i] {
		case '(':
			depth++
		case ')':
			depth = max(0, depth-1)
		case 'O':
			if depth == 0 && i > 0 && isSpace(expr[i-1]) && strings.HasPrefix(expr[i:], "OR") && i+2 < len(expr) && isSpace(expr[i+2]) {
				out = append(out, expr[start:i])
				start = i + 2
				i++
			}
		}
	}
	return append(out, expr[start:])
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// fieldWord returns the leading field name of s (up to white space or an
// operator character) and the rest, trimmed.
func fieldWord(s string) (field, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || strings.ContainsRune("=!<>~(", r) })
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// parseAlternative parses one alternative s of expr; beforeOr says an OR
// follows it, whose white space is not part of its value.
func parseAlternative(c *schema.Collection, s, expr string, beforeOr bool) (Filter, error) {
	field, rest := fieldWord(s)
	switch {
	case rest == "exists" || rest == "!exists":
		f := Filter{Field: field, Op: OpExists}
		if rest == "!exists" {
			f.Value = false
		}
		return checkFilter(c, f, expr)
	case rest == "in" || strings.HasPrefix(rest, "in ") || strings.HasPrefix(rest, "in("):
		list := strings.TrimSpace(rest[2:])
		if !strings.HasPrefix(list, "(") || !strings.HasSuffix(list, ")") {
			return Filter{}, fmt.Errorf("%w: %q: in takes a list in parentheses: %s in (a, b, c)", ErrBadQuery, expr, field)
		}
		list = strings.TrimSpace(list[1 : len(list)-1])
		if list == "" {
			return Filter{}, fmt.Errorf("%w: %q: the list after in is empty", ErrBadQuery, expr)
		}
		f := Filter{Field: field, Op: OpIn}
		for _, v := range strings.Split(list, ",") {
			v = strings.TrimSpace(v)
			if strings.ContainsAny(v, "()") {
				return Filter{}, fmt.Errorf("%w: %q: a value in the list of in holds a parenthesis", ErrBadQuery, expr)
			}
			f.Values = append(f.Values, typedValue(v))
		}
		return checkFilter(c, f, expr)
	}
	i := strings.IndexAny(s, "=!<>~")
	if i < 0 {
		return Filter{}, fmt.Errorf("%w: %q has no operator (use =, !=, <, <=, >, >=, ~, in (...), exists or !exists)", ErrBadQuery, expr)
	}
	field = strings.TrimSpace(s[:i])
	op := s[i : i+1]
	if i+1 < len(s) && s[i+1] == '=' && (op == "!" || op == "<" || op == ">") {
		op = s[i : i+2]
	}
	value := s[i+len(op):]
	if beforeOr {
		value = strings.TrimRight(value, " \t\n\r") // the white space before OR
	}
	if strings.TrimLeft(s[:i], " \t\n\r") != field {
		// Spaces around the operator ("name = x") are spacing, not the
		// value's; a value that starts with a space is written right
		// after the operator ("name= x"), alone or beside an OR.
		value = strings.TrimLeft(value, " \t")
	}
	if op == "!" {
		return Filter{}, fmt.Errorf("%w %q in %q (use =, !=, <, <=, >, >= or ~)", ErrUnknownOperator, "!", expr)
	}
	if value != "" && strings.ContainsRune("=<>!~", rune(value[0])) {
		return Filter{}, fmt.Errorf("%w %q in %q (use =, !=, <, <=, >, >= or ~)", ErrUnknownOperator, op+value[:1], expr)
	}
	if op == "~" {
		return Filter{}, &TextFilterError{Field: field, Word: value}
	}
	if field == "" {
		return Filter{}, fmt.Errorf("%w: %q has no field before %s", ErrBadQuery, expr, op)
	}
	return checkFilter(c, Filter{Field: field, Op: op, Value: typedValue(value)}, expr)
}

// typedValue types a value as written: a boolean, a number literal (as
// json.Number) or a string.
func typedValue(value string) any {
	switch {
	case value == "true":
		return true
	case value == "false":
		return false
	case buckets.IsNumberLiteral(value):
		return json.Number(value)
	}
	return value
}

// checkFilter compiles f now (field paths, dates on timestamp fields), so
// the error quotes the expression.
func checkFilter(c *schema.Collection, f Filter, expr string) (Filter, error) {
	if f.Field == "" {
		return Filter{}, fmt.Errorf("%w: %q has no field before %s", ErrBadQuery, expr, f.Op)
	}
	if f.Field[0] == '.' || f.Field[len(f.Field)-1] == '.' || containsEmptySegment(f.Field) {
		return Filter{}, fmt.Errorf("%w: field %q in %q has an empty path segment", ErrBadQuery, f.Field, expr)
	}
	if _, err := compileFilter(c, f); err != nil {
		return Filter{}, fmt.Errorf("in %q: %w", expr, err)
	}
	return f, nil
}

// invalidUTF8At returns the offset of the first byte of s that does not
// begin a valid UTF-8 sequence.
func invalidUTF8At(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return i
			}
		}
	}
	return len(s)
}
