package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// marker returns a long random string that compresses to nothing, so it is
// stored verbatim and can be found in data.db.
func marker(t *testing.T) string {
	b := make([]byte, 300)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// flipMarker changes one byte in the middle of every copy of m in dir's
// data.db (stale copies on free pages included) and reports how many it
// changed.
func flipMarker(t *testing.T, dir, m string) int {
	t.Helper()
	path := filepath.Join(dir, "data.db")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte(m))
		if i < 0 {
			break
		}
		at := off + i + len(m)/2
		if data[at] == 'A' {
			data[at] = 'B'
		} else {
			data[at] = 'A'
		}
		n++
		off += i + len(m)
	}
	if n == 0 {
		t.Fatalf("marker not found in %s: the value is not stored verbatim", path)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return n
}

type checkReport struct {
	OK       bool `json:"ok"`
	Problems []struct {
		Kind       string `json:"kind"`
		Collection string `json:"collection"`
		ID         string `json:"id"`
		Detail     string `json:"detail"`
	} `json:"problems"`
}

// Corruption (issue 2): a byte flipped inside a stored value makes check
// exit 3 naming collection and id, and get exit 3 naming corrupt data
// (docs/KVTOOL.md: a command stopped by damaged data exits 3); nothing panics;
// putting the document again repairs the store (issue 14).
func TestCorruption(t *testing.T) {
	for _, tc := range []struct {
		name, coll, id string
		doc            func(m string) string
		headerOK       bool // get --header still works (the damage is in a part)
	}{
		{
			name: "note", coll: "notes", id: "corrupt note/1",
			doc: func(m string) string {
				return `{"id":"corrupt note/1","content":"short","payload":"` + m + `"}`
			},
		},
		{
			name: "session part", coll: "sessions", id: "s-corrupt",
			doc: func(m string) string {
				return `{"id":"s-corrupt","name":"n","status":"completed","screenshots":[{"id":"sc1","aiAnalysis":{"extractedText":"` + m + `"}}]}`
			},
			headerOK: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newStore(t)
			skipCheck(dir)
			m := marker(t)
			mustRun(t, tc.doc(m), "--db", dir, "put", tc.coll, "-")
			mustRun(t, "", "--db", dir, "check")
			flipMarker(t, dir, m)
			damagedHash := dbHash(t, dir)

			// check: exit 3, the problem names collection and id.
			r := kvtool(t, "", "--db", dir, "--json", "check")
			wantExit(t, r, exitIntegrity)
			var rep checkReport
			oneJSON(t, r.stdout, &rep)
			if rep.OK || len(rep.Problems) == 0 {
				t.Fatalf("check --json: %s", r.stdout)
			}
			found := false
			for _, p := range rep.Problems {
				if p.Collection == tc.coll && p.ID == tc.id {
					found = true
				}
			}
			if !found {
				t.Errorf("no problem names %s %q:\n%s", tc.coll, tc.id, r.stdout)
			}
			r = kvtool(t, "", "--db", dir, "check")
			wantExit(t, r, exitIntegrity)
			if s := missing(r.stdout, tc.coll, tc.id); s != "" {
				t.Errorf("check output lacks %q:\n%s", s, r.stdout)
			}
			if !strings.Contains(r.stderr, "problem") {
				t.Errorf("check stderr: %q", r.stderr)
			}

			// get: exit 3 naming corrupt data, collection and id.
			r = kvtool(t, "", "--db", dir, "get", tc.coll, tc.id)
			wantExit(t, r, exitIntegrity)
			if s := missing(r.stderr, "corrupt", tc.coll, tc.id); s != "" {
				t.Errorf("get stderr lacks %q: %s", s, r.stderr)
			}
			// The way back, named (round 7, damage7 #6): not only "run
			// check".
			if !strings.Contains(r.stderr, "the way back: kvtool --db") || !strings.Contains(r.stderr, "export --salvage") {
				t.Errorf("get stderr names no way back: %s", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("get printed something for a corrupt document: %q", r.stdout)
			}
			r = kvtool(t, "", "--db", dir, "get", tc.coll, tc.id, "--header")
			if tc.headerOK {
				wantExit(t, r, exitOK)
			} else {
				wantExit(t, r, exitIntegrity)
			}

			// Other documents are still readable.
			mustRun(t, "", "--db", dir, "get", "notes", "n1")

			// No read command panics (kvtool() fails the test on a panic),
			// none exits 0 claiming a clean store, none changes the file.
			for _, args := range [][]string{
				{"ls", tc.coll}, {"stats"}, {"buckets"}, {"dump", "c/" + tc.coll}, {"dump", "p/" + tc.coll},
			} {
				r := kvtool(t, "", append([]string{"--db", dir, "--json"}, args...)...)
				if r.code == exitOK {
					var v any
					oneJSON(t, r.stdout, &v)
				}
			}
			r = kvtool(t, "", "--db", dir, "--json", "dump", "c/"+tc.coll)
			if tc.coll == "notes" {
				wantExit(t, r, exitOK)
				var entries []dumpEntry
				if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil {
					t.Fatal(err)
				}
				bad := false
				for _, e := range entries {
					if e.Key == tc.id && e.Error != "" && e.ValueHex != "" {
						bad = true
					}
				}
				if !bad {
					t.Errorf("dump does not flag the corrupt value:\n%s", r.stdout)
				}
			}
			if dbHash(t, dir) != damagedHash {
				t.Errorf("read commands changed the damaged file")
			}

			// Writing the document again repairs it: the store then checks
			// clean.
			fresh := tc.doc(marker(t))
			mustRun(t, fresh, "--db", dir, "put", tc.coll, "-")
			wantExit(t, kvtool(t, "", "--db", dir, "check"), exitOK)
			r = mustRun(t, "", "--db", dir, "--json", "get", tc.coll, tc.id)
			var got, want any
			oneJSON(t, r.stdout, &got)
			oneJSON(t, fresh, &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("get after the repair: %s", r.stdout)
			}
		})
	}
}
