//go:build unix

package legacy_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/cairnkv/cairn/legacy"
)

// copyTree copies a fixture directory (regular files only).
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestMigrate_skippedReported: a named pipe and a socket named like data
// files, and a link out of the directory, are not read (the walk does not
// block on the pipe) and each is reported with its reason, in the scan's
// report, the migration's skipped list and its problems.
func TestMigrate_skippedReported(t *testing.T) {
	dir := copyTree(t, "testdata/eras/era-b")
	if err := os.Remove(filepath.Join(dir, "db/tasks.json")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "db/tasks.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "attachments/att-9.dat")
	if len(sock) < 100 { // a socket path has a length limit
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
	}
	outside := filepath.Join(t.TempDir(), "notes.json")
	if err := os.WriteFile(outside, []byte(`[{"id":"from-outside"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "db/contacts.json")); err != nil {
		t.Fatal(err)
	}
	db := openStore(t)
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"db/tasks.json": "named pipe", "db/contacts.json": "outside the directory"}
	if len(sock) < 100 {
		want["attachments/att-9.dat"] = "socket"
	}
	for path, reason := range want {
		i := slices.IndexFunc(res.Skipped, func(s legacy.Skipped) bool { return s.Path == path })
		if i < 0 || !strings.Contains(res.Skipped[i].Reason, reason) {
			t.Errorf("%s: not reported as skipped (%s): %+v", path, reason, res.Skipped)
		}
		if !slices.ContainsFunc(res.Problems, func(p string) bool { return strings.Contains(p, path) }) {
			t.Errorf("%s: not in the problems %q", path, res.Problems)
		}
	}
	if _, _, err := db.Get(context.Background(), "contacts", "from-outside"); res.Counts["tasks"] != 0 || err == nil {
		t.Errorf("a skipped file was read: %v", res.Counts)
	}
}
