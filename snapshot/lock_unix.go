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

// lockNow takes an exclusive flock on f if it is free, and reports
// whether it did.
func lockNow(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case !errors.Is(err, syscall.EINTR):
			return false, err
		}
	}
}
