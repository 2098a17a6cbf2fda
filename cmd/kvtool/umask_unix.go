//go:build unix

package main

import "syscall"

// privateFiles makes every file kvtool creates private to its owner,
// including those libraries create with their own modes (Bleve's index
// files): a store holds a person's notes and recordings.
func privateFiles() { syscall.Umask(0o077) }
