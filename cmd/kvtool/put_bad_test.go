package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// badPuts are inputs kvtool put must refuse with exit 1, a message naming
// the problem, and no change to the store (issue 2, "Bad input through
// kvtool put").
var badPuts = []struct {
	name  string
	coll  string
	file  string // under testdata/input; "" reads stdin
	stdin string
	want  []string // substrings of stderr
}{
	{name: "malformed", coll: "notes", file: "malformed.json",
		want: []string{"malformed.json", "line 4", "byte"}},
	{name: "truncated", coll: "notes", file: "truncated.json",
		want: []string{"truncated.json", "line 2", "byte 120", "end of input"}},
	{name: "array with a non-object", coll: "notes", file: "array_nonobject.json",
		want: []string{"array_nonobject.json", "element 1", "line 3", "not an object"}},
	{name: "missing id", coll: "notes", file: "missing_id.json",
		want: []string{"missing_id.json", "element 1", "id", "missing"}},
	{name: "numeric id", coll: "notes", file: "numeric_id.json",
		want: []string{"numeric_id.json", "id", "must be a string"}},
	{name: "300-byte id", coll: "notes", file: "long_id.json",
		want: []string{"long_id.json", "id", "300 bytes", "256"}},
	{name: "unknown collection", coll: "Gadgets", file: "valid_note.json",
		want: []string{"Gadgets", "unknown collection"}},
	{name: "empty file", coll: "notes", file: "empty.json",
		want: []string{"empty.json", "empty input"}},
	{name: "blank file", coll: "notes", file: "blank.json",
		want: []string{"blank.json", "empty"}},
	{name: "empty stdin", coll: "notes", stdin: "",
		want: []string{"stdin", "empty input"}},
	{name: "malformed stdin", coll: "notes", stdin: "{\"id\":\"a\",\n \"x\": tru}",
		want: []string{"stdin", "line 2", "byte"}},
	{name: "two values", coll: "notes", stdin: `{"id":"a"} {"id":"b"}`,
		want: []string{"stdin", "byte 11", "after the JSON value"}},
	{name: "id with NUL", coll: "notes", stdin: `{"id":"a\u0000b"}`,
		want: []string{"stdin", "id", "NUL"}},
	{name: "empty id", coll: "notes", stdin: `{"id":""}`,
		want: []string{"stdin", "id"}},
	{name: "not an object", coll: "notes", stdin: `"just a string"`,
		want: []string{"stdin", "object"}},
	{name: "singleton given an array", coll: "settings", stdin: `[{"theme":"dark"}]`,
		want: []string{"stdin", "settings", "singleton"}},
	{name: "directory as FILE", coll: "notes", file: ".",
		want: []string{"is a directory"}},
	{name: "missing FILE", coll: "notes", file: "does-not-exist.json",
		want: []string{"does-not-exist.json", "no such file"}},
}

func TestPut_badInput(t *testing.T) {
	for _, tc := range badPuts {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"put", tc.coll}
			if tc.file != "" {
				args = append(args, filepath.Join("testdata", "input", tc.file))
			} else {
				args = append(args, "-")
			}

			// On an existing store: exit 1, the problem named, the file
			// byte-for-byte unchanged.
			dir := newStore(t)
			before := dbHash(t, dir)
			r := kvtool(t, tc.stdin, append([]string{"--db", dir}, args...)...)
			wantExit(t, r, exitError, args...)
			if s := missing(r.stderr, tc.want...); s != "" {
				t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty: %q", r.stdout)
			}
			if after := dbHash(t, dir); after != before {
				t.Errorf("refused put changed data.db")
			}

			// With --json too: still nothing on stdout.
			r = kvtool(t, tc.stdin, append([]string{"--db", dir, "--json"}, args...)...)
			wantExit(t, r, exitError, args...)
			if r.stdout != "" {
				t.Errorf("--json: stdout not empty: %q", r.stdout)
			}

			// Where no store exists, none is created.
			fresh := filepath.Join(t.TempDir(), "fresh")
			r = kvtool(t, tc.stdin, append([]string{"--db", fresh}, args...)...)
			wantExit(t, r, exitError, args...)
			if _, err := os.Stat(fresh); !os.IsNotExist(err) {
				t.Errorf("refused put created %s (stat: %v)", fresh, err)
			}
		})
	}
}

