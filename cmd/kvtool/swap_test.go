package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/fsutil"
	"github.com/cairnkv/cairn/kv"
)

// Nothing acknowledged is lost across processes (docs/KVTOOL.md): a kvtool that
// waits for the store while another kvtool compacts, restores, imports or
// migrates it must write into the store that results, never into the
// data.db inode being replaced. The maintenance process is a real kvtool
// child paused right before it renames the new file over data.db (after
// it closed bbolt, which released bbolt's own lock on the old inode); the
// writer is a second kvtool child started meanwhile.

// swapPauseEnv names a directory: a kvtool child given it creates
// "swapping" there when it is about to rename a new file over data.db, and
// waits until "go" appears.
const swapPauseEnv = "CAIRN_TEST_SWAP_PAUSE"

// pauseAtSwap installs the pause in a kvtool child, if asked for.
func pauseAtSwap() {
	dir := os.Getenv(swapPauseEnv)
	if dir == "" {
		return
	}
	fsutil.SetFault(func(op, path string) error {
		if op != "rename" || filepath.Base(path) != kv.DataFile {
			return nil
		}
		if err := os.WriteFile(filepath.Join(dir, "swapping"), nil, 0o600); err != nil {
			return err
		}
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(dir, "go")); err == nil {
				return nil
			}
		}
		return fmt.Errorf("test pause: nobody said go")
	})
}

// child is a kvtool process started by a test.
type child struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan error
}

// startKvtool starts kvtool args in a child process; pause, if not empty,
// is its swap pause directory.
func startKvtool(t *testing.T, pause, stdin string, args ...string) *child {
	t.Helper()
	exe, _ := os.Executable()
	c := &child{cmd: exec.Command(exe, "-test.run=^$"), done: make(chan error, 1)}
	c.cmd.Env = append(os.Environ(), kvtoolChildEnv+"="+strings.Join(args, "\x1f"))
	if pause != "" {
		c.cmd.Env = append(c.cmd.Env, swapPauseEnv+"="+pause)
	}
	c.cmd.Stdin = strings.NewReader(stdin)
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill() // a child still running failed its test already
	})
	return c
}

// wait waits for the child and fails the test unless it exits 0.
func (c *child) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case err := <-c.done:
		if err != nil {
			t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", what, err, c.stdout.String(), c.stderr.String())
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("%s: still running after 3 minutes\nstderr: %s", what, c.stderr.String())
	}
}

// exited reports whether the child has exited, without waiting.
func (c *child) exited() bool {
	select {
	case err := <-c.done:
		c.done <- err
		return true
	default:
		return false
	}
}

// pausedAtSwap waits until the child paused by dir is about to swap.
func (c *child) pausedAtSwap(t *testing.T, dir, what string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "swapping")); err == nil {
			return
		}
		if c.exited() {
			err := <-c.done
			t.Fatalf("%s exited (%v) before its swap\nstdout: %s\nstderr: %s", what, err, c.stdout.String(), c.stderr.String())
		}
	}
	t.Fatalf("%s never reached its swap", what)
}

// swapRounds is the number of rounds per operation: 10 by default, 2 with
// -short, CAIRN_SWAP_ROUNDS when set.
func swapRounds(t *testing.T) int {
	if s := os.Getenv("CAIRN_SWAP_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("CAIRN_SWAP_ROUNDS=%q", s)
		}
		return n
	}
	if testing.Short() {
		return 2
	}
	return 10
}

// swapFixtures are the inputs of the four maintenance commands.
type swapFixtures struct {
	export, legacy string
	importedIDs    []string
}

func newSwapFixtures(t *testing.T) swapFixtures {
	src := filepath.Join(t.TempDir(), "src")
	var docs []string
	f := swapFixtures{legacy: filepath.Join("..", "..", "legacy", "testdata", "eras", "era-g")}
	for i := range 50 {
		id := fmt.Sprintf("imported-%02d", i)
		f.importedIDs = append(f.importedIDs, id)
		docs = append(docs, fmt.Sprintf(`{"id":%q,"content":"imported note %d"}`, id, i))
	}
	mustRun(t, "["+strings.Join(docs, ",")+"]", "--db", src, "put", "notes", "-")
	f.export = filepath.Join(t.TempDir(), "export.json")
	mustRun(t, "", "--db", src, "export", "-o", f.export)
	return f
}

