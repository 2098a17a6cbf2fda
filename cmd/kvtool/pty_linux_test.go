package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPTY opens a pseudo-terminal pair (Linux /dev/ptmx).
func openPTY() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		m.Close()
		return nil, nil, e
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		m.Close()
		return nil, nil, e
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, s, nil
}

// TestPrompt_pty runs kvtool import in a child process whose stdin and
// stderr are a real terminal, and answers its question: "n" writes
// nothing, "y" imports. Without a terminal (every other test) it does
// not ask.
func TestPrompt_pty(t *testing.T) {
	file := filepath.Join(t.TempDir(), "export.json")
	if err := os.WriteFile(file, []byte(`{"notes":[{"id":"p1"},{"id":"p2"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := newStore(t)
	before := dbHash(t, dir)
	for _, tc := range []struct {
		answer string
		code   int
	}{{"n", exitError}, {"y", exitOK}} {
		m, s, err := openPTY()
		if err != nil {
			t.Skipf("no pseudo-terminal: %v", err)
		}
		exe, _ := os.Executable()
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), kvtoolChildEnv+"="+strings.Join([]string{"--db", dir, "import", file}, "\x1f"))
		var stdout bytes.Buffer
		cmd.Stdin, cmd.Stdout, cmd.Stderr = s, &stdout, s
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		s.Close()
		// Read the terminal until the question, answer it, read the rest.
		var screen bytes.Buffer
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, 4096)
			answered := false
			for {
				n, err := m.Read(buf)
				screen.Write(buf[:n])
				if !answered && bytes.Contains(screen.Bytes(), []byte("[y/N] ")) {
					answered = true
					m.Write([]byte(tc.answer + "\n"))
				}
				if err != nil {
					return // EIO once the child has gone
				}
			}
		}()
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case <-waited:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("kvtool import did not finish; the terminal shows:\n%s", screen.String())
		}
		m.Close()
		<-done
		if code := cmd.ProcessState.ExitCode(); code != tc.code {
			t.Fatalf("answer %q: exit %d, want %d\n%s%s", tc.answer, code, tc.code, screen.String(), stdout.String())
		}
		if !strings.Contains(screen.String(), "is valid: notes 2") {
			t.Errorf("answer %q: the counts were not shown:\n%s", tc.answer, screen.String())
		}
		switch tc.answer {
		case "n":
			if dbHash(t, dir) != before || backupCount(t, dir) != 0 {
				t.Fatal(`"n" wrote something`)
			}
		case "y":
			if !strings.Contains(stdout.String(), "imported: notes 2") {
				t.Fatalf(`"y" did not import: %s`, stdout.String())
			}
		}
	}
}
