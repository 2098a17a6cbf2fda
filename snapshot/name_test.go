package snapshot

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestName_roundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1000; i++ {
		tm := time.Unix(0, r.Int64N(int64(200*365*24*time.Hour))).Add(-50 * 365 * 24 * time.Hour)
		n := Name(tm)
		got, err := ParseName(n)
		if err != nil || !got.Equal(tm) {
			t.Fatalf("ParseName(Name(%v)) = %v, %v", tm, got, err)
		}
		if n != Name(tm.In(time.FixedZone("x", 3600))) {
			t.Fatalf("name depends on the zone")
		}
	}
	if n := Name(testNow); n != "20261126T010203.123456789Z" {
		t.Errorf("Name = %s", n)
	}
	if n := Name(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); n != "20260102T030405.000000000Z" {
		t.Errorf("Name = %s (fraction must be fixed width)", n)
	}
}

// Names sort like the times they encode.
func TestName_order(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var times []time.Time
	for i := 0; i < 500; i++ {
		times = append(times, time.Unix(r.Int64N(4e9), r.Int64N(1e9)))
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	for i := 1; i < len(times); i++ {
		if Name(times[i-1]) > Name(times[i]) {
			t.Fatalf("%s > %s", Name(times[i-1]), Name(times[i]))
		}
	}
}

func TestParseName_invalid(t *testing.T) {
	for _, s := range []string{
		"",
		"20261126T010203Z",
		"20261126T010203.123456789",
		"20261126T010203.12345678Z",
		"20261126T010203.1234567890Z",
		"20261326T010203.123456789Z", // month 13
		"20261126T250203.123456789Z",
		"20261126t010203.123456789Z",
		"20261126T010203.123456789z",
		"20261126T010203,123456789Z",
		"2026112 T010203.123456789Z",
		"../1126T010203.123456789Z",
		"/0261126T010203.123456789Z",
		"20261126T010203.123456789Z/",
		"20261126T010203.123456789Z.db",
		"2026\x001126T010203.12345678Z",
		"20261126T010203.123456789Z\x00",
		"20261126T01\\203.123456789Z",
		"+0261126T010203.123456789Z",
	} {
		if _, err := ParseName(s); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ParseName(%q) = %v, want ErrInvalidName", s, err)
		}
	}
}

func TestPath(t *testing.T) {
	dir := t.TempDir()
	good := Name(testNow)
	p, err := Path(dir, good)
	if err != nil || p != filepath.Join(dir, good+".db") {
		t.Errorf("Path = %q, %v", p, err)
	}
	for _, s := range []string{
		"..", "../" + good, good + "/..", "/etc/passwd", "/" + good, "a/" + good,
		good + "\x00", "x\x00y", "sub" + string(filepath.Separator) + good, "",
		strings.Repeat(".", len(good)), "..\\" + good[3:],
	} {
		if p, err := Path(dir, s); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Path(%q) = %q, %v; want ErrInvalidName", s, p, err)
		}
	}
}

func FuzzParseName(f *testing.F) {
	f.Add("20261126T010203.123456789Z")
	f.Add("../20261126T010203.12345Z")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseName(s)
		if err != nil {
			return
		}
		if Name(tm) != s {
			t.Fatalf("ParseName(%q) accepted a name Name does not produce: %q", s, Name(tm))
		}
		p, err := Path("/base", s)
		if err != nil || filepath.Dir(p) != "/base" || filepath.Base(p) != s+".db" {
			t.Fatalf("Path(%q) = %q, %v", s, p, err)
		}
	})
}
