package blobstore

import (
	"path/filepath"
	"regexp"
	"testing"

	"github.com/cairnkv/cairn/internal/fsutil"
)

var hashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// FuzzValidHash checks ValidHash against a regular expression and that every
// accepted name maps to a path two levels inside the root.
func FuzzValidHash(f *testing.F) {
	f.Add("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	f.Add("../../../../etc/passwd")
	f.Add("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")
	f.Fuzz(func(t *testing.T, h string) {
		ok := ValidHash(h)
		if ok != hashRE.MatchString(h) {
			t.Fatalf("ValidHash(%q) = %v; regexp says %v", h, ok, !ok)
		}
		if !ok {
			return
		}
		root := filepath.FromSlash("/store/blobs")
		p, err := fsutil.Within(root, relPath(h))
		if err != nil {
			t.Fatalf("Within(%q): %v", h, err)
		}
		if filepath.Dir(filepath.Dir(p)) != root || filepath.Base(p) != h {
			t.Fatalf("path of %q is %q", h, p)
		}
		if got, reason := parseRel(h[:2], h); got != h || reason != "" {
			t.Fatalf("parseRel(relPath(%q)) = %q, %q", h, got, reason)
		}
	})
}

// FuzzParseRel checks that parseRel accepts exactly the names relPath makes.
func FuzzParseRel(f *testing.F) {
	f.Add("e3", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	f.Add("00", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	f.Add("tmp", "put-1234")
	f.Add("..", "..")
	f.Fuzz(func(t *testing.T, shard, name string) {
		h, reason := parseRel(shard, name)
		if (h == "") == (reason == "") {
			t.Fatalf("parseRel(%q, %q) = %q, %q: exactly one must be set", shard, name, h, reason)
		}
		if h == "" {
			return
		}
		if h != name || !ValidHash(h) || relPath(h) != filepath.Join(shard, name) {
			t.Fatalf("parseRel(%q, %q) = %q, which relPath would not make", shard, name, h)
		}
	})
}
