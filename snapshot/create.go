package snapshot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/internal/fsutil"
)

// CreateOptions says what Create records and how it verifies. A zero field
// means its documented default.
type CreateOptions struct {
	// Reason is one of the Reason constants. Default ReasonManual.
	Reason string
	// Seq is the change-log sequence the transaction contains (the caller
	// reads it in the same transaction).
	Seq uint64
	// LastChange is the time of the newest change-log entry the
	// transaction contains, zero if none (the caller reads it with Seq).
	LastChange time.Time
	// Blobs are the attachment hashes the snapshot references; stored
	// sorted and without duplicates.
	Blobs []string
	// FormatVersion is the Cairn format version of the data. Required (>= 1).
	FormatVersion int
	// Verify reads every value and counts documents. Default buckets.VerifyTx.
	Verify Verifier
	// Now gives the backup's time (and so its name). Default time.Now.
	Now func() time.Time
	// CheckCopy, when true, reads the copy again after writing it before
	// committing it: bbolt's structural check, Verify on the copy and its
	// counts against the source's (a second pass over the file). By
	// default Create reads the source once: the copy, its SHA-256 and
	// Verify's checksums and counts all come from that one read, and the
	// copy's structure is checked by Verify (the function) or a restore.
	// The manifest's Checked says which was done.
	CheckCopy bool
	// CheckPages, when true, walks the source's page graph from the file
	// (CheckPages) while the copy runs, before the verifier's cursors
	// read it: a damaged graph (a page that is its own child, a freelist
	// listing a page in use) is a "source" VerifyError, where bbolt's
	// cursors would loop for ever or the copy would carry the damage as
	// a verified backup. It reads every branch page and the first page
	// of every leaf (the values only where they hold buckets), beside the
	// copy; kv asks for it on every backup, since without it a cycle
	// sends the verifier's cursors round until the stack overflows (the
	// backup an open takes never returned). Rotation keeps the newest
	// backup whose structure was checked (Prune).
	CheckPages bool

	// wrapWriter, when set (by tests), wraps the writer the snapshot is
	// streamed into, to inject failures such as a full disk.
	wrapWriter func(io.Writer) io.Writer
}

// What Create checked before committing a backup (Manifest.Checked).
const (
	// CheckedSource: Verify read every value of the source transaction,
	// while it was being copied, and found no problem; Counts are its.
	CheckedSource = "source"
	// CheckedSHA256: SHA256 is of the bytes in the file (read back from
	// it once copied), which was fsynced and has the size the
	// transaction has.
	CheckedSHA256 = "sha256"
	// CheckedPages: the source's page graph was walked from the file and
	// found sound (CreateOptions.CheckPages).
	CheckedPages = "pages"
	// CheckedCopy: the copy was read back, passed bbolt's structural
	// check and Verify, with counts equal to the source's
	// (CreateOptions.CheckCopy).
	CheckedCopy = "copy"
)

