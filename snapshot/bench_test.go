package snapshot

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

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

// BenchmarkBackupVsCopy interleaves, in every iteration, the plain copies
// and Create on the same file, so that a busy machine slows all of them
// alike, and reports each one's MB/s and Create's ratio to the faster copy
// (the target is >= 0.8), to the userspace copy (read/write through a
// 1 MiB buffer, fsynced) and to the kernel copy (io.Copy between files:
// copy_file_range on Linux, fsynced). Create runs one pass with a
// counting verifier, one pass with the checksum verifier, and with
// CheckCopy (the second pass over the copy).
func BenchmarkBackupVsCopy(b *testing.B) {
	db := openBenchStore(b, benchMB())
	fi, err := os.Stat(db.Path())
	if err != nil {
		b.Fatal(err)
	}
	size := float64(fi.Size())
	countOnly := func(tx *bolt.Tx) (map[string]int, []buckets.Problem) {
		counts := map[string]int{}
		_ = tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
			counts[string(name)] = bk.Stats().KeyN
			return nil
		})
		return counts, nil
	}
	dir := b.TempDir()
	dst := filepath.Join(dir, "copy.db")
	var kernel, user, plain, checked, twoPass time.Duration
	// CPU time (user+system, this process) is reported too: on a busy
	// machine wall-clock ratios mostly measure the neighbours.
	cpu := map[*time.Duration]time.Duration{}
	timeIt := func(d *time.Duration, f func()) {
		c0 := cpuTime()
		start := time.Now()
		f()
		*d += time.Since(start)
		cpu[d] += cpuTime() - c0
	}
	n := 0
	for b.Loop() {
		n++
		timeIt(&kernel, func() {
			if err := plainCopy(db.Path(), dst, false); err != nil {
				b.Fatal(err)
			}
		})
		timeIt(&user, func() {
			if err := plainCopy(db.Path(), dst, true); err != nil {
				b.Fatal(err)
			}
		})
		for _, c := range []struct {
			d       *time.Duration
			v       Verifier
			twoPass bool
		}{{&plain, countOnly, false}, {&checked, testVerifier, false}, {&twoPass, testVerifier, true}} {
			opts := testOptions(testNow)
			opts.Verify = c.v
			opts.CheckCopy = c.twoPass
			var m Manifest
			timeIt(c.d, func() { m = create(b, db, dir, opts) })
			for _, ext := range []string{".db", ".json"} {
				if err := os.Remove(filepath.Join(dir, m.Name+ext)); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	mbps := func(d time.Duration) float64 { return size * float64(n) / d.Seconds() / 1e6 }
	best := min(kernel, user)
	b.ReportMetric(mbps(kernel), "copy-MB/s")
	b.ReportMetric(mbps(user), "copy-user-MB/s")
	b.ReportMetric(mbps(plain), "create-MB/s")
	b.ReportMetric(mbps(checked), "create-checksums-MB/s")
	b.ReportMetric(best.Seconds()/plain.Seconds(), "create/copy")
	b.ReportMetric(mbps(twoPass), "create-checkcopy-MB/s")
	b.ReportMetric(best.Seconds()/checked.Seconds(), "create-checksums/copy")
	b.ReportMetric(user.Seconds()/checked.Seconds(), "create-checksums/copy-user")
	b.ReportMetric(kernel.Seconds()/checked.Seconds(), "create-checksums/copy-kernel")
	b.ReportMetric(best.Seconds()/twoPass.Seconds(), "create-checkcopy/copy")
	perGB := func(d *time.Duration) float64 { return float64(cpu[d].Milliseconds()) / (size * float64(n) / 1e9) }
	b.ReportMetric(perGB(&user), "copy-user-cpu-ms/GB")
	b.ReportMetric(perGB(&plain), "create-cpu-ms/GB")
	b.ReportMetric(perGB(&checked), "create-checksums-cpu-ms/GB")
}

// cpuTime is the user plus system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWritersDuringBackup measures one writer's commit latency while
// Create runs, against the same writer over as long a time with no backup
// (the store is opened with NoSync, so the figures show locking and
// remapping, not the disk). bbolt must wait for read transactions to end
// before it can grow its mmap, so a backup can stall a writer whose commit
// grows the file: kv should open the store with a generous InitialMmapSize.
func BenchmarkWritersDuringBackup(b *testing.B) {
	db := openBenchStore(b, benchMB())
	dir := b.TempDir()
	var (
		seq     int
		payload = testValue("notes", "x", 1024)
	)
	write := func() time.Duration {
		seq++
		start := time.Now()
		err := db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("notes")).Put([]byte(fmt.Sprintf("w%09d", seq)), payload)
		})
		if err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	// writeFor runs the writer until stop is closed and returns latencies.
	writeFor := func(stop <-chan struct{}) []time.Duration {
		var lat []time.Duration
		for {
			select {
			case <-stop:
				return lat
			default:
				lat = append(lat, write())
			}
		}
	}
	var during, idle []time.Duration
	var backupTime time.Duration
	for b.Loop() {
		stop := make(chan struct{})
		got := make(chan []time.Duration)
		go func() { got <- writeFor(stop) }()
		start := time.Now()
		m := create(b, db, dir, testOptions(testNow.Add(time.Duration(seq))))
		elapsed := time.Since(start)
		backupTime += elapsed
		close(stop)
		during = append(during, <-got...)
		for _, ext := range []string{".db", ".json"} {
			if err := os.Remove(filepath.Join(dir, m.Name+ext)); err != nil {
				b.Fatal(err)
			}
		}
		stop = make(chan struct{})
		go func() { got <- writeFor(stop) }()
		time.Sleep(elapsed)
		close(stop)
		idle = append(idle, <-got...)
	}
	pct := func(lat []time.Duration, p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		s := slices.Clone(lat)
		slices.Sort(s)
		return float64(s[int(p*float64(len(s)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(idle, 0.50), "idle-p50-ms")
	b.ReportMetric(pct(idle, 0.99), "idle-p99-ms")
	b.ReportMetric(pct(during, 0.50), "backup-p50-ms")
	b.ReportMetric(pct(during, 0.99), "backup-p99-ms")
	b.ReportMetric(pct(during, 1), "backup-max-ms")
	b.ReportMetric(pct(idle, 1), "idle-max-ms")
	b.ReportMetric(float64(len(idle))/backupTime.Seconds(), "idle-commits/s")
	b.ReportMetric(float64(len(during))/backupTime.Seconds(), "backup-commits/s")
}
