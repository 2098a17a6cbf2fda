package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// evict drops the page cache of the files under dir, so that the next
// open reads them from the disk ("cold-ish": the disk's own cache and the
// hypervisor's are out of reach, and the bench binary stays cached). It
// uses posix_fadvise(DONTNEED) on each file after a sync, which needs no
// privilege and leaves the rest of the machine's cache alone.
func evict(dir string) (string, error) {
	syscall.Sync()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		const fadvDontNeed = 4
		_, _, errno := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0)
		cerr := f.Close()
		if errno != 0 {
			return errno
		}
		return cerr
	})
	return "fadvise(DONTNEED)", err
}

// settle flushes the file systems and waits, untimed, between measured
// steps that write and delete large files: on a file system mounted with
// discard, a delete's discards otherwise land in the next step's time.
func settle() { syscall.Sync() }
