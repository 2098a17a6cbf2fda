package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
)

// childCommand is the hidden first argument that makes the bench binary a
// child of a fresh-process measurement.
const childCommand = "__bench-child"

// ChildResult is what a child prints (one JSON object) on stdout.
type ChildResult struct {
	Mode     string  `json:"mode"`
	OpenMs   float64 `json:"open_ms"`
	WorkMs   float64 `json:"work_ms"` // list, newest-50 query or migration
	TotalMs  float64 `json:"total_ms"`
	Count    int     `json:"count"`
	HWMBytes int64   `json:"vmhwm_bytes"` // peak resident set
	// AnonBytes is the largest anonymous resident memory (RssAnon: heap,
	// stacks; not the store's memory-mapped file) seen by sampling every
	// 50 ms during the work; 0 when not sampled.
	AnonBytes int64 `json:"peak_anon_bytes,omitempty"`
	// FileBytes is the largest file-backed resident memory (RssFile: the
	// store's memory-mapped file and the binary), sampled likewise.
	// HWMBytes counts both, so it rises with how much of the store a
	// process reads, not only with its heap.
	FileBytes int64   `json:"peak_file_bytes,omitempty"`
	RSSBytes  int64   `json:"vmrss_bytes"` // resident set at the end, store open
	CloseMs   float64 `json:"close_ms"`
	Problems  int     `json:"problems,omitempty"`
	// CPUMs is the child's user and system CPU time, measured by the
	// parent (runChild): on a shared machine it says more than the wall
	// time.
	CPUMs float64 `json:"cpu_ms,omitempty"`
}

// RunChild runs one fresh-process measurement:
//
//	openlist --dir STORE [--nosearch]   open, list every session summary
//	newest   --dir STORE [--nosearch]   open, the newest 50 sessions (headers)
//	migrate  --dir STORE --legacy DIR   open a new store, migrate DIR into it
//
// and prints a ChildResult. When the environment variable
// CAIRN_BENCH_CPUPROFILE names a file, the child writes a pprof CPU
// profile of its work (open and close excluded) there, with the mode and
// the process id appended (FILE.migrate.1234), so that each run of a
// measurement keeps its own.
func RunChild(args []string, stdout io.Writer) error {
	if len(args) < 1 {
		return fmt.Errorf("bench child: no mode")
	}
	mode := args[0]
	fs := flag.NewFlagSet(childCommand, flag.ContinueOnError)
	dir := fs.String("dir", "", "store directory")
	noSearch := fs.Bool("nosearch", false, "open with Options.NoSearch")
	legacyDir := fs.String("legacy", "", "legacy app-data directory (migrate)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ctx := context.Background()
	res := ChildResult{Mode: mode}
	start := time.Now()
	db, err := kv.Open(*dir, &kv.Options{NoSearch: *noSearch})
	if err != nil {
		return err
	}
	res.OpenMs = msOf(time.Since(start))
	stopSampling := sampleMem(&res.AnonBytes, &res.FileBytes)
	stopProfile, err := startCPUProfile(mode)
	if err != nil {
		return errors.Join(err, db.Close())
	}
	t := time.Now()
	switch mode {
	case "openlist":
		err = db.List(ctx, "sessions", 0, 0, func(kv.Document) error { res.Count++; return nil })
	case "newest":
		var qr *kv.QueryResult
		qr, err = db.Query(ctx, kv.Query{Collection: "sessions", Sort: "startTime", Desc: true, Limit: 50}, &kv.QueryOptions{Header: true})
		if err == nil {
			res.Count = len(qr.Docs)
		}
	case "migrate":
		var mr *legacy.MigrateResult
		mr, err = legacy.Migrate(ctx, db, *legacyDir, nil, false)
		if err == nil {
			for _, n := range mr.Counts {
				res.Count += n
			}
			res.Problems = len(mr.Problems)
		}
	default:
		err = fmt.Errorf("bench child: unknown mode %q", mode)
	}
	res.WorkMs = msOf(time.Since(t))
	if perr := stopProfile(); err == nil {
		err = perr
	}
	stopSampling()
	res.TotalMs = msOf(time.Since(start))
	res.HWMBytes, res.RSSBytes = memStatus()
	t = time.Now()
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	res.CloseMs = msOf(time.Since(t))
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

// startCPUProfile starts a CPU profile of the child's work when
// CAIRN_BENCH_CPUPROFILE asks for one; stop writes it out.
func startCPUProfile(mode string) (stop func() error, err error) {
	base := os.Getenv("CAIRN_BENCH_CPUPROFILE")
	if base == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(fmt.Sprintf("%s.%s.%d", base, mode, os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("bench child: CAIRN_BENCH_CPUPROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(fmt.Errorf("bench child: CAIRN_BENCH_CPUPROFILE: %w", err), f.Close())
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// sampleMem records the largest RssAnon into *anon and the largest
// RssFile into *file every 50 ms until the returned function is called.
func sampleMem(anon, file *int64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			if n := statusField("RssAnon"); n > *anon {
				*anon = n
			}
			if n := statusField("RssFile"); n > *file {
				*file = n
			}
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return func() { close(done); <-finished }
}

// runChild re-executes the bench binary as a child and decodes its result;
// wall is the process's wall time, exec and exit included.
func runChild(ctx context.Context, exe string, args ...string) (res ChildResult, wall time.Duration, err error) {
	cmd := exec.CommandContext(ctx, exe, append([]string{childCommand}, args...)...)
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	wall = time.Since(start)
	if err != nil {
		return res, wall, fmt.Errorf("child %v: %w: %s", args, err, stderr.String())
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return res, wall, fmt.Errorf("child %v: bad output %q: %w", args, out, err)
	}
	res.CPUMs = msOf(cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime())
	return res, wall, nil
}

// limitedBuffer keeps the first 4 KiB written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4096 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
