package blobstore

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// crashChildEnv switches the test binary into the crash child: it Puts
// random blobs into the directory named by the variable, printing one line
// "<hash> <size>" after each Put returns, until it is killed.
const crashChildEnv = "CAIRN_BLOBSTORE_CRASH_CHILD"

// TestCrash_killDuringPut re-executes the test binary as a child that Puts
// blobs in a loop, SIGKILLs it at random points, and then requires that
// every acknowledged blob exists and verifies, that no file under a final
// name is partial, and that CleanTemp removes the leftovers.
func TestCrash_killDuringPut(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	const rounds = 12
	root := t.TempDir() + "/blobs"
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	acked := map[string]int64{}
	leftovers := 0
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrash_killDuringPut$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+root, "CAIRN_BLOBSTORE_CRASH_SEED="+strconv.FormatUint(rng.Uint64(), 10))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill right after a random number of acknowledgements: the child is
		// then somewhere inside its next Put.
		killAfter := 1 + rng.IntN(40)
		br := bufio.NewReader(out)
		n := 0
		for n < killAfter {
			line, err := br.ReadString('\n')
			if err != nil {
				break // child died on its own; Wait reports why
			}
			recordAck(t, acked, line)
			n++
		}
		// A random pause moves the kill point through the next Put (writing,
		// syncing, renaming); it is not a timing assertion.
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		// Lines completed before the kill are acknowledged too; a last line
		// without its newline is not.
		rest, _ := io.ReadAll(br)
		for _, line := range strings.SplitAfter(string(rest), "\n") {
			if strings.HasSuffix(line, "\n") {
				recordAck(t, acked, line)
			}
		}
		if err := cmd.Wait(); err == nil || n < killAfter {
			t.Fatalf("round %d: child exited by itself after %d acks: %v", round, n, err)
		}

		s, err := Open(root, nil)
		if err != nil {
			t.Fatal(err)
		}
		for h, size := range acked {
			if got, err := s.Stat(h); err != nil || got != size {
				t.Fatalf("round %d: acknowledged blob %s: size %d, %v; want %d", round, h, got, err, size)
			}
		}
		// checkStore verifies every file under a final name: none partial.
		_, strays := checkStore(t, s)
		for rel := range strays {
			if !strings.HasPrefix(rel, tmpDir+"/") {
				t.Fatalf("round %d: unexpected stray %s: %s", round, rel, strays[rel])
			}
		}
		leftovers += len(strays)
	}

	s, err := Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	removed, err := s.CleanTemp(0)
	if err != nil {
		t.Fatal(err)
	}
	blobs, strays := checkStore(t, s)
	if len(strays) != 0 {
		t.Fatalf("after CleanTemp: strays %v", strays)
	}
	for h := range acked {
		if _, ok := blobs[h]; !ok {
			t.Fatalf("acknowledged blob %s missing", h)
		}
	}
	t.Logf("%d rounds, %d acknowledged blobs, %d blob files, %d temp-file sightings after kills, %d removed by CleanTemp",
		rounds, len(acked), len(blobs), leftovers, removed)
}

func recordAck(t *testing.T, acked map[string]int64, line string) {
	t.Helper()
	var h string
	var size int64
	if _, err := fmt.Sscanf(line, "%s %d\n", &h, &size); err != nil || !ValidHash(h) {
		t.Fatalf("bad acknowledgement line %q: %v", line, err)
	}
	acked[h] = size
}

// crashChild is the child's loop. It never returns normally.
func crashChild(root string) {
	seed, _ := strconv.ParseUint(os.Getenv("CAIRN_BLOBSTORE_CRASH_SEED"), 10, 64)
	rng := rand.New(rand.NewPCG(seed, 1))
	s, err := Open(root, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx := context.Background()
	var recent [][]byte
	for {
		var b []byte
		if len(recent) > 0 && rng.IntN(4) == 0 {
			b = recent[rng.IntN(len(recent))] // a duplicate
		} else {
			b = randBytes(rng.Uint64(), rng.IntN(300<<10))
			if len(recent) < 8 {
				recent = append(recent, b)
			} else {
				recent[rng.IntN(len(recent))] = b
			}
		}
		var h string
		var n int64
		if rng.IntN(2) == 0 {
			h, n, err = s.PutBytes(ctx, b)
		} else {
			h, n, err = s.Put(ctx, bytes.NewReader(b))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		// One write per line, so a kill never tears an acknowledgement
		// that the parent would count.
		if _, err := os.Stdout.WriteString(h + " " + strconv.FormatInt(n, 10) + "\n"); err != nil {
			os.Exit(2)
		}
	}
}
