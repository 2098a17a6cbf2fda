package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// result is what one in-process kvtool run produced.
type result struct {
	code   int
	stdout string
	stderr string
}

// kvtool runs the root command in-process with args and stdin.
func kvtool(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := func() (code int) {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("kvtool %q panicked: %v", args, p)
			}
		}()
		return run(args, strings.NewReader(stdin), &out, &errb)
	}()
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// mustRun runs kvtool and fails the test unless it exits 0.
func mustRun(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	r := kvtool(t, stdin, args...)
	if r.code != exitOK {
		t.Fatalf("kvtool %q: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// wantExit fails the test unless r exited with code.
func wantExit(t testing.TB, r result, code int, args ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("kvtool %q: exit %d, want %d\nstdout: %s\nstderr: %s", args, r.code, code, r.stdout, r.stderr)
	}
}

// newStore returns a store directory in t.TempDir() holding the fixture
// documents of testdata/seed/*.json (one collection per file name), and
// registers a teardown that runs kvtool check on it (STYLE rule 13) unless
// the test marks the store damaged with skipCheck.
func newStore(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	seeds, err := filepath.Glob(filepath.Join("testdata", "seed", "*.json"))
	if err != nil || len(seeds) == 0 {
		t.Fatalf("no seed fixtures: %v", err)
	}
	for _, f := range seeds {
		coll := strings.TrimSuffix(filepath.Base(f), ".json")
		mustRun(t, "", "--db", dir, "put", coll, f)
	}
	checkAtEnd(t, dir)
	return dir
}

var damaged sync.Map

// skipCheck tells the teardown check that dir was damaged on purpose.
func skipCheck(dir string) { damaged.Store(dir, true) }

// checkAtEnd runs kvtool check on dir when the test ends.
func checkAtEnd(t *testing.T, dir string) {
	t.Cleanup(func() {
		if _, ok := damaged.Load(dir); ok {
			return
		}
		if _, err := os.Stat(filepath.Join(dir, kv.DataFile)); errors.Is(err, os.ErrNotExist) {
			return
		}
		r := kvtool(t, "", "--db", dir, "--json", "check")
		if r.code != exitOK {
			t.Errorf("teardown check of %s: exit %d\n%s%s", dir, r.code, r.stdout, r.stderr)
		}
	})
}

// fileHash returns the SHA-256 of path, or "absent" if it does not exist.
func fileHash(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "absent"
	}
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func dbHash(t testing.TB, dir string) string {
	t.Helper()
	return fileHash(t, filepath.Join(dir, kv.DataFile))
}

// oneJSON decodes stdout, requiring exactly one JSON document and nothing
// else, into v.
func oneJSON(t testing.TB, stdout string, v any) {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(stdout))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	var extra any
	if err := d.Decode(&extra); err != io.EOF {
		t.Fatalf("stdout holds more than one JSON document (next: %v, %v)\n%s", extra, err, stdout)
	}
}

// golden compares got with testdata/golden/name, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/kvtool -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s (rerun with -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

var (
	sizeRE    = regexp.MustCompile(`\b\d+(\.\d+)? (B|KiB|MiB|GiB)\b`)
	percentRE = regexp.MustCompile(`-?\d+(\.\d+)?%`)
	spacesRE  = regexp.MustCompile(` {2,}`)
)

// normalizeSizes replaces every human size (12 B, 64.0 KiB) with "<size>"
// and every percentage with "<pct>", and collapses runs of spaces, so
// golden files do not depend on page allocation or compression.
func normalizeSizes(s string) string {
	s = sizeRE.ReplaceAllString(s, "<size>")
	s = percentRE.ReplaceAllString(s, "<pct>")
	return spacesRE.ReplaceAllString(s, " ")
}

// missing reports the first of subs that s lacks, or "".
func missing(s string, subs ...string) string {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return sub
		}
	}
	return ""
}
