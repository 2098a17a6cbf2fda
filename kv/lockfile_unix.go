//go:build unix

package kv

import (
	"fmt"
	"os"
	"syscall"
)

// lockFile takes the same exclusive lock bbolt takes on its file, so no
// other process opens the store while it is replaced offline.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%w: %s%s", ErrLocked, path, lockHolder(path))
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
