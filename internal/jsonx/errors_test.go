package jsonx

import (
	"errors"
	"strings"
	"testing"
)

// Hostile input must not turn an error message into kilobytes of path: a
// document nested past the limit or a member name a megabyte long still
// gets a message of a readable length that says what is wrong, while
// Error.Path keeps the whole path for a program.
func TestError_longPathShortened(t *testing.T) {
	deep := strings.Repeat("[", 1500) + strings.Repeat("]", 1500)
	longKey := strings.Repeat("é", 500_000)
	for name, in := range map[string]string{
		"deep":      `{"deep":` + deep + `}`,
		"long key":  `{"` + longKey + `":1,"` + longKey + `":2}`,
		"long path": `{"` + longKey + `":[1,}`,
	} {
		_, err := decodeAll([]byte(in), Options{}, false)
		var je *Error
		if !errors.As(err, &je) {
			t.Fatalf("%s: got %v, want an *Error", name, err)
		}
		msg := err.Error()
		if len(msg) > 600 {
			t.Errorf("%s: message is %d bytes: %.300s", name, len(msg), msg)
		}
		if !strings.Contains(msg, "bytes) …") {
			t.Errorf("%s: message does not say what it left out: %s", name, msg)
		}
		if len(je.Path) < 1000 {
			t.Errorf("%s: Error.Path lost the whole path (%d bytes)", name, len(je.Path))
		}
		if !strings.HasSuffix(strings.TrimRight(msg, "\n"), je.Msg) && !errors.Is(err, ErrDuplicateKey) {
			t.Errorf("%s: message lost what is wrong: %s", name, msg)
		}
	}
}

func TestShorten(t *testing.T) {
	if got := shorten("abc", 10); got != "abc" {
		t.Errorf("shorten kept short text as %q", got)
	}
	s := strings.Repeat("ü", 100) // 200 bytes of 2-byte runes
	got := shorten(s, 51)
	if !strings.HasPrefix(got, strings.Repeat("ü", 12)+" … (") || !strings.HasSuffix(got, ") … "+strings.Repeat("ü", 12)) {
		t.Errorf("shorten cut inside a rune or in the wrong place: %q", got)
	}
}
