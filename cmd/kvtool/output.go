package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cairnkv/cairn/internal/fsutil"
	"github.com/cairnkv/cairn/kv"
)

// checkOutput refuses an -o path that would write into the store
// directory (symbolic links and ".." resolved) or onto its data file under
// another name (a hard link): docs/KVTOOL.md, exit 1. A store directory that
// does not exist has nothing to protect.
func (g *globals) checkOutput(out string) error {
	inside, err := fsutil.Inside(out, g.db)
	if err == nil && inside {
		return fmt.Errorf("-o %s: refused, the path is inside the store directory %s (writing there could destroy the store)", out, g.db)
	}
	if a, err := os.Stat(out); err == nil {
		if b, err := os.Stat(filepath.Join(g.db, kv.DataFile)); err == nil && os.SameFile(a, b) {
			return fmt.Errorf("-o %s: refused, it is the store's data file %s under another name", out, filepath.Join(g.db, kv.DataFile))
		}
	}
	return nil
}
