package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test binary becomes the crash child when this variable holds
// "dir|seed|iteration".
const childEnv = "CAIRN_CRASH_LOOP_CHILD"

func init() {
	if spec := os.Getenv(childEnv); spec != "" {
		f := strings.Split(spec, "|")
		seed, _ := strconv.ParseUint(f[1], 10, 64)
		iter, _ := strconv.Atoi(f[2])
		runChild(f[0], seed, iter)
		os.Exit(0)
	}
}

// TestCrashLoop_short is the CI form of go run ./bench/crash: about ten
// SIGKILLs of a child running the whole mix, each followed by a full check
// against the model. CAIRN_CRASH_ITERATIONS runs more.
func TestCrashLoop_short(t *testing.T) {
	iterations := 10
	if testing.Short() {
		iterations = 5
	}
	if v := os.Getenv("CAIRN_CRASH_ITERATIONS"); v != "" {
		iterations, _ = strconv.Atoi(v)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("CAIRN_CRASH_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (CAIRN_CRASH_SEED repeats the schedule)", seed)
	res, err := Run(Config{
		Iterations: iterations,
		Seed:       seed,
		Dir:        t.TempDir(),
		MinDelay:   5 * time.Millisecond,
		MaxDelay:   400 * time.Millisecond,
		Command: func(dir string, seed uint64, iter int) *exec.Cmd {
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+dir+"|"+strconv.FormatUint(seed, 10)+"|"+strconv.Itoa(iter))
			return cmd
		},
	})
	if res != nil {
		t.Logf("\n%s", res.Summary())
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Problems {
		t.Error(p)
	}
	if res.AckedOps == 0 {
		t.Error("the children acknowledged no operation: the loop tested nothing")
	}
}
