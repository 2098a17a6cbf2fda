package kv_test

import (
	"bufio"
	"bytes"
	"context"
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

// Nothing acknowledged is lost across processes (issue 13): a library
// opener in another process that waits for the store while this one
// replaces data.db (compact, restore, a staged change) writes into the
// file that results. The children are this test binary re-executed.

const swapChildEnv = "CAIRN_SWAP_CHILD" // "op\x1fdir\x1farg"

func init() {
	spec := os.Getenv(swapChildEnv)
	if spec == "" {
		return
	}
	f := strings.Split(spec, "\x1f")
	if err := swapChild(f[0], f[1], f[2]); err != nil {
		fmt.Fprintln(os.Stderr, "swap child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// swapChild runs one child: "writer" opens, puts one note (id arg) and
// closes; "writers" does that arg times in a loop, printing "ack ID"
// after each acknowledged put; "compact", "staged" and "restore" run one
// maintenance operation, paused at the rename over data.db while arg
// names a pause directory (see pauseAt); "maintain" alternates compactions
// and staged changes until the file arg exists.
func swapChild(op, dir, arg string) error {
	put := func(id string) error {
		db, err := kv.Open(dir, &kv.Options{Timeout: 2 * time.Minute, NoSearch: true})
		if err != nil {
			return err
		}
		if _, err := db.Put(context.Background(), "notes", kv.Document{"id": id, "content": "written by a waiting process"}); err != nil {
			_ = db.Close()
			return err
		}
		return db.Close()
	}
	switch op {
	case "writer":
		if err := put(arg); err != nil {
			return err
		}
		fmt.Println("ack", arg)
		return nil
	case "writers":
		n, _ := strconv.Atoi(arg)
		for i := range n {
			id := fmt.Sprint("loop-", i)
			if err := put(id); err != nil {
				return err
			}
			fmt.Println("ack", id)
			time.Sleep(time.Duration(i%7) * time.Millisecond) // let the other process in
		}
		return nil
	case "maintain":
		for round := 0; ; round++ {
			if _, err := os.Stat(arg); err == nil {
				return nil
			}
			which := "compact"
			if round%2 == 1 {
				which = "staged"
			}
			if err := maintain(dir, which, fmt.Sprint("staged-", round)); err != nil {
				return err
			}
			fmt.Println("done", which, round)
			time.Sleep(time.Duration(round%7) * time.Millisecond) // let the other process in
		}
	}
	if arg != "" {
		pauseAt(arg)
	}
	return maintain(dir, op, "staged")
}

// maintain opens the store and runs one maintenance operation on it.
func maintain(dir, op, id string) error {
	db, err := kv.Open(dir, &kv.Options{Timeout: 2 * time.Minute, NoSearch: true})
	if err != nil {
		return err
	}
	ctx := context.Background()
	switch op {
	case "compact":
		_, err = db.Compact(ctx)
	case "staged":
		err = db.Staged(ctx, func(s *kv.Stage) error {
			return s.Update(func(tx *kv.Tx) error {
				_, err := tx.Put("notes", kv.Document{"id": id, "content": "staged"})
				return err
			})
		})
	case "restore":
		var ms []kv.Manifest
		if ms, err = db.Backups(ctx); err == nil {
			_, _, err = db.Restore(ctx, ms[len(ms)-1].Name) // the oldest: the first backup
		}
	default:
		err = fmt.Errorf("unknown operation %q", op)
	}
	if err != nil {
		_ = db.Close()
		return err
	}
	return db.Close()
}

// pauseAt makes the next rename over data.db create dir/swapping and wait
// for dir/go.
func pauseAt(dir string) {
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

type swapProc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan error
}

func startSwapChild(t *testing.T, op, dir, arg string) *swapProc {
	t.Helper()
	exe, _ := os.Executable()
	p := &swapProc{cmd: exec.Command(exe, "-test.run=^$"), done: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), swapChildEnv+"="+strings.Join([]string{op, dir, arg}, "\x1f"))
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() }) // still running: the test failed already
	return p
}

func (p *swapProc) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("%s: %v\n%s%s", what, err, p.stdout.String(), p.stderr.String())
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("%s: still running after 3 minutes", what)
	}
}

func (p *swapProc) running() bool {
	select {
	case err := <-p.done:
		p.done <- err
		return false
	default:
		return true
	}
}

