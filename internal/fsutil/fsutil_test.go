package fsutil

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFile_replacesDurably(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := WriteFile(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	fi, _ := os.Stat(p)
	if string(got) != "two" || fi.Mode().Perm() != 0o600 {
		t.Fatalf("got %q mode %v", got, fi.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

func TestWriteFileFunc_failureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := WriteFile(p, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	err := WriteFileFunc(p, 0o600, func(w io.Writer) error {
		_, _ = w.Write([]byte("partial"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	got, _ := os.ReadFile(p)
	entries, _ := os.ReadDir(dir)
	if string(got) != "keep" || len(entries) != 1 {
		t.Fatalf("failed write changed things: %q, %d entries", got, len(entries))
	}
	if err := WriteFile(filepath.Join(dir, "missing", "f"), nil, 0o600); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
}

func TestWithin(t *testing.T) {
	root := t.TempDir()
	for _, bad := range []string{"", "../x", "a/../../x", "/etc/passwd", "a\x00b", ".."} {
		if _, err := Within(root, bad); !errors.Is(err, ErrOutside) {
			t.Errorf("Within(%q) = %v, want ErrOutside", bad, err)
		}
	}
	for _, good := range []string{"a", "a/b", "a/../b", "..a"} {
		if p, err := Within(root, good); err != nil || filepath.Dir(p) == "" {
			t.Errorf("Within(%q) = %q, %v", good, p, err)
		}
	}
}
