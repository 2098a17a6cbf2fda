package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// migrateOut is the --json shape of migrate (docs/KVTOOL.md).
type migrateOut struct {
	Counts   map[string]int `json:"counts"`
	Replayed *int           `json:"replayed"`
	Skipped  []any          `json:"skipped"`
	Problems []string       `json:"problems"`
	Backup   *string        `json:"backup"`
	// Documented keys present whatever their content.
	Unchanged  map[string]int `json:"unchanged"`
	KeptNewer  map[string]int `json:"kept_newer"`
	KeptStored []string       `json:"kept_stored"`
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestMigrate_contract(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	checkAtEnd(t, dir)
	legacyDir := filepath.Join("..", "..", "legacy", "testdata", "eras", "era-g")

	// --dry-run reports and writes nothing (no store is even created).
	var dry migrateOut
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "migrate", "--dry-run", legacyDir).stdout, &dry)
	if sumCounts(dry.Counts) == 0 {
		t.Fatalf("dry run would import nothing: %+v", dry)
	}
	before := dbHash(t, dir)

	var res migrateOut
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "migrate", legacyDir).stdout, &res)
	if dry.KeptStored == nil || dry.Unchanged == nil || dry.KeptNewer == nil {
		t.Fatalf("migrate --dry-run --json misses a key of the contract: %+v", dry)
	}
	if res.Replayed == nil || res.Skipped == nil || res.Problems == nil || res.Backup == nil || *res.Backup == "" || res.KeptStored == nil || res.Unchanged == nil || res.KeptNewer == nil {
		t.Fatalf("migrate --json misses a key of the contract: %+v", res)
	}
	if sumCounts(res.Counts) != sumCounts(dry.Counts) {
		t.Fatalf("dry run counted %v, the migration wrote %v", dry.Counts, res.Counts)
	}
	if dbHash(t, dir) == before {
		t.Fatal("the migration changed nothing")
	}
	var again migrateOut
	oneJSON(t, mustRun(t, "", "--db", dir, "--json", "migrate", legacyDir).stdout, &again)
	if n := sumCounts(again.Counts); n != 0 {
		t.Fatalf("a second run wrote %d documents: %v", n, again.Counts)
	}
	// Human output names the backup.
	if r := mustRun(t, "", "--db", dir, "migrate", legacyDir); !strings.Contains(r.stdout, "backup taken first") {
		t.Fatalf("human output: %s", r.stdout)
	}
}

func TestMigrate_badDirectory(t *testing.T) {
	dir := newStore(t)
	before := dbHash(t, dir)
	empty := t.TempDir()
	file := filepath.Join(empty, "notes.txt")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{filepath.Join(empty, "missing"), file, empty} {
		r := kvtool(t, "", "--db", dir, "migrate", arg)
		wantExit(t, r, exitError, "migrate", arg)
		if !strings.Contains(r.stderr, filepath.Base(arg)) && !strings.Contains(r.stderr, "no legacy data") {
			t.Errorf("migrate %s: the error does not name the directory: %s", arg, r.stderr)
		}
		if dbHash(t, dir) != before {
			t.Fatalf("a refused migrate %s changed the store", arg)
		}
	}
}

// TestMigrate_badDirectoryCreatesNoStore: a directory with nothing of the
// old app in it is refused before --db gets a store, --yes or not.
func TestMigrate_badDirectoryCreatesNoStore(t *testing.T) {
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{nil, {"--yes"}} {
		dir := filepath.Join(t.TempDir(), "store")
		r := kvtool(t, "", append([]string{"--db", dir, "migrate", empty}, extra...)...)
		wantExit(t, r, exitError, "migrate", empty)
		if !strings.Contains(r.stderr, "no legacy data") {
			t.Errorf("migrate %v: %s", extra, r.stderr)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("migrate %v of a directory with no legacy data left %s behind (%v)", extra, dir, err)
		}
	}
}