// swapRounds: 10 by default, 3 with -short, CAIRN_SWAP_ROUNDS when set.
func swapRounds(t *testing.T) int {
	if s := os.Getenv("CAIRN_SWAP_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("CAIRN_SWAP_ROUNDS=%q", s)
		}
		return n
	}
	if testing.Short() {
		return 3
	}
	return 10
}

// TestSwap_waitingOpener pauses compact, restore and a staged change in a
// child process right before the rename over data.db, starts a second
// child whose kv.Open must wait meanwhile, and requires its acknowledged
// Put to be in the resulting store, beside the maintenance's own change.
func TestSwap_waitingOpener(t *testing.T) {
	rounds := swapRounds(t)
	for _, op := range []string{"compact", "restore", "staged"} {
		t.Run(op, func(t *testing.T) {
			for round := range rounds {
				dir := t.TempDir()
				db, err := kv.Open(dir, &kv.Options{NoSearch: true})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "before", "content": "x"}); err != nil {
					t.Fatal(err)
				}
				if op == "restore" {
					if _, err := db.Backup(context.Background(), kv.ReasonManual); err != nil {
						t.Fatal(err)
					}
					if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "after-backup", "content": "undone by the restore"}); err != nil {
						t.Fatal(err)
					}
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				pause := t.TempDir()
				m := startSwapChild(t, op, dir, pause)
				for !fileExists(filepath.Join(pause, "swapping")) {
					if !m.running() {
						m.wait(t, op)
						t.Fatalf("%s finished without swapping", op)
					}
					time.Sleep(5 * time.Millisecond)
				}
				id := fmt.Sprintf("waiting-%d", round)
				w := startSwapChild(t, "writer", dir, id)
				time.Sleep(200 * time.Millisecond)
				if !w.running() {
					w.wait(t, "writer")
					t.Fatalf("round %d: the writer finished while %s held the store", round, op)
				}
				if err := os.WriteFile(filepath.Join(pause, "go"), nil, 0o600); err != nil {
					t.Fatal(err)
				}
				m.wait(t, op)
				w.wait(t, "writer")
				if !strings.Contains(w.stdout.String(), "ack "+id) {
					t.Fatalf("round %d: no acknowledgement: %s", round, w.stdout.String())
				}
				db = openDir(t, dir)
				want := map[string]bool{id: true, "before": true}
				switch op {
				case "restore":
					want["after-backup"] = false
				case "staged":
					want["staged"] = true
				}
				for k, present := range want {
					if _, _, err := db.Get(context.Background(), "notes", k); (err == nil) != present {
						t.Errorf("round %d after %s: note %s present=%v, want %v", round, op, k, err == nil, present)
					}
				}
				checkClean(t, db)
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestSwap_openerLoop runs a child that opens, puts and closes in a loop
// against a child that compacts and runs staged changes in a loop; every
// acknowledged put and every staged change must be in the final store.
func TestSwap_openerLoop(t *testing.T) {
	writes := 5 * swapRounds(t)
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	stop := filepath.Join(t.TempDir(), "stop")
	m := startSwapChild(t, "maintain", dir, stop)
	w := startSwapChild(t, "writers", dir, fmt.Sprint(writes))
	w.wait(t, "writers")
	if err := os.WriteFile(stop, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	m.wait(t, "maintenance")
	db = openDir(t, dir)
	defer db.Close()
	acked, lost := 0, 0
	for _, out := range []*swapProc{w, m} {
		sc := bufio.NewScanner(strings.NewReader(out.stdout.String()))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			var id string
			switch {
			case len(f) == 2 && f[0] == "ack":
				id = f[1]
			case len(f) == 3 && f[0] == "done" && f[1] == "staged":
				id = "staged-" + f[2]
			default:
				continue
			}
			acked++
			if _, _, err := db.Get(context.Background(), "notes", id); err != nil {
				lost++
				t.Errorf("acknowledged %s is lost: %v", id, err)
			}
		}
	}
	if acked < writes {
		t.Fatalf("only %d acknowledgements", acked)
	}
	t.Logf("%d acknowledged writes and staged changes, %d lost; maintenance rounds: %d", acked, lost, strings.Count(m.stdout.String(), "done"))
	checkClean(t, db)
}

func openDir(t *testing.T, dir string) *kv.DB {
	t.Helper()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
