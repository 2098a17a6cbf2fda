package secondary

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/buckets"
)

func TestParseWhere(t *testing.T) {
	for _, c := range []struct {
		coll, expr string
		want       Filter
	}{
		{"sessions", "status=completed", Filter{Field: "status", Op: "=", Value: "completed"}},
		{"sessions", "status!=active", Filter{Field: "status", Op: "!=", Value: "active"}},
		{"sessions", "startTime>=2025-01-01", Filter{Field: "startTime", Op: ">=", Value: "2025-01-01"}},
		{"sessions", "startTime<2025-07-01T00:00:00.000Z", Filter{Field: "startTime", Op: "<", Value: "2025-07-01T00:00:00.000Z"}},
		{"sessions", "startTime<=1735689600000", Filter{Field: "startTime", Op: "<=", Value: json.Number("1735689600000")}},
		{"sessions", "totalDuration>90.5", Filter{Field: "totalDuration", Op: ">", Value: json.Number("90.5")}},
		{"tasks", "done=true", Filter{Field: "done", Op: "=", Value: true}},
		{"tasks", "done=false", Filter{Field: "done", Op: "=", Value: false}},
		{"sessions", "tags=deep work", Filter{Field: "tags", Op: "=", Value: "deep work"}},
		{"sessions", " enrichmentStatus.status =failed", Filter{Field: "enrichmentStatus.status", Op: "=", Value: "failed"}},
		{"sessions", "name=", Filter{Field: "name", Op: "=", Value: ""}},
		{"sessions", "name=a=b", Filter{Field: "name", Op: "=", Value: "a=b"}},
		{"notes", "@links=c-1", Filter{Field: "@links", Op: "=", Value: "c-1"}},
		{"sessions", "code=007", Filter{Field: "code", Op: "=", Value: "007"}},
		{"sessions", "n=-1e3", Filter{Field: "n", Op: "=", Value: json.Number("-1e3")}},
	} {
		got, err := ParseWhere(c.coll, c.expr)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseWhere(%q, %q) = %+v, %v; want %+v", c.coll, c.expr, got, err, c.want)
		}
	}
}

func TestParseWhere_errors(t *testing.T) {
	for _, c := range []struct {
		coll, expr string
		want       error
	}{
		{"sessions", "status", ErrBadQuery},
		{"sessions", "=completed", ErrBadQuery},
		{"sessions", "status==completed", ErrUnknownOperator},
		{"sessions", "status=>x", ErrUnknownOperator},
		{"sessions", "status<>x", ErrUnknownOperator},
		{"sessions", "status!x", ErrUnknownOperator},
		{"sessions", "startTime>=2025-13-01", ErrBadDate},
		{"sessions", "startTime>=yesterday", ErrBadDate},
		{"sessions", "startTime=true", ErrBadDate},
		{"tasks", "dueDate<2025-02-30", ErrBadDate},
		{"sessions", "a..b=1", ErrBadQuery},
		{"sessions", ".a=1", ErrBadQuery},
		{"nope", "a=1", buckets.ErrUnknownCollection},
		{"sessions", "name~standup", ErrTextFilter},
	} {
		_, err := ParseWhere(c.coll, c.expr)
		if !errors.Is(err, c.want) {
			t.Errorf("ParseWhere(%q, %q) error %v, want %v", c.coll, c.expr, err, c.want)
			continue
		}
		if c.want != buckets.ErrUnknownCollection && c.want != ErrTextFilter && !strings.Contains(err.Error(), c.expr) {
			t.Errorf("error %q does not quote the expression %q", err, c.expr)
		}
	}
	field, word, ok := AsTextFilter(func() error { _, err := ParseWhere("notes", "content~roadmap"); return err }())
	if !ok || field != "content" || word != "roadmap" {
		t.Errorf("AsTextFilter = %q, %q, %v", field, word, ok)
	}
}

func TestRun_badQueries(t *testing.T) {
	s := openStore(t)
	for _, c := range []struct {
		q    Query
		want error
	}{
		{Query{Collection: "nope"}, buckets.ErrUnknownCollection},
		{Query{Collection: "settings"}, ErrBadQuery},
		{Query{Collection: "sessions", Limit: -1}, ErrBadQuery},
		{Query{Collection: "sessions", Offset: -3}, ErrBadQuery},
		{Query{Collection: "sessions", Filters: []Filter{{Field: "status", Op: "~", Value: "x"}}}, ErrUnknownOperator},
		{Query{Collection: "sessions", Filters: []Filter{{Field: "", Op: "=", Value: "x"}}}, ErrBadQuery},
		{Query{Collection: "sessions", Filters: []Filter{{Field: "startTime", Op: ">", Value: "last week"}}}, ErrBadDate},
		{Query{Collection: "sessions", Filters: []Filter{{Field: "startTime", Op: "in", Values: []any{"2025-01-01", "x"}}}}, ErrBadDate},
		{Query{Collection: "sessions", Filters: []Filter{{Field: "status", Op: "=", Value: struct{}{}}}}, ErrBadQuery},
		{Query{Collection: "sessions", Filters: []Filter{{Field: "status", Op: "exists", Value: "yes"}}}, ErrBadQuery},
	} {
		if _, _, _, err := s.run(c.q); !errors.Is(err, c.want) {
			t.Errorf("Run(%+v) error %v, want %v", c.q, err, c.want)
		}
	}
}

