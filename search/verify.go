package search

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// settleTime is how old a segment file must be for VerifySegments to
// report it: Bleve may be writing a newer one as it is read.
const settleTime = 10 * time.Second

// VerifySegments reads every segment file of the index and checks the
// CRC-32 its footer holds (zap writes one over the whole file, which
// Bleve never reads back): a flipped byte in postings or stored fields,
// which Bleve would only meet in the middle of a search, is found here.
// It returns one line per damaged file. A file written in the last few
// seconds is left out, since Bleve may still be writing it; a file that
// disappears meanwhile was merged away.
func (ix *Index) VerifySegments(ctx context.Context) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(ix.dir, "store", "*.zap"))
	if err != nil {
		return nil, err
	}
	var bad []string
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return bad, err
		}
		problem, err := verifySegment(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // merged away
		}
		if err != nil {
			return bad, fmt.Errorf("cairn: search: verify %s: %w", path, err)
		}
		if problem == "" {
			continue
		}
		if fi, err := os.Stat(path); err != nil || time.Since(fi.ModTime()) < settleTime {
			continue // gone, or maybe still being written
		}
		bad = append(bad, fmt.Sprintf("%s: %s", filepath.Base(path), problem))
	}
	return bad, nil
}

// zapFooterLen is the footer of a zap segment: its last 4 bytes are the
// CRC-32 (IEEE, big-endian) of every byte before them.
const zapFooterLen = 4 + 4 + 4 + 8 + 8 + 8 + 8 + 8

// verifySegment checks one segment file's CRC; problem says what is wrong.
func verifySegment(path string) (problem string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close() // read only
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if fi.Size() < zapFooterLen {
		return fmt.Sprintf("%d bytes, shorter than a segment's footer", fi.Size()), nil
	}
	h := crc32.NewIEEE()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, fi.Size()-4)); err != nil {
		return "", err
	}
	var tail [4]byte
	if _, err := f.ReadAt(tail[:], fi.Size()-4); err != nil {
		return "", err
	}
	if got, want := h.Sum32(), binary.BigEndian.Uint32(tail[:]); got != want {
		return fmt.Sprintf("CRC-32 %08x, the footer says %08x: the file is damaged", got, want), nil
	}
	return "", nil
}
