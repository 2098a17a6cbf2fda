package blobstore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

func TestStore_Put_roundTrip(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", []byte{}},
		{"one byte", []byte{0}},
		{"text", []byte("hello, attachment")},
		{"buffer minus one", randBytes(1, bufSize-1)},
		{"buffer", randBytes(2, bufSize)},
		{"buffer plus one", randBytes(3, bufSize+1)},
		{"one MiB", randBytes(4, 1<<20)},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t, nil)
			// iotest-style one-byte-at-a-time reads would be slow for
			// 1 MiB; a plain reader exercises the chunked loop.
			h, n, err := s.Put(ctx, bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if h != sum(tt.data) || n != int64(len(tt.data)) {
				t.Fatalf("Put = %s, %d; want %s, %d", h, n, sum(tt.data), len(tt.data))
			}
			if size, err := s.Stat(h); err != nil || size != n {
				t.Fatalf("Stat = %d, %v", size, err)
			}
			if !s.Has(h) {
				t.Fatal("Has = false")
			}
			fi, err := os.Lstat(blobPath(s, h))
			if err != nil || fi.Mode() != filePerm {
				t.Fatalf("blob file mode %v, %v; want %v", fi.Mode(), err, fs.FileMode(filePerm))
			}
			di, err := os.Lstat(filepath.Dir(blobPath(s, h)))
			if err != nil || !di.IsDir() || di.Mode().Perm() != dirPerm {
				t.Fatalf("shard directory mode %v, %v", di.Mode(), err)
			}

			r, err := s.Open(h)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, tt.data) {
				t.Fatalf("ReadAll = %d bytes, %v", len(got), err)
			}
			if r.Hash() != h || r.Size() != n {
				t.Fatalf("Reader Hash/Size = %s/%d", r.Hash(), r.Size())
			}
			if m, err := r.Read(make([]byte, 8)); m != 0 || err != io.EOF {
				t.Fatalf("Read after EOF = %d, %v; want 0, io.EOF", m, err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}

			var buf bytes.Buffer
			if m, err := s.WriteTo(ctx, h, &buf); err != nil || m != n || !bytes.Equal(buf.Bytes(), tt.data) {
				t.Fatalf("WriteTo = %d, %v", m, err)
			}
			if err := s.Verify(ctx, h); err != nil {
				t.Fatal(err)
			}
			if tmp := tmpEntries(t, s); len(tmp) != 0 {
				t.Fatalf("tmp not empty: %v", tmp)
			}
		})
	}
}

func TestStore_Put_dedup(t *testing.T) {
	s := newStore(t, nil)
	ctx := context.Background()
	data := randBytes(7, 300<<10)
	h1, _, err := s.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	fi1, _ := os.Stat(blobPath(s, h1))
	h2, _, err := s.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	h3 := mustPutBytes(t, s, data)
	if h1 != h2 || h1 != h3 {
		t.Fatalf("hashes differ: %s %s %s", h1, h2, h3)
	}
	fi2, _ := os.Stat(blobPath(s, h1))
	if !os.SameFile(fi1, fi2) {
		t.Error("the second Put replaced the first file instead of dropping its copy")
	}
	blobs, _ := checkStore(t, s)
	if len(blobs) != 1 {
		t.Fatalf("%d blob files; want 1", len(blobs))
	}
	if tmp := tmpEntries(t, s); len(tmp) != 0 {
		t.Fatalf("tmp not empty: %v", tmp)
	}
}

// genReader yields n pseudo-random bytes without holding them.
type genReader struct {
	n   int64
	rng *rand.ChaCha8
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.n {
		p = p[:g.n]
	}
	_, _ = g.rng.Read(p)
	g.n -= int64(len(p))
	return len(p), nil
}

