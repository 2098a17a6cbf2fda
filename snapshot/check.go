package snapshot

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cairnkv/cairn/buckets"
)

// Verifier reads every value of a store through tx and returns the number
// of documents per collection and every problem it found. It must only
// read (Create runs it on the caller's read-only transaction while the same
// transaction is being copied, and on the copy while bbolt's Check walks
// it), must not keep tx or its memory, and should not panic (a panic is
// recovered and reported as a problem). buckets.VerifyTx is the default.
type Verifier func(tx *bolt.Tx) (counts map[string]int, problems []buckets.Problem)

// maxStructureProblems bounds how many of bbolt's Check errors are kept.
const maxStructureProblems = 100

// openTimeout bounds the wait for the shared lock on a backup file, which
// nothing else should hold.
const openTimeout = 5 * time.Second

// bbolt's on-disk meta page, which has not changed since format version 2:
// a 16-byte page header, then magic, version, page size, flags (4 bytes
// each), the root bucket (root pgid, sequence), the freelist pgid, the
// high-water pgid, the txid and an FNV-64a checksum of everything before it.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	metaOff          = 16
	metaPageSizeOff  = metaOff + 8
	metaPgidOff      = metaOff + 40
	metaChecksumOff  = metaOff + 56
	minBoltPageSize  = 512
	maxBoltPageSize  = 1 << 20
	metaBytesToCheck = metaChecksumOff + 8
)

// checkMeta reads the two meta pages of the bbolt file f (size bytes) and
// returns "" if at least one is valid and every valid one claims only pages
// that fit in the file, or else what is wrong. It guards bolt.Open, which
// maps the file and would fault reading pages past its end.
func checkMeta(f io.ReaderAt, size int64) string {
	if size < metaBytesToCheck {
		return fmt.Sprintf("file is %d bytes, too small for a bbolt file", size)
	}
	var m0 [metaBytesToCheck]byte
	if _, err := f.ReadAt(m0[:], 0); err != nil {
		return fmt.Sprintf("read meta page 0: %v", err)
	}
	metas := [][]byte{m0[:]}
	// Meta page 1 sits one page in. The page size comes from meta page 0,
	// which may be the damaged one, so the usual sizes are tried too.
	for _, ps := range []int64{int64(binary.LittleEndian.Uint32(m0[metaPageSizeOff:])), 4096, 16384, 65536} {
		if ps < minBoltPageSize || ps > maxBoltPageSize || ps+metaBytesToCheck > size {
			continue
		}
		m1 := make([]byte, metaBytesToCheck)
		if _, err := f.ReadAt(m1, ps); err == nil && metaProblem(m1) == "" {
			metas = append(metas, m1)
			break
		}
	}
	valid := 0
	for i, m := range metas {
		if metaProblem(m) != "" {
			continue
		}
		valid++
		ps := int64(binary.LittleEndian.Uint32(m[metaPageSizeOff:]))
		if hwm := binary.LittleEndian.Uint64(m[metaPgidOff:]); hwm > uint64(size/ps) {
			return fmt.Sprintf("meta page %d claims %d pages of %d bytes but the file is %d bytes (truncated?)", i, hwm, ps, size)
		}
	}
	if valid == 0 {
		// Say what is wrong with meta page 1 too, read one usual page in
		// (its page size is unknown when both are damaged).
		p1 := "not readable"
		m1 := make([]byte, metaBytesToCheck)
		if 4096+metaBytesToCheck <= size {
			if _, err := f.ReadAt(m1, 4096); err == nil {
				p1 = metaProblem(m1)
			}
		}
		return "no valid meta page: meta page 0: " + metaProblem(m0[:]) + "; meta page 1: " + p1
	}
	return ""
}

// metaProblem checks one meta page's magic, version, checksum and page size
// (b holds its first metaBytesToCheck bytes) and returns what is wrong.
func metaProblem(b []byte) string {
	le := binary.LittleEndian
	if le.Uint32(b[metaOff:]) != boltMagic {
		return "bad magic"
	}
	if v := le.Uint32(b[metaOff+4:]); v != boltVersion {
		return fmt.Sprintf("bbolt version %d", v)
	}
	h := fnv.New64a()
	_, _ = h.Write(b[metaOff:metaChecksumOff]) // hash.Hash never fails
	if h.Sum64() != le.Uint64(b[metaChecksumOff:]) {
		return "checksum mismatch"
	}
	if ps := int64(le.Uint32(b[metaPageSizeOff:])); ps < minBoltPageSize || ps > maxBoltPageSize {
		return fmt.Sprintf("page size %d", ps)
	}
	return ""
}

