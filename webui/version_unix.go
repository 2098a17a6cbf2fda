//go:build unix

package webui

import (
	"fmt"
	"os"
	"syscall"
)

// fileID names the file itself (device and inode), so that a file renamed
// over data.db is a new version even with the same size and time.
func fileID(fi os.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%x.%x", uint64(st.Dev), uint64(st.Ino))
	}
	return "-"
}
