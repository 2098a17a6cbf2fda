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
	"time"

	"github.com/cairnkv/cairn/buckets"
)

// Verify verifies backup name in dir again, reading every byte: the
// manifest parses and describes it; the data file exists; its size and
// SHA-256 equal the manifest's; its meta pages are sound; it opens
// read-only; bbolt's structural check passes; v (default buckets.VerifyTx)
// finds no problem; and the counts v reads equal the manifest's. It never
// writes.
//
// Problems mean the backup must not be trusted (kvtool exits 3); each
// names the file and what is wrong, and the returned manifest then has
// Verified false. err means Verify could not try: an invalid name
// (ErrInvalidName), no such backup (ErrNotFound: no manifest; a data file
// without one is debris, not a backup), ctx done, or an I/O error.
//
// Verify does not check the format version; call CheckFormat on the
// manifest (ReadManifest) first when the backup is to be restored.
func Verify(ctx context.Context, dir, name string, v Verifier) (Manifest, []buckets.Problem, error) {
	if v == nil {
		v = buckets.VerifyTx
	}
	dbPath, err := Path(dir, name)
	if err != nil {
		return Manifest{}, nil, err
	}
	if err := checkDir(dir); err != nil {
		return Manifest{}, nil, err
	}
	mPath, _ := manifestPath(dir, name) // name is valid
	dbLabel, mLabel := base(dbPath), base(mPath)
	var problems []buckets.Problem
	problem := func(kind, label, format string, args ...any) {
		problems = append(problems, buckets.Problem{Kind: kind, Detail: label + ": " + fmt.Sprintf(format, args...)})
	}

	if fi, err := os.Lstat(mPath); err == nil && !fi.Mode().IsRegular() {
		problem("manifest", mLabel, "not a regular file")
		return failed(Manifest{Name: name}, problems)
	}
	data, err := os.ReadFile(mPath)
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, nil, fmt.Errorf("%w: %s in %s", ErrNotFound, name, dir)
	}
	if err != nil {
		return Manifest{}, nil, fmt.Errorf("cairn: read %s: %w", mLabel, err)
	}
	m, merr := parseManifest(data, name)
	manifestOK := merr == nil
	if !manifestOK {
		problem("manifest", mLabel, "%v", merr)
		m.Name = name
	} else if p := checksumProblem(m); p != "" {
		problem("manifest", mLabel, "%s", p)
	}

	fi, err := os.Lstat(dbPath)
	if errors.Is(err, fs.ErrNotExist) {
		problem("missing", dbLabel, "data file is missing")
		return failed(m, problems)
	}
	if err != nil {
		return m, nil, fmt.Errorf("cairn: stat %s: %w", dbLabel, err)
	}
	if !fi.Mode().IsRegular() {
		// Never follow a symbolic link (or anything else) out of the store.
		problem("not-a-file", dbLabel, "is not a regular file (%v); refusing to read it", fi.Mode().Type())
		return failed(m, problems)
	}
	if manifestOK && fi.Size() != m.Size {
		problem("size", dbLabel, "%d bytes, manifest says %d", fi.Size(), m.Size)
	}
	sum, err := hashFile(ctx, dbPath)
	if err != nil {
		return m, nil, err
	}
	if manifestOK && sum != m.SHA256 {
		problem("sha256", dbLabel, "SHA-256 %s, manifest says %s", sum, m.SHA256)
	}
	counts, fps, err := checkFile(ctx, dbPath, dbLabel, v)
	if err != nil {
		return m, nil, err
	}
	problems = append(problems, fps...)
	if manifestOK && len(fps) == 0 {
		problems = append(problems, countProblems(dbLabel, m.Counts, counts)...)
	}
	if len(problems) > 0 {
		return failed(m, problems)
	}
	m.Verified = true
	m.VerifiedAt = time.Now().UTC()
	return m, nil, nil
}

// failed marks m unverified and returns it with problems.
func failed(m Manifest, problems []buckets.Problem) (Manifest, []buckets.Problem, error) {
	m.Verified = false
	m.VerifiedAt = time.Time{}
	return m, problems, nil
}

// hashFile returns the hex SHA-256 of the file at path, checking ctx as it
// reads.
func hashFile(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cairn: open %s: %w", base(path), err)
	}
	defer func() { _ = f.Close() }() // read-only; a Close error cannot lose data
	h := sha256.New()
	buf := make([]byte, copyBufferSize)
	if _, err := io.CopyBuffer(ctxWriter{ctx: ctx, w: h}, struct{ io.Reader }{f}, buf); err != nil {
		return "", fmt.Errorf("cairn: read %s: %w", base(path), err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// CheckFormat returns an error wrapping ErrNewerFormat if m was written in
// a format newer than maxFormat, the newest this build can read. A restore
// must call it and refuse such a backup.
func CheckFormat(m Manifest, maxFormat int) error {
	if m.FormatVersion > maxFormat {
		return fmt.Errorf("%w: backup %s has format version %d; this version of Cairn reads up to %d, upgrade Cairn to restore it",
			ErrNewerFormat, m.Name, m.FormatVersion, maxFormat)
	}
	return nil
}