// withDefaults validates o and fills its defaults.
func (o CreateOptions) withDefaults() (CreateOptions, error) {
	if o.Reason == "" {
		o.Reason = ReasonManual
	}
	if !validReason(o.Reason) {
		return o, fmt.Errorf("%w: unknown backup reason %q", ErrInvalidOptions, o.Reason)
	}
	if o.FormatVersion < 1 {
		return o, fmt.Errorf("%w: FormatVersion %d, must be >= 1", ErrInvalidOptions, o.FormatVersion)
	}
	if o.Verify == nil {
		o.Verify = buckets.VerifyTx
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// copyBufferSize is the buffer of the copies and reads that go through
// user space (restore, Verify's hash), to keep system calls few.
const copyBufferSize = 1 << 20

// Create takes a hot backup of the store tx reads into dir (created with
// mode 0700 if needed) and returns its manifest. tx must be a read-only
// transaction; writers go on while the copy runs. Create is safe to call
// concurrently with writers on the source database but not with another
// Create or Prune on the same dir.
//
// In order: tx is copied into a temporary file in dir (mode 0600), its data
// pages file to file by the kernel where it can (copy_file_range), each
// chunk handed to the disk at once, then fsynced while the chunks are read
// back and hashed, and closed. Meanwhile opts.Verify reads every
// value and the counts in tx (a source that has problems is refused). That
// is one read of the store: the copy is the pages the verified transaction
// sees, and the SHA-256 is of the bytes in the file. With opts.CheckCopy
// the file is then opened read-only and must pass bbolt's structural check
// and opts.Verify, with counts equal to the source's. Only then is it
// renamed to <name>.db and the manifest <name>.json, recording in Checked
// what was checked, durably written beside it. The manifest is the commit
// point. Verify (the function) reads the copy back and checks all of it;
// kv's Restore does so before it trusts a backup.
//
// Any failure returns an error (a *VerifyError, wrapping ErrVerify, for
// problems found) and leaves no file behind. ctx is checked between steps
// and during the copy.
func Create(ctx context.Context, tx *bolt.Tx, dir string, opts CreateOptions) (Manifest, error) {
	if tx == nil || tx.DB() == nil {
		return Manifest{}, fmt.Errorf("%w: no transaction", ErrInvalidOptions)
	}
	if tx.Writable() {
		// WriteTo copies committed pages from the file; a writable
		// transaction's own changes are not there yet.
		return Manifest{}, fmt.Errorf("%w: Create needs a read-only transaction", ErrInvalidOptions)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return Manifest{}, err
	}
	if err := ctx.Err(); err != nil {
		return Manifest{}, fmt.Errorf("cairn: create: %w", err)
	}
	if err := checkDir(dir); err != nil {
		return Manifest{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Manifest{}, fmt.Errorf("cairn: create backups directory: %w", err)
	}

	now := opts.Now().UTC()
	name, err := freeName(dir, now)
	if err != nil {
		return Manifest{}, err
	}
	t, _ := ParseName(name) // freeName only returns valid names

	checked := []string{CheckedSource, CheckedSHA256}
	if opts.CheckPages {
		checked = append(checked, CheckedPages)
	}
	// The page walk and then the verifier read the source while WriteTo
	// copies the same read-only transaction, which reads no page's
	// contents: all three only read it. The verifier's cursors wait for
	// the walk, which a damaged graph would send into a loop; the copy
	// stops when the walk finds damage.
	var (
		counts    map[string]int
		problems  []buckets.Problem
		walkErr   error // the file could not be read
		walkFound bool  // the walk found damage
		done      = make(chan struct{})
	)
	copyCtx, stopCopy := context.WithCancel(ctx)
	defer stopCopy()
	go func() {
		defer close(done)
		if opts.CheckPages {
			pp, err := CheckPages(tx)
			if err != nil || len(pp) > 0 {
				walkErr, walkFound = err, len(pp) > 0
				for _, p := range pp {
					problems = append(problems, buckets.Problem{Kind: "bbolt", Detail: tx.DB().Path() + ": " + p})
				}
				stopCopy()
				return
			}
		}
		counts, problems = runVerifier(opts.Verify, tx)
	}()
	size, sum, tmp, err := writeTemp(copyCtx, tx, dir, name, opts.wrapWriter)
	<-done
	switch {
	case walkErr != nil:
		if err == nil {
			_ = os.Remove(tmp) // the walk's error is the one to report
		}
		return Manifest{}, fmt.Errorf("cairn: create: %w", walkErr)
	case walkFound || (err == nil && len(problems) > 0):
		if err == nil {
			_ = os.Remove(tmp) // the problems are what to report
		}
		err = &VerifyError{Name: name, Stage: "source", Problems: problems}
	}
	if err != nil {
		return Manifest{}, err
	}
	committed := false
	defer func() {
		if !committed {
			_ = os.Remove(tmp) // the error being returned matters more
		}
	}()

	if opts.CheckCopy {
		got, problems, err := checkFile(ctx, tmp, name+dbExt, opts.Verify)
		if err != nil {
			return Manifest{}, fmt.Errorf("cairn: verify new backup %s: %w", name, err)
		}
		if len(problems) > 0 {
			return Manifest{}, &VerifyError{Name: name, Stage: "copy", Problems: problems}
		}
		if ps := countProblems(name+dbExt, counts, got); len(ps) > 0 {
			return Manifest{}, &VerifyError{Name: name, Stage: "counts", Problems: ps}
		}
		checked = append(checked, CheckedCopy)
	}
	if err := ctx.Err(); err != nil {
		return Manifest{}, fmt.Errorf("cairn: create: %w", err)
	}

	m := Manifest{
		Name:          name,
		Time:          t,
		Size:          size,
		SHA256:        sum,
		Counts:        counts,
		Seq:           opts.Seq,
		LastChange:    opts.LastChange,
		FormatVersion: opts.FormatVersion,
		Reason:        opts.Reason,
		Blobs:         sortedUnique(opts.Blobs),
		Verified:      true,
		VerifiedAt:    opts.Now().UTC(),
		Checked:       checked,
	}
	final, _ := Path(dir, name) // name is valid
	if err := fsutil.Rename(tmp, final); err != nil {
		// The rename may have happened before the directory sync failed;
		// freeName made sure final was not there before.
		_ = os.Remove(final) // the rename error is the one to report
		return Manifest{}, fmt.Errorf("cairn: rename new backup into place: %w", err)
	}
	committed = true // tmp is gone; from here the files to remove are final's
	if err := commitManifest(dir, m); err != nil {
		// The manifest may be in place if only the directory sync failed:
		// remove it first, then the data file, so that nothing half-made
		// stays and a crash in between leaves debris, not a backup.
		mp, _ := manifestPath(dir, name)
		_ = os.Remove(mp)    // the write error is the one to report
		_ = os.Remove(final) // likewise
		return Manifest{}, err
	}
	m.Checksum = manifestChecksum(m) // as written, and as List reads it back
	return m, nil
}

// writeTemp streams tx into a new temporary file in dir, fsyncs and closes
// it, and returns its size, hex SHA-256 and path. On error nothing remains.
func writeTemp(ctx context.Context, tx *bolt.Tx, dir, name string, wrap func(io.Writer) io.Writer) (size int64, sum, path string, err error) {
	f, err := fsutil.CreateTemp(dir, tmpPrefix(name)+"*")
	if err != nil {
		return 0, "", "", fmt.Errorf("cairn: create temporary file: %w", err)
	}
	path = f.Name()
	tmp := path // the named result is cleared by an error return
	defer func() {
		if err != nil {
			_ = f.Close() // already failed; the first error is reported
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return 0, "", "", fmt.Errorf("cairn: chmod %s: %w", base(path), err)
	}
	h := sha256.New()
	copier := &fileCopier{ctx: ctx, dst: f, h: h}
	var w io.Writer = copier
	if wrap != nil {
		w = wrap(writerOnly{w}) // through Write only, as the test wants
	}
	rec := &errWriter{w: w}
	n, err := tx.WriteTo(rec)
	if rec.err != nil {
		// bbolt words a meta page's error with %s, losing it, and
		// io.CopyN drops an error that comes with every byte copied (a
		// failed fsync at the end of the copy).
		err = rec.err
	}
	if err != nil {
		return 0, "", "", fmt.Errorf("cairn: write backup %s: %w", name, err)
	}
	if want := tx.Size(); n != want {
		err = fmt.Errorf("cairn: write backup %s: wrote %d bytes, transaction has %d", name, n, want)
		return 0, "", "", err
	}
	if err = fsutil.Sync(f); err != nil {
		return 0, "", "", fmt.Errorf("cairn: sync %s: %w", base(path), err)
	}
	if err = f.Close(); err != nil {
		return 0, "", "", fmt.Errorf("cairn: close %s: %w", base(path), err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, "", "", fmt.Errorf("cairn: stat %s: %w", base(path), err)
	}
	if fi.Size() != n {
		err = fmt.Errorf("cairn: %s is %d bytes after writing %d", base(path), fi.Size(), n)
		return 0, "", "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), path, nil
}

// freeName returns the name for t, bumped by a nanosecond at a time while a
// backup (data file or manifest) of that name exists.
func freeName(dir string, t time.Time) (string, error) {
	for i := 0; i < 1000; i++ {
		name := Name(t)
		free := true
		for _, ext := range []string{dbExt, manifestExt} {
			_, err := os.Lstat(filepath.Join(dir, name+ext))
			if err == nil {
				free = false
			} else if !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("cairn: check name %s: %w", name, err)
			}
		}
		if free {
			return name, nil
		}
		t = t.Add(time.Nanosecond)
	}
	return "", fmt.Errorf("cairn: no free backup name near %s", Name(t))
}

// errWriter remembers the first error of the writer it wraps.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// ReadFrom lets io.Copy reach the wrapped writer's ReadFrom, if it has one.
func (e *errWriter) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(e.w, r)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// ctxWriter fails writes once ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// sortedUnique returns a sorted copy of s without duplicates, never nil.
func sortedUnique(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	j := 0
	for i, v := range out {
		if i == 0 || v != out[j-1] {
			out[j] = v
			j++
		}
	}
	return out[:j]
}

// commitManifest writes the manifest, the commit point; tests replace it to
// inject failures.
var commitManifest = writeManifest
