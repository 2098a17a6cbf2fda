package kv_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// The crash test re-executes this test binary as a child that commits
// multi-document transactions from several goroutines and reports each
// acknowledged commit on stdout; the parent SIGKILLs it at a random moment,
// reopens the store and checks it (docs/DESIGN.md invariant 1).

const (
	crashChildEnv = "CAIRN_CRASH_CHILD"
	crashWorkers  = 4
)

// init turns the test binary into the crash child when the environment
// says so (an init, not TestMain, so that other test files may have theirs).
func init() {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		os.Exit(0)
	}
}

// docsPerTx is how many documents transaction n of a worker writes.
func docsPerTx(n int) int { return n%5 + 1 }

func crashChild(dir string) {
	db, err := kv.Open(dir, nil)
	if err != nil {
		fmt.Println("open error:", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < crashWorkers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			start := 0
			if doc, _, err := db.Get(context.Background(), "topics", fmt.Sprint("counter-", w)); err == nil {
				last, _ := strconv.Atoi(fmt.Sprint(doc["last"]))
				start = last + 1
			}
			for n := start; ; n++ {
				err := db.Update(context.Background(), func(tx *kv.Tx) error {
					for j := 0; j < docsPerTx(n); j++ {
						doc := kv.Document{"id": fmt.Sprintf("w%d-%d-%d", w, n, j), "title": strings.Repeat("x", 200*j), "status": "todo", "tags": []any{fmt.Sprint("t", n%7)}}
						if _, err := tx.Put("tasks", doc); err != nil {
							return err
						}
					}
					if n > 3 { // also delete an old transaction's first document
						if _, err := tx.Delete("tasks", fmt.Sprintf("w%d-%d-0", w, n-3)); err != nil {
							return err
						}
					}
					_, err := tx.Put("topics", kv.Document{"id": fmt.Sprint("counter-", w), "name": "counter", "last": n})
					return err
				})
				if err != nil {
					fmt.Println("update error:", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintf(out, "ok %d %d\n", w, n)
				out.Flush()
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
}

func TestCrash_killDuringTransactions(t *testing.T) {
	iterations := 20
	if v := os.Getenv("CAIRN_CRASH_ITERATIONS"); v != "" {
		iterations, _ = strconv.Atoi(v)
	}
	if testing.Short() {
		iterations = 5
	}
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	acked := make([]int, crashWorkers)
	for w := range acked {
		acked[w] = -1
	}
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	for it := 0; it < iterations; it++ {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		delay := time.Duration(20+rng.IntN(200)) * time.Millisecond
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		for line := range lines {
			var w, n int
			if _, err := fmt.Sscanf(line, "ok %d %d", &w, &n); err != nil {
				t.Fatalf("child said: %s", line)
			}
			if n > acked[w] {
				acked[w] = n
			}
		}
		_ = cmd.Wait()
		verifyCrashStore(t, dir, acked)
	}
	t.Logf("%d kills; acknowledged transactions per worker: %v", iterations, acked)
}

func verifyCrashStore(t *testing.T, dir string, acked []int) {
	t.Helper()
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer db.Close()
	rep, err := db.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		t.Errorf("check after kill: %s", p)
	}
	for w, a := range acked {
		last := -1
		if doc, _, err := db.Get(context.Background(), "topics", fmt.Sprint("counter-", w)); err == nil {
			last, _ = strconv.Atoi(fmt.Sprint(doc["last"]))
		}
		if last < a {
			t.Fatalf("worker %d: transaction %d was acknowledged but the counter says %d", w, a, last)
		}
		// Every transaction up to the counter is wholly there (minus the
		// documents later transactions deleted); none after it is partly there.
		for n := 0; n <= last+1; n++ {
			present := 0
			for j := 0; j < docsPerTx(n); j++ {
				_, _, err := db.Get(context.Background(), "tasks", fmt.Sprintf("w%d-%d-%d", w, n, j))
				if err == nil {
					present++
				}
			}
			deletedFirst := n >= 1 && n+3 <= last
			want := docsPerTx(n)
			if deletedFirst {
				want--
			}
			switch {
			case n <= last && present != want:
				t.Fatalf("worker %d transaction %d: %d of %d documents present", w, n, present, want)
			case n > last && present != 0:
				t.Fatalf("worker %d transaction %d was not committed but %d documents are present", w, n, present)
			}
		}
	}
}
