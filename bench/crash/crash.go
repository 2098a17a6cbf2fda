package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// Config configures one crash loop.
type Config struct {
	Iterations int
	Seed       uint64
	// Dir is the store directory (created; must be empty or absent).
	Dir string
	// MinDelay and MaxDelay bound how long a child runs before SIGKILL.
	MinDelay, MaxDelay time.Duration
	// Command returns the child process for iteration iter (the same
	// binary, re-executed in child mode).
	Command func(dir string, seed uint64, iter int) *exec.Cmd
	// Log receives progress lines (nil: none).
	Log io.Writer
	// Progress is how often (iterations) a progress line is written.
	Progress int
}

// Result holds the loop's figures.
type Result struct {
	Iterations     int            `json:"iterations"`
	Kills          int            `json:"kills"`
	KilledOpening  int            `json:"killed_while_opening"`
	InFlight       map[string]int `json:"in_flight_at_kill"`         // op kind → kills with such an op unacknowledged
	InFlightDone   int            `json:"in_flight_found_applied"`   // unacknowledged ops found wholly applied
	InFlightAbsent int            `json:"in_flight_found_absent"`    // unacknowledged ops found wholly absent
	AckedOps       int            `json:"acknowledged_ops"`          // verified present
	AckedBackups   int            `json:"acknowledged_backups"`      // backups acknowledged by the child
	Compactions    int            `json:"acknowledged_compactions"`  // compactions acknowledged
	Orphans        int            `json:"blob_orphans_collected"`    // orphan blobs check found and gc removed
	BackupsChecked int            `json:"backups_verified"`          // retained backups re-verified
	BackupDebris   int            `json:"backup_debris_files_final"` // files in backups/ that are not a listed backup, at the end
	StoreDebris    int            `json:"store_debris_files_max"`    // most files seen in the store directory beside data.db and the three directories
	DebrisNames    []string       `json:"store_debris_examples,omitempty"`
	Problems       []string       `json:"problems"`
	Elapsed        time.Duration  `json:"elapsed_ns"`
}

func (r *Result) problem(iter int, format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf("iteration %d: ", iter)+fmt.Sprintf(format, args...))
}

// Summary is the printed report.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "iterations:                %d\n", r.Iterations)
	fmt.Fprintf(&b, "kills (SIGKILL):           %d (%d while opening)\n", r.Kills, r.KilledOpening)
	kinds := make([]string, 0, len(r.InFlight))
	for k := range r.InFlight {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s %d", k, r.InFlight[k]))
	}
	fmt.Fprintf(&b, "ops in flight at kills:    %s\n", strings.Join(parts, ", "))
	fmt.Fprintf(&b, "  found wholly applied:    %d\n", r.InFlightDone)
	fmt.Fprintf(&b, "  found wholly absent:     %d\n", r.InFlightAbsent)
	fmt.Fprintf(&b, "acknowledged ops checked:  %d\n", r.AckedOps)
	fmt.Fprintf(&b, "acknowledged backups:      %d (retained backups re-verified: %d)\n", r.AckedBackups, r.BackupsChecked)
	fmt.Fprintf(&b, "acknowledged compactions:  %d\n", r.Compactions)
	fmt.Fprintf(&b, "blob orphans gc'd:         %d\n", r.Orphans)
	fmt.Fprintf(&b, "backup debris files (end): %d\n", r.BackupDebris)
	fmt.Fprintf(&b, "store debris files (max):  %d %v\n", r.StoreDebris, r.DebrisNames)
	fmt.Fprintf(&b, "problems found:            %d\n", len(r.Problems))
	for i, p := range r.Problems {
		if i == 20 {
			fmt.Fprintf(&b, "  ... %d more\n", len(r.Problems)-20)
			break
		}
		fmt.Fprintf(&b, "  - %s\n", p)
	}
	fmt.Fprintf(&b, "elapsed:                   %v\n", r.Elapsed.Round(time.Millisecond))
	return b.String()
}

