package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// backup measures a verified hot backup of the working copy against a
// plain copy of its data.db (read, write, fsync) in the same run,
// alternating which goes first.
func (b *bench) backup(ctx context.Context) (err error) {
	db, err := b.openWork(true)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	bk := &Result{Name: "backup/throughput", Title: "verified hot backup (one read: write, fsync, SHA-256, every checksum)", Unit: "MB/s", HigherBetter: true}
	cp := &Result{Name: "backup/copy", Title: "  plain copy of data.db (copy_file_range, fsync)", Unit: "MB/s", HigherBetter: true}
	cu := &Result{Name: "backup/copy-user", Title: "  copy of data.db through user space (read, write 1 MiB, fsync)", Unit: "MB/s", HigherBetter: true}
	ratioUser := &Result{Name: "backup/ratio-user", Title: "  backup / copy through user space", Unit: "x", HigherBetter: true,
		Targets: []Target{{Source: "#18", Op: ">=", Value: 0.8}}}
	vf := &Result{Name: "backup/verify", Title: "  re-verify that backup (VerifyBackup: every byte, every checksum)", Unit: "MB/s", HigherBetter: true,
		Targets: []Target{{Source: "#5", Op: ">=", Value: 200}}}
	ratio := &Result{Name: "backup/ratio", Title: "  backup / copy", Unit: "x", HigherBetter: true,
		Targets: []Target{{Source: "#5", Op: ">=", Value: 0.8}}}
	var size int64
	for r := range b.cfg.Runs {
		doBackup := func() (float64, error) {
			t := time.Now()
			m, err := db.Backup(ctx, kv.ReasonManual)
			if err != nil {
				return 0, err
			}
			el := time.Since(t)
			size = m.Size
			t = time.Now()
			_, probs, err := db.VerifyBackup(ctx, m.Name)
			if err == nil && len(probs) > 0 {
				err = fmt.Errorf("backup %s: %d problems: %v", m.Name, len(probs), probs[0])
			}
			if err != nil {
				return 0, err
			}
			vf.Runs = append(vf.Runs, mb(m.Size)/time.Since(t).Seconds())
			// Deleted like the copies, so that no Backup in these runs
			// prunes an older one (a delete whose discards slow the
			// next step).
			for _, ext := range []string{".db", ".json"} {
				if err := os.Remove(filepath.Join(b.st, kv.BackupsDir, m.Name+ext)); err != nil {
					return 0, err
				}
			}
			return mb(m.Size) / el.Seconds(), nil
		}
		doCopy := func(user bool) func() (float64, error) {
			return func() (float64, error) {
				dst := filepath.Join(b.work, fmt.Sprintf("copy-%d.db", r))
				t := time.Now()
				var n int64
				var err error
				if user {
					n, err = copyFileUser(db.Path(), dst)
				} else {
					n, err = copyFile(db.Path(), dst, true)
				}
				el := time.Since(t)
				if rerr := os.Remove(dst); err == nil {
					err = rerr
				}
				return mb(n) / el.Seconds(), err
			}
		}
		var vb, vc, vu float64
		steps := []struct {
			v *float64
			f func() (float64, error)
		}{{&vb, doBackup}, {&vc, doCopy(false)}, {&vu, doCopy(true)}}
		if r%2 == 1 {
			steps[0], steps[2] = steps[2], steps[0]
		}
		for _, s := range steps {
			settle()
			if *s.v, err = s.f(); err != nil {
				return err
			}
		}
		bk.Runs = append(bk.Runs, vb)
		cp.Runs = append(cp.Runs, vc)
		cu.Runs = append(cu.Runs, vu)
		ratio.Runs = append(ratio.Runs, vb/vc)
		ratioUser.Runs = append(ratioUser.Runs, vb/vu)
	}
	bk.Note = fmt.Sprintf("%s backup file; Backup verifies before it returns", humanBytes(size))
	cp.Note = "page cache warm for both"
	b.add(bk)
	b.add(cp)
	b.add(ratio)
	b.add(cu)
	b.add(ratioUser)
	b.add(vf)
	return nil
}

// migrate measures the migration of a generated legacy directory (era G
// plus older layouts and damage, see WriteLegacyDir)
// with the same entities into a new store, in a fresh process each run
// (peak RSS is that process's VmHWM). At most 3 runs: it is the slowest
// measurement.
func (b *bench) migrate(ctx context.Context) error {
	dir, err := ensureLegacy(ctx, b.cfg, b.g, fingerprint(b.g))
	if err != nil {
		return err
	}
	tm := &Result{Name: "migrate/time", Title: "migrate a legacy directory (era-G chunked sessions plus older layouts and damage) into a new store", Unit: "s"}
	hwm := &Result{Name: "migrate/peak-rss", Title: "  peak RSS of the migrating process (VmHWM, the mapped store file included)", Unit: "MB"}
	anon := &Result{Name: "migrate/peak-anon", Title: "  peak anonymous memory (RssAnon sampled every 50 ms: heap, not the mapped file)", Unit: "MB"}
	file := &Result{Name: "migrate/peak-file", Title: "  peak file-backed resident memory (RssFile sampled every 50 ms: the mapped store, page cache)", Unit: "MB"}
	ratio := &Result{Name: "migrate/size-ratio", Title: "  resulting store (data.db + blobs) / legacy directory size", Unit: "x"}
	cpu := &Result{Name: "migrate/cpu", Title: "  CPU time of the migrating process (user + system; whole process, opening and closing the store included)", Unit: "s"}
	runs := min(b.cfg.Runs, 3)
	var count int
	size := dirSize(dir)
	for r := range runs {
		st := filepath.Join(b.work, fmt.Sprintf("migrate-%d", r))
		res, _, err := runChild(ctx, b.cfg.Exe, "migrate", "--dir", st, "--legacy", dir, "--nosearch")
		if err == nil && size > 0 {
			// The store without its backups: the pre-migrate backup is of
			// the empty store, but rotation keeps it.
			ratio.Runs = append(ratio.Runs, float64(dirSize(filepath.Join(st, kv.DataFile))+dirSize(filepath.Join(st, kv.BlobsDir)))/float64(size))
		}
		if rerr := os.RemoveAll(st); err == nil {
			err = rerr
		}
		if err != nil {
			return err
		}
		count = res.Count
		tm.Runs = append(tm.Runs, res.WorkMs/1000)
		hwm.Runs = append(hwm.Runs, mb(res.HWMBytes))
		anon.Runs = append(anon.Runs, mb(res.AnonBytes))
		file.Runs = append(file.Runs, mb(res.FileBytes))
		cpu.Runs = append(cpu.Runs, res.CPUMs/1000)
	}
	tm.Note = fmt.Sprintf("%d entities from %s of envelopes; %d runs; verified backup first; search off", count, humanBytes(size), runs)
	b.add(tm)
	b.add(hwm)
	b.add(anon)
	b.add(file)
	b.add(ratio)
	b.add(cpu)
	return nil
}

// copyFileUser copies src to dst through a 1 MiB buffer in user space
// (read, write; no copy_file_range) and fsyncs it, the baseline issue 18
// measures a backup against.
func copyFileUser(src, dst string) (n int64, err error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	// The wrappers hide ReaderFrom/WriterTo, so io.CopyBuffer reads and writes.
	n, err = io.CopyBuffer(struct{ io.Writer }{out}, struct{ io.Reader }{in}, make([]byte, 1<<20))
	if err == nil {
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
