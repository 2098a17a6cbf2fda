package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readOnly lists every command that only reads, with arguments that work
// on the newStore fixtures.
var readOnly = [][]string{
	{"get", "notes", "n1"},
	{"get", "sessions", "s1"},
	{"get", "sessions", "s1", "--header"},
	{"get", "settings"},
	{"ls", "notes"},
	{"ls", "sessions", "--limit", "1"},
	{"stats"},
	{"buckets"},
	{"dump", "c/notes"},
	{"dump", "p/sessions"},
	{"dump", "log"},
	{"dump", "sys"},
	{"check"},
}

// Read-only commands leave data.db byte-for-byte unchanged, with and
// without --json, and also when they fail (an unknown id).
func TestReadOnly_fileUnchanged(t *testing.T) {
	dir := newStore(t)
	path := filepath.Join(dir, "data.db")
	before := dbHash(t, dir)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range readOnly {
		for _, json := range []bool{false, true} {
			a := append([]string{"--db", dir}, args...)
			if json {
				a = append([]string{"--json"}, a...)
			}
			mustRun(t, "", a...)
			if h := dbHash(t, dir); h != before {
				t.Fatalf("kvtool %s changed data.db", strings.Join(a, " "))
			}
		}
	}
	for _, args := range [][]string{{"get", "notes", "missing"}, {"ls", "Bogus"}, {"dump", "c/Bogus"}} {
		kvtool(t, "", append([]string{"--db", dir}, args...)...)
		if h := dbHash(t, dir); h != before {
			t.Fatalf("failing kvtool %s changed data.db", strings.Join(args, " "))
		}
	}
	fi2, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi2.ModTime().Equal(fi.ModTime()) || fi2.Size() != fi.Size() {
		t.Errorf("read-only commands touched data.db: mtime %v -> %v, size %d -> %d", fi.ModTime(), fi2.ModTime(), fi.Size(), fi2.Size())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "data.db" {
			t.Logf("store directory holds %s", e.Name())
		}
	}
}

// Given a directory with no store (empty, missing, or holding other
// files), a read-only command exits 1 saying so and creates nothing.
func TestReadOnly_noStore(t *testing.T) {
	for _, layout := range []string{"missing", "empty", "other files"} {
		t.Run(layout, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			switch layout {
			case "empty":
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
			case "other files":
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hi"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			list := func() []string {
				var names []string
				_ = filepath.Walk(filepath.Dir(dir), func(p string, _ os.FileInfo, _ error) error {
					names = append(names, p)
					return nil
				})
				return names
			}
			before := strings.Join(list(), "\n")
			for _, args := range readOnly {
				for _, json := range []bool{false, true} {
					a := append([]string{"--db", dir}, args...)
					if json {
						a = append([]string{"--json"}, a...)
					}
					r := kvtool(t, "", a...)
					wantExit(t, r, exitError, a...)
					if !strings.Contains(r.stderr, "no store") || !strings.Contains(r.stderr, dir) {
						t.Errorf("kvtool %s: stderr does not say there is no store in %s: %q", strings.Join(args, " "), dir, r.stderr)
					}
					if r.stdout != "" {
						t.Errorf("kvtool %s: stdout not empty: %q", strings.Join(args, " "), r.stdout)
					}
				}
			}
			if after := strings.Join(list(), "\n"); after != before {
				t.Errorf("read-only commands created files:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// data.db that is not a regular file is "no store" too, not a crash, for
// a command that writes as for one that reads.
func TestReadOnly_dataDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data.db"), 0o700); err != nil {
		t.Fatal(err)
	}
	wantNotRegular(t, dir)
}

// wantNotRegular runs a reading and a writing command on the store in dir,
// whose data.db is not a regular file: both are exit 1, saying so.
func wantNotRegular(t *testing.T, dir string) {
	t.Helper()
	for _, args := range [][]string{{"stats"}, {"put", "notes", "-"}} {
		r := kvtool(t, `{"id":"n1"}`, append([]string{"--db", dir}, args...)...)
		wantExit(t, r, exitError, args...)
		if !strings.Contains(r.stderr, "data.db") || !strings.Contains(r.stderr, "not a regular file") {
			t.Errorf("%v: stderr does not say data.db is not a regular file: %q", args, r.stderr)
		}
	}
}

// A file that is not a bbolt database is an error, not a panic, and is
// left as it was.
func TestReadOnly_garbageFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data.db")
	junk := []byte(strings.Repeat("this is not a bbolt file. ", 1000))
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	before := dbHash(t, dir)
	for _, args := range readOnly {
		r := kvtool(t, "", append([]string{"--db", dir}, args...)...)
		if r.code == exitOK {
			t.Errorf("kvtool %s on a garbage file: exit 0", strings.Join(args, " "))
		}
		if r.stderr == "" {
			t.Errorf("kvtool %s on a garbage file: nothing on stderr", strings.Join(args, " "))
		}
	}
	if dbHash(t, dir) != before {
		t.Errorf("read-only commands changed the garbage file")
	}
}
