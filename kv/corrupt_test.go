package kv_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/kv"
	bolt "go.etcd.io/bbolt"
)

// Corruption tests (docs/DESIGN.md invariant 4): random byte flips and
// truncations of a real data.db, flips inside stored values, damaged blob
// files, backups and manifests, and a damaged search index. Nothing may
// panic or crash; a flip inside a checksummed value must be detected every
// time; a store that checks clean must return exactly the data written.
//
// Opening a damaged bbolt file can fault (SIGBUS on a truncated mmap) or
// panic in a goroutine the test cannot recover, so the attempts run in
// child processes (this test binary re-executed), many attempts a child;
// a child that dies is a finding for the attempt it was running.

const corruptChildEnv = "CAIRN_CORRUPT_CHILD"

// attemptLimit is how long one corruption attempt may run before it counts
// as a hang.
const attemptLimit = 10 * time.Second

func init() {
	if spec := os.Getenv(corruptChildEnv); spec != "" {
		corruptChild(spec)
		os.Exit(0)
	}
}

type corruptAttempt struct {
	Kind string `json:"kind"` // flip, value, trunc
	Off  int64  `json:"off"`
	Xor  byte   `json:"xor"`
	Key  string `json:"key,omitempty"` // value flips: the collection/id whose value holds Off
}

type corruptSpec struct {
	Mode     string            `json:"mode"`     // "" (a damaged data.db) or "backup" (a damaged backup of the store in Dir)
	Backup   string            `json:"backup"`   // backup mode: the backup's name
	Base     string            `json:"base"`     // the intact data.db (or backup data file)
	Dir      string            `json:"dir"`      // a scratch store directory
	Want     map[string]string `json:"want"`     // collection/id → canonical JSON
	Attempts []corruptAttempt  `json:"attempts"` // from index Start on
	Start    int               `json:"start"`
}

type corruptOutcome struct {
	I        int      `json:"i"`
	OpenErr  string   `json:"open_err,omitempty"`
	CheckErr string   `json:"check_err,omitempty"`
	CheckOK  bool     `json:"check_ok"`
	Problems []string `json:"problems,omitempty"` // kind collection/id
	Details  []string `json:"details,omitempty"`
	Corrupt  []string `json:"corrupt,omitempty"`  // keys Get refused with ErrCorrupt
	Wrong    []string `json:"wrong,omitempty"`    // keys Get returned different data for, without error
	GetErrs  []string `json:"get_errs,omitempty"` // other Get errors
	Panic    string   `json:"panic,omitempty"`
	// Backup mode.
	WriteErr      string `json:"write_err,omitempty"` // writes after the reads (a value flip: deleting the damaged document)
	RepairedOK    bool   `json:"repaired_ok"`         // a value flip: check clean once the damaged document was deleted
	VerifyFound   bool   `json:"verify_found"`        // VerifyBackup reported a problem or an error
	RestoreErr    string `json:"restore_err"`         // "" if Restore went ahead
	RestoreRefuse bool   `json:"restore_refuse"`      // the error wraps ErrBackupInvalid
	RestoreErrLen int    `json:"restore_err_len"`
}

// corruptChild runs the attempts of the spec file, one line of outcome each
// on stdout ("S i" before, then the JSON outcome).
func corruptChild(specPath string) {
	data, err := os.ReadFile(specPath)
	if err != nil {
		fmt.Println("E", err)
		os.Exit(1)
	}
	var spec corruptSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		fmt.Println("E", err)
		os.Exit(1)
	}
	base, err := os.ReadFile(spec.Base)
	if err != nil {
		fmt.Println("E", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := spec.Start; i < len(spec.Attempts); i++ {
		fmt.Fprintf(out, "S %d\n", i)
		out.Flush()
		o := runCorruptAttempt(&spec, base, spec.Attempts[i])
		o.I = i
		b, _ := json.Marshal(o)
		fmt.Fprintf(out, "R %s\n", b)
		out.Flush()
	}
}

func runCorruptAttempt(spec *corruptSpec, base []byte, a corruptAttempt) (o corruptOutcome) {
	data := append([]byte(nil), base...)
	switch a.Kind {
	case "trunc":
		data = data[:a.Off]
	default:
		data[a.Off] ^= a.Xor
	}
	if spec.Mode == "backup" {
		return runBackupAttempt(spec, data)
	}
	_ = os.RemoveAll(spec.Dir)
	_ = os.MkdirAll(spec.Dir, 0o700)
	if p := os.Getenv("CAIRN_CORRUPT_SAVE"); p != "" { // keep the damaged file to study (with CAIRN_CORRUPT_ONLY)
		_ = os.WriteFile(p, data, 0o600)
	}
	if err := os.WriteFile(filepath.Join(spec.Dir, kv.DataFile), data, 0o600); err != nil {
		o.OpenErr = "setup: " + err.Error()
		return o
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		debug.SetPanicOnFault(true) // a fault on the mmap becomes a panic we report
		defer func() {
			if p := recover(); p != nil {
				o.Panic = fmt.Sprint(p) + " at " + panicSite(debug.Stack())
			}
		}()
		db, err := kv.Open(spec.Dir, &kv.Options{NoSearch: true, Timeout: time.Second})
		if err != nil {
			o.OpenErr = err.Error()
			return
		}
		defer db.Close()
		rep, err := db.Check(context.Background())
		if err != nil {
			o.CheckErr = err.Error()
		} else {
			o.CheckOK = rep.OK
			for _, p := range rep.Problems {
				if len(o.Problems) >= 1000 {
					break
				}
				o.Problems = append(o.Problems, p.Kind+" "+p.Collection+"/"+p.ID)
				if len(o.Details) < 3 {
					o.Details = append(o.Details, p.String())
				}
			}
		}
		for k, want := range spec.Want {
			coll, id, _ := strings.Cut(k, "/")
			doc, _, err := db.Get(context.Background(), coll, id)
			switch {
			case err == nil:
				b, _ := json.Marshal(doc)
				if canonJSON(b) != want {
					o.Wrong = append(o.Wrong, k)
				}
			case errors.Is(err, kv.ErrCorrupt):
				o.Corrupt = append(o.Corrupt, k)
			default:
				o.GetErrs = append(o.GetErrs, k+": "+err.Error())
			}
		}
		// Writes: a new document, and the delete of a damaged one (a value
		// flip), which must leave the store clean (issue 14); on other
		// damage they may fail, but never crash.
		var werrs []error
		if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "probe-write", "content": "x"}); err != nil {
			werrs = append(werrs, err)
		}
		if a.Kind == "value" {
			coll, id, _ := strings.Cut(a.Key, "/")
			if n, err := db.Delete(context.Background(), coll, id); err != nil || n != 1 {
				werrs = append(werrs, fmt.Errorf("delete %s: %d, %v", a.Key, n, err))
			}
			rep, err := db.Check(context.Background())
			o.RepairedOK = err == nil && rep.OK
			if err == nil && !rep.OK && len(rep.Problems) > 0 {
				werrs = append(werrs, fmt.Errorf("check after the delete: %s", rep.Problems[0]))
			}
		}
		if err := errors.Join(werrs...); err != nil {
			o.WriteErr = err.Error()
		}
	}()
	<-done
	return o
}

