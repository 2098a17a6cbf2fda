package blobstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/buckets"
)

// newStore opens a store in a fresh temporary directory and, when the test
// ends, checks it: every blob verifies and there is no stray name, tmp/
// included. Tests that damage the store on purpose use rawStore.
func newStore(t testing.TB, opts *Options) *Store {
	t.Helper()
	s := rawStore(t, opts)
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		if _, strays := checkStore(t, s); len(strays) > 0 {
			t.Errorf("store left with unexplained names: %v", strays)
		}
	})
	return s
}

// rawStore opens a store in a fresh temporary directory, unchecked.
func rawStore(t testing.TB, opts *Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "blobs"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkStore verifies every blob and returns the blobs and the stray names.
func checkStore(t testing.TB, s *Store) (blobs map[string]int64, strays map[string]string) {
	t.Helper()
	blobs = map[string]int64{}
	strays = map[string]string{}
	err := s.Walk(func(hash string, size int64) error {
		blobs[hash] = size
		if err := s.Verify(context.Background(), hash); err != nil {
			t.Errorf("blob %s does not verify: %v", hash, err)
		}
		return nil
	}, func(rel, reason string) error {
		strays[filepath.ToSlash(rel)] = reason
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	return blobs, strays
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func randBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	_, _ = r.Read(b)
	return b
}

func mustPutBytes(t testing.TB, s *Store, b []byte) string {
	t.Helper()
	h, n, err := s.PutBytes(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(b)) || h != sum(b) {
		t.Fatalf("PutBytes = %s, %d; want %s, %d", h, n, sum(b), len(b))
	}
	return h
}

// blobPath is where hash lives, for tests that damage files.
func blobPath(s *Store, hash string) string {
	return filepath.Join(s.Root(), hash[:2], hash)
}

// wantCorrupt fails unless err marks corruption of hash.
func wantCorrupt(t testing.TB, err error, hash string) {
	t.Helper()
	if !errors.Is(err, buckets.ErrCorrupt) {
		t.Fatalf("err = %v; want buckets.ErrCorrupt", err)
	}
	var ce *buckets.CorruptError
	if !errors.As(err, &ce) || ce.Key != hash {
		t.Fatalf("err = %v; want a *buckets.CorruptError with Key %s", err, hash)
	}
	if !strings.Contains(err.Error(), hash) {
		t.Fatalf("error %q does not name the hash %s", err, hash)
	}
}

func tmpEntries(t testing.TB, s *Store) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(s.Root(), tmpDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func symlinkOrSkip(t testing.TB, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks not available: %v", err)
	}
}
