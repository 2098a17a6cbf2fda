//go:build !unix

package snapshot

import "os"

const noFollow = 0

// lockWait holds nothing without flock: backups taken at the same time
// may collide.
func lockWait(f *os.File) error { return nil }

// lockNow cannot tell a backup in progress without flock: it says busy.
func lockNow(f *os.File) (bool, error) { return false, nil }
