//go:build unix

package search

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) used by this process,
// so benchmarks can report throughput per CPU-second, which a busy machine
// does not distort the way it distorts wall time.
func processCPU() (time.Duration, bool) {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		return 0, false
	}
	return time.Duration(r.Utime.Nano() + r.Stime.Nano()), true
}
