package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestKilled_leavesNoCopy: put and import copy a stream (stdin, a FIFO)
// to a temporary file to read it twice; a process killed with SIGKILL
// while it copies must not leave the user's data behind in $TMPDIR.
func TestKilled_leavesNoCopy(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the copy is unlinked at once where /proc/self/fd reopens it")
	}
	for _, args := range [][]string{{"put", "notes", "-"}, {"import", "/dev/stdin"}} {
		t.Run(args[0], func(t *testing.T) {
			tmp := t.TempDir()
			exe, _ := os.Executable()
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp,
				kvtoolChildEnv+"="+strings.Join(append([]string{"--db", filepath.Join(t.TempDir(), "s")}, args...), "\x1f"))
			w, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill() // killed below; a failed test may leave it
			// Half a document, then nothing: the child copies and waits.
			if _, err := w.Write([]byte(`{"id":"n1","content":"` + strings.Repeat("private text ", 50000))); err != nil {
				t.Fatal(err)
			}
			// Kill it once it holds its copy open (named or not).
			copying := func() bool {
				fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid))
				for _, fd := range fds {
					if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", cmd.Process.Pid, fd.Name())); err == nil && strings.Contains(l, "/kvtool-") {
						return true
					}
				}
				return false
			}
			for deadline := time.Now().Add(30 * time.Second); !copying(); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the child never opened its copy")
				}
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait() // killed
			entries, err := os.ReadDir(tmp)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), "kvtool-") {
					t.Errorf("a killed %s left %s in $TMPDIR", args[0], e.Name())
				}
			}
		})
	}
}
