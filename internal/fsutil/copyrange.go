package fsutil

import (
	"fmt"
	"io"
	"os"
)

// CopyRange copies n bytes of src, from srcOff, into dst at dstOff, without
// moving either file's offset, and returns how many it copied (n unless
// there is an error). Where the system can (copy_file_range on Linux), the
// kernel copies from file to file and the bytes never cross into user
// space; elsewhere, or where the file systems refuse (across devices, on
// some network or virtual file systems), it reads and writes through a
// buffer. A src shorter than srcOff+n is an io.ErrUnexpectedEOF.
//
// On file systems that share blocks between files (btrfs, XFS with
// reflink) the kernel may clone the range instead of copying it, as cp does
// by default: later writes to either file leave the other as it was, but
// the two share the blocks neither has rewritten since.
func CopyRange(dst, src *os.File, dstOff, srcOff, n int64) (int64, error) {
	if n <= 0 {
		return 0, nil
	}
	if err := inject("copy", dst.Name()); err != nil {
		return 0, err
	}
	done, err := copyRangeKernel(dst, src, dstOff, srcOff, n)
	if err != nil || done == n {
		return done, err
	}
	m, err := copyRangeBuffered(dst, src, dstOff+done, srcOff+done, n-done)
	return done + m, err
}

// copyRangeBuffer is the buffer size of copyRangeBuffered.
const copyRangeBuffer = 1 << 20

// copyRangeBuffered is CopyRange through user space.
func copyRangeBuffered(dst, src *os.File, dstOff, srcOff, n int64) (int64, error) {
	buf := make([]byte, min(n, copyRangeBuffer))
	var done int64
	for done < n {
		b := buf[:min(int64(len(buf)), n-done)]
		r, err := src.ReadAt(b, srcOff+done)
		if r < len(b) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return done, fmt.Errorf("read %s at %d: %w", src.Name(), srcOff+done, err)
		}
		w, err := dst.WriteAt(b, dstOff+done)
		done += int64(w)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// StartWriteback asks the system to start writing n bytes of f from off to
// the disk now, without waiting for them (sync_file_range on Linux; nothing
// elsewhere). It makes no promise: only Sync makes them durable. A writer
// that calls it as it goes leaves less for its final Sync to wait for.
func StartWriteback(f *os.File, off, n int64) {
	startWriteback(f, off, n)
}
