package search

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// TestOpen_damagedSegment_rebuilt checks that Open reads the CRC of the
// segments before it opens the index for writing, whose merger would read
// them (and on some damage loop forever, so that the index never closes):
// a flipped bit in a segment is a rebuild, and the next Open of the
// rebuilt index reads nothing again (the verified list).
func TestOpen_damagedSegment_rebuilt(t *testing.T) {
	dir := t.TempDir()
	buildIndex(t, dir)
	files := zapFiles(t, dir)
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/3] ^= 0x40
	if err := os.WriteFile(files[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	ix, res, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rebuilt || !strings.Contains(res.Reason, "damaged") {
		t.Errorf("one bit flipped in %s: Open = %+v, want a rebuild naming the damaged segment", filepath.Base(files[0]), res)
	}
	apply(t, ix, 1, fixture(t)...)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix, res, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if res.Rebuilt {
		t.Errorf("intact index rebuilt: %s", res.Reason)
	}
	if _, err := os.Stat(filepath.Join(dir, verifiedFile)); err != nil {
		t.Errorf("no verified list after an Open: %v", err)
	}
}

// stuckIndex is a Bleve index whose Close never returns, as when Bleve's
// merger loops on a damaged segment.
type stuckIndex struct {
	bleveIndex
	release chan struct{}
}

// bleveIndex names bleve.Index for embedding: its field name cannot be
// Index, which is one of its methods.
type bleveIndex = bleve.Index

func (s stuckIndex) Close() error { <-s.release; return nil }

// TestReset_stuckClose checks that Reset abandons an index whose Close does
// not return and recreates it, and that Close gives up with ErrCorrupt
// instead of hanging.
func TestReset_stuckClose(t *testing.T) {
	old := closeTimeout
	closeTimeout = 50 * time.Millisecond
	defer func() { closeTimeout = old }()
	release := make(chan struct{})
	defer close(release)

	ix, _, err := Open(filepath.Join(t.TempDir(), "search"), nil)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, ix, 3, fixture(t)...)
	real := ix.mu.bi
	ix.mu.bi = stuckIndex{bleveIndex: real, release: release}
	done := make(chan error, 1)
	go func() { done <- ix.Reset() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Reset with a stuck Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Reset hangs on an index that does not close")
	}
	if err := real.Close(); err != nil {
		t.Log(err)
	}
	if ix.LastApplied() != 0 {
		t.Errorf("LastApplied after Reset = %d", ix.LastApplied())
	}

	real = ix.mu.bi
	ix.mu.bi = stuckIndex{bleveIndex: real, release: release}
	go func() { done <- ix.Close() }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("Close with a stuck Bleve: %v, want ErrCorrupt", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs on an index that does not close")
	}
	if err := real.Close(); err != nil {
		t.Log(err)
	}
}

