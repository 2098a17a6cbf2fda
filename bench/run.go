package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/cairnkv/cairn/internal/gen"
)

// Report is everything a run produced.
type Report struct {
	Command  string     `json:"command"`
	Machine  Machine    `json:"machine"`
	Scale    string     `json:"scale"`
	Sessions int        `json:"sessions"`
	Runs     int        `json:"runs"`
	Seed     int64      `json:"seed"`
	Dataset  *Dataset   `json:"dataset"`
	Workload Workload   `json:"workload"`
	Results  []*Result  `json:"results"`
	Peers    PeerStatus `json:"peers"`
	Secs     float64    `json:"duration_secs"`
}

// bench is the state of one Run.
type bench struct {
	cfg  Config
	only *regexp.Regexp
	g    *gen.Generator
	ds   *Dataset
	work string // working directory of this run
	st   string // working copy of the store
	wl   Workload
	rep  *Report
}

// Run runs the harness described by cfg, prints the table on cfg.Stdout
// and, if cfg.Out is set, writes the results there.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	b := &bench{cfg: cfg}
	if cfg.Only != "" {
		if b.only, err = regexp.Compile(cfg.Only); err != nil {
			return nil, fmt.Errorf("bench: --only: %w", err)
		}
	}
	b.rep = &Report{Command: commandLine(cfg), Machine: machine(start), Scale: cfg.Scale, Sessions: cfg.Sessions, Runs: cfg.Runs, Seed: cfg.Seed}
	b.g = gen.New(genConfig(cfg))
	b.wl = newWorkload(cfg)
	b.rep.Workload = b.wl
	if err := os.MkdirAll(cfg.CacheDir, 0o700); err != nil {
		return nil, err
	}
	if b.work, err = os.MkdirTemp(cfg.CacheDir, "work-"); err != nil {
		return nil, err
	}
	defer os.RemoveAll(b.work)
	steps := []struct {
		names []string
		fn    func(context.Context) error
		store bool // reads the dataset's store
	}{
		{[]string{"startup/open+list/cold", "startup/open+list/warm", "startup/list/warm", "startup/open+list/warm-nosearch", "startup/newest50/warm", "memory/rss"}, b.startup, true},
		{[]string{"size/reduction", "size/file-vs-json", "size/db-per-json", "size/db+search-per-json", "attach/dedup-saving"}, b.sizes, true},
		{[]string{"query/complex", "query/complex/fullscan", "query/complex/ratio", "query/month", "query/month/fullscan", "query/month/ratio", "query/tag", "query/tag/fullscan", "query/tag/ratio",
			"query/complex/nocache", "query/month/nocache", "query/tag/nocache"}, b.queries, true},
		{[]string{"search/1word", "search/2words", "search/2words/sessions"}, b.search, true},
		{[]string{"codec/decode", "codec/encode"}, b.codec, true},
		{[]string{"write/patch-enrichment"}, b.patch, true},
		{[]string{"write/commit/1w", "write/commit/8w", "write/commit/1w-nosearch", "write/commit/loaded"}, b.commits, true},
		{[]string{"backup/throughput", "backup/copy", "backup/ratio", "backup/copy-user", "backup/ratio-user", "backup/verify"}, b.backup, true},
		{[]string{"migrate/time", "migrate/peak-rss", "migrate/peak-anon", "migrate/peak-file", "migrate/size-ratio", "migrate/cpu"}, b.migrate, false},
	}
	// Only the migration reads no store (it builds its own from the old
	// app's directory): a run of it alone skips building the dataset's
	// store, which takes most of an hour at 100k.
	needStore := false
	for _, s := range steps {
		if s.store && b.wantAny(s.names) {
			needStore = true
		}
	}
	if needStore {
		if err := b.prepareStore(ctx); err != nil {
			return nil, err
		}
	}
	for _, s := range steps {
		if !b.wantAny(s.names) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := time.Now()
		if err := s.fn(ctx); err != nil {
			// A failed step is reported in the table, not fatal.
			for _, n := range s.names {
				if b.want(n) && b.find(n) == nil {
					b.add(&Result{Name: n, Title: n, Error: err.Error()})
				}
			}
		}
		fmt.Fprintf(cfg.Stderr, "bench: %s done in %v (load %s)\n", strings.Split(s.names[0], "/")[0], time.Since(t).Round(time.Millisecond), loadAvg())
	}

	b.rep.Peers = b.peers(ctx)

	byName := map[string]*Result{}
	for _, r := range b.rep.Results {
		byName[r.Name] = r
	}
	for _, r := range b.rep.Results {
		r.judge(byName)
	}
	b.rep.Machine.LoadAfter = loadAvg()
	b.rep.Secs = time.Since(start).Seconds()
	if err := printTable(cfg.Stdout, b.rep); err != nil {
		return b.rep, err
	}
	if cfg.Out != "" {
		if err := writeOut(cfg.Out, b.rep); err != nil {
			return b.rep, err
		}
	}
	if cfg.Peers == "on" && !b.rep.Peers.Ran {
		return b.rep, fmt.Errorf("bench: --peers on, but the peers did not run: %s", b.rep.Peers.Why)
	}
	return b.rep, nil
}

// prepareStore builds or reuses the dataset's store and copies it to a
// store in the run's scratch directory, which the measurements may change.
func (b *bench) prepareStore(ctx context.Context) error {
	var err error
	if b.ds, err = ensureDataset(ctx, b.cfg, b.g); err != nil {
		return err
	}
	b.rep.Dataset = b.ds
	b.st = filepath.Join(b.work, "store")
	t := time.Now()
	if err := copyStore(b.ds.Store, b.st); err != nil {
		return fmt.Errorf("bench: copying the store: %w", err)
	}
	fmt.Fprintf(b.cfg.Stderr, "bench: working copy in %v; load %s\n", time.Since(t).Round(time.Millisecond), loadAvg())
	return nil
}

func (b *bench) want(name string) bool { return b.only == nil || b.only.MatchString(name) }

func (b *bench) wantAny(names []string) bool {
	for _, n := range names {
		if b.want(n) {
			return true
		}
	}
	return false
}

// add records r (summarized) if it is wanted.
func (b *bench) add(r *Result) {
	if !b.want(r.Name) {
		return
	}
	if len(r.Runs) > 0 {
		r.summarize()
	}
	b.rep.Results = append(b.rep.Results, r)
}

func (b *bench) find(name string) *Result {
	for _, r := range b.rep.Results {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// commandLine is the command that reproduces cfg.
func commandLine(cfg Config) string {
	s := fmt.Sprintf("go run ./bench --scale %s --runs %d", cfg.Scale, cfg.Runs)
	if cfg.Only != "" {
		s += fmt.Sprintf(" --only '%s'", cfg.Only)
	}
	if cfg.Peers != "auto" {
		s += " --peers " + cfg.Peers
	}
	if cfg.Seed != 1 {
		s += fmt.Sprintf(" --seed %d", cfg.Seed)
	}
	if cfg.Out != "" {
		s += " --out " + cfg.Out
	}
	return s
}

// quick reports whether the dataset is so small that per-run loops should
// be short (smoke runs).
func (b *bench) quick() bool { return b.cfg.Sessions < 1000 }

// minDur is how long one run of a fast operation loops.
func (b *bench) minDur() time.Duration {
	if b.quick() {
		return 20 * time.Millisecond
	}
	return 300 * time.Millisecond
}
