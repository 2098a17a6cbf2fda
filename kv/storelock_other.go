//go:build !unix

package kv

import "os"

// Without flock the store lock holds nothing: bbolt's own lock on data.db
// is the only protection, and a process waiting for it while another
// replaces data.db may write into the replaced file.
func tryLock(f *os.File, exclusive bool) (bool, error) { return true, nil }

func unlock(f *os.File) error { return nil }
