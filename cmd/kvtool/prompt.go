package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cairnkv/cairn/legacy"
)

// errCancelled is a "no" to a question: nothing was written (exit 1).
var errCancelled = errors.New("cancelled: nothing was written")

// terminal reports whether kvtool can ask its user: stdin and stderr are
// both terminals. Tests stand in for a terminal by replacing it.
var terminal = func(g *globals) bool {
	f, ok := g.stdin.(*os.File)
	return ok && isTerminal(f) && g.stderr != nil && isTerminal(g.stderr)
}

// ask prints question on stderr and reads one line of answer from stdin:
// nil for "y" or "yes" (any case), errCancelled for anything else,
// including no answer at all.
func (g *globals) ask(question string) error {
	fmt.Fprintf(g.stderr, "%s [y/N] ", terminalSafe(question))
	line, err := readLine(g.stdin)
	if err != nil && line == "" {
		fmt.Fprintln(g.stderr)
	}
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		return errCancelled
	}
	return nil
}

// readLine reads up to a newline one byte at a time, so that nothing after
// the answer is taken from stdin; at most 1 KiB.
func readLine(r io.Reader) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for len(b) < 1024 {
		n, err := r.Read(one)
		if n == 1 {
			if one[0] == '\n' {
				return string(b), nil
			}
			b = append(b, one[0])
		}
		if err != nil {
			return string(b), err
		}
	}
	return string(b), nil
}

// confirm asks on a terminal; without one it refuses (backup restore:
// docs/KVTOOL.md asks for --yes off a terminal).
func confirm(g *globals, question string) error {
	if !terminal(g) {
		return usagef("refusing without --yes: stdin is not a terminal to confirm on")
	}
	return g.ask(question)
}

// confirmImport is the question import and migrate ask on a terminal,
// after validating and before writing anything, unless --yes or
// --dry-run; off a terminal they do not ask (docs/KVTOOL.md). counts are what
// was found per collection.
func confirmImport(g *globals, what string, counts map[string]int, yes, dryRun bool) error {
	if yes || dryRun || !terminal(g) {
		return nil
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	return g.ask(fmt.Sprintf("Import %d documents from %s into %s? A verified backup is taken first.", n, what, g.db))
}

// printKeptStored lists the documents and members the store kept over a
// differing version (whose: "the old app's") that no time orders.
func printKeptStored(w io.Writer, res *legacy.ImportResult, whose string) {
	printLines(w, res.KeptStored, fmt.Sprintf("kept as the store has them (no time to order %s differing version by)", whose))
}

// printUnreadableTimes lists the documents whose times newer-wins could
// not read; outcome says which version was kept.
func printUnreadableTimes(w io.Writer, res *legacy.ImportResult, outcome string) {
	printLines(w, res.UnreadableTimes, fmt.Sprintf("document(s) with a time that could not be read (%s)", outcome))
}

// printLines prints how many lines there are and what they are, then the
// first reportLines of them.
func printLines(w io.Writer, lines []string, what string) {
	n := len(lines)
	if n == 0 {
		return
	}
	fmt.Fprintf(w, "%d %s:\n", n, what)
	for i, l := range lines {
		if i == reportLines {
			fmt.Fprintf(w, "  ... and %d more (--json lists them all)\n", n-i)
			break
		}
		fmt.Fprintf(w, "  %s\n", terminalSafe(l))
	}
}