// crashSite shortens a fatal error's output: the error and the frames of
// the goroutine that faulted.
func crashSite(stderr string) string {
	head, rest, _ := strings.Cut(stderr, "\n\n")
	head = strings.ReplaceAll(strings.TrimSpace(head), "\n", " ")
	if _, g, ok := strings.Cut(rest, "goroutine "); ok {
		if _, frames, ok := strings.Cut(g, "\n"); ok {
			if i := strings.Index(frames, "\n\n"); i > 0 {
				frames = frames[:i]
			}
			return head + " at " + panicSite([]byte(frames))
		}
	}
	return head
}

// hangSite returns the stacks of the goroutines a hung child was running
// in Cairn or bbolt code when SIGQUIT stopped it.
func hangSite(stderr string) string {
	var out []string
	for _, g := range strings.Split(stderr, "\n\n") {
		if strings.HasPrefix(g, "goroutine ") && (strings.Contains(g, "cairnkv/cairn/") || strings.Contains(g, "bbolt")) && !strings.Contains(g, "runCorruptChildren") {
			head, _, _ := strings.Cut(g, "\n")
			out = append(out, head+" "+panicSite([]byte(g)))
		}
	}
	return strings.Join(out, "; ")
}

// panicSite returns the innermost frames of a panic's stack that are not
// the runtime's or this test's, as "func file:line" joined with " < ".
func panicSite(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	var out []string
	for i := 0; i+1 < len(lines) && len(out) < 12; i++ {
		fn := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(lines[i+1], "\t") || strings.HasPrefix(fn, "runtime") || strings.HasPrefix(fn, "panic(") || strings.Contains(fn, "debug.Stack") || strings.Contains(fn, "runCorruptAttempt") {
			continue
		}
		loc := strings.TrimSpace(lines[i+1])
		if j := strings.LastIndex(loc, " +0x"); j > 0 {
			loc = loc[:j]
		}
		if j := strings.Index(fn, "("); j > 0 {
			fn = fn[:j]
		}
		out = append(out, fn+" "+filepath.Base(filepath.Dir(loc))+"/"+filepath.Base(loc))
		i++
	}
	return strings.Join(out, " < ")
}

// runBackupAttempt writes the damaged backup data file in place, then
// verifies it and tries to restore it.
func runBackupAttempt(spec *corruptSpec, data []byte) (o corruptOutcome) {
	path := filepath.Join(spec.Dir, kv.BackupsDir, spec.Backup+".db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		o.OpenErr = "setup: " + err.Error()
		return o
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		debug.SetPanicOnFault(true)
		defer func() {
			if p := recover(); p != nil {
				o.Panic = fmt.Sprint(p) + " at " + panicSite(debug.Stack())
			}
		}()
		db, err := kv.Open(spec.Dir, &kv.Options{NoSearch: true, Timeout: 5 * time.Second, BackupPolicy: kv.BackupPolicy{KeepLast: 1000}})
		if err != nil {
			o.OpenErr = err.Error()
			return
		}
		defer db.Close()
		_, probs, err := db.VerifyBackup(context.Background(), spec.Backup)
		o.VerifyFound = err != nil || len(probs) > 0
		_, pre, err := db.Restore(context.Background(), spec.Backup)
		if err != nil {
			o.RestoreErr = err.Error()
			o.RestoreErrLen = len(o.RestoreErr)
			if len(o.RestoreErr) > 300 {
				o.RestoreErr = o.RestoreErr[:300] + "..."
			}
			o.RestoreRefuse = errors.Is(err, kv.ErrBackupInvalid)
		}
		if pre != "" { // keep the directory as it was for the next attempt
			_ = os.Remove(filepath.Join(spec.Dir, kv.BackupsDir, pre+".db"))
			_ = os.Remove(filepath.Join(spec.Dir, kv.BackupsDir, pre+".json"))
		}
	}()
	<-done
	return o
}

// randBytes fills b from rng (the corpus is made from the test's seed).
func randBytes(rng *mrand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

func canonJSON(b []byte) string {
	var x any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&x); err != nil {
		return "<" + err.Error() + ">"
	}
	out, _ := json.Marshal(x)
	return string(out)
}

