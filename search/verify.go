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

	"github.com/blevesearch/bleve/v2/index/scorch"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// VerifySegments reads every persisted segment of the index's current
// snapshot and checks the CRC-32 its footer holds (zap writes one over the
// whole file, which Bleve never reads back): a flipped byte in postings or
// stored fields, which Bleve would only meet in the middle of a search, is
// found here. It returns one line per damaged file. The segments are those
// of the snapshot Bleve serves, held as for an online copy (Bleve's
// CopyReader) so that none is removed while it is read; a file Bleve is
// writing is not in it yet.
func (ix *Index) VerifySegments(ctx context.Context) (bad []string, err error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.mu.bi == nil {
		return nil, ErrClosed
	}
	defer guard("verify segments", &err)
	adv, err := ix.mu.bi.Advanced()
	if err != nil {
		return nil, fmt.Errorf("cairn: search: verify segments: %w", err)
	}
	sc, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil, nil // not a scorch index: nothing of zap's to check
	}
	cr := sc.CopyReader()
	defer func() {
		if cerr := cr.CloseCopyReader(); cerr != nil && err == nil {
			err = fmt.Errorf("cairn: search: verify segments: %w", cerr)
		}
	}()
	snap, ok := cr.(*scorch.IndexSnapshot)
	if !ok {
		return nil, nil
	}
	for _, ss := range snap.Segments() {
		if err := ctx.Err(); err != nil {
			return bad, err
		}
		ps, ok := ss.Segment().(segment.PersistedSegment)
		if !ok {
			continue // in memory only, not yet a file
		}
		problem, err := verifySegment(ps.Path())
		if errors.Is(err, fs.ErrNotExist) {
			bad = append(bad, fmt.Sprintf("%s: missing", filepath.Base(ps.Path())))
			continue
		}
		if err != nil {
			return bad, fmt.Errorf("cairn: search: verify %s: %w", ps.Path(), err)
		}
		if problem != "" {
			bad = append(bad, fmt.Sprintf("%s: %s", filepath.Base(ps.Path()), problem))
		}
	}
	return bad, nil
}

// zapFooterLen is the footer of a zap segment: its last 4 bytes are the
// CRC-32 (IEEE, big-endian) of every byte before them.
const zapFooterLen = 4 + 4 + 4 + 8 + 8 + 8 + 8 + 8

// verifySegment checks one segment file's CRC; problem says what is wrong.
func verifySegment(path string) (problem string, err error) {
	return verifySegmentUntil(path, nil)
}

// errStopped is verifySegmentUntil's error when stop was closed.
var errStopped = errors.New("cairn: search: segment check stopped")

// verifySegmentUntil is verifySegment, given up with errStopped once stop
// (if not nil) is closed.
func verifySegmentUntil(path string, stop <-chan struct{}) (problem string, err error) {
	f, fi, err := openSegment(path)
	if err != nil {
		return "", err
	}
	defer f.Close() // read only
	if fi.Size() < zapFooterLen {
		return fmt.Sprintf("%d bytes, shorter than a segment's footer", fi.Size()), nil
	}
	h := crc32.NewIEEE()
	var src io.Reader = io.NewSectionReader(f, 0, fi.Size()-4)
	if stop != nil {
		src = stoppable{src, stop}
	}
	if _, err := io.Copy(h, src); err != nil {
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

// stoppable is a reader that fails with errStopped once stop is closed.
type stoppable struct {
	r    io.Reader
	stop <-chan struct{}
}

func (s stoppable) Read(p []byte) (int, error) {
	select {
	case <-s.stop:
		return 0, errStopped
	default:
		return s.r.Read(p)
	}
}

// footerProblem reads the footer of the zap segment at path (versions 16
// and 17, the ones this Bleve writes) and says what in it cannot be true:
// a document count or an offset past the file. It is what Open checks of a
// segment its verified list lets through unread: zap trusts the footer as
// it opens the segment, and Bleve's goroutines then panic where no recover
// reaches (a count of 2^56 documents: "rangeEnd-1 > MaxUint32"), so that
// every command died. It costs one read of the file's last bytes. Other
// versions are left to zap, which refuses them.
func footerProblem(path string) (problem string, err error) {
	f, fi, err := openSegment(path)
	if err != nil {
		return "", err
	}
	defer f.Close() // read only
	size := fi.Size()
	var b [56]byte
	if size < int64(len(b)) {
		return "", nil // verifySegment reads it whole
	}
	if _, err := f.ReadAt(b[:], size-int64(len(b))); err != nil {
		return "", err
	}
	at := func(fromEnd int) uint64 { return binary.BigEndian.Uint64(b[len(b)-fromEnd:]) }
	version := binary.BigEndian.Uint32(b[len(b)-8:])
	var numDocs, stored, body uint64
	var offsets []uint64
	switch version {
	case 17: // ... id, idLen u32, numDocs, stored index, sections index, chunk mode, version, CRC
		idLen := uint64(binary.BigEndian.Uint32(b[len(b)-40:]))
		if idLen > uint64(size)-40 {
			return fmt.Sprintf("footer: writer id of %d bytes in a %d-byte file", idLen, size), nil
		}
		body = uint64(size) - 40 - idLen
		numDocs, stored = at(36), at(28)
		offsets = []uint64{stored, at(20)}
	case 16: // numDocs, stored index, fields index, sections index, doc values, chunk mode, version, CRC
		body = uint64(size) - 52
		numDocs, stored = at(52), at(44)
		offsets = []uint64{stored, at(36), at(28)}
	default:
		return "", nil
	}
	for _, o := range offsets {
		if o > body {
			return fmt.Sprintf("footer: offset %d past the %d bytes before the footer", o, body), nil
		}
	}
	if numDocs > (body-stored)/8 { // the stored index holds 8 bytes a document
		return fmt.Sprintf("footer: %d documents, more than the file can hold", numDocs), nil
	}
	return "", nil
}

// openSegment opens the segment file at path for reading, with its size.
func openSegment(path string) (*os.File, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close() // read only; the Stat error is the one to report
		return nil, nil, err
	}
	return f, fi, nil
}
