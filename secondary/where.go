package secondary

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/schema"
)

// ParseWhere parses one kvtool --where expression on coll:
//
//	field=value  field!=value  field>=value  field<=value  field>value  field<value
//
// field is a top-level field, a dotted path or LinksField; value is typed
// as a boolean ("true", "false"), a number (a JSON number literal, kept
// exactly as json.Number) or else a string, taken verbatim (spaces
// included; it may be empty). On a declared timestamp field the value must
// be an ISO 8601 date or date-time (a date alone is midnight UTC) or epoch
// milliseconds, else the error wraps ErrBadDate. field~word is a full-text
// filter: ParseWhere returns a *TextFilterError (errors.Is ErrTextFilter;
// see AsTextFilter) for the caller to answer with the search index. Other
// errors wrap ErrUnknownOperator, ErrBadQuery or
// buckets.ErrUnknownCollection and quote the expression.
func ParseWhere(c *schema.Collection, expr string) (Filter, error) {
	i := strings.IndexAny(expr, "=!<>~")
	if i < 0 {
		return Filter{}, fmt.Errorf("%w: %q has no operator (use =, !=, <, <=, >, >= or ~)", ErrBadQuery, expr)
	}
	field := strings.TrimSpace(expr[:i])
	op := expr[i : i+1]
	if i+1 < len(expr) && expr[i+1] == '=' && (op == "!" || op == "<" || op == ">") {
		op = expr[i : i+2]
	}
	value := expr[i+len(op):]
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
	if field[0] == '.' || field[len(field)-1] == '.' || containsEmptySegment(field) {
		return Filter{}, fmt.Errorf("%w: field %q in %q has an empty path segment", ErrBadQuery, field, expr)
	}
	var v any
	switch {
	case value == "true":
		v = true
	case value == "false":
		v = false
	case buckets.IsNumberLiteral(value):
		v = json.Number(value)
	default:
		v = value
	}
	f := Filter{Field: field, Op: op, Value: v}
	// Check the value now (dates on timestamp fields), so the error
	// quotes the expression.
	if _, err := compileFilter(c, f); err != nil {
		return Filter{}, fmt.Errorf("in %q: %w", expr, err)
	}
	return f, nil
}