// worker models one child worker across iterations.
type worker struct {
	acked   state
	touched map[string]bool
}

// Run runs the loop. It returns an error only when the loop itself could
// not go on (the child cannot start, the store cannot be opened at all);
// what it finds is in Result.Problems.
func Run(cfg Config) (*Result, error) {
	if cfg.Iterations <= 0 {
		cfg.Iterations = 10
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = time.Second
	}
	if cfg.MinDelay <= 0 || cfg.MinDelay > cfg.MaxDelay {
		cfg.MinDelay = cfg.MaxDelay / 20
	}
	if cfg.Progress <= 0 {
		cfg.Progress = 50
	}
	if es, err := os.ReadDir(cfg.Dir); err == nil && len(es) > 0 {
		return nil, fmt.Errorf("%s is not empty: the model starts from an empty store", cfg.Dir)
	}
	start := time.Now()
	res := &Result{InFlight: map[string]int{}, Problems: []string{}}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	workers := make([]*worker, childWorkers)
	for i := range workers {
		workers[i] = &worker{acked: state{}, touched: map[string]bool{}}
	}
	var lastBackup string
	for it := 0; it < cfg.Iterations; it++ {
		delay := cfg.MinDelay + time.Duration(rng.Int64N(int64(cfg.MaxDelay-cfg.MinDelay)+1))
		lines, stderr, exited, err := runOnce(cfg, it, delay)
		if err != nil {
			return res, err
		}
		res.Iterations++
		if !exited {
			res.Kills++
		}
		if stderr != "" && !strings.Contains(stderr, "signal: killed") {
			res.problem(it, "child stderr: %s", firstLine(stderr))
		}
		// Fold the child's lines into the model.
		opened := false
		inflight := map[int]*op{}
		for _, line := range lines {
			switch {
			case line == "O":
				opened = true
			case strings.HasPrefix(line, "I "):
				o := &op{}
				d := json.NewDecoder(strings.NewReader(line[2:]))
				d.UseNumber()
				if err := d.Decode(o); err != nil {
					res.problem(it, "bad intent line %q: %v", line, err)
					continue
				}
				inflight[o.Worker] = o
			case strings.HasPrefix(line, "A "):
				f := strings.Fields(line)
				w, _ := strconv.Atoi(f[1])
				n, _ := strconv.Atoi(f[2])
				o := inflight[w]
				if o == nil || o.N != n {
					res.problem(it, "ack %q without its intent", line)
					continue
				}
				delete(inflight, w)
				if w == maintWorker {
					switch o.Kind {
					case "backup":
						res.AckedBackups++
						if len(f) > 3 {
							lastBackup = f[3]
						}
					case "compact":
						res.Compactions++
						if len(f) > 3 {
							lastBackup = f[3] // the pre-compact backup
						}
					}
					continue
				}
				next, err := workers[w].acked.apply(o)
				if err != nil {
					res.problem(it, "%v", err)
					continue
				}
				workers[w].acked = next
				for _, k := range o.keys() {
					workers[w].touched[k] = true
				}
				res.AckedOps++
			case strings.HasPrefix(line, "E "):
				res.problem(it, "child failed: %s", line)
			default:
				res.problem(it, "unexpected child line %q", line)
			}
		}
		if !opened {
			res.KilledOpening++
		}
		for _, o := range inflight {
			res.InFlight[o.Kind]++
		}
		if err := verify(cfg, it, res, workers, inflight, lastBackup); err != nil {
			return res, err
		}
		if cfg.Log != nil && (it+1)%cfg.Progress == 0 {
			fmt.Fprintf(cfg.Log, "crash: %d/%d iterations, %d kills, %d acknowledged ops, %d problems (%v)\n",
				it+1, cfg.Iterations, res.Kills, res.AckedOps, len(res.Problems), time.Since(start).Round(time.Second))
		}
	}
	res.BackupDebris = backupDebris(cfg.Dir)
	res.Elapsed = time.Since(start)
	return res, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// runOnce starts a child, kills it after delay, and returns the complete
// lines it wrote (a last line without its newline was cut by the kill and
// is dropped), its stderr, and whether it exited by itself.
func runOnce(cfg Config, it int, delay time.Duration) (lines []string, stderr string, exited bool, err error) {
	cmd := cfg.Command(cfg.Dir, cfg.Seed, it)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", false, err
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		return nil, "", false, fmt.Errorf("start child: %w", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	opened := make(chan struct{})
	go func() {
		defer wg.Done()
		r := bufio.NewReaderSize(out, 1<<20)
		for {
			s, err := r.ReadString('\n')
			if err != nil {
				return // EOF: a partial line is dropped
			}
			line := strings.TrimSuffix(s, "\n")
			if line == "O" {
				close(opened)
			}
			lines = append(lines, line)
		}
	}()
	done := make(chan error, 1)
	go func() {
		wg.Wait() // stdout closed: the child is gone or closed it
		done <- nil
	}()
	// Every other child's delay counts from its open, not its start: on a
	// loaded machine (CI under -race) starting and opening can take longer
	// than MaxDelay, and every child was killed before it did anything.
	// The others are still killed at any point, opening included.
	if it%2 == 1 {
		select {
		case <-opened:
		case <-done:
			exited = true
		case <-time.After(time.Minute):
		}
	}
	if !exited {
		select {
		case <-time.After(delay):
			_ = cmd.Process.Signal(syscall.SIGKILL)
		case <-done:
			exited = true
		}
	}
	wg.Wait()
	werr := cmd.Wait()
	if exited && werr != nil {
		errb.WriteString(werr.Error())
	}
	return lines, errb.String(), exited, nil
}

// verify opens the store after a kill and checks it against the model.
func verify(cfg Config, it int, res *Result, workers []*worker, inflight map[int]*op, lastBackup string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := kv.Open(cfg.Dir, childOptions())
	if err != nil {
		res.problem(it, "open after kill: %v", err)
		return fmt.Errorf("iteration %d: the store does not open after a kill: %w", it, err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			res.problem(it, "close: %v", err)
		}
	}()
	// Debris a kill left beside data.db that the open did not clean.
	if es, err := os.ReadDir(cfg.Dir); err == nil {
		var debris []string
		for _, e := range es {
			switch e.Name() {
			case kv.DataFile, kv.SearchDir, kv.BlobsDir, kv.BackupsDir:
			default:
				debris = append(debris, e.Name())
			}
		}
		if len(debris) > res.StoreDebris {
			res.StoreDebris = len(debris)
			if len(debris) > 3 {
				debris = debris[:3]
			}
			res.DebrisNames = debris
		}
	}
	rep, err := db.Check(ctx)
	if err != nil {
		res.problem(it, "check could not run: %v", err)
		return nil
	}
	orphans := 0
	for _, p := range rep.Problems {
		if p.Kind == "blob-orphan" {
			orphans++
			continue
		}
		res.problem(it, "check: %s", p)
	}
	if orphans > 0 {
		gc, err := db.GC(ctx, false)
		if err != nil {
			res.problem(it, "gc: %v", err)
		} else if gc.Deleted != orphans {
			res.problem(it, "check found %d orphan blobs, gc deleted %d", orphans, gc.Deleted)
		}
		res.Orphans += gc.Deleted
		rep, err := db.Check(ctx)
		if err != nil || !rep.OK {
			res.problem(it, "check after gc: %v %+v", err, rep)
		}
	}
	// Every acknowledged op is there; the op in flight is wholly there or
	// wholly absent.
	for w, wk := range workers {
		o := inflight[w]
		keys := map[string]bool{}
		for k := range wk.touched {
			keys[k] = true
		}
		var withOp state
		if o != nil {
			for _, k := range o.keys() {
				keys[k] = true
			}
			withOp, err = wk.acked.apply(o)
			if err != nil {
				res.problem(it, "%v", err)
				withOp = nil
			}
		}
		actual := state{}
		for k := range keys {
			coll, id := splitKey(k)
			doc, _, err := db.Get(ctx, coll, id)
			switch {
			case err == nil:
				actual[k] = doc
			case errors.Is(err, kv.ErrNotFound):
			default:
				res.problem(it, "get %s: %v", k, err)
			}
		}
		diffA := diff(wk.acked, actual, keys)
		switch {
		case diffA == "":
			if o != nil {
				res.InFlightAbsent++
			}
		case withOp != nil && diff(withOp, actual, keys) == "":
			res.InFlightDone++
			wk.acked = withOp
			for _, k := range o.keys() {
				wk.touched[k] = true
			}
		default:
			msg := "acknowledged state differs: " + diffA
			if withOp != nil {
				msg += fmt.Sprintf("; with the unacknowledged op %d (%s) applied: %s", o.N, o.Kind, diff(withOp, actual, keys))
			}
			res.problem(it, "worker %d: %s", w, msg)
			wk.acked = actual.clone() // resynchronise, to find further problems
		}
		for k, doc := range wk.acked {
			if coll, id := splitKey(k); coll == "attachments" {
				if err := readAttachment(db, id, doc); err != nil {
					res.problem(it, "attachment %s: %v", id, err)
				}
			}
		}
	}
	// Backups: each retained one is listed without problem and verifies;
	// the last acknowledged one is retained unless rotation removed it.
	ms, err := db.Backups(ctx)
	if err != nil {
		res.problem(it, "list backups: %v", err)
		return nil
	}
	found, newer := false, 0
	for _, m := range ms {
		if m.Problem != "" {
			res.problem(it, "backup %s listed with a problem: %s", m.Name, m.Problem)
			continue
		}
		if m.Name == lastBackup {
			found = true
		}
		if lastBackup != "" && m.Name > lastBackup {
			newer++
		}
		_, probs, err := db.VerifyBackup(ctx, m.Name)
		res.BackupsChecked++
		if err != nil || len(probs) > 0 {
			res.problem(it, "backup %s does not verify: %v %v", m.Name, err, probs)
		}
	}
	if lastBackup != "" && !found && newer < backupsKept {
		res.problem(it, "acknowledged backup %s is gone (only %d newer backups)", lastBackup, newer)
	}
	return nil
}

// diff describes the first difference between want and got over keys, or
// returns "".
func diff(want, got state, keys map[string]bool) string {
	ks := make([]string, 0, len(keys))
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		w, g := canon(want[k]), canon(got[k])
		if w != g {
			return fmt.Sprintf("%s: want %s, got %s", k, clip(w), clip(g))
		}
	}
	return ""
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

func readAttachment(db *kv.DB, id string, want map[string]any) error {
	r, _, err := db.OpenAttachment(context.Background(), id)
	if err != nil {
		return err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want["hash"] {
		return fmt.Errorf("content hashes to %s, document says %v", got, want["hash"])
	}
	return nil
}

// backupDebris counts files in backups/ that are neither a listed backup's
// data file nor its manifest (temporary files of killed backups, data
// files whose manifest was never written).
func backupDebris(dir string) int {
	db, err := kv.Open(dir, &kv.Options{ReadOnly: true, NoSearch: true})
	if err != nil {
		return -1
	}
	defer db.Close()
	ms, _ := db.Backups(context.Background())
	known := map[string]bool{}
	for _, m := range ms {
		known[m.Name+".db"] = true
		known[m.Name+".json"] = true
	}
	entries, _ := os.ReadDir(filepath.Join(dir, kv.BackupsDir))
	n := 0
	for _, e := range entries {
		if !known[e.Name()] {
			n++
		}
	}
	return n
}
