package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
)

// The way back check prints works (issue 14, item 1): a byte flipped
// inside one stored note makes check exit 3 and advise a restore; that
// restore succeeds, keeps the damaged data.db aside as
// data.db.damaged-<time> (listed by backup list, never as a backup), and
// the store checks clean afterwards.
func TestRestore_damagedValue(t *testing.T) {
	dir := newStore(t)
	var m kv.Manifest
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "backup", "create").stdout, &m)
	mk := marker(t)
	mustRun(t, `{"id":"victim","content":"`+mk+`"}`, "--db", dir, "put", "notes", "-")
	flipMarker(t, dir, mk)
	if r := kvtool(t, "", "--db", dir, "check"); r.code != exitIntegrity || !strings.Contains(r.stdout+r.stderr, "victim") {
		t.Fatalf("check of the damaged store: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := mustRun(t, "", "--db", dir, "backup", "restore", m.Name, "--yes")
	if !strings.Contains(r.stdout, kv.DamagedPrefix) {
		t.Fatalf("restore does not say where the damaged data went: %s", r.stdout)
	}
	kept, _ := filepath.Glob(filepath.Join(dir, kv.DamagedPrefix+"*"))
	if len(kept) != 1 {
		t.Fatalf("damaged files kept: %v", kept)
	}
	var list []kv.Manifest
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "backup", "list").stdout, &list)
	found := false
	for _, b := range list {
		if b.Name == filepath.Base(kept[0]) {
			found = true
			if b.Reason != kv.ReasonDamaged || b.Verified {
				t.Fatalf("the damaged file is listed as %+v", b)
			}
		}
	}
	if !found {
		t.Fatalf("backup list does not show the damaged file: %+v", list)
	}
	// Nor does its summary count it.
	if r := mustRun(t, "", "--db", dir, "backup", "list"); !strings.Contains(r.stderr, fmt.Sprintf("%d backup(s)", len(list)-1)) || !strings.Contains(r.stderr, "1 damaged data file(s) set aside") {
		t.Errorf("backup list's summary counts the damaged file, or does not say it is set aside: %s", r.stderr)
	}
	// The damaged file is not a backup: it cannot be restored.
	if r := kvtool(t, "", "--db", dir, "backup", "restore", filepath.Base(kept[0]), "--yes"); r.code == exitOK {
		t.Fatal("a damaged data file was restored as a backup")
	}
	mustRun(t, "", "--db", dir, "check")
	if r := kvtool(t, "", "--db", dir, "get", "notes", "victim"); r.code != exitError {
		t.Fatalf("the restored backup holds the note written after it: exit %d", r.code)
	}
	mustRun(t, "", "--db", dir, "get", "notes", "n1")
}

// A data.db too damaged to open is set aside the same way.
func TestRestore_damagedFile(t *testing.T) {
	dir := newStore(t)
	var m kv.Manifest
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "backup", "create").stdout, &m)
	path := filepath.Join(dir, kv.DataFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2*4096 && i < len(data); i++ { // both meta pages
		data[i] ^= 0xff
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := kvtool(t, "", "--db", dir, "get", "notes", "n1"); r.code == exitOK {
		t.Fatal("a store without meta pages answered")
	}
	r := mustRun(t, "", "--db", dir, "backup", "restore", m.Name, "--yes")
	if !strings.Contains(r.stdout, kv.DamagedPrefix) {
		t.Fatalf("restore does not say where the damaged data went: %s", r.stdout)
	}
	mustRun(t, "", "--db", dir, "check")
	mustRun(t, "", "--db", dir, "get", "notes", "n1")
}

// backup list says when each backup was verified, and --verify rechecks
// every byte: a backup changed after it was taken is not "verified".
func TestBackupList_verify(t *testing.T) {
	dir := newStore(t)
	var m kv.Manifest
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "backup", "create").stdout, &m)
	r := mustRun(t, "", "--db", dir, "backup", "list")
	if !strings.Contains(r.stdout, "yes, ") || !strings.Contains(r.stderr, "--verify") {
		t.Fatalf("list does not say when it was verified:\n%s%s", r.stdout, r.stderr)
	}
	mustRun(t, "", "--db", dir, "backup", "list", "--verify")
	// Change one byte of the backup's data, keeping its size.
	bp := filepath.Join(dir, "backups", m.Name+".db")
	data, err := os.ReadFile(bp)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-100] ^= 0x01
	if err := os.WriteFile(bp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r = kvtool(t, "", "--db", dir, "--json", "backup", "list", "--verify")
	wantExit(t, r, exitIntegrity, "backup list --verify")
	var list []kv.Manifest
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Verified || !strings.Contains(list[0].Problem, "sha256") {
		t.Fatalf("a changed backup listed as %+v", list)
	}
}
