package fsutil

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// copyRangeKernel copies with copy_file_range for as long as the kernel
// does it. It returns how much it copied and no error when the kernel
// declines (the rest is then copied through a buffer by the caller).
func copyRangeKernel(dst, src *os.File, dstOff, srcOff int64, n int64) (done int64, err error) {
	sc, err := src.SyscallConn()
	if err != nil {
		return 0, nil
	}
	dc, err := dst.SyscallConn()
	if err != nil {
		return 0, nil
	}
	var opErr error
	cerr := sc.Control(func(sfd uintptr) {
		cerr := dc.Control(func(dfd uintptr) {
			for done < n {
				so, do := srcOff+done, dstOff+done
				m, err := unix.CopyFileRange(int(sfd), &so, int(dfd), &do, int(min(n-done, 1<<30)), 0)
				switch {
				case errors.Is(err, unix.EINTR):
					continue
				case err != nil:
					if declined(err) {
						return // the caller copies the rest
					}
					opErr = fmt.Errorf("copy_file_range %s to %s at %d: %w", src.Name(), dst.Name(), so, err)
					return
				case m == 0:
					// The end of src, or a file system that copies
					// nothing (some virtual ones): the buffered copy
					// tells the two apart.
					return
				}
				done += int64(m)
			}
		})
		if opErr == nil && cerr != nil {
			opErr = cerr
		}
	})
	if opErr == nil && cerr != nil {
		opErr = cerr
	}
	return done, opErr
}

// declined tells whether copy_file_range refused the files rather than
// failed on them: no such call, files on different devices, a file system
// that does not support it, or arguments it does not take for these files.
func declined(err error) bool {
	return errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EOPNOTSUPP) ||
		errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EBADF)
}

// startWriteback asks the kernel to start writing n bytes of f from off to
// the disk, without waiting for them.
func startWriteback(f *os.File, off, n int64) {
	sc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = sc.Control(func(fd uintptr) {
		_ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
