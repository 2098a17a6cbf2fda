package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/internal/gen"
	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/search"
)

// datasetVersion changes whenever the way the harness builds its store
// changes, so that an old cache is not reused.
const datasetVersion = 1

// Dataset is the generated store in the cache, built once per fingerprint.
type Dataset struct {
	Dir         string         `json:"dir"`   // the cache entry
	Store       string         `json:"store"` // the store directory inside it
	Fingerprint string         `json:"fingerprint"`
	Counts      map[string]int `json:"counts"`
	BuildSecs   float64        `json:"build_secs"`
	Reused      bool           `json:"reused"`
	FileBytes   int64          `json:"file_bytes"`
	JSONBytes   int64          `json:"json_bytes"` // every document as compact JSON
}

// genConfig is the generator configuration of a run.
func genConfig(cfg Config) gen.Config {
	return gen.Config{Sessions: cfg.Sessions, Seed: cfg.Seed}.WithDefaults()
}

// storeFingerprint identifies a cached store: the generated data
// (fingerprint) and the formats it was written in, the store's and the
// search index's, so that a store built by an older Cairn (another mapping,
// another record format) is rebuilt instead of measured as if it were new.
func storeFingerprint(g *gen.Generator) string {
	return fmt.Sprintf("%s-f%d-m%d", fingerprint(g), buckets.FormatVersion, search.MappingVersion)
}

// fingerprint identifies the generated data: the generator configuration,
// the harness's dataset version, and a hash of a few generated documents
// (so a change in the generator's output invalidates the cache). The old
// app's directories generated from it are keyed by it alone.
func fingerprint(g *gen.Generator) string {
	h := sha256.New()
	fmt.Fprintf(h, "v%d %+v\n", datasetVersion, g.Config())
	for _, coll := range gen.Collections {
		if g.Count(coll) == 0 {
			continue
		}
		d, err := g.Doc(coll, g.Count(coll)-1)
		if err == nil {
			b, _ := json.Marshal(d)
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// ensureDataset returns the cached store for cfg, building it if missing.
func ensureDataset(ctx context.Context, cfg Config, g *gen.Generator) (*Dataset, error) {
	fp := storeFingerprint(g)
	dir := filepath.Join(cfg.CacheDir, fmt.Sprintf("store-%s-%s", cfg.Scale, fp))
	marker := filepath.Join(dir, "complete.json")
	if b, err := os.ReadFile(marker); err == nil {
		var ds Dataset
		if err := json.Unmarshal(b, &ds); err == nil && ds.Fingerprint == fp {
			ds.Dir, ds.Store, ds.Reused = dir, filepath.Join(dir, "store"), true
			fmt.Fprintf(cfg.Stderr, "dataset: reusing %s (built in %.0fs)\n", dir, ds.BuildSecs)
			return &ds, nil
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ds := &Dataset{Dir: dir, Store: filepath.Join(dir, "store"), Fingerprint: fp, Counts: map[string]int{}}
	start := time.Now()
	fmt.Fprintf(cfg.Stderr, "dataset: building %s (%d sessions, seed %d) ...\n", ds.Store, cfg.Sessions, cfg.Seed)
	if err := buildStore(ctx, ds, g, cfg.Stderr); err != nil {
		return nil, fmt.Errorf("bench: building the dataset: %w", err)
	}
	ds.BuildSecs = time.Since(start).Seconds()
	fmt.Fprintf(cfg.Stderr, "dataset: built in %.1fs: %v\n", ds.BuildSecs, ds.Counts)
	b, err := json.MarshalIndent(ds, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(marker, b, 0o600); err != nil {
		return nil, err
	}
	return ds, nil
}

// buildStore loads every generated document into a new store in batches
// (as kvtool demo does), attachments through the blob store, and waits
// until the search index has caught up.
func buildStore(ctx context.Context, ds *Dataset, g *gen.Generator, progress io.Writer) (err error) {
	db, err := kv.Open(ds.Store, nil)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	for _, coll := range gen.Collections {
		t := time.Now()
		n := g.Count(coll)
		if coll == "attachments" {
			err = loadAttachments(ctx, db, g)
		} else {
			err = loadCollection(ctx, db, g, coll)
		}
		if err != nil {
			return err
		}
		ds.Counts[coll] = n
		fmt.Fprintf(progress, "dataset:   %-12s %7d in %v\n", coll, n, time.Since(t).Round(time.Millisecond))
	}
	if _, err := db.Put(ctx, "settings", g.Settings()); err != nil {
		return err
	}
	t := time.Now()
	if _, err := db.Search(ctx, "meeting", kv.SearchOptions{Limit: 1}); err != nil {
		return fmt.Errorf("waiting for the search index: %w", err)
	}
	fmt.Fprintf(progress, "dataset:   search index caught up in %v\n", time.Since(t).Round(time.Millisecond))
	st, err := db.Stats(ctx)
	if err != nil {
		return err
	}
	ds.FileBytes, ds.JSONBytes = st.FileBytes, int64(st.LogicalBytes)
	return nil
}

func loadCollection(ctx context.Context, db *kv.DB, g *gen.Generator, coll string) error {
	batch := 250
	if coll == "sessions" {
		batch = 50
	}
	total := g.Count(coll)
	for lo := 0; lo < total; lo += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+batch, total)
		err := db.Update(ctx, func(tx *kv.Tx) error {
			for i := lo; i < hi; i++ {
				d, err := g.Doc(coll, i)
				if err != nil {
					return err
				}
				if _, err := tx.Put(coll, d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func loadAttachments(ctx context.Context, db *kv.DB, g *gen.Generator) error {
	total := g.Count("attachments")
	const batch = 500
	for lo := 0; lo < total; lo += batch {
		hi := min(lo+batch, total)
		err := db.Update(ctx, func(tx *kv.Tx) error {
			for i := lo; i < hi; i++ {
				meta := g.Attachment(i)
				delete(meta, "hash")
				if _, err := tx.AddAttachment(ctx, bytes.NewReader(g.AttachmentContent(i)), meta); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// copyStore makes a working copy of the store in src at dst: data.db and
// the search index are copied (measurements write to them), the immutable
// blobs are hard-linked (copied where links fail), backups are left out.
func copyStore(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel == kv.BackupsDir {
			return filepath.SkipDir
		}
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o700)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if isUnder(rel, kv.BlobsDir) {
			if err := os.Link(p, out); err == nil {
				return nil
			}
		}
		_, err = copyFile(p, out, false)
		return err
	})
}

func isUnder(rel, dir string) bool {
	first, _, _ := cutPath(rel)
	return first == dir
}

func cutPath(p string) (first, rest string, ok bool) {
	for i := 0; i < len(p); i++ {
		if os.IsPathSeparator(p[i]) {
			return p[:i], p[i+1:], true
		}
	}
	return p, "", false
}

// copyFile copies src to dst, optionally fsyncing dst, and returns the
// bytes copied.
func copyFile(src, dst string, sync bool) (n int64, err error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	n, err = io.Copy(out, in)
	if err == nil && sync {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, errors.Join(err, os.Remove(dst))
	}
	return n, nil
}
