package blobstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Walk calls blob for every blob file, in order of hash, with its size, and
// stray for every other name under the root, with its path relative to the
// root and a short reason: a file or directory that is not a shard
// directory, a name in a shard that is not a blob name or belongs to another
// shard, a symlink or directory where a blob file should be, a file in tmp/
// (a Put in progress or crash debris). Walk never reads blob contents (use
// Verify) and never descends into what it reports as stray. stray may be nil
// to ignore strays.
//
// If a callback returns fs.SkipAll, Walk stops and returns nil; any other
// error stops it and is returned as is. Blobs added or removed while Walk
// runs may or may not be seen.
func (s *Store) Walk(blob func(hash string, size int64) error, stray func(rel, reason string) error) error {
	if stray == nil {
		stray = func(string, string) error { return nil }
	}
	err := s.walk(blob, stray)
	if errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

func (s *Store) walk(blob func(string, int64) error, stray func(string, string) error) error {
	top, err := os.ReadDir(s.root)
	if err != nil {
		return fmt.Errorf("blobstore: walk: %w", err)
	}
	for _, e := range top {
		name := e.Name()
		switch {
		case name == tmpDir && e.IsDir():
			if err := s.walkTmp(stray); err != nil {
				return err
			}
		case isShard(name) && e.IsDir():
			if err := s.walkShard(name, blob, stray); err != nil {
				return err
			}
		case isShard(name) || name == tmpDir:
			if err := stray(name, describeMode(e.Type())+" in place of a directory"); err != nil {
				return err
			}
		default:
			if err := stray(name, "not a shard directory ("+describeMode(e.Type())+")"); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) walkTmp(stray func(string, string) error) error {
	ents, err := os.ReadDir(s.tmp)
	if err != nil {
		return fmt.Errorf("blobstore: walk: %w", err)
	}
	for _, e := range ents {
		if err := stray(filepath.Join(tmpDir, e.Name()), "temporary file (a Put in progress or crash debris)"); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) walkShard(shard string, blob func(string, int64) error, stray func(string, string) error) error {
	ents, err := os.ReadDir(filepath.Join(s.root, shard))
	if err != nil {
		return fmt.Errorf("blobstore: walk: %w", err)
	}
	for _, e := range ents {
		rel := filepath.Join(shard, e.Name())
		hash, reason := parseRel(shard, e.Name())
		if reason == "" && !e.Type().IsRegular() {
			reason = describeMode(e.Type()) + " under a blob name"
		}
		if reason != "" {
			if err := stray(rel, reason); err != nil {
				return err
			}
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the listing
		}
		if err != nil {
			return fmt.Errorf("blobstore: walk: %w", err)
		}
		if err := blob(hash, fi.Size()); err != nil {
			return err
		}
	}
	return nil
}
