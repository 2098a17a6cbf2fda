//go:build !unix

package kv

func lockFile(path string) (func(), error) { return func() {}, nil }
