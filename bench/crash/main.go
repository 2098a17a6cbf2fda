// Command crash is Cairn's long-form crash loop (docs/DESIGN.md invariant 1,
// docs/STYLE.md rule 15): it re-executes itself as a child that runs a random
// mix of multi-entity transactions, enrichment patches and read-modify-
// writes on sessions, screenshot appends, attachment adds and deletes,
// backups, compactions and gc, each announced on stdout before it starts
// and acknowledged after it returned; it SIGKILLs the child at a random
// moment, reopens the store, and requires db.Check to be clean (blob
// orphans aside, which gc must then remove), every acknowledged operation
// to be present, the one in flight to be wholly present or wholly absent,
// every retained backup to verify and the last acknowledged one to be
// retained. It prints the figures and exits 1 if it found a problem.
//
//	go run ./bench/crash --iterations 1000 [--seed S] [--dir D]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"
)

func main() {
	var (
		iterations = flag.Int("iterations", 100, "kill/verify cycles")
		seed       = flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (printed; rerun with it to repeat the schedule)")
		dir        = flag.String("dir", "", "store directory (default: a new temporary directory, removed on success)")
		maxDelay   = flag.Duration("max-delay", 800*time.Millisecond, "longest a child runs before it is killed")
		minDelay   = flag.Duration("min-delay", 5*time.Millisecond, "shortest a child runs before it is killed")
		jsonOut    = flag.Bool("json", false, "print the result as JSON")
		childDir   = flag.String("child", "", "internal: run as the child on this store")
		childIter  = flag.Int("child-iter", 0, "internal: the child's iteration")
	)
	flag.CommandLine.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: crash [--iterations N] [--seed S] [--dir D] [--max-delay D] [--json]")
		flag.VisitAll(func(f *flag.Flag) {
			if f.Name != "child" && f.Name != "child-iter" {
				fmt.Fprintf(os.Stderr, "  --%s\t%s (default %q)\n", f.Name, f.Usage, f.DefValue)
			}
		})
	}
	flag.Parse()
	if *childDir != "" {
		runChild(*childDir, *seed, *childIter)
		return
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash:", err)
		os.Exit(1)
	}
	temp := *dir == ""
	if temp {
		*dir, err = os.MkdirTemp("", "cairn-crash-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "crash:", err)
			os.Exit(1)
		}
	}
	fmt.Fprintf(os.Stderr, "crash: %d iterations, seed %d, store %s\n", *iterations, *seed, *dir)
	res, err := Run(Config{
		Iterations: *iterations,
		Seed:       *seed,
		Dir:        *dir,
		MinDelay:   *minDelay,
		MaxDelay:   *maxDelay,
		Log:        os.Stderr,
		Command: func(dir string, seed uint64, iter int) *exec.Cmd {
			return exec.Command(exe, "--child", dir, "--seed", strconv.FormatUint(seed, 10), "--child-iter", strconv.Itoa(iter))
		},
	})
	if *jsonOut {
		printJSON(res)
	} else if res != nil {
		fmt.Print(res.Summary())
		fmt.Printf("seed:                      %d\n", *seed)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash:", err)
		fmt.Fprintln(os.Stderr, "crash: store kept in", *dir)
		os.Exit(1)
	}
	if len(res.Problems) > 0 {
		fmt.Fprintln(os.Stderr, "crash: store kept in", *dir)
		os.Exit(1)
	}
	if temp {
		_ = os.RemoveAll(*dir)
	}
}
