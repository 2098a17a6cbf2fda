package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTerminalSafe(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, é ✓":      "plain text, é ✓",
		"e\x1b[31mRED":         `e\x1b[31mRED`,
		"a\tb\nc\rd\x7f":       `a\x09b\x0ac\x0dd\x7f`,
		"c1 \u009b2J":          `c1 \u009b2J`,
		"abc\u202egnp.exe":     `abc\u202egnp.exe`,
		"bad \xff byte":        `bad \xff byte`,
		"kept \ufffd as is":    "kept \ufffd as is",
		"\x1b]0;pwned\x07\x1b": `\x1b]0;pwned\x07\x1b`,
	} {
		if got := terminalSafe(in); got != want {
			t.Errorf("terminalSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHumanOutput_escapesControls: ids and fields reach the terminal in
// human output; what a terminal would act on (an escape sequence that
// recolours, retitles or clears it) is shown escaped, never sent raw.
// --json and get print the stored value exactly.
func TestHumanOutput_escapesControls(t *testing.T) {
	dir := newStore(t)
	doc := `{"id":"e\u001b[31mRED","title":"\u001b]0;pwned\u0007\u001b[2J","content":"x","tags":["\u009b2J"]}`
	for _, r := range []result{
		mustRun(t, doc, "--db", dir, "put", "notes", "-"),
		mustRun(t, "", "--db", dir, "ls", "notes"),
		mustRun(t, "", "--db", dir, "query", "notes"),
		mustRun(t, "", "--db", dir, "get", "notes", "e\x1b[31mRED"),
		mustRun(t, `{"content":"y"}`, "--db", dir, "patch", "notes", "e\x1b[31mRED", "-"),
	} {
		if strings.ContainsAny(r.stdout, "\x1b\x07\u009b") {
			t.Errorf("human output sends raw controls to the terminal: %q", r.stdout)
		}
		if !strings.Contains(r.stdout, `e\x1b[31mRED`) && !strings.Contains(r.stdout, `e\u001b[31mRED`) {
			t.Errorf("human output does not show the id escaped: %q", r.stdout)
		}
	}
	// Ids, keys and error messages elsewhere, and the invisible direction
	// marks and line separators too.
	mustRun(t, `{"id":"m\u200f\u2028\u061cX","content":"x"}`, "--db", dir, "put", "notes", "-")
	for _, r := range []result{
		mustRun(t, "", "--db", dir, "query", "notes", "--ids"),
		mustRun(t, "", "--db", dir, "dump", "c/notes"),
		mustRun(t, "", "--db", dir, "ls", "notes"),
		kvtool(t, "", "--db", dir, "index", "add", "notes", "a\x1b[31m\u202e"),
	} {
		if out := r.stdout + r.stderr; strings.ContainsAny(out, "\x1b\x07\u009b\u200f\u2028\u061c\u202e") {
			t.Errorf("raw controls reach the terminal: %q", out)
		}
	}
	if r := mustRun(t, "", "--db", dir, "--json", "get", "notes", "e\x1b[31mRED"); !strings.Contains(r.stdout, `\u001b]0;pwned\u0007\u001b[2J`) {
		t.Errorf("get --json: %q", r.stdout)
	}
}

// TestMigrateOutput_escapesControls: file names and problem lines of an
// old app's directory reach migrate's human report escaped.
func TestMigrateOutput_escapesControls(t *testing.T) {
	legacyDir := t.TempDir()
	db := filepath.Join(legacyDir, "db")
	if err := os.MkdirAll(db, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"notes.json":               `[{"id":"n1","title":"x"}]`,
		"\x1b[31mweird.bin":        "",
		"tasks\x1b]0;pwned\a.json": "garbage{",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(db, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"migrate", legacyDir, "--dry-run"}, {"migrate", legacyDir, "--yes"}} {
		r := mustRun(t, "", append([]string{"--db", filepath.Join(t.TempDir(), "s")}, args...)...)
		if out := r.stdout + r.stderr; strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, `weird.bin`) {
			t.Errorf("%v: raw controls or no file name in the report: %q", args, out)
		}
	}
}
