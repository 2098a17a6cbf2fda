package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestBackup_damagedLocalCopy: a local backup that fails verification is
// an integrity problem for backup push (exit 3, nothing pushed), and
// backup pull replaces it with the good copy from the object store; a
// good local copy is still kept (exit 1).
func TestBackup_damagedLocalCopy(t *testing.T) {
	s := natsServer(t, nil)
	url := s.ClientURL()
	a := filepath.Join(t.TempDir(), "a")
	mustRun(t, `{"id":"n1","title":"keep me"}`, "--db", a, "put", "notes")
	var m struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "", "--db", a, "--json", "backup", "create").stdout), &m); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "--db", a, "backup", "push", m.Name, "--nats", url)
	path := filepath.Join(a, "backups", m.Name+".db")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := kvtool(t, "", "--db", a, "backup", "push", m.Name, "--nats", url)
	wantExit(t, r, exitIntegrity, "backup", "push", "(damaged)")
	mustRun(t, "", "--db", a, "backup", "pull", m.Name, "--nats", url)
	mustRun(t, "", "--db", a, "backup", "verify", m.Name)
	r = kvtool(t, "", "--db", a, "backup", "pull", m.Name, "--nats", url)
	wantExit(t, r, exitError, "backup", "pull", "(a good copy is here)")
}