// FuzzParseWhere checks ParseWhere never panics, and that what it accepts
// compiles and survives Run's validation.
func FuzzParseWhere(f *testing.F) {
	for _, s := range []string{"status=completed", "startTime>=2025-01-01", "a!=b", "x<=1e3", "tags=deep work", "a~b", "==", "startTime<2025-02-30", "@links=c-1", "a.b.c>true", "é=\x00"} {
		f.Add("sessions", s)
	}
	f.Fuzz(func(t *testing.T, coll, expr string) {
		flt, err := ParseWhere(coll, expr)
		if err != nil {
			return
		}
		c, lerr := buckets.Lookup(coll)
		if lerr != nil {
			t.Fatalf("ParseWhere accepted unknown collection %q", coll)
		}
		if _, err := compileFilter(c, flt); err != nil {
			t.Fatalf("ParseWhere(%q) = %+v, which does not compile: %v", expr, flt, err)
		}
	})
}

func TestParseInstant(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"2025-01-01", 1735689600000, true},
		{"2025-01-01T00:00:00Z", 1735689600000, true},
		{"2025-01-01T00:00:00.000Z", 1735689600000, true},
		{"2025-01-01T01:00:00+01:00", 1735689600000, true},
		{"2025-01-01T00:00:00.9999Z", 1735689600999, true},
		{"2025-01-01T00:00:00", 1735689600000, true},
		{"2025-01-01 00:00:00", 1735689600000, true},
		{"2025-01-01T00:00Z", 1735689600000, true},
		{"1969-12-31T23:59:59.9995Z", -1, true},
		{"2025-02-30", 0, false},
		{"2025-1-01", 0, false},
		{"20250101", 0, false},
		{"2025-01-01X00:00:00Z", 0, false},
		{"", 0, false},
	} {
		got, ok := parseInstant(c.in)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("parseInstant(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestCompareNumbers(t *testing.T) {
	big := json.Number("123456789012345678901234567890")
	for _, c := range []struct {
		a, b any
		want int
	}{
		{int64(1)<<53 + 1, float64(1 << 53), 1},
		{float64(1 << 53), int64(1)<<53 + 1, -1},
		{int64(-1), uint64(1) << 63, -1},
		{uint64(1)<<63 + 1, uint64(1) << 63, 1},
		{5.5, int64(5), 1},
		{-5.5, int64(-5), -1},
		{big, uint64(1) << 63, 1},
		{big, 1.3e29, -1},
		{big, 1.2e29, 1},
		{json.Number("1e400"), 1e308, 1},
		{int64(3), 3.0, 0},
	} {
		if got := compareNumbers(c.a, c.b); got != c.want {
			t.Errorf("compareNumbers(%v, %v) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestFoldString(t *testing.T) {
	for _, c := range [][2]string{{"Acme", "ACME"}, {"straße", "STRAßE"}, {"Kelvin", "\u212Aelvin"}, {"Ärger", "ärger"}, {"ΣΑΣ", "σας"}} {
		if foldString(c[0]) != foldString(c[1]) || !strings.EqualFold(c[0], c[1]) {
			t.Errorf("foldString(%q) = %q, foldString(%q) = %q", c[0], foldString(c[0]), c[1], foldString(c[1]))
		}
	}
	if foldString("a") == foldString("b") {
		t.Error("fold merges a and b")
	}
}

// FuzzParseInstant checks parseInstant never panics and that an accepted
// date round-trips through RFC 3339 to the same instant.
func FuzzParseInstant(f *testing.F) {
	for _, s := range []string{"2025-01-01", "2025-01-01T00:00:00.123+05:30", "2025-01-01 10:00", "9999-12-31T23:59:59.999999999Z", "0000-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, ok := parseInstant(s)
		if !ok {
			return
		}
		again, ok := parseInstant(time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00"))
		if !ok || again != ms {
			t.Fatalf("parseInstant(%q) = %d; round trip gives %d, %v", s, ms, again, ok)
		}
	})
}