// TestMergeGuard_damagedSegment checks that Bleve's merger does not read a
// segment whose CRC this process has not checked into a new one: a bit
// flipped on disk keeps the file's size and time, so Open trusts its
// verified list and opens the segment unchecked, and a merge would write
// the damage into a segment whose CRC is right, past any check. The guard
// checks the files a merge would take, stops the merges, and the damage
// stays where VerifySegments finds it, and the next Open rebuilds.
func TestMergeGuard_damagedSegment(t *testing.T) {
	dir := t.TempDir()
	buildIndex(t, dir)
	damaged := damageTrusted(t, dir, "notes/late")
	ix, res, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if res.Rebuilt {
		t.Fatalf("Open rebuilt (%s): the verified list should have let the damaged files through", res.Reason)
	}
	// Small batches, each a segment, until a merge is due: the guard then
	// finds the damage, or the merger takes the damaged files.
	laundered := false
	for seq := uint64(13); seq < 200; seq++ {
		apply(t, ix, seq, upsert(t, "notes", fmt.Sprintf("n%d", seq), 1, `{"content":"one more segment"}`))
		if guardOf(dir).Damaged() != "" {
			break
		}
		live := liveNames(t, ix)
		left := 0
		for name := range damaged {
			if live[name] {
				left++
			}
		}
		if left < len(damaged) {
			laundered = true
			break
		}
	}
	if laundered {
		t.Fatalf("the merger took a damaged segment unchecked")
	}
	if guardOf(dir).Damaged() == "" {
		t.Fatalf("no merge was due after 187 batches: the test no longer exercises the guard")
	}
	bad, err := ix.VerifySegments(context.Background())
	if err != nil || len(bad) == 0 {
		t.Errorf("VerifySegments = %v, %v; want the damaged segments", bad, err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix2, res, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix2.Close()
	if !res.Rebuilt {
		t.Errorf("the Open after the guard found damage did not rebuild")
	}
}

// damageTrusted damages, keeping its time, each segment file of the index
// in dir that holds the stored id (collection/id), after writing the
// verified list as an Open that checked every file leaves it (an Open's own
// list may miss the segments its merger then wrote): the next Open trusts
// the damaged files. A merge would copy the damaged id into a new segment
// with a right CRC. It returns the damaged files' names.
func damageTrusted(t *testing.T, dir, id string) map[string]bool {
	t.Helper()
	var list []string
	for _, f := range zapFiles(t, dir) {
		if _, err := verifySegment(f); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, fmt.Sprintf("%s %d %d", filepath.Base(f), fi.Size(), fi.ModTime().UnixNano()))
	}
	if err := os.WriteFile(filepath.Join(dir, verifiedFile), []byte(strings.Join(list, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	coll, _, _ := strings.Cut(id, "/")
	damaged := map[string]bool{}
	for _, f := range zapFiles(t, dir) {
		if damageKeepingTime(t, f, func(b []byte) bool {
			i := bytes.Index(b, []byte(id))
			if i >= 0 {
				b[i+len(coll)+1] ^= 0x20 // the id's first letter's case
			}
			return i >= 0
		}) {
			damaged[filepath.Base(f)] = true
		}
	}
	if len(damaged) == 0 {
		t.Fatalf("no segment holds the stored id %s", id)
	}
	return damaged
}

// TestFeeder_rebuildsOnMergeDamage checks that a damaged segment the merge
// guard found (TestMergeGuard_damagedSegment) is not left serving searches
// until the process ends: the Feeder's next catch-up rebuilds the index,
// and TakeDamage says so once.
func TestFeeder_rebuildsOnMergeDamage(t *testing.T) {
	src := newLogSource("memos")
	src.put("memos", "early", "first batch")
	src.put("memos", "late", "a later batch")
	dir := filepath.Join(t.TempDir(), "search")
	f := startFeeder(t, src, dir, FeederOptions{})
	waitAll(t, f, src)
	g := guardOf(dir)
	if g == nil {
		t.Fatal("no merge guard for the Feeder's index")
	}
	g.mu.Lock()
	g.damaged = "segment 000000000002.zap: damaged (as the guard would say)"
	g.mu.Unlock()
	src.put("memos", "n1", "another batch")
	ix := waitAll(t, f, src)
	if d := f.TakeDamage(); !strings.Contains(d, "000000000002.zap") {
		t.Errorf("TakeDamage after the catch-up = %q, want the guard's damage", d)
	}
	if d := f.TakeDamage(); d != "" {
		t.Errorf("TakeDamage said it twice: %s", d)
	}
	if d := ix.mergeDamage(); d != "" {
		t.Errorf("the rebuilt index's guard still holds %q", d)
	}
	requireEqual(t, ix, src)
	if got, want := hitIDs(t, ix, "batch"), []string{"memos/early", "memos/late", "memos/n1"}; !slices.Equal(got, want) {
		t.Errorf("after the rebuild, batch finds %v, want %v", got, want)
	}
}

// TestOpen_trustedFooterDamaged: bit rot in the footer of a segment the
// verified list names (its size and time unchanged) made zap read a count
// of 2^56 documents, and Bleve's goroutines panic on it where no recover
// reaches: every command died. Open reads the footers of the segments it
// trusts and rebuilds on one that cannot be true.
func TestOpen_trustedFooterDamaged(t *testing.T) {
	dir := t.TempDir()
	buildIndex(t, dir)
	damageTrusted(t, dir, "notes/late") // writes the list; the id's case is nothing zap checks at open
	for _, f := range zapFiles(t, dir) {
		damageKeepingTime(t, f, func(b []byte) bool {
			if binary.BigEndian.Uint32(b[len(b)-8:]) != 17 {
				t.Fatalf("%s: zap version %d; the test knows 17's footer", f, binary.BigEndian.Uint32(b[len(b)-8:]))
			}
			b[len(b)-36] ^= 0x01 // the document count's high byte
			return true
		})
	}
	ix, res, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if !res.Rebuilt || !res.Damaged || !strings.Contains(res.Reason, "footer") {
		t.Errorf("Open = %+v, want a rebuild for the damaged footer", res)
	}
}

// damageKeepingTime rewrites the file at path with damage(contents), when
// damage returns true, keeping its modification time, as a disk's damage
// would; it reports whether it did.
func damageKeepingTime(t *testing.T, path string, damage func(b []byte) bool) bool {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !damage(b) {
		return false
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	return true
}

// liveNames returns the names of the segment files ix serves.
func liveNames(t *testing.T, ix *Index) map[string]bool {
	t.Helper()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	adv, err := ix.mu.bi.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, names, _ := liveFiles(r.(*scorch.IndexSnapshot))
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

// TestOpen_fileInPlace: a file where the index's directory belongs is an
// error that says so and what to do, not a bare mkdir error.
func TestOpen_fileInPlace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "search")
	if err := os.WriteFile(dir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := Open(dir, nil)
	if err == nil || !strings.Contains(err.Error(), "is a file") || !strings.Contains(err.Error(), "move it away") {
		t.Errorf("Open over a file: %v, want it named, with what to do", err)
	}
}
