package snapshot

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/cairnkv/cairn/buckets"
)

// benchMB is the size of the benchmark store: CAIRN_BENCH_MB, default 64.
func benchMB() int {
	if n, err := strconv.Atoi(os.Getenv("CAIRN_BENCH_MB")); err == nil && n > 0 {
		return n
	}
	return 64
}

// openBenchStore builds a store of about mb MiB of 1 KiB values.
func openBenchStore(b *testing.B, mb int) *bolt.DB {
	n := mb * 1024 * 9 / 10 // values plus page overhead come to about mb MiB
	return openStore(b, map[string]int{"sessions": n * 8 / 10, "notes": n / 10, "tasks": n / 10}, 1024)
}

// BenchmarkBackup compares, on the same file in the same run: a plain
// durable copy of the store file (kernel copy, and a userspace copy with a
// 1 MiB buffer, each fsynced), Create (copy + hash + fsync + reopen +
// bbolt Check + verifier twice + rename + manifest) with a counting-only
// verifier and with the test checksum verifier, and Verify of the result.
// Throughput is the store file's size per operation.
func BenchmarkBackup(b *testing.B) {
	db := openBenchStore(b, benchMB())
	fi, err := os.Stat(db.Path())
	if err != nil {
		b.Fatal(err)
	}
	size := fi.Size()
	b.Logf("store file %d bytes", size)
	countOnly := func(tx *bolt.Tx) (map[string]int, []buckets.Problem) {
		counts := map[string]int{}
		_ = tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
			counts[string(name)] = bk.Stats().KeyN
			return nil
		})
		return counts, nil
	}

	copyWith := func(b *testing.B, userspace bool) {
		b.SetBytes(size)
		dst := filepath.Join(b.TempDir(), "copy.db")
		for b.Loop() {
			if err := plainCopy(db.Path(), dst, userspace); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("copy", func(b *testing.B) { copyWith(b, false) })
	b.Run("copy-userspace", func(b *testing.B) { copyWith(b, true) })

	createWith := func(b *testing.B, v Verifier) {
		b.SetBytes(size)
		dir := b.TempDir()
		opts := testOptions(testNow)
		opts.Verify = v
		for b.Loop() {
			m := create(b, db, dir, opts)
			b.StopTimer()
			if err := os.Remove(filepath.Join(dir, m.Name+".db")); err != nil {
				b.Fatal(err)
			}
			if err := os.Remove(filepath.Join(dir, m.Name+".json")); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	b.Run("create-countonly", func(b *testing.B) { createWith(b, countOnly) })
	b.Run("create-checksums", func(b *testing.B) { createWith(b, testVerifier) })

	verifyWith := func(b *testing.B, v Verifier) {
		dir := b.TempDir()
		m := create(b, db, dir, testOptions(testNow))
		b.SetBytes(m.Size)
		for b.Loop() {
			_, problems, err := Verify(b.Context(), dir, m.Name, v)
			if err != nil || len(problems) > 0 {
				b.Fatal(err, problems)
			}
		}
	}
	b.Run("verify-countonly", func(b *testing.B) { verifyWith(b, countOnly) })
	b.Run("verify-checksums", func(b *testing.B) { verifyWith(b, testVerifier) })
}

// plainCopy copies src to dst and fsyncs it: the baseline a backup is
// measured against.
func plainCopy(src, dst string, userspace bool) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	var r io.Reader = in
	if userspace {
		r = struct{ io.Reader }{in} // no ReaderFrom/WriterTo fast paths
		_, err = io.CopyBuffer(struct{ io.Writer }{out}, r, make([]byte, copyBufferSize))
	} else {
		_, err = io.Copy(out, in)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	return nil
}
