//go:build linux

package legacy_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cairnkv/cairn/legacy"
)

// deniedChildEnv names the directory a child test process scans, as an
// unprivileged user (see scanAsNobody).
const deniedChildEnv = "CAIRN_LEGACY_DENIED_DIR"

// TestScan_deniedChild is the child of scanAsNobody: it scans the
// directory and prints the error, if any.
func TestScan_deniedChild(t *testing.T) {
	dir := os.Getenv(deniedChildEnv)
	if dir == "" {
		t.Skip("run by TestScan_permissionDenied")
	}
	_, _, err := legacy.Scan(t.Context(), dir, nil)
	fmt.Printf("ERR=%v\n", err)
	if errors.Is(err, legacy.ErrDenied) {
		fmt.Println("DENIED")
	}
}

// scanAsNobody scans dir as a user that file permissions apply to:
// itself when it is not root, else this test binary run again as uid
// 65534. It returns Scan's error text and whether it is ErrDenied.
func scanAsNobody(t *testing.T, dir string) (string, bool) {
	t.Helper()
	if os.Geteuid() != 0 {
		_, _, err := legacy.Scan(t.Context(), dir, nil)
		return fmt.Sprint(err), errors.Is(err, legacy.ErrDenied)
	}
	bin := filepath.Join(t.TempDir(), "legacy.test")
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{bin, dir} { // let the user reach them
		for d := filepath.Dir(p); d != "/" && d != "."; d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o005 != 0o005 {
				os.Chmod(d, fi.Mode().Perm()|0o005)
			}
		}
	}
	cmd := exec.Command(bin, "-test.run=^TestScan_deniedChild$", "-test.v")
	cmd.Env = append(os.Environ(), deniedChildEnv+"="+dir, "HOME=/", "GOCOVERDIR=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	text := string(out)
	i := strings.Index(text, "ERR=")
	if i < 0 {
		t.Fatalf("child said nothing:\n%s", text)
	}
	line, _, _ := strings.Cut(text[i+4:], "\n")
	return line, strings.Contains(text, "\nDENIED")
}

// TestScan_permissionDenied: a file the choice needs that cannot be
// opened stops the scan, naming it, rather than an older copy standing in
// for it (bringing back a deleted entity); one the choice does not need
// (an older backup, with the main file and the newest backup readable)
// does not.
func TestScan_permissionDenied(t *testing.T) {
	for _, tt := range []struct {
		name, deny string
		denied     bool
	}{
		{"main file", "db/tasks.json", true},
		{"per-entity file", "db/notes/note-n2.json", true},
		{"session directory", "db/sessions/s1", true},
		{"older backup", "db/tasks.1727000000000.backup.json", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{
				"db/tasks.json":                      `{"version":1,"checksum":"x","timestamp":1729000000000,"data":[{"id":"t1"}]}`,
				"db/tasks.1728000000000.backup.json": `{"version":1,"checksum":"x","timestamp":1728000000000,"data":[{"id":"t1"},{"id":"t0"}]}`,
				"db/tasks.1727000000000.backup.json": `{"version":1,"checksum":"x","timestamp":1727000000000,"data":[{"id":"t0"}]}`,
				"db/notes/note-n2.json":              `{"id":"n2","updatedAt":"2025-01-01T00:00:00.000Z"}`,
				"db/sessions/s1/metadata.json":       `{"version":1,"checksum":"x","timestamp":1729000000000,"data":{"id":"s1","name":"x"}}`,
				"db/session-index.json":              `{"version":1,"checksum":"x","timestamp":1729000000000,"data":["s1"]}`,
			}
			for rel, text := range files {
				p := filepath.Join(dir, rel)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p := filepath.Join(dir, tt.deny)
			if err := os.Chmod(p, 0); err != nil {
				t.Fatal(err)
			}
			defer os.Chmod(p, 0o755) // for TempDir's removal
			msg, denied := scanAsNobody(t, dir)
			if denied != tt.denied {
				t.Fatalf("denied %v, want %v: %s", denied, tt.denied, msg)
			}
			if denied && (!strings.Contains(msg, tt.deny) || !strings.Contains(msg, "permission")) {
				t.Errorf("the error does not name %s: %s", tt.deny, msg)
			}
			if !denied && msg != "<nil>" {
				t.Errorf("scan failed: %s", msg)
			}
		})
	}
}
