package blobstore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStore_Walk(t *testing.T) {
	s := rawStore(t, nil)
	want := map[string]int64{}
	for i := range 5 {
		b := randBytes(uint64(i), 100*i)
		want[mustPutBytes(t, s, b)] = int64(len(b))
	}
	root := s.Root()
	some := sum([]byte("some"))
	other := sum([]byte("other"))
	if some[:2] == other[:2] {
		t.Fatal("pick contents in different shards")
	}
	mk := func(rel string) string {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write := func(rel string) { writeFile(t, mk(rel), []byte("stray")) }
	write("notes.txt")
	write(some[:2] + "/README")
	write(some[:2] + "/" + strings.ToUpper(some))
	write(some[:2] + "/" + other)                                  // wrong shard
	write(some[:2] + "/" + some + ".tmp")                          // old-style temp name
	write("tmp/put-123")                                           // crash debris
	write(strings.ToUpper(some[:2]) + "/" + some)                  // uppercase shard
	write("zz/" + some)                                            // not hex
	if err := os.Mkdir(mk(some[:2]+"/"+some), 0o700); err != nil { // directory under a blob name
		t.Fatal(err)
	}
	write("abc/x") // three-letter directory
	symlinkOrSkip(t, "/etc/passwd", mk(other[:2]+"/"+other))

	wantStrays := map[string]string{
		"notes.txt":                            "not a shard directory",
		some[:2] + "/README":                   "not a blob name",
		some[:2] + "/" + strings.ToUpper(some): "not a blob name",
		some[:2] + "/" + other:                 "wrong shard",
		some[:2] + "/" + some + ".tmp":         "not a blob name",
		"tmp/put-123":                          "temporary file",
		strings.ToUpper(some[:2]):              "not a shard directory",
		"zz":                                   "not a shard directory",
		some[:2] + "/" + some:                  "a directory under a blob name",
		"abc":                                  "not a shard directory",
		other[:2] + "/" + other:                "a symlink under a blob name",
	}
	blobs, strays := checkStore(t, s)
	if len(blobs) != len(want) {
		t.Errorf("Walk blobs = %v; want %v", blobs, want)
	}
	for h, n := range want {
		if blobs[h] != n {
			t.Errorf("blob %s: size %d; want %d", h, blobs[h], n)
		}
	}
	for rel, reason := range wantStrays {
		if got, ok := strays[rel]; !ok || !strings.Contains(got, reason) {
			t.Errorf("stray %s: reason %q (reported %v); want one containing %q", rel, got, ok, reason)
		}
	}
	for rel := range strays {
		if _, ok := wantStrays[rel]; !ok {
			t.Errorf("unexpected stray %s: %s", rel, strays[rel])
		}
	}

	// A nil stray callback ignores strays.
	n := 0
	if err := s.Walk(func(string, int64) error { n++; return nil }, nil); err != nil || n != len(want) {
		t.Fatalf("Walk with nil stray = %d, %v", n, err)
	}
	// fs.SkipAll stops quietly; another error is returned.
	n = 0
	if err := s.Walk(func(string, int64) error { n++; return fs.SkipAll }, nil); err != nil || n != 1 {
		t.Fatalf("Walk stopped with SkipAll = %d, %v; want 1, nil", n, err)
	}
	stop := errors.New("stop")
	if err := s.Walk(func(string, int64) error { return nil }, func(string, string) error { return stop }); err != stop {
		t.Fatalf("Walk = %v; want the callback's error", err)
	}
}
