package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMain lets the test binary serve as the harness's child process:
// fresh-process measurements re-execute os.Executable.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == childCommand {
		if err := RunChild(os.Args[2:], os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// allNames are the measurements a full run reports.
var allNames = []string{
	"startup/open+list/warm", "startup/list/warm", "memory/rss", "startup/open+list/cold",
	"startup/open+list/warm-nosearch", "startup/newest50/warm",
	"size/reduction", "size/file-vs-json", "size/db-per-json", "size/db+search-per-json", "attach/dedup-saving",
	"query/complex", "query/complex/fullscan", "query/complex/ratio",
	"query/month", "query/month/fullscan", "query/month/ratio",
	"query/tag", "query/tag/fullscan", "query/tag/ratio",
	"query/complex/nocache", "query/month/nocache", "query/tag/nocache",
	"search/1word", "search/2words", "search/2words/sessions", "codec/decode", "codec/encode",
	"write/patch-enrichment", "write/commit/1w", "write/commit/8w", "write/commit/1w-nosearch", "write/commit/loaded",
	"backup/throughput", "backup/copy", "backup/ratio", "backup/copy-user", "backup/ratio-user", "backup/verify",
	"migrate/time", "migrate/peak-rss", "migrate/peak-anon", "migrate/peak-file", "migrate/size-ratio", "migrate/cpu",
}

// TestRun_smoke runs the whole harness on 50 sessions, once, without
// peers, and checks the shape of the table, the JSON, the benchmark lines
// and the chart. It asserts nothing about timings.
func TestRun_smoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a small store and runs every measurement")
	}
	cache, out := t.TempDir(), t.TempDir()
	var stdout, stderr bytes.Buffer
	cfg := Config{Scale: "tiny", Runs: 1, Peers: "off", CacheDir: cache, Out: out, Stdout: &stdout, Stderr: &stderr}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	}
	if rep.Sessions != 50 || rep.Scale != "tiny" || rep.Machine.Cores < 1 || rep.Machine.GoVersion == "" {
		t.Errorf("report header: %+v", rep)
	}
	byName := map[string]*Result{}
	for _, r := range rep.Results {
		byName[r.Name] = r
		if r.Error != "" {
			t.Errorf("%s: %s", r.Name, r.Error)
			continue
		}
		if len(r.Runs) == 0 || math.IsNaN(r.Median) || r.Min > r.Median || r.Median > r.Max {
			t.Errorf("%s: runs %v median %v min %v max %v", r.Name, r.Runs, r.Median, r.Min, r.Max)
		}
		if len(r.Targets) > 0 && (r.Pass == nil || len(r.Verdict) != len(r.Targets)) {
			t.Errorf("%s: targets %v judged %v %v", r.Name, r.Targets, r.Pass, r.Verdict)
		}
	}
	for _, n := range allNames {
		if byName[n] == nil {
			t.Errorf("no result %s", n)
		}
	}

	// The table: a header, one row per result, the machine and the peers' status.
	table := stdout.String()
	for _, want := range []string{"measurement", "target", "cairn median", "machine:", "Peers: not run (--peers off)"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	for _, n := range allNames {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(n) + `\s`).MatchString(table) {
			t.Errorf("table has no row %s", n)
		}
	}

	// The JSON round-trips to the same results.
	b, err := os.ReadFile(filepath.Join(out, "results-tiny.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Results) != len(rep.Results) || back.Workload.Tag == "" || back.Dataset == nil || back.Dataset.Counts["sessions"] != 50 {
		t.Errorf("results JSON: %d results, workload %+v, dataset %+v", len(back.Results), back.Workload, back.Dataset)
	}

	// Every line of the benchmark file is a header or a benchmark line.
	f, err := os.Open(filepath.Join(out, "bench-tiny.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line := regexp.MustCompile(`^Benchmark[A-Za-z]+/\S+/scale=tiny \t1\t[-0-9.e+]+ \S+$`)
	header := regexp.MustCompile(`^(goos|goarch|pkg|cpu): `)
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		switch {
		case line.MatchString(sc.Text()):
			n++
		case header.MatchString(sc.Text()):
		default:
			t.Errorf("bench-tiny.txt: bad line %q", sc.Text())
		}
	}
	if n < len(allNames) {
		t.Errorf("bench-tiny.txt: %d benchmark lines, want at least %d", n, len(allNames))
	}

	md, err := os.ReadFile(filepath.Join(out, "table-tiny.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(md, []byte("| measurement | target | Cairn median |")) || bytes.Count(md, []byte("\n| `")) != len(rep.Results) {
		t.Errorf("table-tiny.md:\n%s", md)
	}

	svg, err := os.ReadFile(filepath.Join(out, "latency.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("query/complex")) || !bytes.HasSuffix(svg, []byte("</svg>\n")) {
		t.Errorf("latency.svg:\n%s", svg)
	}

	// A second run reuses the dataset and --only selects measurements.
	stdout.Reset()
	cfg.Only, cfg.Out = `^query/tag`, ""
	rep, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Dataset.Reused {
		t.Error("the second run rebuilt the dataset")
	}
	var names []string
	for _, r := range rep.Results {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "query/tag,query/tag/fullscan,query/tag/ratio,query/tag/nocache" {
		t.Errorf("--only ^query/tag ran %v", names)
	}
}

// TestRun_migrateOnly checks that a run of the migration alone builds no
// store dataset (at 100k that takes most of an hour) and reports both
// halves of the migration's resident memory.
func TestRun_migrateOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("generates an old-app directory and migrates it")
	}
	cache := t.TempDir()
	var stdout, stderr bytes.Buffer
	cfg := Config{Scale: "tiny", Runs: 1, Peers: "off", CacheDir: cache, Only: `^migrate/`, Stdout: &stdout, Stderr: &stderr}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	}
	if rep.Dataset != nil {
		t.Errorf("a migration-only run built the dataset %+v", rep.Dataset)
	}
	ents, err := os.ReadDir(cache)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "store-") || strings.HasPrefix(e.Name(), "work-") {
			t.Errorf("cache holds %s after a migration-only run", e.Name())
		}
	}
	byName := map[string]*Result{}
	for _, r := range rep.Results {
		byName[r.Name] = r
	}
	for _, n := range []string{"migrate/time", "migrate/peak-rss", "migrate/peak-anon", "migrate/peak-file"} {
		if r := byName[n]; r == nil || r.Error != "" || r.Median <= 0 {
			t.Errorf("%s: %+v", n, r)
		}
	}
	if len(rep.Results) != 6 {
		t.Errorf("%d results, want the 6 migrate rows", len(rep.Results))
	}

	// Any one of the migration's rows selects the step.
	cfg.Only = `^migrate/peak-file$`
	rep, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	}
	if len(rep.Results) != 1 || rep.Results[0].Name != "migrate/peak-file" || rep.Results[0].Median <= 0 {
		t.Errorf("--only ^migrate/peak-file$ gave %+v", rep.Results)
	}
}

func TestParseScale(t *testing.T) {
	for in, want := range map[string]int{"tiny": 50, "small": 50, "10k": 10000, "100k": 100000, "2500": 2500, "1M": 1000000} {
		if got, err := ParseScale(in); err != nil || got != want {
			t.Errorf("ParseScale(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "k", "-5", "ten"} {
		if _, err := ParseScale(bad); err == nil {
			t.Errorf("ParseScale(%q): no error", bad)
		}
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"--small"})
	if err != nil || cfg.Sessions != 50 || cfg.Runs != 1 || cfg.Peers != "off" {
		t.Errorf("--small: %+v, %v", cfg, err)
	}
	cfg, err = parseFlags([]string{"--scale", "100k", "--runs", "7", "--only", "query"})
	if err != nil || cfg.Sessions != 100000 || cfg.Runs != 7 || cfg.Only != "query" || cfg.Peers != "auto" {
		t.Errorf("flags: %+v, %v", cfg, err)
	}
	if _, err := parseFlags([]string{"--scale", "huge"}); err == nil {
		t.Error("--scale huge: no error")
	}
}

func TestResult_judge(t *testing.T) {
	one := &Result{Name: "a", Runs: []float64{100, 300, 200}}
	one.summarize()
	r := &Result{Name: "b", Runs: []float64{500, 900}, HigherBetter: true,
		Targets: []Target{{Source: "#2", Op: ">=", Value: 4, Of: "a"}, {Source: "plan", Op: "<", Value: 1000}}}
	r.summarize()
	r.judge(map[string]*Result{"a": one, "b": r})
	if one.Median != 200 || r.Median != 700 || r.Pass == nil || *r.Pass || strings.Join(r.Verdict, ",") != "#2 FAIL,plan pass" {
		t.Errorf("median %v/%v verdict %v pass %v", one.Median, r.Median, r.Verdict, r.Pass)
	}
}
