package main

import (
	"bytes"
	"testing"
	"time"
)

// TestProgress_plain: off a terminal, nothing for the first 5 s, then one
// line at most every 5 s, in human units for bytes, and a last line only
// when a line was printed.
func TestProgress_plain(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	var buf bytes.Buffer
	p := newProgressAt(&buf, "import", 4<<20, false, now)
	p.bytes = true
	for _, step := range []struct {
		advance time.Duration
		done    int
	}{{time.Second, 1 << 20}, {3 * time.Second, 1 << 20}, {2 * time.Second, 2 << 20}, {time.Second, 3 << 20}, {5 * time.Second, 3 << 20}} {
		clock = clock.Add(step.advance)
		p.set(step.done)
	}
	p.done()
	want := "import: 50% (2.0 MiB of 4.0 MiB)\nimport: 75% (3.0 MiB of 4.0 MiB)\nimport: done (4.0 MiB) in 12s\n"
	if buf.String() != want {
		t.Fatalf("plain progress:\n%s\nwant:\n%s", buf.String(), want)
	}

	buf.Reset()
	p = newProgressAt(&buf, "backfill", 10, false, now)
	p.set(5)
	p.done()
	if buf.Len() != 0 {
		t.Fatalf("work shorter than 5 s printed %q", buf.String())
	}
}
