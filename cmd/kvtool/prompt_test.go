package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// asTerminal makes kvtool take its stdin and stderr for a terminal until
// the test ends (the in-process tests have no real one; TestPrompt_pty
// has).
func asTerminal(t *testing.T) {
	old := terminal
	terminal = func(*globals) bool { return true }
	t.Cleanup(func() { terminal = old })
}

func backupCount(t *testing.T, dir string) int {
	entries, err := os.ReadDir(filepath.Join(dir, "backups"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return len(entries)
}

// TestPrompt_import: on a terminal, import shows the validated counts and
// asks; anything but yes writes nothing (issue 15: an import went ahead
// after "n"); --yes and --dry-run do not ask.
func TestPrompt_import(t *testing.T) {
	asTerminal(t)
	file := filepath.Join(t.TempDir(), "export.json")
	if err := os.WriteFile(file, []byte(`{"notes":[{"id":"p1"},{"id":"p2"}],"tasks":[{"id":"k1"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := newStore(t)
	before := dbHash(t, dir)
	for _, answer := range []string{"n\n", "no\n", "\n", "", "yes please\n", "y es\n"} {
		r := kvtool(t, answer, "--db", dir, "import", file)
		wantExit(t, r, exitError)
		if s := missing(r.stderr, "is valid: notes 2, tasks 1", "Import 3 documents from", "[y/N]", "cancelled: nothing was written"); s != "" {
			t.Errorf("answer %q: stderr lacks %q:\n%s", answer, s, r.stderr)
		}
		if dbHash(t, dir) != before || backupCount(t, dir) != 0 {
			t.Fatalf("answer %q: the import wrote something", answer)
		}
	}
	r := mustRun(t, "", "--db", dir, "import", "--dry-run", file)
	if strings.Contains(r.stderr, "[y/N]") {
		t.Errorf("--dry-run asked:\n%s", r.stderr)
	}
	r = mustRun(t, "Y\n", "--db", dir, "import", file)
	if !strings.Contains(r.stderr, "[y/N]") || !strings.Contains(r.stdout, "imported: notes 2, tasks 1") {
		t.Errorf("yes: %s%s", r.stdout, r.stderr)
	}
	mustRun(t, "", "--db", dir, "delete", "notes", "p1")
	r = mustRun(t, "n\n", "--db", dir, "import", "--yes", file)
	if strings.Contains(r.stderr, "[y/N]") || !strings.Contains(r.stdout, "imported: notes 1") {
		t.Errorf("--yes: %s%s", r.stdout, r.stderr)
	}
}

// TestPrompt_migrate: migrate asks the same way, after reading the
// directory as a dry run would.
func TestPrompt_migrate(t *testing.T) {
	asTerminal(t)
	legacyDir := filepath.Join("..", "..", "legacy", "testdata", "eras", "era-g")
	dir := newStore(t)
	before := dbHash(t, dir)
	r := kvtool(t, "n\n", "--db", dir, "migrate", legacyDir)
	wantExit(t, r, exitError)
	if s := missing(r.stderr, "holds: ", "Import ", "[y/N]", "cancelled: nothing was written"); s != "" {
		t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
	}
	if dbHash(t, dir) != before || backupCount(t, dir) != 0 {
		t.Fatal("a refused migration wrote something")
	}
	r = mustRun(t, "yes\n", "--db", dir, "migrate", legacyDir)
	if !strings.Contains(r.stdout, "imported: ") || backupCount(t, dir) == 0 {
		t.Errorf("yes: %s%s", r.stdout, r.stderr)
	}
}

// TestPrompt_helpNamesTheAnswers: the prompt shows [y/N] and takes y or
// yes (TestPrompt_import); the help of the commands that ask says so,
// rather than "any answer but yes" (report #20).
func TestPrompt_helpNamesTheAnswers(t *testing.T) {
	for _, c := range []string{"migrate", "import"} {
		r := mustRun(t, "", c, "--help")
		if out := strings.Join(strings.Fields(r.stdout), " "); !strings.Contains(out, "any answer but y or yes (any case) writes nothing") {
			t.Errorf("%s --help does not name the answers that write:\n%s", c, r.stdout)
		}
	}
}
