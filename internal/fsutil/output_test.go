package fsutil

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// TestWriteOutput_regular: an existing file is replaced atomically (a
// new inode, no temporary file left) and keeps its mode; a new one is
// 0600; a failed write leaves the old content.
func TestWriteOutput_regular(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.json")
	if err := WriteOutput(p, writeString("new")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Fatalf("new file mode %v", fi.Mode())
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(p)
	if err := WriteOutput(p, writeString("second")); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(p)
	got, _ := os.ReadFile(p)
	if string(got) != "second" || after.Mode().Perm() != 0o644 || os.SameFile(before, after) {
		t.Fatalf("content %q, mode %v, same inode %v", got, after.Mode(), os.SameFile(before, after))
	}
	boom := errors.New("boom")
	if err := WriteOutput(p, func(w io.Writer) error { io.WriteString(w, "part"); return boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) != "second" {
		t.Fatalf("a failed write left %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("left %d entries", len(entries))
	}
	if err := WriteOutput(dir, writeString("x")); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("a directory: %v", err)
	}
}

// TestWriteOutput_through: a symlink, a FIFO and a device are written
// through, never replaced.
func TestWriteOutput_through(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("old content, longer"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("target", link); err != nil {
		t.Fatal(err)
	}
	if err := WriteOutput(link, writeString("via link")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the link was replaced")
	}
	if got, _ := os.ReadFile(target); string(got) != "via link" {
		t.Fatalf("target holds %q", got)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o640 {
		t.Fatalf("target mode %v", fi.Mode())
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink("created", dangling); err != nil {
		t.Fatal(err)
	}
	if err := WriteOutput(dangling, writeString("made")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "created")); string(got) != "made" {
		t.Fatalf("dangling link target holds %q", got)
	}

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	got := make(chan string)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	if err := WriteOutput(fifo, writeString("through the fifo")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through the fifo" {
		t.Fatalf("fifo reader got %q", s)
	}
	if fi, _ := os.Lstat(fifo); fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatal("the FIFO was replaced")
	}

	if err := WriteOutput(os.DevNull, writeString("gone")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(os.DevNull); fi.Mode()&os.ModeDevice == 0 {
		t.Fatal("/dev/null is no longer a device")
	}
}

func TestInside(t *testing.T) {
	root := t.TempDir()
	store := filepath.Join(root, "store")
	if err := os.MkdirAll(filepath.Join(store, "backups"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(store, "data.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(root, "other")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(store, filepath.Join(root, "storelink")))
	must(os.Symlink(filepath.Join(store, "data.db"), filepath.Join(other, "to-data")))
	must(os.Symlink(filepath.Join(store, "new"), filepath.Join(other, "dangling-in")))
	must(os.Symlink(filepath.Join(other, "x"), filepath.Join(store, "out-link")))
	for _, tc := range []struct {
		path   string
		inside bool
	}{
		{filepath.Join(store, "data.db"), true},
		{filepath.Join(store, "new.json"), true},
		{filepath.Join(store, "backups", "x.db"), true},
		{store, true},
		{filepath.Join(other, "..", "store", "data.db"), true},
		{filepath.Join(root, "storelink", "data.db"), true},
		{filepath.Join(other, "to-data"), true},
		{filepath.Join(other, "dangling-in"), true},
		{filepath.Join(store, "out-link"), false}, // leads out: the write lands outside
		{filepath.Join(other, "x.json"), false},
		{filepath.Join(root, "store2", "x"), false},
		{root, false},
		{"relative-name", false},
	} {
		got, err := Inside(tc.path, store)
		if err != nil || got != tc.inside {
			t.Errorf("Inside(%s) = %v, %v; want %v", tc.path, got, err, tc.inside)
		}
	}
}

// TestWriteOutput_throughRefused checks that a write that fails before
// writing a byte (an export refused because the store is damaged) leaves
// the regular file behind a link as it was, and that an empty output
// still empties it.
func TestWriteOutput_throughRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("target", link); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	if err := WriteOutput(link, func(io.Writer) error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("err %v, want the refusal", err)
	}
	if got, _ := os.ReadFile(target); string(got) != "precious" {
		t.Fatalf("after a refused write the target holds %q", got)
	}
	if err := WriteOutput(link, writeString("")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); len(got) != 0 {
		t.Fatalf("after an empty write the target holds %q", got)
	}
}

// TestWriteOutput_callbackError: an error of the write callback itself
// (the store failing to read, say) was reported as "write FILE: ...", as
// if the output file had failed; only the file's own errors name it.
func TestWriteOutput_callbackError(t *testing.T) {
	dir := t.TempDir()
	broke := errors.New("the store is damaged")
	link := filepath.Join(dir, "link.json") // written through, not replaced
	if err := os.Symlink(filepath.Join(dir, "target.json"), link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "new.json"), link} {
		err := WriteOutput(path, func(w io.Writer) error {
			_, _ = w.Write([]byte("partial"))
			return broke
		})
		if !errors.Is(err, broke) || strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// TestWriteOutput_removesAbandonedTemps: a write of -o FILE killed before
// its rename left a hidden temporary file of up to the whole output beside
// FILE, and nothing removed it. The next write removes those no live
// process holds, and leaves one being written alone.
func TestWriteOutput_removesAbandonedTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "export.json")
	stale := filepath.Join(dir, ".export.json.tmp-123")
	if err := os.WriteFile(stale, []byte("half an export"), 0o600); err != nil {
		t.Fatal(err)
	}
	live, err := os.Create(filepath.Join(dir, ".export.json.tmp-456"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	holdTemp(live) // another writer, still at work
	other := filepath.Join(dir, ".other.json.tmp-789")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteOutput(path, func(w io.Writer) error { _, err := io.WriteString(w, "{}"); return err }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the abandoned temporary file: %v, want it removed", err)
	}
	for _, keep := range []string{live.Name(), other} {
		if _, err := os.Stat(keep); err != nil {
			t.Errorf("%s: %v, want it kept", filepath.Base(keep), err)
		}
	}
}
