//go:build !unix

package legacy

import "os"

// tryLockFile reports false without flock: a spill directory is then
// never taken for a stale one by its lock (see removeStaleSpills).
func tryLockFile(f *os.File) (bool, error) { return false, nil }

// lockWorks: tryLockFile takes no locks.
const lockWorks = false
