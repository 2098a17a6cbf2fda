package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// With --json every command that prints data prints exactly one JSON
// document (an object or an array) on stdout and nothing else; messages go
// to stderr.
func TestJSON_oneDocument(t *testing.T) {
	dir := newStore(t)
	patch := filepath.Join("testdata", "input", "patch_session.json")
	for _, tc := range []struct {
		stdin string
		args  []string
		kind  byte // '{' or '['
	}{
		{`{"id":"j1","content":"x"}`, []string{"put", "notes", "-"}, '['},
		{`[{"id":"j2"},{"id":"j3"}]`, []string{"put", "notes", "-"}, '['},
		{`{"theme":"x"}`, []string{"put", "preferences", "-"}, '['},
		{"", []string{"get", "notes", "n1"}, '{'},
		{"", []string{"get", "sessions", "s1", "--header"}, '{'},
		{"", []string{"get", "settings"}, '{'},
		{"", []string{"patch", "sessions", "s1", patch}, '{'},
		{"", []string{"ls", "notes"}, '['},
		{"", []string{"ls", "topics"}, '['},
		{"", []string{"stats"}, '{'},
		{"", []string{"buckets"}, '['},
		{"", []string{"dump", "c/notes"}, '['},
		{"", []string{"dump", "m/notes"}, '['},
		{"", []string{"dump", "x/notes/tags"}, '['},
		{"", []string{"dump", "log", "--limit", "3"}, '['},
		{"", []string{"dump", "m/companies"}, '['},
		{"", []string{"check"}, '{'},
		{"", []string{"delete", "notes", "j1", "j2", "nope"}, '{'},
		{`{"id":"w1","n":3}`, []string{"put", "widgets", "-"}, '['},
		{"", []string{"index", "add", "widgets", "n", "--type", "number"}, '{'},
		{"", []string{"index", "ls", "widgets"}, '['},
		{"", []string{"index", "drop", "widgets", "n"}, '{'},
		{"", []string{"query", "notes"}, '['},
		{"", []string{"query", "notes", "--ids"}, '['},
		{"", []string{"query", "notes", "--explain"}, '{'},
		{"", []string{"search", "note"}, '{'},
		{"", []string{"backup", "create"}, '{'},
		{"", []string{"backup", "list"}, '['},
		{"", []string{"backup", "prune"}, '['},
		{"", []string{"reindex"}, '{'},
		{"", []string{"gc"}, '{'},
		{"", []string{"compact"}, '{'},
		{"", []string{"sync", "conflicts"}, '['},
		{"", []string{"attach", "add", filepath.Join("testdata", "input", "patch_session.json")}, '{'},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := mustRun(t, tc.stdin, append([]string{"--db", dir, "--json"}, tc.args...)...)
			var v any
			oneJSON(t, r.stdout, &v)
			if s := strings.TrimSpace(r.stdout); s == "" || s[0] != tc.kind {
				t.Errorf("stdout starts with %.1q, want %q", s, tc.kind)
			}
		})
	}
}

// A command that fails with --json prints nothing on stdout.
func TestJSON_errorsOnStderr(t *testing.T) {
	dir := newStore(t)
	for _, args := range [][]string{
		{"get", "notes", "missing"},
		{"ls", "Bogus"},
		{"get", "notes"},
		{"frobnicate"},
		{"patch", "notes", "missing", "-"},
	} {
		r := kvtool(t, `{"a":1}`, append([]string{"--db", dir, "--json"}, args...)...)
		if r.code == exitOK {
			t.Errorf("kvtool %q: exit 0", args)
		}
		if r.stdout != "" {
			t.Errorf("kvtool %q: stdout %q, want nothing", args, r.stdout)
		}
		if !strings.HasPrefix(r.stderr, "kvtool: ") {
			t.Errorf("kvtool %q: stderr %q", args, r.stderr)
		}
	}
}