// An array whose element 3 of 4 is bad writes none of them.
func TestPut_badInput_atomic(t *testing.T) {
	dir := newStore(t)
	before := dbHash(t, dir)
	in := `[{"id":"new1"},{"id":"new2"},{"id":7},{"id":"new4"}]`
	r := kvtool(t, in, "--db", dir, "put", "notes", "-")
	wantExit(t, r, exitError)
	if s := missing(r.stderr, "element 2", "id"); s != "" {
		t.Errorf("stderr lacks %q: %s", s, r.stderr)
	}
	if dbHash(t, dir) != before {
		t.Errorf("data.db changed")
	}
	for _, id := range []string{"new1", "new2", "new4"} {
		wantExit(t, kvtool(t, "", "--db", dir, "get", "notes", id), exitError)
	}
}

// The error for malformed JSON gives the exact line, column (1-based) and
// byte offset (0-based) of the offending byte, also inside the second and
// later elements of an array.
func TestPut_badInput_position(t *testing.T) {
	for _, tc := range []struct {
		name, in, bad string
	}{
		{"object", "{\n  \"id\": \"b\",, \"x\": 1}", ",,"},
		{"first element", "[\n  {\"id\": \"b\",, \"x\": 1}\n]", ",,"},
		{"second element", "[\n  {\"id\": \"a\"},\n  {\"id\": \"b\",, \"x\": 1}\n]", ",,"},
		{"third element", "[{\"id\": \"a\"}, {\"id\": \"b\"},\n {\"id\": \"c\", \"x\": tru}]", "tru}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newStore(t)
			r := kvtool(t, tc.in, "--db", dir, "put", "notes", "-")
			wantExit(t, r, exitError)
			off := strings.Index(tc.in, tc.bad) + 1 // the second comma; the '}'
			if tc.bad == "tru}" {
				off += 2
			}
			line := 1 + strings.Count(tc.in[:off], "\n")
			col := off - strings.LastIndex(tc.in[:off], "\n")
			want := "line " + itoa(line) + ", column " + itoa(col) + " (byte " + itoa(off) + ")"
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		})
	}
}

// Valid input on a missing store creates it (a put is a write).
func TestPut_createsStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "store")
	checkAtEnd(t, dir)
	mustRun(t, "", "--db", dir, "put", "notes", filepath.Join("testdata", "input", "valid_note.json"))
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("store directory mode %v, want 0700", fi.Mode().Perm())
	}
	fi, err = os.Stat(filepath.Join(dir, "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("data.db mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestPut_syncStateCollection: a document put into a collection named
// like a device's sync state (replica_*) was acknowledged, then left out
// of every export, so it did not survive a move through one; put and
// patch refuse such names, creating nothing, and delete still takes them.
func TestPut_syncStateCollection(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	for _, args := range [][]string{
		{"--db", dir, "put", "replica_foo", "-"},
		{"--db", dir, "put", "replica_conflicts", "-"},
		{"--db", dir, "patch", "replica_foo", "a", "-"},
	} {
		r := kvtool(t, `{"id":"a","x":1}`, args...)
		wantExit(t, r, exitError, args...)
		if !strings.Contains(r.stderr, "sync state") {
			t.Errorf("%v: %s", args, r.stderr)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a refused put created the store: %v", err)
	}
	mustRun(t, `{"id":"a"}`, "--db", dir, "put", "notes", "-")
	if r := kvtool(t, "", "--db", dir, "delete", "replica_foo", "a"); strings.Contains(r.stderr, "sync state") {
		t.Errorf("delete refused a sync state collection: %s", r.stderr)
	}
}

// TestTimeoutFlag: --timeout -1s was exit 1 in the library's words
// ("Options.Timeout is negative"); it is a usage error. --timeout 0 (which
// waited the 5 s default) does not wait: a held store is ErrLocked.
func TestTimeoutFlag(t *testing.T) {
	dir := newStore(t)
	wantExit(t, kvtool(t, "", "--db", dir, "--timeout", "-1s", "ls", "notes"), exitUsage)
	holder, err := kv.Open(dir, &kv.Options{NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	r := kvtool(t, `{"id":"x"}`, "--db", dir, "--timeout", "0", "put", "notes", "-")
	wantExit(t, r, exitError, "put --timeout 0")
	if !strings.Contains(r.stderr, "locked") {
		t.Errorf("put --timeout 0 on a held store: %s", r.stderr)
	}
}
