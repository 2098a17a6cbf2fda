//go:build !linux

package kv

func lockHolder(path string) string { return "" }
