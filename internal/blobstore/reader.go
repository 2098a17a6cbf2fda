package blobstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
)

// Reader streams one blob and verifies it as it goes. It is an
// io.ReadCloser; it is not safe for concurrent use.
//
// Reader hashes every byte it returns. When the file ends, Read compares the
// SHA-256 of everything read (and its length) with the blob's name: if they
// match it returns io.EOF; if not it returns, instead of io.EOF, an error
// wrapping buckets.ErrCorrupt that names the hash. A caller that reads to the
// end therefore never takes wrong bytes for right ones silently, but the
// bytes already returned before that error may be wrong: the verdict comes at
// the end. Read until io.EOF (or use Store.WriteTo into a temporary place)
// before acting on the contents.
type Reader struct {
	f    *os.File
	hash string
	path string
	size int64 // at open
	h    hash.Hash
	n    int64 // bytes returned so far
	end  error // io.EOF or the corruption error, once the end was reached
}

// Open opens the blob hash for reading. It returns ErrNotFound if there is
// none, and a corruption error (without reading anything) if the name holds a
// symlink or anything but a regular file: links are never read through.
func (s *Store) Open(hash string) (*Reader, error) {
	const attempts = 3
	for i := 0; ; i++ {
		path, fi, err := s.lstatBlob(hash)
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
		if err != nil {
			// ELOOP on a link that appeared since the Lstat, ENOENT on a
			// concurrent Remove: look again.
			if i+1 < attempts {
				continue
			}
			return nil, fmt.Errorf("blobstore: open %s: %w", hash, err)
		}
		ofi, err := f.Stat()
		if err != nil {
			_ = f.Close() // the Stat error is the one to report
			return nil, fmt.Errorf("blobstore: open %s: %w", hash, err)
		}
		if !os.SameFile(fi, ofi) || !ofi.Mode().IsRegular() {
			// Replaced between Lstat and open (a concurrent Put healing a
			// bad copy, or something placed under the name): look again.
			_ = f.Close() // read-only, nothing to lose
			if i+1 < attempts {
				continue
			}
			return nil, corrupt(hash, "%s kept changing while being opened", path)
		}
		return &Reader{f: f, hash: hash, path: path, size: ofi.Size(), h: sha256.New()}, nil
	}
}

// Hash returns the name of the blob being read.
func (r *Reader) Hash() string { return r.hash }

// Size returns the size of the blob file when it was opened.
func (r *Reader) Size() int64 { return r.size }

// Read reads up to len(p) bytes. At the end of the file it returns io.EOF if
// the contents match their name, and otherwise an error wrapping
// buckets.ErrCorrupt (see Reader).
func (r *Reader) Read(p []byte) (int, error) {
	if r.end != nil {
		return 0, r.end
	}
	n, err := r.f.Read(p)
	if n > 0 {
		r.h.Write(p[:n]) // hash.Hash.Write never fails
		r.n += int64(n)
	}
	if err == io.EOF {
		r.end = r.verdict()
		return n, r.end
	}
	if err != nil {
		return n, fmt.Errorf("blobstore: read %s: %w", r.hash, err)
	}
	return n, nil
}

// verdict compares what was read with the blob's name.
func (r *Reader) verdict() error {
	got := hex.EncodeToString(r.h.Sum(nil))
	if got != r.hash {
		return corrupt(r.hash, "%s: contents (%d bytes) hash to %s", r.path, r.n, got)
	}
	if r.n != r.size {
		return corrupt(r.hash, "%s: read %d bytes, file had %d when opened", r.path, r.n, r.size)
	}
	return io.EOF
}

// Close closes the file.
func (r *Reader) Close() error {
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("blobstore: close %s: %w", r.hash, err)
	}
	return nil
}

// WriteTo copies the blob hash to w, verifying it, and returns the number of
// bytes written. ctx is checked between chunks. A corruption error comes
// after every byte has been written to w (see Reader): w must be a place the
// caller can discard on error.
func (s *Store) WriteTo(ctx context.Context, hash string, w io.Writer) (n int64, err error) {
	r, err := s.Open(hash)
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := r.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("blobstore: read %s: %w", hash, err)
		}
		m, rerr := r.Read(buf)
		if m > 0 {
			wm, werr := w.Write(buf[:m])
			n += int64(wm)
			if werr != nil {
				return n, fmt.Errorf("blobstore: write %s: %w", hash, werr)
			}
			if wm != m {
				return n, fmt.Errorf("blobstore: write %s: %w", hash, io.ErrShortWrite)
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// Verify reads the whole blob hash and returns nil if it hashes to its name,
// ErrNotFound if it is missing, and an error wrapping buckets.ErrCorrupt
// naming the hash if not.
func (s *Store) Verify(ctx context.Context, hash string) error {
	_, err := s.WriteTo(ctx, hash, io.Discard)
	return err
}
