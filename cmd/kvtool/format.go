package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

func compactJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "<" + err.Error() + ">"
	}
	return string(bytes.TrimRight(buf.Bytes(), "\n"))
}

func instantString(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// ago renders a duration in words: "3 hours ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	default:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return itoa(n) + " " + unit + "s"
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func shortID(id string) string {
	if len(id) > 64 {
		return id[:64] + "..."
	}
	return id
}

// terminalSafe returns s as human output shows it: what a terminal would
// act on instead of printing is escaped Go-style (\x1b, \u202e): control
// characters (tab and newline included, since a line or a cell holds one
// value), DEL, the C1 controls, the bidirectional overrides, isolates and
// marks, the line and paragraph separators, and bytes that are not UTF-8.
// Stored values are untouched: --json and get print them exactly.
func terminalSafe(s string) string {
	clean := true
	for _, r := range s {
		if unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				fmt.Fprintf(&b, `\x%02x`, s[i])
				continue
			}
			b.WriteRune(r)
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unsafeRune reports whether terminalSafe escapes r (a RuneError may be a
// byte that is not UTF-8: terminalSafe decides).
func unsafeRune(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == utf8.RuneError ||
		r == 0x200e || r == 0x200f || r == 0x061c || // the invisible direction marks
		r == 0x2028 || r == 0x2029 // line and paragraph separators
}

// linesSafe is terminalSafe for a message of several lines: each line is
// made safe, the newlines between them kept.
func linesSafe(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = terminalSafe(l)
	}
	return strings.Join(lines, "\n")
}
