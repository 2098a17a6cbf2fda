package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress draws a progress bar on stderr, only when stderr is a terminal.
type progress struct {
	w     io.Writer
	label string
	total int
	last  time.Time
	on    bool
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func newProgress(w io.Writer, label string, total int) *progress {
	return &progress{w: w, label: label, total: total, on: isTerminal(w)}
}

// set reports done units of work; it redraws at most ten times a second.
func (p *progress) set(done int) {
	if !p.on || (time.Since(p.last) < 100*time.Millisecond && done < p.total) {
		return
	}
	p.last = time.Now()
	const width = 30
	frac := 0.0
	if p.total > 0 {
		frac = float64(done) / float64(p.total)
	}
	if frac > 1 {
		frac = 1
	}
	n := int(frac * width)
	fmt.Fprintf(p.w, "\r%-18s [%s%s] %3.0f%% %d/%d", p.label, strings.Repeat("=", n), strings.Repeat(" ", width-n), 100*frac, done, p.total)
}

// done ends the bar's line.
func (p *progress) done() {
	if p.on {
		p.set(p.total)
		fmt.Fprintln(p.w)
	}
}
