package search

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// buildIndex creates an index in dir holding the fixture and closes it.
func buildIndex(t *testing.T, dir string) {
	t.Helper()
	ix, _, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, ix, 11, fixture(t)...)
	apply(t, ix, 12, upsert(t, "notes", "late", 2, `{"content":"a later batch, another segment"}`))
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
}

// zapFiles returns the segment files of the index in dir.
func zapFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "store", "*.zap"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no segment files in %s (%v)", dir, err)
	}
	slices.Sort(m)
	return m
}

func truncateHalf(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
}

func overwrite(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func setInternal(t *testing.T, dir string, key, val []byte) {
	t.Helper()
	ix, _, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.mu.bi.SetInternal(key, val); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpen_recovery(t *testing.T) {
	garbage := []byte("this is not what you think it is")
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		// mayBeHarmless: the damage can hit only unused bytes (root.bolt is
		// larger than its live pages), so an intact index is also right.
		mayBeHarmless bool
	}{
		{"directory deleted", func(t *testing.T, dir string) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"only stray files", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "index_meta.json")); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"meta garbage", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "index_meta.json"), garbage, 0o600); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"meta unknown index type", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "index_meta.json"), []byte(`{"storage":"nope","index_type":"nope"}`), 0o600); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"meta upside_down", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "index_meta.json"), []byte(`{"storage":"boltdb","index_type":"upside_down"}`), 0o600); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"root.bolt truncated", func(t *testing.T, dir string) {
			truncateHalf(t, filepath.Join(dir, "store", "root.bolt"))
		}, true},
		{"root.bolt cut to its meta pages", func(t *testing.T, dir string) {
			// Every other page it names lies past its end: bbolt faulted
			// reading one (a crash, seen in CI when truncateHalf cut
			// before the snapshot bucket's pages).
			if err := os.Truncate(filepath.Join(dir, "store", "root.bolt"), 2*4096); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"root.bolt empty", func(t *testing.T, dir string) {
			if err := os.Truncate(filepath.Join(dir, "store", "root.bolt"), 0); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"root.bolt garbage header", func(t *testing.T, dir string) {
			overwrite(t, filepath.Join(dir, "store", "root.bolt"), 0, make([]byte, 8192))
		}, false},
		{"root.bolt deleted", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "store", "root.bolt")); err != nil {
				t.Fatal(err)
			}
		}, false},
		// Each segment case damages every segment file: a file of a
		// segment merged away may still be there after Close (the merger
		// removes them in the background), and damage to it alone is
		// rightly harmless.
		{"segment deleted", func(t *testing.T, dir string) {
			for _, p := range zapFiles(t, dir) {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			}
		}, false},
		{"segment truncated", func(t *testing.T, dir string) {
			for _, p := range zapFiles(t, dir) {
				truncateHalf(t, p)
			}
		}, false},
		{"segment empty", func(t *testing.T, dir string) {
			for _, p := range zapFiles(t, dir) {
				if err := os.Truncate(p, 0); err != nil {
					t.Fatal(err)
				}
			}
		}, false},
		{"segment footer garbage", func(t *testing.T, dir string) {
			for _, p := range zapFiles(t, dir) {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				overwrite(t, p, fi.Size()-int64(len(garbage)), garbage)
			}
		}, false},
		{"store directory deleted", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "store")); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"other mapping version", func(t *testing.T, dir string) {
			setInternal(t, dir, keyMappingVersion, []byte("0"))
		}, false},
		{"previous mapping version (text stored)", func(t *testing.T, dir string) {
			setInternal(t, dir, keyMappingVersion, []byte(strconv.Itoa(MappingVersion-1)))
		}, false},
		{"no mapping version", func(t *testing.T, dir string) {
			setInternal(t, dir, keyMappingVersion, nil)
		}, false},
		{"malformed last applied", func(t *testing.T, dir string) {
			setInternal(t, dir, keyLastApplied, []byte{1, 2, 3})
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "search")
			buildIndex(t, dir)
			tt.damage(t, dir)

			ix, res, err := Open(dir, nil)
			if err != nil {
				t.Fatalf("Open failed on a damaged index: %v", err)
			}
			if !res.Rebuilt && tt.mayBeHarmless {
				defer ix.Close()
				n, err := ix.Count()
				if err != nil || n != uint64(len(fixture(t))+1) || ix.LastApplied() != 12 {
					t.Fatalf("not rebuilt and not intact: count %d (%v), last %d", n, err, ix.LastApplied())
				}
				t.Log("damage was harmless: index intact")
				return
			}
			if !res.Rebuilt || res.Reason == "" {
				ix.Close()
				t.Fatalf("got %+v, want Rebuilt with a reason", res)
			}
			t.Logf("reason: %s", res.Reason)
			if ix.LastApplied() != 0 {
				t.Errorf("LastApplied %d after rebuild", ix.LastApplied())
			}
			if n, err := ix.Count(); err != nil || n != 0 {
				t.Errorf("Count %d, %v after rebuild", n, err)
			}
			apply(t, ix, 3, fixture(t)...)
			if got := ids(mustSearch(t, ix, "quokka", SearchOptions{})); !slices.Equal(got, []string{"sessions/s1"}) {
				t.Errorf("search after rebuild: %v", got)
			}
			if err := ix.Close(); err != nil {
				t.Fatal(err)
			}
			ix, res, err = Open(dir, nil)
			if err != nil || res.Rebuilt || ix.LastApplied() != 3 {
				t.Fatalf("reopen after rebuild: %+v, %v", res, err)
			}
			if err := ix.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A flipped byte in the middle of a segment may not be noticed at Open
// (Bleve does not checksum segments when opening them). Whatever happens,
// nothing panics: Open rebuilds, or searches return results or an error.
func TestOpen_segmentBitFlip(t *testing.T) {
	for _, frac := range []int64{4, 3, 2} {
		dir := filepath.Join(t.TempDir(), "search")
		buildIndex(t, dir)
		p := zapFiles(t, dir)[0]
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		overwrite(t, p, fi.Size()/frac, []byte{0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00})
		ix, res, err := Open(dir, nil)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Logf("flip at 1/%d: %+v", frac, res)
		for _, q := range []string{"meeting", "quokka", "planning meeting"} {
			_, err := ix.Search(context.Background(), q, SearchOptions{Highlight: true})
			t.Logf("search %q: %v", q, err)
		}
		_ = ix.Walk(func(string, string, uint64) error { return nil })
		_, _ = ix.MatchIDs(context.Background(), "notes", "", "meeting")
		if err := ix.Reset(); err != nil {
			t.Fatal(err)
		}
		if err := ix.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// Without the hint file, a lost segment makes scorch fall back to an older
// snapshot unnoticed; the state is still consistent (documents match the
// older LastApplied), so re-feeding from LastApplied repairs it.
func TestOpen_fallbackWithoutHint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "search")
	buildIndex(t, dir)
	if err := os.Remove(filepath.Join(dir, hintFile)); err != nil {
		t.Fatal(err)
	}
	zs := zapFiles(t, dir)
	if err := os.Remove(zs[len(zs)-1]); err != nil {
		t.Fatal(err)
	}
	ix, res, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	n, err := ix.Count()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v last %d count %d", res, ix.LastApplied(), n)
	want := map[uint64]uint64{0: 0, 11: uint64(len(fixture(t))), 12: uint64(len(fixture(t))) + 1}
	if w, ok := want[ix.LastApplied()]; !ok || w != n {
		t.Fatalf("inconsistent fallback: last %d count %d", ix.LastApplied(), n)
	}
}

// Open never deletes a directory that is not a search index, whatever it
// finds there: a wrong path must not cost the user's files.
func TestOpen_foreignFiles(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
	}{
		{"store directory by mistake", func(t *testing.T, dir string) {}},
		{"index plus a foreign file", func(t *testing.T, dir string) {
			buildIndex(t, dir)
			if err := os.WriteFile(filepath.Join(dir, "index_meta.json"), []byte("junk"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			tt.setup(t, dir)
			precious := filepath.Join(dir, "data.db")
			if err := os.WriteFile(precious, []byte("the user's data"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := Open(dir, nil)
			if !errors.Is(err, ErrForeignFiles) {
				t.Fatalf("got %v, want ErrForeignFiles", err)
			}
			if b, err := os.ReadFile(precious); err != nil || string(b) != "the user's data" {
				t.Fatalf("foreign file damaged: %q %v", b, err)
			}
		})
	}
}
