package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOutput_kinds: -o replaces a regular file atomically keeping its
// mode, and writes through a symlink, a FIFO and a device without
// replacing them (issue 15: attach get -o /dev/null as root replaced the
// device with a regular file).
func TestOutput_kinds(t *testing.T) {
	dir := newStore(t)
	src := filepath.Join(t.TempDir(), "content.bin")
	if err := os.WriteFile(src, []byte("attachment bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "--db", dir, "attach", "add", src, "--id", "a1")
	out := t.TempDir()

	// A regular file keeps its mode and is replaced whole.
	file := filepath.Join(out, "export.json")
	if err := os.WriteFile(file, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "--db", dir, "export", "-o", file)
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(file); fi.Mode().Perm() != 0o644 || !strings.HasPrefix(string(b), "{") {
		t.Errorf("export -o over a 0644 file: mode %v, content %.20q", fi.Mode(), b)
	}
	mustRun(t, "", "--db", dir, "attach", "get", "a1", "-o", file)
	if b, _ := os.ReadFile(file); string(b) != "attachment bytes" {
		t.Errorf("attach get -o: %q", b)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o644 {
		t.Errorf("attach get -o changed the mode to %v", fi.Mode())
	}

	// A symlink stays a link; its target gets the content.
	target := filepath.Join(out, "target.json")
	link := filepath.Join(out, "link.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "--db", dir, "export", "-o", link)
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(target); !strings.HasPrefix(string(b), "{") {
		t.Errorf("the link's target holds %.20q", b)
	}

	// A FIFO gets the bytes and stays a FIFO.
	fifo := filepath.Join(out, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	mustRun(t, "", "--db", dir, "attach", "get", "a1", "-o", fifo)
	if s := <-got; s != "attachment bytes" {
		t.Errorf("the FIFO's reader got %q", s)
	}
	if fi, _ := os.Lstat(fifo); fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v", fi.Mode())
	}

	// /dev/null stays a device.
	mustRun(t, "", "--db", dir, "attach", "get", "a1", "-o", os.DevNull)
	mustRun(t, "", "--db", dir, "export", "-o", os.DevNull)
	if fi, err := os.Lstat(os.DevNull); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a device: %v %v", fi.Mode(), err)
	}
}

// TestOutput_insideStore: -o never writes into the store directory,
// however the path reaches it: exit 1, the store byte for byte.
func TestOutput_insideStore(t *testing.T) {
	dir := newStore(t)
	src := filepath.Join(t.TempDir(), "content.bin")
	if err := os.WriteFile(src, []byte("attachment bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "--db", dir, "attach", "add", src, "--id", "a1")
	elsewhere := t.TempDir()
	if err := os.Symlink(dir, filepath.Join(elsewhere, "storelink")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "data.db"), filepath.Join(elsewhere, "to-data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "data.db"), filepath.Join(elsewhere, "hardlink.db")); err != nil {
		t.Fatal(err)
	}
	before := dbHash(t, dir)
	for _, out := range []string{
		filepath.Join(dir, "data.db"),
		filepath.Join(dir, "export.json"),
		filepath.Join(dir, "backups", "x.json"),
		filepath.Join(dir, "..", filepath.Base(dir), "data.db"),
		filepath.Join(elsewhere, "storelink", "data.db"),
		filepath.Join(elsewhere, "to-data"),
		filepath.Join(elsewhere, "hardlink.db"),
		dir,
	} {
		for _, args := range [][]string{{"export", "-o", out}, {"attach", "get", "a1", "-o", out}} {
			r := kvtool(t, "", append([]string{"--db", dir}, args...)...)
			wantExit(t, r, exitError, args...)
			if !strings.Contains(r.stderr, "refused") {
				t.Errorf("%v: %s", args, r.stderr)
			}
		}
	}
	if dbHash(t, dir) != before {
		t.Fatal("data.db changed")
	}
	if _, err := os.Stat(filepath.Join(dir, "export.json")); !os.IsNotExist(err) {
		t.Fatal("a file was created in the store directory")
	}
}