// TestStore_Put_large streams 64 MiB in and out and checks that the heap
// never had to hold it: total allocation stays a small fraction of the size.
func TestStore_Put_large(t *testing.T) {
	const size = 64 << 20
	const allowed = 8 << 20
	s := newStore(t, nil)
	ctx := context.Background()
	var seed [32]byte
	seed[0] = 42

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	h, n, err := s.Put(ctx, &genReader{n: size, rng: rand.NewChaCha8(seed)})
	runtime.ReadMemStats(&after)
	if err != nil || n != size {
		t.Fatalf("Put = %d, %v", n, err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > allowed {
		t.Errorf("Put of %d bytes allocated %d bytes; want at most %d", size, got, allowed)
	}

	runtime.ReadMemStats(&before)
	err = s.Verify(ctx, h)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > allowed {
		t.Errorf("Verify of %d bytes allocated %d bytes; want at most %d", size, got, allowed)
	}

	// The stored bytes are the generated ones.
	r, err := s.Open(h)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := &genReader{n: size, rng: rand.NewChaCha8(seed)}
	a, b := make([]byte, 1<<20), make([]byte, 1<<20)
	for {
		na, ea := io.ReadFull(r, a)
		nb, _ := io.ReadFull(want, b)
		if na != nb || !bytes.Equal(a[:na], b[:nb]) {
			t.Fatal("stored bytes differ from the generated ones")
		}
		if ea == io.EOF || ea == io.ErrUnexpectedEOF {
			break
		}
		if ea != nil {
			t.Fatal(ea)
		}
	}
}

func TestStore_Put_maxSize(t *testing.T) {
	s := newStore(t, &Options{MaxSize: 1000})
	ctx := context.Background()
	if _, _, err := s.Put(ctx, bytes.NewReader(make([]byte, 1000))); err != nil {
		t.Fatalf("Put at the limit: %v", err)
	}
	if _, _, err := s.Put(ctx, bytes.NewReader(make([]byte, 1001))); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Put over the limit = %v; want ErrTooLarge", err)
	}
	if _, _, err := s.PutBytes(ctx, make([]byte, 1001)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("PutBytes over the limit = %v; want ErrTooLarge", err)
	}
	if _, _, err := s.Put(ctx, &genReader{n: 1 << 40, rng: rand.NewChaCha8([32]byte{})}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Put of 1 TiB = %v; want ErrTooLarge", err)
	}
	blobs, _ := checkStore(t, s)
	if len(blobs) != 1 {
		t.Fatalf("%d blobs; want only the one at the limit", len(blobs))
	}
}

// cancelReader cancels its context after the first chunk and then keeps
// yielding data forever.
type cancelReader struct {
	cancel context.CancelFunc
	reads  int
}

func (c *cancelReader) Read(p []byte) (int, error) {
	c.reads++
	if c.reads == 2 {
		c.cancel()
	}
	return len(p), nil
}

type errReader struct{ after int }

var errBoom = errors.New("boom")

func (e *errReader) Read(p []byte) (int, error) {
	if e.after <= 0 {
		return 0, errBoom
	}
	e.after--
	return len(p), nil
}

func TestStore_Put_failureLeavesNothing(t *testing.T) {
	s := newStore(t, nil)

	ctx, cancel := context.WithCancel(context.Background())
	if _, _, err := s.Put(ctx, &cancelReader{cancel: cancel}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context = %v; want context.Canceled", err)
	}
	if _, _, err := s.Put(ctx, bytes.NewReader([]byte("x"))); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a context cancelled before = %v", err)
	}
	if _, _, err := s.PutBytes(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("PutBytes with a cancelled context = %v", err)
	}
	if _, _, err := s.Put(context.Background(), &errReader{after: 3}); !errors.Is(err, errBoom) {
		t.Fatalf("Put from a failing reader = %v; want errBoom", err)
	}
	if tmp := tmpEntries(t, s); len(tmp) != 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
	if blobs, _ := checkStore(t, s); len(blobs) != 0 {
		t.Fatalf("blobs stored by failed Puts: %v", blobs)
	}
}

func TestStore_Put_concurrentIdentical(t *testing.T) {
	s := newStore(t, nil)
	data := randBytes(9, 300<<10)
	want := sum(data)
	const workers = 32
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var h string
			var err error
			if i%4 == 0 {
				h, _, err = s.PutBytes(context.Background(), data)
			} else {
				h, _, err = s.Put(context.Background(), bytes.NewReader(data))
			}
			if err == nil && h != want {
				err = errors.New("wrong hash " + h)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	blobs, _ := checkStore(t, s)
	if len(blobs) != 1 || blobs[want] != int64(len(data)) {
		t.Fatalf("blobs = %v; want exactly %s", blobs, want)
	}
}

// TestStore_Put_replacesBadCopy: a wrong-size file, a same-size file with
// wrong bytes or a symlink under the name is replaced by the correct copy;
// the symlink's target is untouched.
func TestStore_Put_replacesBadCopy(t *testing.T) {
	s := newStore(t, nil)
	data := []byte("the real contents")
	h := sum(data)
	if err := os.Mkdir(filepath.Dir(blobPath(s, h)), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blobPath(s, h), data[:5], 0o600); err != nil {
		t.Fatal(err)
	}
	mustPutBytes(t, s, data)
	if err := s.Verify(context.Background(), h); err != nil {
		t.Fatalf("after Put over a truncated copy: %v", err)
	}
	// A copy of the right size with a flipped byte: judged by its hash,
	// never by its size, and replaced by both Put and PutBytes.
	for name, put := range map[string]func() error{
		"Put":      func() error { _, _, err := s.Put(context.Background(), bytes.NewReader(data)); return err },
		"PutBytes": func() error { _, _, err := s.PutBytes(context.Background(), data); return err },
	} {
		bad := bytes.Clone(data)
		bad[3] ^= 0x01
		if err := os.WriteFile(blobPath(s, h), bad, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := put(); err != nil {
			t.Fatalf("%s over a damaged copy: %v", name, err)
		}
		if err := s.Verify(context.Background(), h); err != nil {
			t.Fatalf("after %s over a same-size damaged copy: %v", name, err)
		}
	}

	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	data2 := []byte("other contents")
	h2 := sum(data2)
	if err := os.MkdirAll(filepath.Dir(blobPath(s, h2)), 0o700); err != nil {
		t.Fatal(err)
	}
	symlinkOrSkip(t, victim, blobPath(s, h2))
	if _, _, err := s.Put(context.Background(), bytes.NewReader(data2)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(blobPath(s, h2))
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("blob is %v, %v; want a regular file", fi.Mode(), err)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me" {
		t.Fatalf("symlink target changed: %q, %v", b, err)
	}
}

// TestStore_Put_symlinkedShard: Put never writes through a shard directory
// that is a symlink.
func TestStore_Put_symlinkedShard(t *testing.T) {
	s := rawStore(t, nil)
	data := []byte("contents")
	h := sum(data)
	outside := t.TempDir()
	symlinkOrSkip(t, outside, filepath.Join(s.Root(), h[:2]))
	for name, put := range map[string]func() error{
		"Put":      func() error { _, _, err := s.Put(context.Background(), bytes.NewReader(data)); return err },
		"PutBytes": func() error { _, _, err := s.PutBytes(context.Background(), data); return err },
	} {
		err := put()
		if err == nil {
			t.Fatalf("%s through a symlinked shard succeeded", name)
		}
		wantCorrupt(t, err, h)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("files written outside the store: %v", ents)
	}
	if tmp := tmpEntries(t, s); len(tmp) != 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
}
