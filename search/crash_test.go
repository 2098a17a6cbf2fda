package search

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The crash test re-executes the test binary as a child that applies large
// batches in a loop and prints each acknowledged lastSeq; the parent kills it
// with SIGKILL at random moments and checks what Open finds.

const (
	crashEnv   = "CAIRN_SEARCH_CRASH_CHILD" // the child's index directory
	crashBatch = 300                        // changes per Apply in the child
	crashKeys  = 257                        // distinct documents touched
)

// crashChange is the deterministic change with sequence s: an upsert or,
// every 11th, a deletion of one of crashKeys documents in two collections.
func crashChange(s uint64) Change {
	coll := "notes"
	if s%3 == 0 {
		coll = "tasks"
	}
	id := fmt.Sprintf("d%03d/x", s%crashKeys) // ids may hold '/'
	if s%11 == 0 {
		return Change{Collection: coll, ID: id, Rev: s, Deleted: true}
	}
	text := fmt.Sprintf("common w%d seq%d ", s%13, s) + strings.Repeat("filler text about meetings and plans ", 5)
	b := map[string]any{"content": text, "title": text, "tags": []any{fmt.Sprintf("t%d", s%5)}}
	return Change{Collection: coll, ID: id, Rev: s, Body: b}
}

// crashModel is the expected index after changes 1..last: key → rev.
func crashModel(last uint64) map[string]uint64 {
	m := map[string]uint64{}
	for s := uint64(1); s <= last; s++ {
		c := crashChange(s)
		k := c.Collection + "/" + c.ID
		if c.Deleted {
			delete(m, k)
		} else {
			m[k] = s
		}
	}
	return m
}

// crashApply applies changes from+1..to in batches of crashBatch.
func crashApply(ix *Index, from, to uint64, ack func(uint64)) error {
	for s := from + 1; s <= to; {
		end := min(s+crashBatch-1, to)
		cs := make([]Change, 0, end-s+1)
		for i := s; i <= end; i++ {
			cs = append(cs, crashChange(i))
		}
		if err := ix.Apply(cs, end); err != nil {
			return err
		}
		if ack != nil {
			ack(end)
		}
		s = end + 1
	}
	return nil
}

// TestCrashChild is the child process; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestCrash")
	}
	ix, res, err := Open(dir, nil)
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(2)
	}
	fmt.Printf("open %d %v\n", ix.LastApplied(), res.Rebuilt)
	from := ix.LastApplied()
	err = crashApply(ix, from, from+crashBatch*10_000, func(seq uint64) { fmt.Printf("ack %d\n", seq) })
	fmt.Printf("error %v\n", err)
	os.Exit(2)
}

func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "search")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var (
		verified uint64 // LastApplied the parent last verified
		kills    int
		rebuilds int
	)
	for iter := 0; iter < 12; iter++ {
		cmd := exec.Command(exe, "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1<<16)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Kill at a random moment: sometimes during Open, mostly mid-batch.
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait() // "signal: killed"
		kills++

		acked := []uint64{}
		childOpened := false
		for l := range lines {
			f := strings.Fields(l)
			switch {
			case len(f) == 3 && f[0] == "open":
				childOpened = true
				l, _ := strconv.ParseUint(f[1], 10, 64)
				if f[2] == "true" {
					verified = 0
				} else if l != verified {
					t.Fatalf("iteration %d: child opened at %d, parent left %d", iter, l, verified)
				}
			case len(f) == 2 && f[0] == "ack":
				a, _ := strconv.ParseUint(f[1], 10, 64)
				acked = append(acked, a)
			case len(f) > 0 && f[0] == "error":
				t.Fatalf("child: %s", l)
			}
		}

		ix, res, err := Open(dir, nil)
		if err != nil {
			t.Fatalf("iteration %d: Open after kill: %v", iter, err)
		}
		last := ix.LastApplied()
		t.Logf("iteration %d: opened=%v acked=%d (max %v) → LastApplied %d rebuilt=%v %s",
			iter, childOpened, len(acked), lastOr(acked, verified), last, res.Rebuilt, res.Reason)
		if res.Rebuilt {
			rebuilds++
			if len(acked) > 0 {
				t.Errorf("iteration %d: acknowledged index rebuilt after a kill: %s", iter, res.Reason)
			}
			if n, _ := ix.Count(); last != 0 || n != 0 {
				t.Fatalf("rebuilt index not empty: last %d count %d", last, n)
			}
		} else {
			floor := lastOr(acked, verified)
			// Either an acknowledged state or the batch in flight, complete.
			if last != floor && last != floor+crashBatch {
				t.Fatalf("iteration %d: LastApplied %d, want %d or %d", iter, last, floor, floor+crashBatch)
			}
			checkModel(t, ix, last)
		}
		verified = last
		if err := ix.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if kills < 10 {
		t.Fatalf("only %d kills", kills)
	}

	// Catch the survivor up and compare with a fresh index fed from zero.
	target := verified + 3*crashBatch + 17
	ix, res, err := Open(dir, nil)
	if err != nil || res.Rebuilt {
		t.Fatalf("final open: %+v %v", res, err)
	}
	defer ix.Close()
	if err := crashApply(ix, ix.LastApplied(), target, nil); err != nil {
		t.Fatal(err)
	}
	fresh, _, err := Open(filepath.Join(t.TempDir(), "fresh"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := crashApply(fresh, 0, target, nil); err != nil {
		t.Fatal(err)
	}
	checkModel(t, ix, target)
	checkModel(t, fresh, target)
	for _, q := range []string{"common", "w0", "w7 t3", "meetings", "seq1", fmt.Sprintf("seq%d", target)} {
		a := mustSearch(t, ix, q, SearchOptions{Limit: MaxLimit})
		b := mustSearch(t, fresh, q, SearchOptions{Limit: MaxLimit})
		ga, gb := ids(a), ids(b)
		slices.Sort(ga)
		slices.Sort(gb)
		if a.Total != b.Total || !slices.Equal(ga, gb) {
			t.Errorf("query %q: recovered %d hits, fresh %d hits", q, a.Total, b.Total)
		}
	}
	t.Logf("%d kills, %d rebuilds, final LastApplied %d", kills, rebuilds, target)
}

func lastOr(acked []uint64, def uint64) uint64 {
	if len(acked) == 0 {
		return def
	}
	return acked[len(acked)-1]
}

// checkModel fails t unless ix holds exactly the documents of crashModel(last).
func checkModel(t *testing.T, ix *Index, last uint64) {
	t.Helper()
	want := crashModel(last)
	got := walkAll(t, ix)
	if !reflect.DeepEqual(got, want) {
		missing, extra, stale := 0, 0, 0
		for k, r := range want {
			if g, ok := got[k]; !ok {
				missing++
			} else if g != r {
				stale++
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				extra++
			}
		}
		t.Fatalf("index at LastApplied %d: %d missing, %d extra, %d stale documents", last, missing, extra, stale)
	}
	r, err := ix.Search(context.Background(), "common", SearchOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != uint64(len(want)) {
		t.Fatalf("search total %d, want %d", r.Total, len(want))
	}
}
