package buckets

import (
	"github.com/cairnkv/cairn/schema"
	"math"
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
	for _, c := range append(schema.BuiltinNames(), "widgets", "my_things-2") {
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
		"", "c/", "c/No", "c/_x", "m/", "p/Sessions", "x/", "x/sessions", "x/sessions/", "x/No/date",
		"c", "logs", "LOG", "sys/", "/c/sessions", "c//sessions", "c/sessions/x", "\x00",
	} {
		if kind, coll, index, ok := ParseBucket([]byte(name)); ok || kind != BucketUnknown {
			t.Errorf("ParseBucket(%q) = %v, %q, %q, %v, want unknown", name, kind, coll, index, ok)
		}
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
