package snapshot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"
)

// headBytes and tailBytes bound what NewestVerified reads of a large
// manifest: its head, up to the blob list, and its tail, after it.
const (
	headBytes = 16 << 10
	tailBytes = 4 << 10
)

// The keys around the blob list, as writeManifest indents them (two
// spaces: a top-level key; a collection named "blobs" in counts is
// indented by four).
var (
	blobsKey    = []byte("\n  \"blobs\": ")
	verifiedKey = []byte("\n  \"verified\": ")
)

// NewestVerified returns the newest backup in dir that List would report
// as Verified with no Problem, reading as little as it can: manifests
// newest first, stopping at the first that qualifies, and of a large
// manifest only its head and tail, not its blob list (13 MB at 100,000
// sessions with attachments). ok is false when there is none.
//
// The returned Manifest has no Blobs. Its own checksum is not checked
// when its blob list was skipped (the checksum covers the whole
// manifest): the fields returned are only those a listing shows, parsed
// and checked against the backup's name, and the data file's size is
// checked as List does. It is for the cheap question "has the store
// changed since its newest verified backup"; ReadManifest and Verify are
// for anything that relies on the backup.
func NewestVerified(dir string) (m Manifest, ok bool, err error) {
	if err := checkDir(dir); err != nil {
		return Manifest{}, false, err
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, false, nil
	}
	if err != nil {
		return Manifest{}, false, fmt.Errorf("cairn: list %s: %w", dir, err)
	}
	type cand struct {
		name string
		t    time.Time
	}
	var cs []cand
	for _, e := range entries {
		n, found := strings.CutSuffix(e.Name(), manifestExt)
		if !found || e.IsDir() {
			continue
		}
		if t, err := ParseName(n); err == nil {
			cs = append(cs, cand{n, t})
		}
	}
	// List's order: a manifest's time must equal its name's, or it has a
	// Problem and is skipped here anyway.
	sort.SliceStable(cs, func(i, j int) bool {
		if !cs[i].t.Equal(cs[j].t) {
			return cs[i].t.After(cs[j].t)
		}
		return cs[i].name > cs[j].name
	})
	for _, c := range cs {
		m, err := readHead(dir, c.name)
		if err != nil || !m.Verified {
			continue // damaged or failed: List gives it a Problem
		}
		dp, _ := Path(dir, c.name) // the name parsed
		if fi, err := os.Stat(dp); err != nil || fi.Size() != m.Size {
			continue
		}
		return m, true, nil
	}
	return Manifest{}, false, nil
}

// readHead reads the manifest of backup name without its blob list when
// it is large (see NewestVerified), the whole manifest otherwise.
func readHead(dir, name string) (Manifest, error) {
	mp, err := manifestPath(dir, name)
	if err != nil {
		return Manifest{}, err
	}
	f, err := os.Open(mp)
	if err != nil {
		return Manifest{}, err
	}
	defer func() { _ = f.Close() }() // read-only
	fi, err := f.Stat()
	if err != nil {
		return Manifest{}, err
	}
	if fi.Size() <= headBytes+tailBytes {
		return ReadManifest(dir, name)
	}
	head := make([]byte, headBytes)
	if _, err := io.ReadFull(f, head); err != nil {
		return Manifest{}, err
	}
	tail := make([]byte, tailBytes)
	if _, err := f.ReadAt(tail, fi.Size()-tailBytes); err != nil {
		return Manifest{}, err
	}
	joined, ok := joinHead(head, tail)
	if !ok {
		return ReadManifest(dir, name) // not laid out as writeManifest does
	}
	m, err := parseManifest(joined, name)
	if err != nil {
		return m, fmt.Errorf("cairn: %s: %w", base(mp), err)
	}
	m.Blobs = nil
	return m, nil
}

// joinHead makes a manifest without its blob list from the head of the
// file (up to and including the "blobs" key) and its tail (from the end
// of the blob list on).
func joinHead(head, tail []byte) ([]byte, bool) {
	i := bytes.Index(head, blobsKey)
	if i < 0 {
		return nil, false
	}
	j := bytes.LastIndex(tail, verifiedKey)
	if j < 0 {
		return nil, false
	}
	// The blob list ends with "]," just before the "verified" key.
	end := bytes.LastIndexByte(tail[:j], ']')
	if end < 0 || !bytes.Equal(bytes.TrimSpace(tail[end+1:j]), []byte(",")) {
		return nil, false
	}
	out := make([]byte, 0, i+len(blobsKey)+2+len(tail)-end)
	out = append(out, head[:i+len(blobsKey)]...)
	out = append(out, "[]"...)
	return append(out, tail[end+1:]...), true
}
