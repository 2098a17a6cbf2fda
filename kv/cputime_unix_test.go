//go:build unix

package kv_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user + system) this process has used. On a
// shared machine it is steadier than wall time for benchmarks.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