// TestSwap_waitingWriter runs each of compact, backup restore, import and
// migrate in a kvtool child paused at its swap, starts a kvtool put that
// must wait for the store meanwhile, lets the swap go on, and requires the
// put, once acknowledged, to be in the store that results, together with
// the maintenance command's own change.
func TestSwap_waitingWriter(t *testing.T) {
	fx := newSwapFixtures(t)
	rounds := swapRounds(t)
	for _, op := range []string{"compact", "restore", "import", "migrate"} {
		t.Run(op, func(t *testing.T) {
			for round := range rounds {
				dir := newStore(t)
				var args []string
				switch op {
				case "compact":
					args = []string{"compact"}
				case "restore":
					var m struct{ Name string }
					oneJSON(t, mustRun(t, "", "--db", dir, "--json", "backup", "create").stdout, &m)
					mustRun(t, `{"id":"after-backup","content":"undone by the restore"}`, "--db", dir, "put", "notes", "-")
					args = []string{"backup", "restore", m.Name, "--yes"}
				case "import":
					args = []string{"import", fx.export, "--yes"}
				case "migrate":
					args = []string{"migrate", fx.legacy, "--yes"}
				}
				pause := t.TempDir()
				m := startKvtool(t, pause, "", append([]string{"--db", dir}, args...)...)
				m.pausedAtSwap(t, pause, op)
				id := fmt.Sprintf("during-%s-%d", op, round)
				w := startKvtool(t, "", fmt.Sprintf(`{"id":%q,"content":"written while data.db was replaced"}`, id),
					"--db", dir, "--json", "--timeout", "2m", "put", "notes", "-")
				time.Sleep(200 * time.Millisecond)
				if w.exited() {
					<-w.done
					t.Fatalf("round %d: the writer finished while %s held the store: stdout %s stderr %s", round, op, w.stdout.String(), w.stderr.String())
				}
				if err := os.WriteFile(filepath.Join(pause, "go"), nil, 0o600); err != nil {
					t.Fatal(err)
				}
				m.wait(t, op)
				w.wait(t, "the waiting put")
				if !strings.Contains(w.stdout.String(), `"rev"`) {
					t.Fatalf("round %d: the put acknowledged nothing: %s", round, w.stdout.String())
				}
				if r := kvtool(t, "", "--db", dir, "get", "notes", id); r.code != exitOK {
					t.Fatalf("round %d: the put acknowledged while %s swapped data.db is lost: %s", round, op, r.stderr)
				}
				switch op {
				case "restore":
					if r := kvtool(t, "", "--db", dir, "get", "notes", "after-backup"); r.code != exitError {
						t.Fatalf("round %d: the restore did not take effect (exit %d)", round, r.code)
					}
				case "import":
					mustRun(t, "", "--db", dir, "get", "notes", fx.importedIDs[len(fx.importedIDs)-1])
				case "migrate":
					var c struct{ Count int }
					oneJSON(t, mustRun(t, "", "--db", dir, "--json", "query", "sessions", "--count").stdout, &c)
					if c.Count < 2 {
						t.Fatalf("round %d: the migration did not take effect: %d sessions", round, c.Count)
					}
				}
			}
		})
	}
}

// TestSwap_queuedMaintenance queues a second maintenance command behind a
// first one paused at its swap: the second must see the state the first
// produced (import then compact; restore then import).
func TestSwap_queuedMaintenance(t *testing.T) {
	fx := newSwapFixtures(t)
	for _, tc := range []struct{ first, second string }{{"import", "compact"}, {"restore", "import"}} {
		t.Run(tc.first+"-then-"+tc.second, func(t *testing.T) {
			dir := newStore(t)
			cmdArgs := func(op string) []string {
				switch op {
				case "import":
					return []string{"import", fx.export, "--yes"}
				case "compact":
					return []string{"compact"}
				}
				var m struct{ Name string }
				oneJSON(t, mustRun(t, "", "--db", dir, "--json", "backup", "create").stdout, &m)
				mustRun(t, `{"id":"after-backup","content":"undone by the restore"}`, "--db", dir, "put", "notes", "-")
				return []string{"backup", "restore", m.Name, "--yes"}
			}
			pause := t.TempDir()
			first := startKvtool(t, pause, "", append([]string{"--db", dir}, cmdArgs(tc.first)...)...)
			first.pausedAtSwap(t, pause, tc.first)
			second := startKvtool(t, "", "", append([]string{"--db", dir, "--timeout", "2m"}, cmdArgs(tc.second)...)...)
			time.Sleep(200 * time.Millisecond)
			if second.exited() {
				<-second.done
				t.Fatalf("%s ran while %s held the store: %s", tc.second, tc.first, second.stderr.String())
			}
			if err := os.WriteFile(filepath.Join(pause, "go"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			first.wait(t, tc.first)
			second.wait(t, tc.second)
			for _, id := range fx.importedIDs {
				mustRun(t, "", "--db", dir, "get", "notes", id)
			}
			if tc.first == "restore" {
				if r := kvtool(t, "", "--db", dir, "get", "notes", "after-backup"); r.code != exitError {
					t.Fatalf("the restore was undone by the queued import (exit %d)", r.code)
				}
			}
		})
	}
}
