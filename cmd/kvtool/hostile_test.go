package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Hostile input through kvtool (issue 9, item 6): inputs over the 256 MiB
// limit, and documents nested deeper than the store allows, fail with a
// clear error (exit 1) within bounded memory and leave the store as it was.

const kvtoolChildEnv = "CAIRN_KVTOOL_CHILD"

func init() {
	if args := os.Getenv(kvtoolChildEnv); args != "" {
		pauseAtSwap()
		os.Exit(run(strings.Split(args, "\x1f"), os.Stdin, os.Stdout, os.Stderr))
	}
}

// runChild runs kvtool args in a child process with stdin, and returns
// its exit code, stderr and peak RSS in bytes.
func runChild(t *testing.T, stdin io.Reader, args ...string) (code int, stderr string, rss int64) {
	t.Helper()
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), kvtoolChildEnv+"="+strings.Join(args, "\x1f"))
	cmd.Stdin = stdin
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss << 10
	}
	return code, errb.String(), rss
}

// hugeString streams {"id":"huge","content":"xxxx...."} of about n bytes.
type hugeString struct {
	n, off int64
}

func (h *hugeString) Read(p []byte) (int, error) {
	const head = `{"id":"huge","content":"`
	if h.off >= h.n {
		return 0, io.EOF
	}
	i := 0
	for i < len(p) && h.off < h.n {
		switch {
		case h.off < int64(len(head)):
			p[i] = head[h.off]
		case h.off == h.n-2:
			p[i] = '"'
		case h.off == h.n-1:
			p[i] = '}'
		default:
			p[i] = 'x'
		}
		i++
		h.off++
	}
	return i, nil
}

// TestHostile_hugeInput: a ~300 MB JSON document with one string field,
// from a file and from stdin, is refused with exit 1 and a message naming
// the input limit; the store is not changed; the process's peak memory
// stays within a small multiple of the limit.
func TestHostile_hugeInput(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 300 MB")
	}
	db := filepath.Join(t.TempDir(), "store")
	mustRun(t, `{"id":"n1","content":"before"}`, "--db", db, "put", "notes", "-")
	const size = 300 << 20
	file := filepath.Join(t.TempDir(), "huge.json")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, &hugeString{n: size}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{"file", "stdin"} {
		var stdin io.Reader = strings.NewReader("")
		arg := file
		if src == "stdin" {
			stdin, arg = &hugeString{n: size}, "-"
		}
		code, stderr, rss := runChild(t, stdin, "--db", db, "put", "notes", arg)
		t.Logf("%s: exit %d, peak RSS %d MiB: %s", src, code, rss>>20, strings.TrimSpace(stderr))
		if code != exitError {
			t.Errorf("%s: exit %d, want %d", src, code, exitError)
		}
		if !strings.Contains(stderr, "MiB") || !strings.Contains(stderr, "limit") {
			t.Errorf("%s: the error does not name the limit: %s", src, stderr)
		}
		if rss > 1<<30 {
			t.Errorf("%s: peak RSS %d MiB for a refused input", src, rss>>20)
		}
	}
	r := mustRun(t, "", "--db", db, "--json", "get", "notes", "n1")
	if !strings.Contains(r.stdout, "before") {
		t.Errorf("the store changed: %s", r.stdout)
	}
	r = kvtool(t, "", "--db", db, "get", "notes", "huge")
	if r.code == exitOK {
		t.Error("the huge document was stored")
	}
}

// TestHostile_deepInput: a document nested 100,000 levels deep is refused
// with exit 1 and a message saying it is nested too deep.
func TestHostile_deepInput(t *testing.T) {
	db := filepath.Join(t.TempDir(), "store")
	const depth = 100_000
	in := `{"id":"deep","x":` + strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth) + "}"
	r := kvtool(t, in, "--db", db, "put", "notes", "-")
	if r.code != exitError {
		t.Fatalf("exit %d, want %d: %s", r.code, exitError, r.stderr)
	}
	if !strings.Contains(r.stderr, "depth") && !strings.Contains(r.stderr, "nested") {
		t.Errorf("the error does not say it is too deep: %s", r.stderr)
	}
	t.Logf("deep input: %s", strings.TrimSpace(r.stderr))
}
