//go:build unix

package search

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOpen_notWritableIsNotDamage: an index whose files the process may
// not write (a read-only copy of the store, another user's) was taken for
// an unopenable one and recreated, deleting its files where the directory
// allowed it (round 8, contract8 #1). Open returns ErrNotWritable and
// leaves it as it is. Run as root, the open runs in a child process as
// nobody, for whom the permissions hold.
func TestOpen_notWritableIsNotDamage(t *testing.T) {
	if dir := os.Getenv("CAIRN_NOTWRITABLE_DIR"); dir != "" {
		_, _, err := Open(dir, nil)
		if !errors.Is(err, ErrNotWritable) {
			t.Fatalf("open of an index it may not write: %v, want ErrNotWritable", err)
		}
		return
	}
	base, err := os.MkdirTemp("", "cairn-notwritable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = filepath.Walk(base, func(p string, _ os.FileInfo, _ error) error { return os.Chmod(p, 0o700) })
		_ = os.RemoveAll(base)
	})
	dir := filepath.Join(base, "search")
	ix, _, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Apply([]Change{{Collection: "notes", ID: "n1", Rev: 1, Body: map[string]any{"content": "budget"}}}, 1); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	before := listFiles(t, dir)
	// The test binary, where nobody may run it (go test's build
	// directory is root's alone).
	bin := filepath.Join(base, "search.test")
	if os.Geteuid() == 0 {
		b, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Readable by all, writable by none: chmod -R a+rX,a-w.
	_ = filepath.Walk(base, func(p string, fi os.FileInfo, _ error) error {
		mode := fi.Mode().Perm()&^0o222 | 0o444
		if fi.IsDir() || p == bin {
			mode |= 0o111
		}
		return os.Chmod(p, mode)
	})
	if os.Geteuid() != 0 {
		t.Setenv("CAIRN_NOTWRITABLE_DIR", dir)
		TestOpen_notWritableIsNotDamage(t)
	} else {
		cmd := exec.Command(bin, "-test.run=^TestOpen_notWritableIsNotDamage$", "-test.count=1")
		cmd.Env = append(os.Environ(), "CAIRN_NOTWRITABLE_DIR="+dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		cmd.Dir = "/"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the open as nobody: %v\n%s", err, out)
		}
	}
	if after := listFiles(t, dir); !equalStrings(before, after) {
		t.Errorf("the index changed: %v, then %v", before, after)
	}
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