// writeRawLegacy writes an old-app db/ directory of raw (envelope-less)
// collection files: enough notes and sessions that migrating them takes
// a noticeable time.
func writeRawLegacy(t *testing.T, notes, sessions int) string {
	t.Helper()
	root := t.TempDir()
	db := filepath.Join(root, "db")
	if err := os.MkdirAll(db, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(db, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var ns, ss []map[string]any
	for i := range notes {
		ns = append(ns, map[string]any{"id": fmt.Sprintf("note-%05d", i), "content": strings.Repeat("legacy note text ", 20),
			"timestamp": "2025-03-01T10:00:00.000Z", "lastUpdated": "2025-03-02T10:00:00.000Z", "tags": []string{"t" + fmt.Sprint(i%9)}})
	}
	for i := range sessions {
		var shots []map[string]any
		for j := range 20 {
			shots = append(shots, map[string]any{"id": fmt.Sprintf("shot-%d-%d", i, j), "timestamp": "2025-03-01T10:00:00.000Z", "aiAnalysis": map[string]any{"summary": strings.Repeat("working on the report ", 5)}})
		}
		ss = append(ss, map[string]any{"id": fmt.Sprintf("session-%05d", i), "name": "work", "startTime": "2025-03-01T09:00:00.000Z",
			"status": "completed", "screenshots": shots})
	}
	write("notes.json", ns)
	write("sessions.json", ss)
	return root
}

// TestKilled_migrateAndImport SIGKILLs kvtool migrate and kvtool import at
// random moments: each time the store must hold either none of the change
// or all of it, check clean, and a new run must then complete it.
func TestKilled_migrateAndImport(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real processes; -short skips it")
	}
	const notes, sessions = 6000, 300
	legacyDir := writeRawLegacy(t, notes, sessions)
	src := filepath.Join(t.TempDir(), "src")
	mustRun(t, "", "--db", src, "migrate", legacyDir)
	export := filepath.Join(t.TempDir(), "export.json")
	mustRun(t, "", "--db", src, "export", "-o", export)
	for _, tc := range []struct{ name, cmd, arg string }{{"migrate", "migrate", legacyDir}, {"import", "import", export}} {
		t.Run(tc.name, func(t *testing.T) { killRounds(t, tc.cmd, tc.arg, notes) })
	}
}

func killRounds(t *testing.T, command, arg string, notes int) {
	exe, _ := os.Executable()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	const rounds = 4
	partial := 0
	for round := range rounds {
		dir := filepath.Join(t.TempDir(), "store")
		mustRun(t, `{"id":"mine","content":"mine"}`, "--db", dir, "put", "notes", "-")
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), kvtoolChildEnv+"="+strings.Join([]string{"--db", dir, command, arg}, "\x1f"))
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _, _ = bufio.NewReader(stderr).WriteTo(discard{}) }()
		time.Sleep(time.Duration(50+rng.IntN(800)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		var c struct {
			Count int `json:"count"`
		}
		oneJSON(t, mustRun(t, "", "--db", dir, "--json", "query", "notes", "--count").stdout, &c)
		switch c.Count {
		case 1:
			partial++ // killed before the swap: nothing of the change
		case notes + 1:
		default:
			t.Fatalf("round %d: %d notes after a killed %s, want 1 or %d", round, c.Count, command, notes+1)
		}
		if r := kvtool(t, "", "--db", dir, "--json", "check"); r.code != exitOK {
			t.Fatalf("round %d: check after the kill: exit %d\n%s%s", round, r.code, r.stdout, r.stderr)
		}
		mustRun(t, "", "--db", dir, command, arg)
		if _, err := os.Stat(filepath.Join(dir, "data.db.stage")); !os.IsNotExist(err) {
			t.Fatalf("round %d: a staged copy survived the next run: %v", round, err)
		}
		oneJSON(t, mustRun(t, "", "--db", dir, "--json", "query", "notes", "--count").stdout, &c)
		if c.Count != notes+1 {
			t.Fatalf("round %d: %d notes after the second run, want %d", round, c.Count, notes+1)
		}
		checkAtEnd(t, dir)
	}
	t.Logf("%s: %d of %d kills landed before the swap", command, partial, rounds)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestMigrate_interrupted: Ctrl-C killed kvtool where it stood (exit 130),
// leaving a new empty store, a staged copy and a spill directory behind,
// though migrate --help promises the store as it was. The signal now
// cancels the command's context: the migration stops, removes the store
// it made, and says it was interrupted.
func TestMigrate_interrupted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	legacyDir := filepath.Join("..", "..", "legacy", "testdata", "eras", "era-g")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := runContext(ctx, []string{"--db", dir, "migrate", legacyDir, "--yes"}, strings.NewReader(""), &out, &errb)
	if code != exitError || !strings.Contains(errb.String(), "interrupted") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		entries, _ := os.ReadDir(dir)
		t.Errorf("an interrupted migration left %v", entries)
	}
}

// TestInterrupt_afterTheWork: an interrupt that a command did not stop on
// (its work was done) is not passed over in silence after main said it
// was stopping: the command says it completed, exit 0; a command that
// serves until interrupted (ui) just ends.
func TestInterrupt_afterTheWork(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	if code := runContext(ctx, []string{"--help"}, strings.NewReader(""), &out, &errb); code != exitOK || !strings.Contains(errb.String(), "completed") {
		t.Errorf("--help: exit %d, stderr %q", code, errb.String())
	}
	dir := newStore(t)
	out.Reset()
	errb.Reset()
	if code := runContext(ctx, []string{"--db", dir, "ui", "--addr", "127.0.0.1:0"}, strings.NewReader(""), &out, &errb); code != exitOK || strings.Contains(errb.String(), "completed") {
		t.Errorf("ui: exit %d, stderr %q", code, errb.String())
	}
}

// TestImport_interruptedLeavesNoStore: an import interrupted (Ctrl-C) in a
// directory with no store exited 1 "interrupted" but left a new empty
// store behind, with a pre-import backup of nothing (round 8, contract8
// #2). As for migrate, a failed import removes the store it created.
func TestImport_interruptedLeavesNoStore(t *testing.T) {
	src := newStore(t)
	file := filepath.Join(t.TempDir(), "export.json")
	mustRun(t, "", "--db", src, "export", "-o", file)
	dir := filepath.Join(t.TempDir(), "store")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	afterImportOpen = cancel
	defer func() { afterImportOpen = nil }()
	var out, errb bytes.Buffer
	code := runContext(ctx, []string{"--db", dir, "import", file, "--yes"}, strings.NewReader(""), &out, &errb)
	if code != exitError || !strings.Contains(errb.String(), "interrupted") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		entries, _ := os.ReadDir(dir)
		t.Errorf("an interrupted import left %v", entries)
	}
}
