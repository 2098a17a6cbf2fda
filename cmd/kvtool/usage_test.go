package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// Usage errors exit 2, say what was wrong on stderr, print nothing on
// stdout, and never create a store.
func TestUsage_errors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // substring of stderr
	}{
		{"unknown command", []string{"frobnicate"}, `unknown subcommand "frobnicate" for kvtool`},
		{"no command", nil, "needs a subcommand"},
		{"misspelled subcommand", []string{"backup", "restor", "x"}, `unknown subcommand "restor" for kvtool backup (subcommands: create, list, prune, pull, push, restore, verify)`},
		{"group without subcommand", []string{"attach"}, "needs a subcommand: add, get"},
		{"unknown flag", []string{"ls", "notes", "--frob"}, "unknown flag: --frob"},
		{"unknown global flag", []string{"--frob", "stats"}, "frob"},
		{"unknown shorthand", []string{"ls", "notes", "-z"}, "unknown shorthand flag"},
		{"bad flag value", []string{"ls", "notes", "--limit", "ten"}, "--limit"},
		{"put without collection", []string{"put"}, "argument"},
		{"put with extra args", []string{"put", "notes", "a.json", "b.json"}, "argument"},
		{"get without args", []string{"get"}, "argument"},
		{"get entity without ID", []string{"get", "notes"}, "needs an ID"},
		{"get singleton with ID", []string{"get", "settings", "x"}, "singleton"},
		{"get too many args", []string{"get", "notes", "a", "b"}, "argument"},
		{"patch without ID", []string{"patch", "notes"}, "argument"},
		{"delete without ID", []string{"delete", "notes"}, "argument"},
		{"delete singleton with other ID", []string{"delete", "settings", "x"}, "singleton"},
		{"ls without collection", []string{"ls"}, "argument"},
		{"ls negative limit", []string{"ls", "notes", "--limit", "-1"}, "negative"},
		{"ls negative offset", []string{"ls", "notes", "--offset", "-3"}, "negative"},
		{"dump negative limit", []string{"dump", "c/notes", "--limit", "-1"}, "negative"},
		{"dump without bucket", []string{"dump"}, "argument"},
		{"stats with an argument", []string{"stats", "notes"}, "argument"},
		{"buckets with an argument", []string{"buckets", "x"}, "argument"},
		{"check with an argument", []string{"check", "x"}, "argument"},
		{"demo with an argument", []string{"demo", "x"}, "argument"},
		{"demo zero sessions", []string{"demo", "--sessions", "0"}, "--sessions"},
		{"patch bad rev", []string{"patch", "notes", "n1", "--rev", "-4"}, "--rev"},
		{"attach add with an empty id", []string{"attach", "add", "usage_test.go", "--id", ""}, "--id is empty"},
		{"attach add with an empty name", []string{"attach", "add", "usage_test.go", "--name", ""}, "--name is empty"},
		{"ls of a singleton", []string{"ls", "settings"}, "kvtool get settings prints it"},
		{"help of an unknown command", []string{"help", "bogus"}, `unknown subcommand "bogus" for kvtool`},
		{"--help of an unknown command", []string{"bogus", "--help"}, `unknown subcommand "bogus" for kvtool`},
		{"help of an unknown subcommand", []string{"help", "backup", "bogus"}, `unknown subcommand "bogus" for kvtool backup`},
		{"--help of an unknown subcommand", []string{"backup", "bogus", "--help"}, `unknown subcommand "bogus" for kvtool backup`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			r := kvtool(t, "{}", append([]string{"--db", dir}, tc.args...)...)
			wantExit(t, r, exitUsage, tc.args...)
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty: %q", r.stdout)
			}
			if h := dbHash(t, dir); h != "absent" {
				t.Errorf("a usage error created a store")
			}
		})
	}
}

// Usage errors on an existing store leave it byte-for-byte unchanged.
func TestUsage_errors_storeUnchanged(t *testing.T) {
	dir := newStore(t)
	before := dbHash(t, dir)
	for _, args := range [][]string{
		{"get", "notes"},
		{"delete", "settings", "x"},
		{"ls", "notes", "--limit", "-1"},
		{"put", "notes", "a", "b"},
		{"demo", "--sessions", "0"},
	} {
		r := kvtool(t, "", append([]string{"--db", dir}, args...)...)
		wantExit(t, r, exitUsage, args...)
	}
	if dbHash(t, dir) != before {
		t.Errorf("usage errors changed data.db")
	}
}

// Every command has --help with a Long text, exiting 0.
func TestHelp(t *testing.T) {
	root, _ := newRoot(strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
	names := []string{""}
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		names = append(names, c.Name())
		if strings.TrimSpace(c.Long) == "" {
			t.Errorf("kvtool %s has no Long help text", c.Name())
		}
		if strings.TrimSpace(c.Short) == "" {
			t.Errorf("kvtool %s has no Short help text", c.Name())
		}
	}
	for _, want := range []string{"put", "get", "patch", "delete", "ls", "stats", "buckets", "dump", "check", "demo"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("no %s command", want)
		}
	}
	for _, name := range names {
		t.Run("cmd="+name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			args := []string{"--db", dir, "--help"}
			if name != "" {
				args = []string{"--db", dir, name, "--help"}
			}
			r := kvtool(t, "", args...)
			wantExit(t, r, exitOK, args...)
			if !strings.Contains(r.stdout, "Usage:") || len(r.stdout) < 200 {
				t.Errorf("help output too thin:\n%s", r.stdout)
			}
			if h := dbHash(t, dir); h != "absent" {
				t.Errorf("--help created a store")
			}
			// "kvtool help CMD" says the same.
			if name != "" {
				r2 := kvtool(t, "", "--db", dir, "help", name)
				wantExit(t, r2, exitOK)
				if r2.stdout != r.stdout {
					t.Errorf("kvtool help %s differs from kvtool %s --help", name, name)
				}
			}
		})
	}
	r := mustRun(t, "", "--help")
	for _, s := range []string{"Exit codes", "--db", "--json"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("kvtool --help lacks %q", s)
		}
	}
}
