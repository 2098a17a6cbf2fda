//go:build unix

package legacy

import (
	"os"
	"syscall"
)

// mapFile maps a file read-only: its pages are the page cache's, not the
// process's anonymous memory, so a large collection file or spill file is
// read without holding a copy. release unmaps it; nothing may use the
// bytes after.
func mapFile(f *os.File, size int64) (b []byte, release func() error, err error) {
	if size == 0 {
		return nil, func() error { return nil }, nil
	}
	if int64(int(size)) != size {
		return nil, nil, syscall.EFBIG
	}
	b, err = syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return syscall.Munmap(b) }, nil
}
