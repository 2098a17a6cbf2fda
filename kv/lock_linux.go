package kv

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// lockHolder names the process holding a lock on path, from /proc/locks,
// or returns "".
func lockHolder(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	data, err := os.ReadFile("/proc/locks")
	if err != nil {
		return ""
	}
	// Lines look like: "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF".
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		dev := strings.Split(f[5], ":")
		if len(dev) != 3 || dev[2] != fmt.Sprint(st.Ino) {
			continue
		}
		pid := f[4]
		if pid == fmt.Sprint(os.Getpid()) {
			return " by this process (another DB is open on it)"
		}
		cmd, _ := os.ReadFile("/proc/" + pid + "/cmdline")
		name := strings.Join(strings.Fields(strings.ReplaceAll(string(cmd), "\x00", " ")), " ")
		if name != "" {
			return fmt.Sprintf(" by process %s (%s)", pid, name)
		}
		return " by process " + pid
	}
	return ""
}
