package blobstore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpen_createsDirectories(t *testing.T) {
	root := filepath.Join(t.TempDir(), "blobs")
	s, err := Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Root() != root {
		t.Errorf("Root() = %q; want %q", s.Root(), root)
	}
	for _, dir := range []string{root, filepath.Join(root, tmpDir)} {
		fi, err := os.Lstat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.IsDir() || fi.Mode().Perm() != dirPerm {
			t.Errorf("%s: mode %v; want a directory with %v", dir, fi.Mode(), fs.FileMode(dirPerm))
		}
	}
	// Reopening an existing store is fine.
	if _, err := Open(root, nil); err != nil {
		t.Fatalf("reopen: %v", err)
	}
}

func TestOpen_refusesBadRoot(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, root string)
	}{
		{"empty path", nil},
		{"root is a file", func(t *testing.T, root string) {
			if err := os.WriteFile(root, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"root is a symlink to a directory", func(t *testing.T, root string) {
			symlinkOrSkip(t, t.TempDir(), root)
		}},
		{"tmp is a file", func(t *testing.T, root string) {
			if err := os.Mkdir(root, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, tmpDir), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"tmp is a symlink", func(t *testing.T, root string) {
			if err := os.Mkdir(root, 0o700); err != nil {
				t.Fatal(err)
			}
			symlinkOrSkip(t, t.TempDir(), filepath.Join(root, tmpDir))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := ""
			if tt.setup != nil {
				root = filepath.Join(t.TempDir(), "blobs")
				tt.setup(t, root)
			}
			_, err := Open(root, nil)
			if !errors.Is(err, ErrBadRoot) {
				t.Fatalf("Open = %v; want ErrBadRoot", err)
			}
		})
	}
}

func TestValidHash(t *testing.T) {
	good := sum([]byte("x"))
	tests := []struct {
		h    string
		want bool
	}{
		{good, true},
		{strings.Repeat("0", 64), true},
		{strings.Repeat("f", 64), true},
		{"", false},
		{good[:63], false},
		{good + "0", false},
		{strings.ToUpper(good), false},
		{"A" + good[1:], false},
		{"g" + good[1:], false},
		{"../" + good[3:], false},
		{"/" + good[1:], false},
		{good[:10] + "/" + good[11:], false},
		{good[:10] + `\` + good[11:], false},
		{good[:10] + "\x00" + good[11:], false},
		{good[:62] + "..", false},
		{" " + good[1:], false},
		{good[:63] + "\n", false},
		{strings.Repeat("é", 32), false},
	}
	for _, tt := range tests {
		if got := ValidHash(tt.h); got != tt.want {
			t.Errorf("ValidHash(%q) = %v; want %v", tt.h, got, tt.want)
		}
	}
}

// TestStore_invalidHash checks that no operation lets a bad name near the
// filesystem: each fails with ErrInvalidHash and nothing outside the store
// is read, created or removed.
func TestStore_invalidHash(t *testing.T) {
	s := newStore(t, nil)
	outside := filepath.Join(filepath.Dir(s.Root()), "victim")
	if err := os.WriteFile(outside, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := sum([]byte("x"))
	bad := []string{
		"", "..", "../victim", "../../victim", "/etc/passwd", outside,
		"victim", "ab/../../victim", good[:63], good + "a", strings.ToUpper(good),
		good[:2] + "/" + good[3:], good[:32] + "\x00" + good[33:],
		good[:2] + `\` + good[3:], "./" + good[2:],
	}
	ctx := context.Background()
	ops := map[string]func(h string) error{
		"Open":    func(h string) error { r, err := s.Open(h); closeIf(r); return err },
		"Stat":    func(h string) error { _, err := s.Stat(h); return err },
		"Verify":  func(h string) error { return s.Verify(ctx, h) },
		"WriteTo": func(h string) error { _, err := s.WriteTo(ctx, h, io.Discard); return err },
		"Remove":  func(h string) error { return s.Remove(h) },
	}
	for _, h := range bad {
		for name, op := range ops {
			if err := op(h); !errors.Is(err, ErrInvalidHash) {
				t.Errorf("%s(%q) = %v; want ErrInvalidHash", name, h, err)
			}
		}
		if s.Has(h) {
			t.Errorf("Has(%q) = true", h)
		}
	}
	if b, err := os.ReadFile(outside); err != nil || string(b) != "keep me" {
		t.Fatalf("file outside the store changed: %q, %v", b, err)
	}
}

func closeIf(r *Reader) {
	if r != nil {
		_ = r.Close()
	}
}

func TestParseRel_roundTrip(t *testing.T) {
	for i := 0; i < 100; i++ {
		h := sum(randBytes(uint64(i), 8))
		rel := relPath(h)
		shard, name := filepath.Split(rel)
		got, reason := parseRel(filepath.Clean(shard), name)
		if got != h || reason != "" {
			t.Fatalf("parseRel(relPath(%s)) = %q, %q", h, got, reason)
		}
		if shardIndex(h) < 0 || shardIndex(h) > 255 || relPath(h)[:2] != h[:2] {
			t.Fatalf("shard of %s wrong", h)
		}
	}
	h := sum([]byte("x"))
	other := "00"
	if h[:2] == other {
		other = "01"
	}
	tests := []struct{ shard, name, reason string }{
		{"AB", h, "not a shard directory"},
		{"tmp", h, "not a shard directory"},
		{h[:2], "README", "not a blob name"},
		{h[:2], strings.ToUpper(h), "not a blob name"},
		{other, h, "wrong shard"},
	}
	for _, tt := range tests {
		if got, reason := parseRel(tt.shard, tt.name); got != "" || !strings.Contains(reason, tt.reason) {
			t.Errorf("parseRel(%q, %q) = %q, %q; want reason containing %q", tt.shard, tt.name, got, reason, tt.reason)
		}
	}
}

func TestStore_Remove(t *testing.T) {
	s := newStore(t, nil)
	h := mustPutBytes(t, s, []byte("remove me"))
	for i := 0; i < 2; i++ { // idempotent
		if err := s.Remove(h); err != nil {
			t.Fatalf("Remove #%d: %v", i+1, err)
		}
		if s.Has(h) {
			t.Fatalf("Has after Remove")
		}
	}
	// A hash whose shard directory was never made.
	if err := s.Remove(strings.Repeat("e", 64)); err != nil {
		t.Fatalf("Remove of a never-stored hash: %v", err)
	}
	if _, err := s.Stat(h); !errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat after Remove = %v; want ErrNotFound and fs.ErrNotExist", err)
	}
}

func TestStore_Remove_symlinks(t *testing.T) {
	s := rawStore(t, nil)
	outsideDir := t.TempDir()
	victim := filepath.Join(outsideDir, "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}

	// A symlink under a blob name is removed itself, never its target.
	h := sum([]byte("keep me"))
	if err := os.Mkdir(filepath.Join(s.Root(), h[:2]), 0o700); err != nil {
		t.Fatal(err)
	}
	symlinkOrSkip(t, victim, blobPath(s, h))
	if err := s.Remove(h); err != nil {
		t.Fatalf("Remove(symlink) = %v", err)
	}
	if _, err := os.Lstat(blobPath(s, h)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("symlink still there: %v", err)
	}

	// A symlinked shard directory is never removed through.
	h2 := sum([]byte("other"))
	if err := os.WriteFile(filepath.Join(outsideDir, h2), []byte("other"), 0o600); err != nil {
		t.Fatal(err)
	}
	symlinkOrSkip(t, outsideDir, filepath.Join(s.Root(), h2[:2]))
	wantCorrupt(t, s.Remove(h2), h2)
	if _, err := os.Stat(filepath.Join(outsideDir, h2)); err != nil {
		t.Fatalf("file behind a symlinked shard was removed: %v", err)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me" {
		t.Fatalf("symlink target changed: %q, %v", b, err)
	}
}

func TestStore_CleanTemp(t *testing.T) {
	s := newStore(t, nil)
	tmp := filepath.Join(s.Root(), tmpDir)
	old := time.Now().Add(-2 * time.Hour)
	for i, name := range []string{"put-old1", "put-old2", "put-new"} {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte("debris"), 0o600); err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	n, err := s.CleanTemp(time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("CleanTemp(1h) = %d, %v; want 2, nil", n, err)
	}
	if got := tmpEntries(t, s); len(got) != 1 || got[0] != "put-new" {
		t.Fatalf("tmp holds %v; want [put-new]", got)
	}
	n, err = s.CleanTemp(0)
	if err != nil || n != 1 {
		t.Fatalf("CleanTemp(0) = %d, %v; want 1, nil", n, err)
	}
	if got := tmpEntries(t, s); len(got) != 0 {
		t.Fatalf("tmp holds %v after CleanTemp(0)", got)
	}
}
