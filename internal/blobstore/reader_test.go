package blobstore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestReader_detectsCorruption damages a stored blob in several ways and
// checks that reading it to the end, WriteTo and Verify all report
// corruption naming the hash instead of io.EOF.
func TestReader_detectsCorruption(t *testing.T) {
	data := randBytes(5, 200<<10)
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"flipped byte", func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0x01
			writeFile(t, path, b)
		}},
		{"flipped last byte", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			b[len(b)-1] ^= 0x80
			writeFile(t, path, b)
		}},
		{"truncated", func(t *testing.T, path string) {
			if err := os.Truncate(path, int64(len(data)/3)); err != nil {
				t.Fatal(err)
			}
		}},
		{"emptied", func(t *testing.T, path string) {
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
		}},
		{"extended", func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			writeFile(t, path, append(b, 'x'))
		}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := rawStore(t, nil)
			h := mustPutBytes(t, s, data)
			tt.damage(t, blobPath(s, h))

			r, err := s.Open(h)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(r)
			wantCorrupt(t, err, h)
			// The verdict is sticky: reading again never turns it into EOF.
			if _, err2 := r.Read(make([]byte, 10)); !errors.Is(err2, err) && err2 != err {
				t.Fatalf("second Read = %v; want the same error %v", err2, err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}

			_, err = s.WriteTo(ctx, h, io.Discard)
			wantCorrupt(t, err, h)
			wantCorrupt(t, s.Verify(ctx, h), h)

			// Walk still lists it (it does not read), so check can verify it.
			blobs := map[string]bool{}
			if err := s.Walk(func(hash string, _ int64) error { blobs[hash] = true; return nil }, nil); err != nil || !blobs[h] {
				t.Fatalf("Walk = %v, %v", blobs, err)
			}
		})
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestStore_Open_notFound(t *testing.T) {
	s := newStore(t, nil)
	h := sum([]byte("never stored"))
	ctx := context.Background()
	_, err := s.Open(h)
	for name, err := range map[string]error{
		"Open":    err,
		"Stat":    second(s.Stat(h)),
		"Verify":  s.Verify(ctx, h),
		"WriteTo": second(s.WriteTo(ctx, h, io.Discard)),
	} {
		if !errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s = %v; want ErrNotFound and fs.ErrNotExist", name, err)
		}
	}
	if s.Has(h) {
		t.Error("Has = true")
	}
	// Same shard, other file.
	mustPutBytes(t, s, []byte("stored"))
	h2 := sum([]byte("stored"))
	other := h2[:2] + h[2:]
	if _, err := s.Open(other); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open of a missing blob in an existing shard = %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

// TestStore_symlinkNotFollowed: a symlink in place of a blob file or a shard
// directory is reported, never read through.
func TestStore_symlinkNotFollowed(t *testing.T) {
	data := []byte("secret outside the store")
	h := sum(data)
	tests := []struct {
		name  string
		place func(t *testing.T, s *Store, outsideFile, outsideDir string)
		stray string
	}{
		{"blob is a symlink", func(t *testing.T, s *Store, f, _ string) {
			if err := os.Mkdir(filepath.Join(s.Root(), h[:2]), 0o700); err != nil {
				t.Fatal(err)
			}
			symlinkOrSkip(t, f, blobPath(s, h))
		}, h[:2] + "/" + h},
		{"shard is a symlink", func(t *testing.T, s *Store, _, d string) {
			symlinkOrSkip(t, d, filepath.Join(s.Root(), h[:2]))
		}, h[:2]},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := rawStore(t, nil)
			outsideDir := t.TempDir()
			outsideFile := filepath.Join(outsideDir, h)
			writeFile(t, outsideFile, data)
			tt.place(t, s, outsideFile, outsideDir)

			r, err := s.Open(h)
			closeIf(r)
			wantCorrupt(t, err, h)
			_, err = s.Stat(h)
			wantCorrupt(t, err, h)
			if s.Has(h) {
				t.Error("Has = true through a symlink")
			}
			var buf bytes.Buffer
			_, err = s.WriteTo(ctx, h, &buf)
			wantCorrupt(t, err, h)
			if buf.Len() != 0 {
				t.Fatalf("WriteTo copied %d bytes through a symlink", buf.Len())
			}
			wantCorrupt(t, s.Verify(ctx, h), h)

			blobs, strays := checkStore(t, s)
			if len(blobs) != 0 {
				t.Errorf("Walk listed %v as blobs", blobs)
			}
			if _, ok := strays[tt.stray]; !ok {
				t.Errorf("Walk strays = %v; want %s reported", strays, tt.stray)
			}
		})
	}
}
