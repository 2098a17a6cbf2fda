//go:build unix

package snapshot

import (
	"errors"
	"os"
	"syscall"
)

// noFollow refuses a lock file that is a symbolic link.
const noFollow = syscall.O_NOFOLLOW

// lockWait takes an exclusive flock on f, waiting for it.
func lockWait(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
