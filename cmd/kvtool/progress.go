package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress reports long work on stderr. On a terminal it draws a bar,
// redrawn at most ten times a second. Elsewhere (a log file, a pipe, CI)
// it stays silent for the first plainAfter and then prints one plain line
// at most every plainEvery, so a long import or backfill shows it is
// alive without filling the log. Sizes in bytes are shown in human units
// with humanBytes, kvtool's one size format (the golden files and
// docs/KVTOOL.md's examples use it), rather than a second library's.
//
// The bar is kept here rather than taken from a progress-bar library:
// it is twenty lines, has no goroutine, and its plain mode is the part a
// library does not do as docs/KVTOOL.md asks.
type progress struct {
	w     io.Writer
	label string
	total int
	bytes bool // done and total are bytes

	term      bool             // draw a bar
	now       func() time.Time // the clock (tests)
	start     time.Time
	last      time.Time // last redraw or plain line
	printed   bool      // a plain line was printed
	finalised bool
	activity  bool // no amounts: report the time spent (see activity)
}

// Plain progress lines: none before plainAfter, then at most one per
// plainEvery.
const (
	plainAfter = 5 * time.Second
	plainEvery = 5 * time.Second
)

// isTerminal reports whether w is a terminal (golang.org/x/term: an
// ioctl, so /dev/null and other character devices are not).
func isTerminal(w io.Writer) bool {
	if s, ok := w.(*syncWriter); ok {
		w = s.w
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// syncWriter serialises the writes to kvtool's stderr: the command's own,
// its progress (from the search index's goroutine too) and the store's
// warnings (from the indexer's).
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func newProgress(w io.Writer, label string, total int) *progress {
	return newProgressAt(w, label, total, isTerminal(w), time.Now)
}

func newProgressAt(w io.Writer, label string, total int, terminal bool, now func() time.Time) *progress {
	return &progress{w: w, label: label, total: total, term: terminal, now: now, start: now()}
}

// amount formats done (and total) in the progress's units.
func (p *progress) amount(n int) string {
	if p.bytes {
		return humanBytes(int64(n))
	}
	return fmt.Sprint(n)
}

func (p *progress) fraction(done int) float64 {
	frac := 1.0
	if p.total > 0 {
		frac = float64(done) / float64(p.total)
	}
	return min(frac, 1)
}

// set reports done units of work.
func (p *progress) set(done int) {
	if p.w == nil {
		return
	}
	now := p.now()
	frac := p.fraction(done)
	if !p.term {
		if now.Sub(p.start) < plainAfter || (p.printed && now.Sub(p.last) < plainEvery) {
			return
		}
		p.last, p.printed = now, true
		if p.activity {
			fmt.Fprintf(p.w, "%s: running for %s\n", p.label, now.Sub(p.start).Round(time.Second))
			return
		}
		fmt.Fprintf(p.w, "%s: %.0f%% (%s of %s)\n", p.label, 100*frac, p.amount(done), p.amount(p.total))
		return
	}
	if p.activity {
		p.last = now
		fmt.Fprintf(p.w, "\r%-18s %s", p.label, now.Sub(p.start).Round(time.Second))
		return
	}
	if now.Sub(p.last) < 100*time.Millisecond && done < p.total {
		return
	}
	p.last = now
	const width = 30
	n := int(frac * width)
	fmt.Fprintf(p.w, "\r%-18s [%s%s] %3.0f%% %s/%s", p.label, strings.Repeat("=", n), strings.Repeat(" ", width-n), 100*frac, p.amount(done), p.amount(p.total))
}

// done ends the bar's line; in plain mode, work that printed a line says
// it finished.
func (p *progress) done() {
	if p.w == nil || p.finalised {
		return
	}
	p.finalised = true
	if p.term {
		p.set(p.total)
		fmt.Fprintln(p.w)
		return
	}
	switch {
	case !p.printed:
	case p.activity:
		fmt.Fprintf(p.w, "%s: done in %s\n", p.label, p.now().Sub(p.start).Round(time.Second))
	default:
		fmt.Fprintf(p.w, "%s: done (%s) in %s\n", p.label, p.amount(p.total), p.now().Sub(p.start).Round(time.Second))
	}
}

// activity reports work whose size is unknown (a backup, a compaction) as
// time spent: on a terminal a line redrawn each second, elsewhere the
// plain lines of progress (none before 5 s, then one every 5 s). The
// returned function ends it; it must be called.
func activity(w io.Writer, label string) (stop func()) {
	return activityAt(newProgress(w, label, 0), time.Second)
}

func activityAt(p *progress, every time.Duration) (stop func()) {
	p.activity = true
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				p.set(0)
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
		p.done()
	}
}
