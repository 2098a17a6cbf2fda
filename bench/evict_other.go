//go:build !linux

package main

// evict is a no-op where the page cache cannot be dropped: "cold" runs are
// then warm, and the method says so.
func evict(dir string) (string, error) { return "none (not linux)", nil }

// settle does nothing here.
func settle() {}
