package lint

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// rawBucket is a call that hands out a top-level bucket of a bbolt
// transaction (a variable named tx, stx, or a field .tx) without the page
// gate: tx.Bucket, tx.CreateBucketIfNotExists, tx.DeleteBucket, or
// tx.ForEach with a function that uses the bucket it is given.
var rawBucket = regexp.MustCompile(`\b(?:[a-z]+\.)?[a-z]*tx\.(?:Bucket|CreateBucketIfNotExists|DeleteBucket)\(|\b(?:[a-z]+\.)?[a-z]*tx\.ForEach\(func\(\w+ \[\]byte, [A-Za-z]\w* \*bolt\.Bucket\)`)

// TestPageGate_everyBucketThroughIt: a damaged branch page can lead back
// to itself, and a bbolt cursor then loops until the stack overflows, a
// crash no recover catches. Cairn walks a bucket's pages for such a cycle
// the first time a process asks for it (buckets.GatePages), which works
// only if every path to a bucket asks through buckets.Lookup, Ensure, Drop
// or Each. A line that must not (a file Cairn is writing anew) says why in
// a comment beginning "ungated:".
func TestPageGate_everyBucketThroughIt(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	for _, dir := range []string{"buckets", "secondary", "txn", "snapshot", "kv"} {
		files, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, filepath.Join("buckets", "gate.go")) {
				continue
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for n := 1; sc.Scan(); n++ {
				line := sc.Text()
				if code, _, _ := strings.Cut(line, "//"); rawBucket.MatchString(code) && !strings.Contains(line, "// ungated:") {
					rel, _ := filepath.Rel(root, path)
					problems = append(problems, rel+":"+strconv.Itoa(n)+": "+strings.TrimSpace(line))
				}
			}
			_ = f.Close() // read-only
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range problems {
		t.Errorf("a bucket reached past the page gate (use buckets.Lookup, Ensure, Drop or Each): %s", p)
	}
}

// boltTx is a transaction kv opens on its bbolt handle.
var boltTx = regexp.MustCompile(`\.bolt\.(?:View|Update|Batch)\(`)

// guarded is what makes a transaction's reads recover: kv's guard,
// guardRead or safeCall (for a write), or a searchSource's view.
var guarded = regexp.MustCompile(`\bguard(?:Read)?\(|\bsafeCall\(|\.view\(`)

// TestPageGate_kvTransactionsRecover: the page gate refuses a damaged
// bucket by panicking (buckets.GateError), and a read of damaged pages
// faults; either crashes the process unless the transaction runs under a
// recover. Every transaction kv opens is: within three lines of it, one
// of guard, guardRead or safeCall wraps it or its function. (Found
// missing on the log's sequence, the highlighter's loads and the open's
// look at the newest backup when the gate became lazy.)
func TestPageGate_kvTransactionsRecover(t *testing.T) {
	files, err := filepath.Glob("../../kv/*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		for i, line := range lines {
			if !boltTx.MatchString(line) {
				continue
			}
			window := strings.Join(lines[max(0, i-2):min(len(lines), i+4)], "\n")
			if !guarded.MatchString(window) {
				t.Errorf("%s:%d: a transaction without a recover around it (guard, guardRead or safeCall): %s", filepath.Base(path), i+1, strings.TrimSpace(line))
			}
		}
	}
}