// buildCorpusStore writes a store with documents in several collections
// (random, incompressible text so every value is unique in the file) and
// returns the path of a compact copy of it (a backup: only live pages),
// the documents by key, and the file ranges of each primary value.
func buildCorpusStore(t *testing.T, n int, rng *mrand.Rand) (base string, want map[string]string, values map[string][2]int64) {
	t.Helper()
	dir := t.TempDir()
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	db, err := kv.Open(dir, &kv.Options{NoSearch: true, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]string{}
	colls := []string{"notes", "tasks", "sessions", "topics", "contacts"}
	err = db.Update(context.Background(), func(tx *kv.Tx) error {
		for i := 0; i < n; i++ {
			coll := colls[i%len(colls)]
			raw := make([]byte, 20+i%7*40)
			randBytes(rng, raw)
			doc := kv.Document{"id": fmt.Sprintf("%s-%d", coll, i), "text": hex.EncodeToString(raw), "n": int64(i), "tags": []any{"a", fmt.Sprint(i % 3)}, "status": "todo"}
			if i%11 == 0 {
				big := make([]byte, 3000)
				randBytes(rng, big)
				doc["blob"] = hex.EncodeToString(big) // an overflow page
			}
			if _, err := tx.Put(coll, doc); err != nil {
				return err
			}
			b, _ := json.Marshal(doc)
			want[coll+"/"+doc["id"].(string)] = canonJSON(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := db.Backup(t.Context(), kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Copied once more by bbolt's Compact into a fresh file, one key a
	// transaction: bbolt places the pages of the buckets a commit changed
	// in map order (and the store's map-based freelist too), differently
	// on every run, and the same seed must make the same file.
	base = filepath.Join(dir, "corpus.db")
	src, err := bolt.Open(filepath.Join(dir, kv.BackupsDir, m.Name+".db"), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	dst, err := bolt.Open(base, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := bolt.Compact(dst, src, 1); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(dst.Close(), src.Close()); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	values = map[string][2]int64{}
	bdb, err := bolt.Open(base, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	_ = bdb.View(func(tx *bolt.Tx) error {
		for _, coll := range colls {
			b := tx.Bucket(buckets.PrimaryBucket(coll))
			if b == nil {
				t.Fatalf("no primary bucket for %s", coll)
			}
			_ = b.ForEach(func(k, v []byte) error {
				i := bytes.Index(file, v)
				if i >= 0 && bytes.LastIndex(file, v) == i {
					values[coll+"/"+string(k)] = [2]int64{int64(i), int64(i + len(v))}
				}
				return nil
			})
		}
		return nil
	})
	if len(values) < n*9/10 {
		t.Fatalf("located only %d of %d values in the file", len(values), n)
	}
	return base, want, values
}

// runCorruptChildren runs every attempt in children, restarting after a
// child that died, and returns the outcomes and the attempts that killed
// their child.
func runCorruptChildren(t *testing.T, spec corruptSpec) (outs []corruptOutcome, died map[int]string) {
	t.Helper()
	exe, _ := os.Executable()
	specPath := filepath.Join(t.TempDir(), "spec.json")
	died = map[int]string{}
	for spec.Start < len(spec.Attempts) {
		b, _ := json.Marshal(spec)
		if err := os.WriteFile(specPath, b, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), corruptChildEnv+"="+specPath)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		current := -1
		// Lines are read whole, however long (an outcome lists every
		// problem a check found): a bufio.Scanner would stop at its
		// buffer's size.
		rd := bufio.NewReader(stdout)
		// A watchdog: an attempt that runs past the limit is killed and
		// reported as a hang.
		var hung atomic.Bool
		watch := time.AfterFunc(attemptLimit, func() {
			hung.Store(true)
			// SIGQUIT first: the child prints every goroutine's stack,
			// which says where it hung.
			_ = cmd.Process.Signal(syscall.SIGQUIT)
			time.AfterFunc(2*time.Second, func() { _ = cmd.Process.Kill() })
		})
		var rerr error
		for {
			raw, err := rd.ReadBytes('\n')
			if err != nil {
				if err != io.EOF {
					rerr = err
				}
				break
			}
			watch.Reset(attemptLimit)
			line := strings.TrimSuffix(string(raw), "\n")
			switch {
			case strings.HasPrefix(line, "S "):
				current, _ = strconv.Atoi(line[2:])
			case strings.HasPrefix(line, "R "):
				var o corruptOutcome
				if err := json.Unmarshal([]byte(line[2:]), &o); err != nil {
					t.Fatalf("bad child line %q: %v", line, err)
				}
				outs = append(outs, o)
				current = -1
			default:
				t.Fatalf("child said: %s", line)
			}
		}
		if rerr != nil {
			_ = cmd.Process.Kill() // it may be blocked writing what we no longer read
			t.Errorf("reading the corruption child: %v", rerr)
		}
		werr := cmd.Wait()
		watch.Stop()
		if hung.Load() && current >= 0 {
			died[current] = fmt.Sprintf("hung: no result after %v: %s", attemptLimit, hangSite(errb.String()))
			spec.Start = current + 1
			continue
		}
		if current < 0 {
			if werr != nil {
				t.Fatalf("corruption child failed outside an attempt: %v\n%s", werr, errb.String())
			}
			break
		}
		msg := crashSite(errb.String())
		died[current] = fmt.Sprintf("%v: %s", werr, strings.TrimSpace(msg))
		spec.Start = current + 1
	}
	return outs, died
}

var corruptSeedFlag = flag.Uint64("corrupt.seed", 0, "seed of the corruption tests' random damages (default: $CAIRN_CORRUPT_SEED, else fixed; random in a long run)")

// corruptDamages returns how many random damages a corruption test makes:
// $CAIRN_CORRUPT_DAMAGES for a long run, else def (less with -short).
func corruptDamages(t *testing.T, def int) int {
	t.Helper()
	if v := os.Getenv("CAIRN_CORRUPT_DAMAGES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("CAIRN_CORRUPT_DAMAGES=%q: want a positive number", v)
		}
		return n
	}
	if testing.Short() {
		return max(1, def/3)
	}
	return def
}

// corruptRand returns the random source of one corruption test and logs
// its seed. The seed is -corrupt.seed, else $CAIRN_CORRUPT_SEED, else
// fixed (the default run is the same every time), or, in a long run
// ($CAIRN_CORRUPT_DAMAGES), drawn from the clock. The same seed makes the
// same store and the same damages.
func corruptRand(t *testing.T) *mrand.Rand {
	t.Helper()
	seed := *corruptSeedFlag
	if v := os.Getenv("CAIRN_CORRUPT_SEED"); seed == 0 && v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("CAIRN_CORRUPT_SEED=%q: %v", v, err)
		}
		seed = n
	}
	if seed == 0 {
		seed = 14
		if os.Getenv("CAIRN_CORRUPT_DAMAGES") != "" {
			seed = uint64(time.Now().UnixNano())
		}
	}
	t.Logf("seed %d (replay with CAIRN_CORRUPT_SEED=%d or -corrupt.seed=%d)", seed, seed, seed)
	return mrand.New(mrand.NewPCG(seed, 11))
}

// TestCorrupt_dataFile flips random bytes of data.db (anywhere, and inside
// known stored values) and truncates it at random lengths. In every case
// Open, Check and Get must not panic or crash; a flip inside a value must
// make Get of that document fail with ErrCorrupt and Check name it; and
// when Check finds nothing, every document must read back exactly.
func TestCorrupt_dataFile(t *testing.T) {
	total := corruptDamages(t, 210)
	rng := corruptRand(t)
	base, want, values := buildCorpusStore(t, 60, rng)
	fi, _ := os.Stat(base)
	size := fi.Size()
	sum := sha256.Sum256(mustRead(t, base))
	t.Logf("%d damages; file %d bytes (sha256 %x...), %d values located", total, size, sum[:8], len(values))
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// Three in seven anywhere, three in seven inside a stored value, one
	// in seven a truncation.
	var attempts []corruptAttempt
	for i := 0; i < total; i++ {
		switch i % 7 {
		case 0, 2, 4:
			attempts = append(attempts, corruptAttempt{Kind: "flip", Off: rng.Int64N(size), Xor: byte(1 + rng.IntN(255))})
		case 1, 3, 5:
			k := keys[rng.IntN(len(keys))]
			r := values[k]
			attempts = append(attempts, corruptAttempt{Kind: "value", Key: k, Off: r[0] + rng.Int64N(r[1]-r[0]), Xor: byte(1 + rng.IntN(255))})
		default:
			attempts = append(attempts, corruptAttempt{Kind: "trunc", Off: rng.Int64N(size)})
		}
	}
	n := 0
	for _, a := range attempts {
		if a.Kind == "value" {
			n++
		}
	}
	spec := corruptSpec{Base: base, Dir: filepath.Join(t.TempDir(), "s"), Want: want, Attempts: attempts}
	if v := os.Getenv("CAIRN_CORRUPT_ONLY"); v != "" { // replay one attempt of a seed
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 || i >= len(attempts) {
			t.Fatalf("CAIRN_CORRUPT_ONLY=%q: want an attempt number below %d", v, len(attempts))
		}
		spec.Start, spec.Attempts = i, attempts[:i+1]
	}
	outs, died := runCorruptChildren(t, spec)
	for i, msg := range died {
		a := attempts[i]
		t.Errorf("attempt %d (%s at byte %d of %d, xor %#x) crashed or hung the process: %s", i, a.Kind, a.Off, size, a.Xor, msg)
	}
	var stats struct{ openRefused, detected, clean, valueDetected, panics int }
	for _, o := range outs {
		a := attempts[o.I]
		where := fmt.Sprintf("attempt %d (%s at byte %d, xor %#x)", o.I, a.Kind, a.Off, a.Xor)
		if o.Panic != "" {
			stats.panics++
			t.Errorf("%s: panic: %s", where, o.Panic)
			continue
		}
		switch {
		case o.OpenErr != "":
			stats.openRefused++
		case !o.CheckOK || o.CheckErr != "":
			stats.detected++
		default:
			stats.clean++
		}
		if len(o.Wrong) > 0 && o.OpenErr == "" && o.CheckOK {
			t.Errorf("%s: check is clean but Get returns different data for %v", where, o.Wrong)
		}
		if a.Kind == "value" {
			if o.OpenErr != "" {
				t.Errorf("%s: a flip inside a value made Open fail: %s", where, o.OpenErr)
				continue
			}
			got := false
			for _, k := range o.Corrupt {
				got = got || k == a.Key
			}
			named := false
			for _, p := range o.Problems {
				named = named || strings.HasSuffix(p, " "+a.Key)
			}
			for _, k := range o.Wrong {
				if k == a.Key {
					t.Errorf("%s: Get returned altered data for %s without error", where, a.Key)
				}
			}
			if !o.RepairedOK {
				t.Errorf("%s: deleting the damaged %s did not leave the store clean: %s", where, a.Key, o.WriteErr)
			}
			if got && named {
				stats.valueDetected++
			} else {
				t.Errorf("%s: flip inside %s not detected (get ErrCorrupt %v, check names it %v; problems %v)", where, a.Key, got, named, o.Details)
			}
		}
	}
	t.Logf("%d corruptions: %d refused at open, %d detected by check, %d harmless (check clean, data intact), %d/%d value flips detected, %d panics, %d crashes or hangs",
		len(attempts), stats.openRefused, stats.detected, stats.clean, stats.valueDetected, n, stats.panics, len(died))
}

// skipBug skips a test that demonstrates a known bug, unless
// CAIRN_RUN_BUGS is set (to see it fail).
func skipBug(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CAIRN_RUN_BUGS") == "" {
		t.Skip(msg)
	}
}

// TestCorrupt_noPanic: a truncated data.db, a leaf page whose element
// count was damaged and bucket roots past the file must give errors
// (ErrCorrupt naming the file or the collection), never a panic, a crashed
// process or a hang.
func TestCorrupt_noPanic(t *testing.T) {
	base, want, _ := buildCorpusStore(t, 60, corruptRand(t))
	fi, _ := os.Stat(base)
	var root int64
	var pageSize int64
	bdb, err := bolt.Open(base, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	pageSize = int64(bdb.Info().PageSize)
	_ = bdb.View(func(tx *bolt.Tx) error {
		root = int64(tx.Bucket(buckets.PrimaryBucket("notes")).Root())
		return nil
	})
	bdb.Close()
	ptr, _ := bucketPointer(t, base, "tasks")
	attempts := []corruptAttempt{
		{Kind: "trunc", Off: fi.Size() / 2},
		{Kind: "trunc", Off: fi.Size() - pageSize},
		// The high byte of the page header's element count (id 8 bytes,
		// flags 2, count 2, little-endian).
		{Kind: "flip", Off: root*pageSize + 11, Xor: 0x7f},
		// A bucket's root page id, made huge, or just past the file's end.
		{Kind: "flip", Off: ptr + 5, Xor: 0x7f},
		{Kind: "flip", Off: ptr, Xor: pastEnd(t, mustRead(t, base), ptr, pageSize)},
	}
	outs, died := runCorruptChildren(t, corruptSpec{Base: base, Dir: filepath.Join(t.TempDir(), "s"), Want: want, Attempts: attempts})
	for i, msg := range died {
		t.Errorf("attempt %+v crashed the process: %s", attempts[i], msg)
	}
	for _, o := range outs {
		if o.Panic != "" {
			t.Errorf("attempt %+v panicked: %s", attempts[o.I], o.Panic)
		} else if attempts[o.I].Kind == "flip" && o.OpenErr == "" && o.CheckErr == "" && o.CheckOK {
			// (A truncation may only cut pages past the last one in use.)
			t.Errorf("attempt %+v: open and check found nothing", attempts[o.I])
		}
	}
}

// TestCorrupt_pageCycle: a branch page whose child is the page itself.
// A Get or a listing of that bucket follows bbolt's cursor around the
// cycle until the stack overflows (a crash no recover catches): every
// open walks the branch pages first, and refuses the store.
func TestCorrupt_pageCycle(t *testing.T) {
	base, want, _ := buildCorpusStore(t, 600, corruptRand(t))
	// A cycle in every bucket large enough to have branch pages: each is
	// walked the first time a process asks for it, on whatever path that
	// is (the open's look at the newest backup reads the log, a write the
	// sys bucket and the indexes).
	var attempts []corruptAttempt
	var names []string
	for _, name := range []string{"c/notes", "m/notes", "log", "sys", "x/notes/tags", "c/sessions", "m/tasks"} {
		if a, ok := pageCycleIn(t, base, name); ok {
			attempts = append(attempts, a)
			names = append(names, name)
		}
	}
	if len(attempts) < 3 {
		t.Fatalf("only %v have a branch root to damage", names)
	}
	t.Logf("cycles in %v", names)
	outs, died := runCorruptChildren(t, corruptSpec{Base: base, Dir: filepath.Join(t.TempDir(), "s"), Want: want, Attempts: attempts})
	for _, msg := range died {
		t.Errorf("a page cycle crashed or hung the process: %s", msg)
	}
	for _, o := range outs {
		if o.Panic != "" {
			t.Errorf("a page cycle panicked: %s", o.Panic)
		}
	}
}

// TestOpen_pageCycle checks that a store whose page graph has a cycle (a
// branch of the notes bucket whose child is the branch itself) refuses,
// read-only or not, every read and write of that bucket with ErrCorrupt
// naming the cycle, instead of following it until the stack overflows,
// while the collections whose pages are sound stay readable and writable:
// buckets are walked the first time a process asks for them
// (buckets.GatePages). A backup, which reads every bucket, refuses the
// store too.
func TestOpen_pageCycle(t *testing.T) {
	base, want, _ := buildCorpusStore(t, 60, corruptRand(t))
	a := pageCycle(t, base)
	data := mustRead(t, base)
	data[a.Off] ^= a.Xor
	for _, ro := range []bool{true, false} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, kv.DataFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := kv.Open(dir, &kv.Options{NoSearch: true, ReadOnly: ro, NoAutoBackup: true})
		if err != nil {
			t.Fatalf("read-only %v: %v", ro, err)
		}
		cycle := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), "(a cycle)") || !strings.Contains(err.Error(), "bucket c/notes") {
				t.Errorf("read-only %v: %s: %v, want ErrCorrupt naming the cycle in c/notes", ro, what, err)
			}
		}
		for range 2 { // the second ask is refused from what the first found
			_, _, err := db.Get(t.Context(), "notes", "notes-0")
			cycle("get notes-0", err)
		}
		_, err = db.Query(t.Context(), kv.Query{Collection: "notes", Filters: []kv.Filter{{Field: "status", Op: "=", Value: "todo"}}}, nil)
		cycle("query notes", err)
		doc, _, err := db.Get(t.Context(), "tasks", "tasks-1")
		if err != nil {
			t.Errorf("read-only %v: get tasks-1 beside a damaged bucket: %v", ro, err)
		} else if b, _ := json.Marshal(doc); canonJSON(b) != want["tasks/tasks-1"] {
			t.Errorf("read-only %v: tasks-1 = %s, want %s", ro, b, want["tasks/tasks-1"])
		}
		if !ro {
			_, err = db.Put(t.Context(), "notes", kv.Document{"id": "notes-new", "text": "x"})
			cycle("put notes-new", err)
			if _, err := db.Put(t.Context(), "tasks", kv.Document{"id": "tasks-new", "text": "x"}); err != nil {
				t.Errorf("put tasks-new beside a damaged bucket: %v", err)
			}
			if _, err := db.Backup(t.Context(), kv.ReasonManual); !errors.Is(err, kv.ErrCorrupt) {
				t.Errorf("backup of a store with a cycle: %v, want ErrCorrupt", err)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// pageCycle returns the damage that makes the first child of the notes
// bucket's root page (a branch) the root itself.
func pageCycle(t *testing.T, base string) corruptAttempt {
	t.Helper()
	a, ok := pageCycleIn(t, base, string(buckets.PrimaryBucket("notes")))
	if !ok {
		t.Skip("the notes bucket's root page is not a branch page whose first child differs from it in the low byte only")
	}
	return a
}

// pageCycleIn returns the damage that makes the first child of bucket
// name's root page (a branch) the root itself, one byte changed; false
// when the root is no branch, or its first child differs from it beyond
// the low byte.
func pageCycleIn(t *testing.T, base, name string) (corruptAttempt, bool) {
	t.Helper()
	var root, pageSize int64
	bdb, err := bolt.Open(base, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	pageSize = int64(bdb.Info().PageSize)
	_ = bdb.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(name)); b != nil {
			root = int64(b.Root())
		}
		return nil
	})
	bdb.Close()
	file := mustRead(t, base)
	if root == 0 || file[root*pageSize+8] != 0x01 {
		return corruptAttempt{}, false
	}
	// The first branch element (pos, ksize, then the child's page id)
	// made to point at the root itself.
	child := root*pageSize + 16 + 8
	if binary.LittleEndian.Uint64(file[child:])>>8 != uint64(root)>>8 {
		return corruptAttempt{}, false
	}
	return corruptAttempt{Kind: "flip", Off: child, Xor: byte(binary.LittleEndian.Uint64(file[child:])) ^ byte(root)}, true
}

// TestCorrupt_blobFile damages an attachment's blob file in several ways:
// check names the blob and says what to do, and reading the attachment
// fails with ErrCorrupt (or not found) instead of returning the damage.
func TestCorrupt_blobFile(t *testing.T) {
	content := bytes.Repeat([]byte("attachment content 0123456789 "), 2000)
	cases := []struct {
		name   string
		damage func(path string) error
		kind   string
	}{
		{"flip first byte", func(p string) error { return flipAt(p, 0) }, "blob-corrupt"},
		{"flip middle byte", func(p string) error { return flipAt(p, int64(len(content)/2)) }, "blob-corrupt"},
		{"flip last byte", func(p string) error { return flipAt(p, int64(len(content)-1)) }, "blob-corrupt"},
		{"truncate", func(p string) error { return os.Truncate(p, int64(len(content)/3)) }, "blob-corrupt"},
		{"empty", func(p string) error { return os.Truncate(p, 0) }, "blob-corrupt"},
		{"extend", func(p string) error {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			_, err = f.Write([]byte("x"))
			return errors.Join(err, f.Close())
		}, "blob-corrupt"},
		{"delete", os.Remove, "blob-missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db, err := kv.Open(t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			doc, err := db.AddAttachment(t.Context(), bytes.NewReader(content), kv.Document{"id": "att"})
			if err != nil {
				t.Fatal(err)
			}
			hash := doc["hash"].(string)
			path := filepath.Join(db.Dir(), kv.BlobsDir, hash[:2], hash)
			if err := tc.damage(path); err != nil {
				t.Fatal(err)
			}
			rep, err := db.Check(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || len(rep.Problems) != 1 || rep.Problems[0].Kind != tc.kind || rep.Problems[0].ID != hash {
				t.Fatalf("check: %+v", rep.Problems)
			}
			if d := rep.Problems[0].Detail; !strings.Contains(d, "restore") {
				t.Errorf("check does not say what to do: %s", d)
			}
			r, _, err := db.OpenAttachment(context.Background(), "att")
			if err == nil {
				_, err = io.ReadAll(r)
				r.Close()
			}
			if err == nil {
				t.Fatal("a damaged attachment read without error")
			}
			if !errors.Is(err, kv.ErrCorrupt) && !errors.Is(err, kv.ErrNotFound) && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("read error is neither corrupt nor not found: %v", err)
			}
			if !strings.Contains(err.Error(), "att") {
				t.Errorf("read error does not name the attachment: %v", err)
			}
		})
	}
}

func flipAt(path string, off int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	b := []byte{0}
	if _, err := f.ReadAt(b, off); err != nil {
		f.Close()
		return err
	}
	b[0] ^= 0x40
	_, err = f.WriteAt(b, off)
	return errors.Join(err, f.Close())
}

// TestCorrupt_backupFile flips bytes at random positions of a backup's data
// file and truncates it: VerifyBackup reports every one (the manifest's
// SHA-256 covers the whole file), Restore refuses, the store is unchanged.
// The attempts run in child processes, so that a crash or a hang is a
// finding for its attempt rather than the end of the test.
func TestCorrupt_backupFile(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	fillStore(t, db, 30)
	m, err := db.Backup(t.Context(), kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Delete(context.Background(), "notes", "n1"); err != nil { // the store differs from the backup
		t.Fatal(err)
	}
	before := fingerprint(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, kv.BackupsDir, m.Name+".db")
	base := filepath.Join(t.TempDir(), "backup.db")
	orig, _ := os.ReadFile(path)
	if err := os.WriteFile(base, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	rng := corruptRand(t)
	n := corruptDamages(t, 60)
	var attempts []corruptAttempt
	for i := 0; i < n; i++ {
		if i%5 == 4 {
			attempts = append(attempts, corruptAttempt{Kind: "trunc", Off: rng.Int64N(int64(len(orig)))})
		} else {
			attempts = append(attempts, corruptAttempt{Kind: "flip", Off: rng.Int64N(int64(len(orig))), Xor: byte(1 + rng.IntN(255))})
		}
	}
	outs, died := runCorruptChildren(t, corruptSpec{Mode: "backup", Backup: m.Name, Base: base, Dir: dir, Attempts: attempts})
	for i, msg := range died {
		t.Errorf("attempt %+v crashed or hung the process: %s", attempts[i], msg)
	}
	panics, longest := 0, 0
	for _, o := range outs {
		a := attempts[o.I]
		longest = max(longest, o.RestoreErrLen)
		switch {
		case o.Panic != "":
			panics++
			t.Errorf("attempt %+v panicked: %s", a, o.Panic)
		case o.OpenErr != "":
			t.Errorf("attempt %+v: the store did not open: %s", a, o.OpenErr)
		default:
			if !o.VerifyFound {
				t.Errorf("attempt %+v: verify found nothing", a)
			}
			if !o.RestoreRefuse {
				t.Errorf("attempt %+v: restore did not refuse with ErrBackupInvalid: %q", a, o.RestoreErr)
			}
		}
	}
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := fingerprint(t, db); got != before {
		t.Error("refused restores changed the store")
	}
	if _, probs, err := db.VerifyBackup(t.Context(), m.Name); err != nil || len(probs) > 0 {
		t.Fatalf("the repaired backup does not verify: %v %v", probs, err)
	}
	checkClean(t, db)
	t.Logf("%d backup corruptions: %d detected and refused, %d panics, %d crashes or hangs; longest restore error %d bytes", n, len(outs)-panics, panics, len(died), longest)
}

// bucketPointer returns the file offset of the root page id that the
// parent of coll's primary bucket stores for it, and the page size.
func bucketPointer(t *testing.T, path string, coll string) (off int64, pageSize int64) {
	t.Helper()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	var root, seq, top uint64
	_ = bdb.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(buckets.PrimaryBucket(coll))
		root, seq = uint64(b.Root()), b.Sequence()
		top = uint64(tx.Cursor().Bucket().Root())
		return nil
	})
	// The header is in the root bucket's leaf page that holds the bucket's
	// name (free pages may hold stale copies of it elsewhere): descend
	// from the root bucket's root through branch pages (elements: pos,
	// ksize, child page id) to it.
	ps := int64(bdb.Info().PageSize)
	name := buckets.PrimaryBucket(coll)
	page := file[int64(top)*ps : int64(top+1)*ps]
	for depth := 0; page[8] == 0x01; depth++ {
		if depth > 10 {
			t.Fatal("the root bucket is too deep")
		}
		n := int(binary.LittleEndian.Uint16(page[10:]))
		child := uint64(0)
		for i := 0; i < n; i++ {
			e := page[16+i*16:]
			pos, ksize := int(binary.LittleEndian.Uint32(e)), int(binary.LittleEndian.Uint32(e[4:]))
			if i > 0 && bytes.Compare(page[16+i*16+pos:16+i*16+pos+ksize], name) > 0 {
				break
			}
			child = binary.LittleEndian.Uint64(e[8:])
		}
		page = file[int64(child)*ps : int64(child+1)*ps]
		top = child
	}
	var hdr [16]byte
	binary.LittleEndian.PutUint64(hdr[:8], root)
	binary.LittleEndian.PutUint64(hdr[8:], seq)
	i := bytes.Index(page, hdr[:])
	if i < 0 || root == 0 {
		t.Fatalf("bucket header of %s (root %d, sequence %d) not found in the root bucket's page %d", coll, root, seq, top)
	}
	return int64(top)*ps + int64(i), ps
}

// pastEnd returns the xor that turns the low byte of the little-endian page
// id at off into the id of a page a few pages past the end of file.
func pastEnd(t *testing.T, file []byte, off, pageSize int64) byte {
	t.Helper()
	id := binary.LittleEndian.Uint64(file[off:])
	want := uint64(int64(len(file))/pageSize + 3)
	if id > 255 || want > 255 {
		t.Skipf("page ids %d/%d do not fit a byte", id, want)
	}
	return byte(id) ^ byte(want)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCorrupt_verifyBackupNoCrash: verifying (or restoring) a backup whose
// data file has a damaged page pointer must report it, not crash the
// process; the manifest's SHA-256 already says the file is not the one
// written.
func TestCorrupt_verifyBackupNoCrash(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	fillStore(t, db, 30)
	m, err := db.Backup(t.Context(), kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, kv.BackupsDir, m.Name+".db")
	base := filepath.Join(t.TempDir(), "backup.db")
	orig, _ := os.ReadFile(path)
	if err := os.WriteFile(base, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	off, ps := bucketPointer(t, base, "notes")
	attempts := []corruptAttempt{
		{Kind: "flip", Off: off + 5, Xor: 0x7f},                  // a root page id far out of the file
		{Kind: "flip", Off: off, Xor: pastEnd(t, orig, off, ps)}, // a root page id just past the end of the file
		{Kind: "flip", Off: off + 3, Xor: 0x01},                  // a root page id 2^24 pages on
	}
	outs, died := runCorruptChildren(t, corruptSpec{Mode: "backup", Backup: m.Name, Base: base, Dir: dir, Attempts: attempts})
	for _, msg := range died {
		t.Errorf("verify/restore of a damaged backup crashed the process: %s", msg)
	}
	for _, o := range outs {
		if o.Panic != "" {
			t.Errorf("verify/restore panicked: %s", o.Panic)
		} else if !o.VerifyFound || !o.RestoreRefuse {
			t.Errorf("not detected: %+v", o)
		}
	}
}

// TestCorrupt_manifest damages a backup's manifest byte by byte. A damage
// that changes what the manifest says about the data file (name, time,
// size, SHA-256, counts, format) must make VerifyBackup report it and
// Restore refuse. Bytes no check covers are counted and logged.
func TestCorrupt_manifest(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fillStore(t, db, 5)
	if _, err := db.AddAttachment(t.Context(), strings.NewReader("kept"), kv.Document{"id": "a"}); err != nil {
		t.Fatal(err)
	}
	m, err := db.Backup(t.Context(), kv.ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	mpath := filepath.Join(dir, kv.BackupsDir, m.Name+".json")
	orig, _ := os.ReadFile(mpath)
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(orig, &fields); err != nil {
		t.Fatal(err)
	}
	covered := []string{"name", "time", "size", "sha256", "counts", "format_version"}
	fieldAt := func(off int) string {
		// The field whose value holds off, from the indented layout.
		line := bytes.Count(orig[:off], []byte("\n"))
		lines := bytes.Split(orig, []byte("\n"))
		for l := line; l >= 0; l-- {
			s := strings.TrimSpace(string(lines[l]))
			if strings.HasPrefix(s, `"`) && strings.Contains(s, `":`) && strings.Count(string(lines[l]), "  ") <= 1 {
				k, _, _ := strings.Cut(strings.TrimPrefix(s, `"`), `"`)
				return k
			}
		}
		return ""
	}
	undetected := map[string]int{}
	tried := 0
	step := 1
	if testing.Short() {
		step = 7
	}
	for off := 0; off < len(orig); off += step {
		bad := append([]byte(nil), orig...)
		bad[off] ^= 0x01
		if err := os.WriteFile(mpath, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		tried++
		_, probs, verr := db.VerifyBackup(t.Context(), m.Name)
		if verr != nil || len(probs) > 0 {
			continue
		}
		var got map[string]json.RawMessage
		if json.Unmarshal(bad, &got) == nil && string(mustJSON(got)) == string(mustJSON(fields)) {
			continue // the flip changed nothing that parses (white space, key case)
		}
		if sameNonZeroCounts(orig, bad) {
			continue // a collection with no documents renamed in counts: nothing the data contradicts
		}
		f := fieldAt(off)
		undetected[f]++
		for _, c := range covered {
			if f == c {
				t.Errorf("flip at byte %d (field %s: %q) not detected", off, f, bad[max(0, off-10):min(len(bad), off+10)])
			}
		}
	}
	if err := os.WriteFile(mpath, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	// A manifest that does not parse or is missing: the backup is not
	// usable and Restore refuses.
	for name, bad := range map[string][]byte{"truncated": orig[:len(orig)/2], "empty": {}, "not json": []byte("garbage")} {
		if err := os.WriteFile(mpath, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.Restore(t.Context(), m.Name); err == nil {
			t.Errorf("%s manifest: restore went ahead", name)
		}
		ms, _ := db.Backups(context.Background())
		if len(ms) != 1 || ms[0].Problem == "" || ms[0].Verified {
			t.Errorf("%s manifest: listed as %+v", name, ms)
		}
	}
	if err := os.WriteFile(mpath, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d manifest flips; undetected by field: %v", tried, undetected)
	if len(undetected) > 0 {
		t.Errorf("manifest flips went unnoticed (the manifest's checksum should cover every field): %v", undetected)
	}
}

// sameNonZeroCounts reports whether two manifests differ only in the names
// of collections counted 0.
func sameNonZeroCounts(a, b []byte) bool {
	var x, y map[string]any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	nz := func(m map[string]any) {
		c, _ := m["counts"].(map[string]any)
		for k, v := range c {
			if v == float64(0) {
				delete(c, k)
			}
		}
	}
	nz(x)
	nz(y)
	return string(mustJSON(x)) == string(mustJSON(y))
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// searchedStore returns a closed store of 30 notes holding "budget",
// indexed for search.
func searchedStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		if _, err := db.Put(t.Context(), "notes", kv.Document{"id": fmt.Sprint("n", i), "content": fmt.Sprintf("quarterly budget review %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Search(t.Context(), "budget", kv.SearchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCorrupt_searchIndex damages the search index directory (random
// flips in its files, truncations, deleted files, garbage files): Open
// repairs it (rebuilds from bbolt) and Check is clean afterwards, or, for
// damage Bleve cannot see, Check reports it with the fix (reindex
// --search), after which Check is clean; search finds the documents again.
func TestCorrupt_searchIndex(t *testing.T) {
	dir := searchedStore(t)
	sdir := filepath.Join(dir, kv.SearchDir)
	rng := corruptRand(t)
	damages := []string{"flip", "truncate", "delete", "garbage", "flip-all"}
	rounds := 10
	if testing.Short() {
		rounds = 5
	}
	repaired, checkFound := 0, 0
	defer func() {
		t.Logf("%d search index damages: %d repaired at open (or harmless), %d survived the open and were reported by check", rounds, repaired, checkFound)
	}()
	for round := 0; round < rounds; round++ {
		var files []string
		_ = filepath.WalkDir(sdir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files = append(files, p)
			}
			return nil
		})
		if len(files) == 0 {
			t.Fatal("the search index has no files")
		}
		dmg := damages[round%len(damages)]
		f := files[rng.IntN(len(files))]
		switch dmg {
		case "flip":
			if fi, err := os.Stat(f); err == nil && fi.Size() > 0 {
				_ = flipAt(f, rng.Int64N(fi.Size()))
			}
		case "truncate":
			if fi, err := os.Stat(f); err == nil {
				_ = os.Truncate(f, fi.Size()/2)
			}
		case "delete":
			_ = os.Remove(f)
		case "garbage":
			_ = os.WriteFile(f, []byte("garbage"), 0o600)
		case "flip-all":
			for _, f := range files {
				if fi, err := os.Stat(f); err == nil && fi.Size() > 0 {
					_ = flipAt(f, rng.Int64N(fi.Size()))
				}
			}
		}
		rel, _ := filepath.Rel(dir, f)
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("round %d (%s %s): panic: %v", round, dmg, rel, p)
				}
			}()
			db, err := kv.Open(dir, nil)
			if err != nil {
				t.Fatalf("round %d (%s %s): open: %v", round, dmg, rel, err)
			}
			defer db.Close()
			rep, err := db.Check(t.Context())
			if err != nil {
				t.Fatalf("round %d: check: %v", round, err)
			}
			if !rep.OK {
				// Damage Bleve does not detect (no checksum over a
				// segment's stored fields) survives the open; check must
				// then name it and say to reindex, and reindex must fix it.
				// Damage repaired as the index opened is not a problem
				// (rep.Repaired says it).
				for _, p := range rep.Problems {
					if !strings.HasPrefix(p.Kind, "search") || !strings.Contains(p.Detail, "reindex --search") {
						t.Errorf("round %d (%s %s): check after open: %s", round, dmg, rel, p)
					}
				}
				checkFound++
				if _, err := db.ReindexSearch(t.Context()); err != nil {
					t.Fatalf("reindex: %v", err)
				}
				if rep, err := db.Check(t.Context()); err != nil || !rep.OK {
					t.Errorf("round %d: check after reindex: %v %v", round, rep, err)
				}
			} else {
				repaired++
			}
			res, err := db.Search(t.Context(), "budget", kv.SearchOptions{Limit: 100})
			if (err != nil || res.Total != 30) && rep.OK {
				// Damage in a segment's term dictionary: open and check
				// see nothing, search fails (TestCorrupt_searchSegmentDamage).
				t.Logf("KNOWN BUG: round %d (%s %s): check clean, search: %d hits, %v", round, dmg, rel, res.Total, err)
				if _, err := db.ReindexSearch(t.Context()); err != nil {
					t.Fatalf("reindex: %v", err)
				}
				res, err = db.Search(t.Context(), "budget", kv.SearchOptions{Limit: 100})
			}
			if err != nil || res.Total != 30 {
				t.Errorf("round %d (%s %s): search: %d hits, %v", round, dmg, rel, res.Total, err)
			}
		}()
	}
}

// TestCorrupt_searchSegmentDamage flips bytes through the search index's
// segment files one at a time: whenever Check calls the store clean,
// Search must work (or the open must have rebuilt the index).
func TestCorrupt_searchSegmentDamage(t *testing.T) {
	if testing.Short() {
		t.Skip("400 opens of a damaged index")
	}
	dir := searchedStore(t)
	var segs []string
	_ = filepath.WalkDir(filepath.Join(dir, kv.SearchDir), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".zap") {
			segs = append(segs, p)
		}
		return nil
	})
	if len(segs) == 0 {
		t.Skip("no zap segment")
	}
	pristine := filepath.Join(t.TempDir(), "search")
	if err := os.CopyFS(pristine, os.DirFS(filepath.Join(dir, kv.SearchDir))); err != nil {
		t.Fatal(err)
	}
	silent, tried := 0, 0
	for _, seg := range segs {
		rel, err := filepath.Rel(filepath.Join(dir, kv.SearchDir), seg)
		if err != nil {
			t.Fatal(err)
		}
		orig := mustRead(t, filepath.Join(pristine, rel)) // the last open may have merged seg away
		step := max(1, len(orig)/400)
		for off := 0; off < len(orig); off += step {
			if err := os.RemoveAll(filepath.Join(dir, kv.SearchDir)); err != nil {
				t.Fatal(err)
			}
			if err := os.CopyFS(filepath.Join(dir, kv.SearchDir), os.DirFS(pristine)); err != nil {
				t.Fatal(err)
			}
			bad := append([]byte(nil), orig...)
			bad[off] ^= 0x55
			if err := os.WriteFile(seg, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			tried++
			func() {
				db, err := kv.Open(dir, nil)
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				defer db.Close()
				rep, err := db.Check(t.Context())
				if err != nil || !rep.OK {
					return // reported: fine
				}
				if res, err := db.Search(t.Context(), "budget", kv.SearchOptions{Limit: 100}); err != nil || res.Total != 30 {
					silent++
					if silent <= 3 {
						t.Errorf("flip at byte %d of %s: check clean, search %d hits, %v", off, filepath.Base(seg), res.Total, err)
					}
				}
			}()
		}
	}
	t.Logf("%d flips in %d segments", tried, len(segs))
	if silent > 0 {
		t.Errorf("%d of %d flips left search broken behind a clean check", silent, tried)
	}
}

// TestCorrupt_searchRootBolt: a page of the search index's root.bolt
// damaged where bbolt follows it. Bleve reads that file from goroutines of
// its own, where a fault kills the process (a flaky CI run showed one);
// the page graph is now walked before Bleve opens the file, and the index
// is rebuilt from the store.
func TestCorrupt_searchRootBolt(t *testing.T) {
	dir := searchedStore(t)
	path := filepath.Join(dir, kv.SearchDir, "store", "root.bolt")
	b := mustRead(t, path)
	meta := 0
	if binary.LittleEndian.Uint64(b[4096+16+48:]) > binary.LittleEndian.Uint64(b[16+48:]) {
		meta = 4096
	}
	root := int(binary.LittleEndian.Uint64(b[meta+16+16:]))
	if binary.LittleEndian.Uint16(b[root*4096+8:]) != 0x02 || binary.LittleEndian.Uint16(b[root*4096+10:]) == 0 {
		t.Fatal("root.bolt's root bucket is not one leaf page")
	}
	// Its first bucket's root page: far past the file and its map.
	e := root*4096 + 16
	v := e + int(binary.LittleEndian.Uint32(b[e+4:])) + int(binary.LittleEndian.Uint32(b[e+8:]))
	binary.LittleEndian.PutUint64(b[v:], 1<<30)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := kv.Open(dir, &kv.Options{EagerSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Search(t.Context(), "budget", kv.SearchOptions{Limit: 100})
	if err != nil || res.Total != 30 {
		t.Fatalf("search after the damage: %d hits, %v", res.Total, err)
	}
	// Repaired, which check says once, as no problem.
	for i, want := range []bool{true, false} {
		rep, err := db.Check(t.Context())
		if err != nil || !rep.OK {
			t.Fatalf("check %d: %+v, %v", i, rep, err)
		}
		if said := len(rep.Repaired) == 1 && strings.Contains(rep.Repaired[0], "root.bolt"); said != want {
			t.Errorf("check %d: repaired %q, want the damaged root.bolt said %v", i, rep.Repaired, want)
		}
	}
}

// TestCheck_repairedSegment: a segment damaged on disk (its file rewritten)
// is found as the index opens, which rebuilds it from the store; check then
// says so once, as repaired and not as a problem (catching up fixed it).
func TestCheck_repairedSegment(t *testing.T) {
	dir := searchedStore(t)
	segs, err := filepath.Glob(filepath.Join(dir, kv.SearchDir, "store", "*.zap"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no segment (%v)", err)
	}
	for _, seg := range segs {
		if err := flipAt(seg, 100); err != nil {
			t.Fatal(err)
		}
	}
	db, err := kv.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, want := range []bool{true, false} {
		rep, err := db.Check(t.Context())
		if err != nil || !rep.OK {
			t.Fatalf("check %d: %+v, %v", i, rep, err)
		}
		if said := len(rep.Repaired) == 1 && strings.Contains(rep.Repaired[0], ".zap"); said != want {
			t.Errorf("check %d: repaired %q, want the damaged segment said %v", i, rep.Repaired, want)
		}
	}
	if res, err := db.Search(t.Context(), "budget", kv.SearchOptions{Limit: 100}); err != nil || res.Total != 30 {
		t.Errorf("search after the repair: %d hits, %v", res.Total, err)
	}
}

// TestSearch_hitsOfDamagedBucket: an index built before a page cycle
// damaged the notes bucket answered with notes that no longer read, exit
// 0, as if they did. A search whose hits fall in a refused bucket fails
// with ErrCorrupt; one whose hits do not still answers.
func TestSearch_hitsOfDamagedBucket(t *testing.T) {
	base, _, _ := buildCorpusStore(t, 60, corruptRand(t))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, kv.DataFile), mustRead(t, base), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := &kv.Options{NoAutoBackup: true}
	db, err := kv.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct{ coll, id string }{{"notes", "budget-note"}, {"tasks", "budget-task"}} {
		if _, err := db.Put(t.Context(), d.coll, kv.Document{"id": d.id, "content": "budget review", "title": "budget review"}); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := db.Search(t.Context(), "budget", kv.SearchOptions{Collections: []string{"notes"}}); err != nil || len(res.Hits) == 0 {
		t.Fatalf("search of the sound store: %d hits, %v", len(res.Hits), err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	a := pageCycle(t, filepath.Join(dir, kv.DataFile))
	data := mustRead(t, filepath.Join(dir, kv.DataFile))
	data[a.Off] ^= a.Xor
	if err := os.WriteFile(filepath.Join(dir, kv.DataFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Search(t.Context(), "budget", kv.SearchOptions{Collections: []string{"notes"}}); !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), "(a cycle)") {
		t.Errorf("search answered from a damaged bucket: %v, want ErrCorrupt naming the cycle", err)
	}
	if res, err := db.Search(t.Context(), "budget", kv.SearchOptions{Collections: []string{"tasks"}}); err != nil || len(res.Hits) == 0 {
		t.Errorf("search of the tasks beside the damaged notes: %d hits, %v", len(res.Hits), err)
	}
}