// checkFile opens the bbolt file at path read-only and checks it: the meta
// pages, bbolt's structural check, then v over every value. label names the
// file in problems. err is only for what stopped the check (ctx, an
// unreadable file); everything wrong with the file is a problem.
func checkFile(ctx context.Context, path, label string, v Verifier) (counts map[string]int, problems []buckets.Problem, err error) {
	problem := func(kind, format string, args ...any) {
		problems = append(problems, buckets.Problem{Kind: kind, Detail: label + ": " + fmt.Sprintf(format, args...)})
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cairn: open %s: %w", label, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close() // the Stat error is the one to report
		return nil, nil, fmt.Errorf("cairn: stat %s: %w", label, err)
	}
	why := checkMeta(f, fi.Size())
	if err := f.Close(); err != nil {
		return nil, nil, fmt.Errorf("cairn: close %s: %w", label, err)
	}
	if why != "" {
		problem("meta", "%s", why)
		return nil, problems, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}

	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: openTimeout})
	if err != nil {
		problem("open", "%v", err)
		return nil, problems, nil
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("cairn: close %s: %w", label, cerr)
		}
	}()
	tx, err := db.Begin(false)
	if err != nil {
		return nil, nil, fmt.Errorf("cairn: begin on %s: %w", label, err)
	}
	defer func() { _ = tx.Rollback() }() // a read-only tx has nothing to roll back

	// The page graph is walked from the file first, then the verifier
	// reads every value, guarded against faults; bbolt's
	// Check runs in a goroutine of its own, where a memory fault on a
	// damaged page pointer cannot be caught, so it only runs over a file
	// whose pages the verifier could all read.
	pages, err := CheckPages(tx)
	if err != nil {
		return nil, nil, err
	}
	if len(pages) > 0 {
		for _, p := range pages {
			problem("structure", "%s", p)
		}
		return nil, problems, nil
	}
	counts, vp := runVerifier(v, tx)
	for _, p := range vp {
		if p.Kind == "panic" {
			for _, p := range vp {
				p.Detail = label + ": " + p.Detail
				problems = append(problems, p)
			}
			problem("structure", "pages could not be read; bbolt's structural check skipped")
			return counts, problems, nil
		}
	}
	n := 0
	for cerr := range tx.Check() { // drain fully: Check's goroutine blocks otherwise
		if n < maxStructureProblems {
			problem("structure", "%v", cerr)
		}
		n++
	}
	if n > maxStructureProblems {
		problem("structure", "and %d more structural errors", n-maxStructureProblems)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	for _, p := range vp {
		p.Detail = label + ": " + p.Detail
		problems = append(problems, p)
	}
	return counts, problems, nil
}

// runVerifier calls v on tx, turning a panic or memory fault (a damaged
// page in the mapped file) into a problem.
func runVerifier(v Verifier, tx *bolt.Tx) (counts map[string]int, problems []buckets.Problem) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			problems = append(problems, buckets.Problem{Kind: "panic", Detail: fmt.Sprintf("verifier panicked: %v", r)})
		}
	}()
	counts, problems = v(tx)
	if counts == nil {
		counts = map[string]int{}
	}
	return counts, problems
}

// countProblems compares counts got with want and names each difference.
// A collection missing from one map counts as 0 there.
func countProblems(label string, want, got map[string]int) []buckets.Problem {
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var ps []buckets.Problem
	for _, k := range sorted {
		if want[k] != got[k] {
			ps = append(ps, buckets.Problem{Kind: "count", Collection: k,
				Detail: fmt.Sprintf("%s: %d documents, expected %d", label, got[k], want[k])})
		}
	}
	return ps
}

// DamagedMeta reads both meta pages of the bbolt file at path and returns
// one line for each that fails its magic, version, checksum or page size,
// saying which transaction the sound one holds. bbolt opens a file with one
// sound meta page silently, from that page: when the damaged one was the
// newer, the last commit is no longer read, and the next commit overwrites
// the damaged page. It returns nil when both are sound (or when neither
// is: CheckMeta reports that).
func DamagedMeta(path string) ([]string, error) {
	mp, err := readMetaPair(path)
	if err != nil || mp == nil {
		return nil, err
	}
	txid := func(b []byte) uint64 { return binary.LittleEndian.Uint64(b[metaTxidOff:]) }
	return []string{fmt.Sprintf("meta page %d: %s (its transaction id reads %d); bbolt reads meta page %d (transaction %d), so a commit after that one is not read", mp.badPage, metaProblem(mp.bad), txid(mp.bad), 1-mp.badPage, txid(mp.good))}, nil
}

// metaPair is a bbolt file with one sound meta page and one damaged one.
type metaPair struct {
	good, bad []byte // their first metaBytesToCheck bytes
	badPage   int    // 0 or 1
	pageSize  int64  // where meta page 1 is
	size      int64  // of the file
}

// readMetaPair reads both meta pages of the bbolt file at path, and
// returns nil unless exactly one is sound. Meta page 1 sits one page in:
// the page size comes from a sound meta page 0, or else from the meta
// page 1 found at a usual size.
func readMetaPair(path string) (*metaPair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	read := func(off int64) []byte {
		b := make([]byte, metaBytesToCheck)
		if off+metaBytesToCheck > size {
			return nil
		}
		if _, err := f.ReadAt(b, off); err != nil {
			return nil
		}
		return b
	}
	m0 := read(0)
	if m0 == nil {
		return nil, nil
	}
	sizes := []int64{4096, 16384, 65536}
	if metaProblem(m0) == "" {
		sizes = []int64{int64(binary.LittleEndian.Uint32(m0[metaPageSizeOff:]))}
	}
	var m1 []byte
	var ps int64
	for _, p := range sizes {
		if b := read(p); b != nil && (metaProblem(b) == "" || len(sizes) == 1) {
			m1, ps = b, p
			break
		}
	}
	if m1 == nil || ps == 0 {
		return nil, nil // no sound meta page 1 where one is looked for: CheckMeta's to say
	}
	p0, p1 := metaProblem(m0), metaProblem(m1)
	switch {
	case (p0 == "") == (p1 == ""):
		return nil, nil
	case p0 != "":
		return &metaPair{good: m1, bad: m0, badPage: 0, pageSize: ps, size: size}, nil
	default:
		return &metaPair{good: m0, bad: m1, badPage: 1, pageSize: ps, size: size}, nil
	}
}

// CheckMeta checks the bbolt file at path before anything maps it: at
// least one meta page is sound, and no sound one claims pages past the end
// of the file (a truncated file). It returns nil or an error saying what is
// wrong. bbolt itself would fault reading past the end of its map.
func CheckMeta(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }() // read-only
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if p := checkMeta(f, fi.Size()); p != "" {
		return errors.New(p)
	}
	return nil
}
