package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
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

// hugeString streams {"id":"huge","content":"xxxx...."} of n bytes, or
// with head and tail set, head + "xxxx..." + tail.
type hugeString struct {
	n, off     int64
	head, tail string
}

func (h *hugeString) Read(p []byte) (int, error) {
	head, tail := h.head, h.tail
	if head == "" {
		head, tail = `{"id":"huge","content":"`, `"}`
	}
	if h.off >= h.n {
		return 0, io.EOF
	}
	i := 0
	for i < len(p) && h.off < h.n {
		switch {
		case h.off < int64(len(head)):
			p[i] = head[h.off]
		case h.off >= h.n-int64(len(tail)):
			p[i] = tail[h.off-(h.n-int64(len(tail)))]
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

// TestHostile_hugeImport: an export file holding one string of 200 MB
// (CAIRN_HUGE_BYTES=1073741824 for issue 15's 1 GiB), streamed through a
// FIFO so that it never sits on disk, is refused by kvtool import with
// exit 1 naming the JSON path and the limit, writes nothing, and peaks
// under 600 MB of RSS (issue 15: 6.8 GB and 35 s, then out of memory).
// The time it took is logged, not asserted.
func TestHostile_hugeImport(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 200 MB")
	}
	size := int64(200 << 20)
	if s := os.Getenv("CAIRN_HUGE_BYTES"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("CAIRN_HUGE_BYTES: %v", err)
		}
		size = n
	}
	db := filepath.Join(t.TempDir(), "store")
	mustRun(t, `{"id":"n1","content":"before"}`, "--db", db, "put", "notes", "-")
	before := dbHash(t, db)
	fifo := filepath.Join(t.TempDir(), "export.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	fed := make(chan int64, 1)
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			fed <- -1
			return
		}
		n, _ := io.Copy(f, &hugeString{n: size, head: `{"version":"1.0.0","exportedAt":"2026-01-01T00:00:00.000Z","notes":[{"id":"huge","content":"`, tail: `"}]}`})
		f.Close() // the reader has gone: nothing to flush
		fed <- n
	}()
	start := time.Now()
	code, stderr, rss := runChild(t, nil, "--db", db, "import", "--yes", fifo)
	elapsed := time.Since(start)
	// Unblock the writer if the child never opened the FIFO.
	if f, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
		f.Close()
	}
	n := <-fed
	t.Logf("import of a %d MiB string: exit %d in %v, peak RSS %d MiB, %d MiB read: %s", size>>20, code, elapsed.Round(time.Millisecond), rss>>20, n>>20, strings.TrimSpace(stderr))
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if s := missing(stderr, "notes[0].content", "64 MiB", "limit"); s != "" {
		t.Errorf("stderr lacks %q: %s", s, stderr)
	}
	if rss > 600<<20 {
		t.Errorf("peak RSS %d MiB, want under 600", rss>>20)
	}
	if dbHash(t, db) != before || backupCount(t, db) != 0 {
		t.Error("the refused import wrote something")
	}
}
