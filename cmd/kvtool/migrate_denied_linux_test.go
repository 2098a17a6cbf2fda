//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestMigrate_failureLeavesNoStore: a migration that fails after --db got
// a store (here: a file it needs cannot be opened, so it stops naming it)
// leaves no store where there was none, and in a directory that existed
// removes only what kv made there. Run as an unprivileged user (this
// test binary again, as uid 65534, when run as root).
func TestMigrate_failureLeavesNoStore(t *testing.T) {
	base := t.TempDir()
	legacyDir := filepath.Join(base, "legacy")
	os.MkdirAll(filepath.Join(legacyDir, "db"), 0o755)
	os.WriteFile(filepath.Join(legacyDir, "db", "notes.json"), []byte(`[{"id":"n1"}]`), 0o644)
	tasks := filepath.Join(legacyDir, "db", "tasks.json")
	os.WriteFile(tasks, []byte(`{"version":1,"checksum":"x","timestamp":1729000000000,"data":[{"id":"t1"}]}`), 0o644)
	os.WriteFile(filepath.Join(legacyDir, "db", "tasks.1728000000000.backup.json"), []byte(`{"version":1,"checksum":"x","timestamp":1728000000000,"data":[{"id":"t0"}]}`), 0o644)
	os.Chmod(tasks, 0)
	existing := filepath.Join(base, "existing")
	os.Mkdir(existing, 0o777)
	os.WriteFile(filepath.Join(existing, "mine.txt"), []byte("x"), 0o666)
	exe, _ := os.Executable()
	if os.Geteuid() == 0 {
		bin := filepath.Join(base, "kvtool.test")
		b, err := os.ReadFile(exe)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(bin, b, 0o755)
		exe = bin
		for d := base; d != "/"; d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o005 != 0o005 {
				os.Chmod(d, fi.Mode().Perm()|0o005)
			}
		}
		os.Chmod(base, 0o777)
		os.Chmod(existing, 0o777)
	}
	for _, store := range []string{filepath.Join(base, "new"), existing} {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), kvtoolChildEnv+"="+strings.Join([]string{"--db", store, "migrate", legacyDir, "--yes"}, "\x1f"), "HOME=/")
		if os.Geteuid() == 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitError {
			t.Fatalf("%s: %v, stderr %s", store, err, errb.String())
		}
		if !strings.Contains(errb.String(), "db/tasks.json") || !strings.Contains(errb.String(), "permission") {
			t.Errorf("%s: stderr %s", store, errb.String())
		}
		ents, _ := os.ReadDir(store)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		want := ""
		if store == existing {
			want = "mine.txt"
		}
		if strings.Join(names, ",") != want {
			t.Errorf("%s holds %v after a failed migration", store, names)
		}
	}
	os.Chmod(tasks, 0o644)
}
