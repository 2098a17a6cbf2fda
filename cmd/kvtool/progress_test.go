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

// TestProgress_activity: work of unknown size reports its time spent, off
// a terminal as plain lines (none before 5 s); stop ends the ticking
// goroutine before it returns.
func TestProgress_activity(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	p := newProgressAt(&buf, "compact", 0, false, func() time.Time { return clock })
	p.activity = true
	for _, d := range []time.Duration{3 * time.Second, 3 * time.Second, 2 * time.Second} {
		clock = clock.Add(d)
		p.set(0)
	}
	p.done()
	if want := "compact: running for 6s\ncompact: done in 8s\n"; buf.String() != want {
		t.Fatalf("activity lines:\n%s\nwant:\n%s", buf.String(), want)
	}

	buf.Reset()
	stop := activity(&buf, "backup")
	stop() // returns once its goroutine has ended: buf is ours again
	if buf.Len() != 0 {
		t.Fatalf("a short activity printed %q", buf.String())
	}
}
