package buckets

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseBucket_roundTrip(t *testing.T) {
	type want struct {
		kind        BucketKind
		coll, index string
	}
	cases := map[string]want{
		string(LogBucket):  {BucketLog, "", ""},
		string(RefsBucket): {BucketRefs, "", ""},
		string(SysBucket):  {BucketSys, "", ""},
	}
	for _, c := range CollectionNames() {
		cases[string(PrimaryBucket(c))] = want{BucketPrimary, c, ""}
		cases[string(MetaBucket(c))] = want{BucketMeta, c, ""}
		cases[string(PartsBucket(c))] = want{BucketParts, c, ""}
		for _, ix := range []string{"date", "tags", "status", "a/b", "ü"} {
			cases[string(IndexBucket(c, ix))] = want{BucketIndex, c, ix}
		}
	}
	for name, w := range cases {
		kind, coll, index, ok := ParseBucket([]byte(name))
		if !ok || kind != w.kind || coll != w.coll || index != w.index {
			t.Errorf("ParseBucket(%q) = %v, %q, %q, %v, want %v, %q, %q", name, kind, coll, index, ok, w.kind, w.coll, w.index)
		}
	}
}

func TestBucketNames_layout(t *testing.T) {
	for got, want := range map[string]string{
		string(PrimaryBucket("sessions")):                          "c/sessions",
		string(MetaBucket("notes")):                                "m/notes",
		string(PartsBucket("sessions")):                            "p/sessions",
		string(IndexBucket("tasks", "dueDate")):                    "x/tasks/dueDate",
		string(LogBucket) + string(RefsBucket) + string(SysBucket): "logrefssys",
	} {
		if got != want {
			t.Errorf("bucket name %q, want %q", got, want)
		}
	}
}

func TestParseBucket_unknown(t *testing.T) {
	for _, name := range []string{
		"", "c/", "c/nope", "m/", "p/Sessions", "x/", "x/sessions", "x/sessions/", "x/nope/date",
		"c", "logs", "LOG", "sys/", "/c/sessions", "c//sessions", "c/sessions/x", "\x00",
	} {
		if kind, coll, index, ok := ParseBucket([]byte(name)); ok || kind != BucketUnknown {
			t.Errorf("ParseBucket(%q) = %v, %q, %q, %v, want unknown", name, kind, coll, index, ok)
		}
	}
}

func TestCheckID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		ok   bool
	}{
		{"empty", "", false},
		{"one byte", "a", true},
		{"256 bytes", strings.Repeat("a", 256), true},
		{"257 bytes", strings.Repeat("a", 257), false},
		{"128 two-byte runes", strings.Repeat("é", 128), true},
		{"257 bytes of runes", strings.Repeat("é", 128) + "a", false},
		{"invalid UTF-8", "ab\xffcd", false},
		{"truncated rune", "\xc3", false},
		{"NUL", "a\x00b", false},
		{"only NUL", "\x00", false},
		{"spaces and slashes", "a b/c..\\d", true},
		{"control characters", "\x01\t\n", true},
		{"emoji", "🪨", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckID(tt.id)
			if tt.ok && err != nil {
				t.Errorf("CheckID: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidID) {
				t.Errorf("CheckID = %v, want ErrInvalidID", err)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	for _, name := range CollectionNames() {
		c, err := Lookup(name)
		if err != nil || c.Name != name {
			t.Errorf("Lookup(%q) = %v, %v", name, c, err)
		}
	}
	_, err := Lookup("sesions")
	if !errors.Is(err, ErrUnknownCollection) || !strings.Contains(err.Error(), "sessions") || !strings.Contains(err.Error(), `"sesions"`) {
		t.Errorf("Lookup(sesions) = %v, want ErrUnknownCollection naming it and the valid names", err)
	}
	s, _ := Lookup("sessions")
	if part, array := s.IsPart("screenshots"); !part || !array {
		t.Error("screenshots is not an array part")
	}
	if part, array := s.IsPart("summary"); !part || array {
		t.Error("summary is not a blob part")
	}
	if part, _ := s.IsPart("name"); part {
		t.Error("name is a part")
	}
	// Collections returns a copy.
	cs := Collections()
	cs[0].Name = "changed"
	if Collections()[0].Name == "changed" {
		t.Error("Collections exposes its backing array")
	}
}

func TestChunks(t *testing.T) {
	for n, want := range map[uint32]int{0: 0, 1: 1, 15: 1, 16: 1, 17: 2, 32: 2, 33: 3, math.MaxUint32: 1 << 28} {
		if got := Chunks(n); got != want {
			t.Errorf("Chunks(%d) = %d, want %d", n, got, want)
		}
	}
	// Every chunk index of the largest array still makes a parseable key.
	last := Chunks(math.MaxUint32) - 1
	if _, _, idx, err := ParsePartKey(PartKey("s", "screenshots", last)); err != nil || idx != last {
		t.Errorf("chunk %d: %d, %v", last, idx, err)
	}
}
