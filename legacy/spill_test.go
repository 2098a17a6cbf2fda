//go:build unix

package legacy

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestRemoveStaleSpills: spill directories left by a killed walk (lock
// free, however recent, or no lock and old) are removed; one in use, or
// lockless and recent, is not.
func TestRemoveStaleSpills(t *testing.T) {
	base := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	mk := func(name string, lock bool, mtime time.Time) string {
		d := filepath.Join(base, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if lock {
			if err := os.WriteFile(filepath.Join(d, spillLock), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chtimes(d, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return d
	}
	mk("cairn-legacy-killed", true, old)
	mk("cairn-legacy-nolock-old", false, old)
	mk("cairn-legacy-nolock-new", false, time.Now())
	mk("cairn-legacy-free-new", true, time.Now())
	mk("other-dir", false, old)
	// One in use: a real spill, holding its lock.
	sp := &spill{base: base}
	if _, release, err := sp.text(func(w io.Writer) error { _, err := w.Write([]byte("[]")); return err }); err != nil {
		t.Fatal(err)
	} else {
		defer release()
	}
	defer sp.remove()
	if err := os.Chtimes(sp.dir, old, old); err != nil {
		t.Fatal(err)
	}
	got := removeStaleSpills(base)
	slices.Sort(got)
	if want := []string{"cairn-legacy-free-new", "cairn-legacy-killed", "cairn-legacy-nolock-old"}; !slices.Equal(got, want) {
		t.Errorf("removed %v, want %v", got, want)
	}
	for _, n := range []string{"cairn-legacy-nolock-new", "other-dir", filepath.Base(sp.dir)} {
		if _, err := os.Stat(filepath.Join(base, n)); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

// TestRemoveStaleSpills_rightAfterKill: report #19. A walk killed a moment
// ago (its lock dropped, as the kernel drops a dead process's flock,
// its directory left) is cleaned by the next migration at once: a spill
// directory is named only once its lock is held, so a free lock proves
// no walk uses it. So is a directory being made when the kill came.
func TestRemoveStaleSpills_rightAfterKill(t *testing.T) {
	base := t.TempDir()
	sp := &spill{base: base}
	if _, release, err := sp.text(func(w io.Writer) error { _, err := w.Write([]byte("[]")); return err }); err != nil {
		t.Fatal(err)
	} else {
		defer release()
	}
	killed := filepath.Base(sp.dir)
	if err := sp.lock.Close(); err != nil { // the kill: the lock goes, the directory stays
		t.Fatal(err)
	}
	making, err := os.MkdirTemp(base, ".cairn-legacy-new-*")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(making, spillLock), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	live := &spill{base: base}
	if _, release, err := live.text(func(w io.Writer) error { _, err := w.Write([]byte("[]")); return err }); err != nil {
		t.Fatal(err)
	} else {
		defer release()
	}
	defer live.remove()
	got := removeStaleSpills(base)
	slices.Sort(got)
	want := []string{filepath.Base(making), killed}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("removed %v, want %v", got, want)
	}
	if _, err := os.Stat(live.dir); err != nil {
		t.Errorf("the spill directory in use was removed: %v", err)
	}
}
