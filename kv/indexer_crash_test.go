package kv_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// The search crash test kills a child that commits with search on (the
// default), where the indexer applies coalesced batches that Bleve
// persists in the background and trims the change log as it goes. After
// each kill the reopened store must catch its index up from the change
// log, without a rebuild, and find every acknowledged note.

const searchCrashEnv = "CAIRN_SEARCH_CRASH_CHILD"

func init() {
	if dir := os.Getenv(searchCrashEnv); dir != "" {
		searchCrashChild(dir)
		os.Exit(0)
	}
}

// searchCrashOptions keep almost no change log, so that the trim runs
// often and would drop entries the index had not persisted, if it could.
func searchCrashOptions() *kv.Options {
	return &kv.Options{ChangeLogRetention: time.Nanosecond}
}

func searchCrashWord(n int) string { return fmt.Sprintf("zebu%dq", n) }

func searchCrashChild(dir string) {
	kv.SetTrimEvery(20 * time.Millisecond)
	db, err := kv.Open(dir, searchCrashOptions())
	if err != nil {
		fmt.Println("open error:", err)
		os.Exit(1)
	}
	start := 0
	if doc, _, err := db.Get(context.Background(), "topics", "counter"); err == nil {
		last, _ := strconv.Atoi(fmt.Sprint(doc["last"]))
		start = last + 1
	}
	out := bufio.NewWriter(os.Stdout)
	for n := start; ; n++ {
		err := db.Update(context.Background(), func(tx *kv.Tx) error {
			if _, err := tx.Put("notes", kv.Document{"id": fmt.Sprint("n", n), "title": "note", "content": "about " + searchCrashWord(n)}); err != nil {
				return err
			}
			if n%3 == 0 && n > 0 {
				if _, err := tx.Delete("notes", fmt.Sprint("n", n-1)); err != nil {
					return err
				}
			}
			_, err := tx.Put("topics", kv.Document{"id": "counter", "name": "counter", "last": n})
			return err
		})
		if err != nil {
			fmt.Println("update error:", err)
			os.Exit(1)
		}
		fmt.Fprintf(out, "ok %d\n", n)
		out.Flush()
	}
}

func TestSearchCrash_catchUpAfterKill(t *testing.T) {
	iterations := 8
	if testing.Short() {
		iterations = 3
	}
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	acked := -1
	rng := rand.New(rand.NewPCG(2, uint64(time.Now().UnixNano())))
	for it := 0; it < iterations; it++ {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), searchCrashEnv+"="+dir)
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
		// Kill once the child has committed for a while (its first
		// commits open the index), at a random moment.
		before := acked
		deadline := time.After(10 * time.Second)
	wait:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatal("child exited before it was killed")
				}
				var n int
				if _, err := fmt.Sscanf(line, "ok %d", &n); err != nil {
					t.Fatalf("child said: %s", line)
				}
				acked = n
				if acked-before >= 20 {
					break wait
				}
			case <-deadline:
				t.Fatal("child committed nothing within 10s")
			}
		}
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		for line := range lines {
			var n int
			if _, err := fmt.Sscanf(line, "ok %d", &n); err != nil {
				t.Fatalf("child said: %s", line)
			}
			acked = n
		}
		_ = cmd.Wait()
		verifySearchCrash(t, dir, acked, it > 0)
	}
	t.Logf("%d kills; %d notes acknowledged", iterations, acked+1)
}

func verifySearchCrash(t *testing.T, dir string, acked int, wantNoRebuild bool) {
	t.Helper()
	db, err := kv.Open(dir, searchCrashOptions())
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer db.Close()
	rebuilt, applied, durable, err := kv.SearchState(db)
	if err != nil {
		t.Fatal(err)
	}
	// The parent's previous reopen closed the index durably, so the
	// child's kill can only have lost batches that catch-up re-applies.
	if wantNoRebuild && rebuilt != "" {
		t.Errorf("index rebuilt after kill (%s): catch-up should have sufficed", rebuilt)
	}
	if durable > applied {
		t.Errorf("DurableApplied %d > LastApplied %d", durable, applied)
	}
	// A commit may have landed after the last acknowledgement: the store's
	// counter says what is there.
	last := -1
	if doc, _, err := db.Get(context.Background(), "topics", "counter"); err == nil {
		last, _ = strconv.Atoi(fmt.Sprint(doc["last"]))
	}
	if last < acked {
		t.Fatalf("note %d was acknowledged but the counter says %d", acked, last)
	}
	for _, n := range []int{last, last - 1, last - 2} {
		if n < 0 {
			continue
		}
		res, err := db.Search(context.Background(), searchCrashWord(n), kv.SearchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		deleted := (n+1)%3 == 0 && n+1 <= last
		if got := len(res.Hits); deleted && got != 0 || !deleted && got != 1 {
			t.Errorf("note %d (deleted %v): %d hits for %q", n, deleted, got, searchCrashWord(n))
		}
	}
	rep, err := db.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		t.Errorf("check after kill: %s", p)
	}
}
