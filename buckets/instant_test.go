package buckets

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// TestParseInstant: every form of issue 15 reads as the same instant, and
// what cannot be read says so instead of becoming time 0.
func TestParseInstant(t *testing.T) {
	ms := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	jan1 := ms("2026-01-01T00:00:00Z")
	tests := []struct {
		in   any
		want int64
	}{
		{"2026-01-01", jan1},
		{"2026-01-01T00:00:00Z", jan1},
		{"2026-01-01 00:00:00Z", jan1},
		{"2026-01-01t00:00:00z", jan1},
		{"2026-01-01T00:00:00.000Z", jan1},
		{"2026-01-01T00:00Z", jan1},
		{"2026-01-01T00:00", jan1},
		{"2026-01-01T00:00:00", jan1},
		{"2026-01-01T01:00:00+01:00", jan1},
		{"2026-01-01T01:00:00+0100", jan1},
		{"2026-01-01T01:00:00+01", jan1},
		{"2025-12-31T19:30:00-04:30", jan1},
		{"2026-01-01T00:00:00.123456789Z", jan1 + 123},
		{"2026-01-01T00:00:00,5Z", jan1 + 500},
		{"1969-12-31T23:59:59.9995Z", -1}, // rounded down
		{"+275760-09-13T00:00:00.000Z", 8.64e15},
		{"-000001-01-01T00:00:00Z", ms("0000-01-01T00:00:00Z") - 365*86400000},
		{"2024-02-29", ms("2024-02-29T00:00:00Z")},
		{int64(jan1), jan1},
		{1767225600000, jan1},
		{float64(jan1) + 0.7, jan1},
		{-0.5, -1},
		{float64(1 << 60), 1152921504606847000}, // the value its shortest form writes
		{json.Number("1767225600000"), jan1},
		{json.Number("1767225600000.999"), jan1},
		{json.Number("1.7672256e12"), jan1},
		{json.Number("-1.5"), -2},
		{"1767225600000", jan1},
		{"-1", -1},
		{"2026", 2026}, // a numeric string is epoch milliseconds, not a year
		{"1.7672256e12", jan1},
	}
	for _, tt := range tests {
		got, ok := ParseInstant(tt.in)
		if !ok || got != tt.want {
			t.Errorf("ParseInstant(%#v) = %d, %v; want %d", tt.in, got, ok, tt.want)
		}
	}
	for _, bad := range []any{
		"", "2026-1-1", "2026-13-01", "2026-02-30", "2025-02-29", "2026-01-00",
		"2026-01-01T24:00:00Z", "2026-01-01T00:60Z", "2026-01-01T00:00:60Z", "2026-01-01T00:00:00.Z",
		"2026-01-01T00Z", "2026-01-01Z", "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00 UTC",
		" 2026-01-01", "2026-01-01 ", "2026-01-01T00:00:00+01:0", "-000000-01-01", "tomorrow", "0x10", "1e",
		uint64(math.MaxUint64), json.Number("1e19"), math.Inf(1), 1e300, true, nil, map[string]any{},
	} {
		if got, ok := ParseInstant(bad); ok {
			t.Errorf("ParseInstant(%#v) = %d, want not readable", bad, got)
		}
	}
}

// FuzzParseInstant checks ParseInstant never panics, and that a date it
// reads (years 0 to 9999) reads the same again once written as RFC 3339.
func FuzzParseInstant(f *testing.F) {
	for _, s := range []string{"2025-01-01", "2025-01-01T00:00:00.123+05:30", "2025-01-01 10:00",
		"9999-12-31T23:59:59.999999999Z", "0000-01-01", "+275760-09-13T00:00:00.000Z", "1767225600000", "-1.5e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, ok := ParseInstant(s)
		if !ok {
			return
		}
		tm := time.UnixMilli(ms).UTC()
		if tm.Year() < 0 || tm.Year() > 9999 {
			return
		}
		again, ok := ParseInstant(tm.Format("2006-01-02T15:04:05.000Z07:00"))
		if !ok || again != ms {
			t.Fatalf("ParseInstant(%q) = %d; round trip gives %d, %v", s, ms, again, ok)
		}
	})
}
