package snapshot

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/internal/fsutil"
)

func TestCreate_roundTrip(t *testing.T) {
	db := openStore(t, testCounts, 200)
	dir := filepath.Join(t.TempDir(), "backups")
	opts := testOptions(testNow)
	opts.Reason = ReasonPreImport
	opts.Seq = 42
	opts.Blobs = []string{"bb", "aa", "bb"}
	m := create(t, db, dir, opts)

	if m.Name != "20261126T010203.123456789Z" || !m.Time.Equal(testNow) {
		t.Errorf("name %s time %s", m.Name, m.Time)
	}
	if !maps.Equal(m.Counts, testCounts) {
		t.Errorf("counts %v, want %v", m.Counts, testCounts)
	}
	if m.Seq != 42 || m.Reason != ReasonPreImport || m.FormatVersion != testFormat || !m.Verified || m.VerifiedAt.IsZero() {
		t.Errorf("manifest %+v", m)
	}
	if !slices.Equal(m.Blobs, []string{"aa", "bb"}) {
		t.Errorf("blobs %v", m.Blobs)
	}
	if got := files(t, dir); !slices.Equal(got, []string{m.Name + ".db", m.Name + ".json"}) {
		t.Errorf("files %v", got)
	}
	for _, p := range []string{dir, filepath.Join(dir, m.Name+".db"), filepath.Join(dir, m.Name+".json")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700 | os.ModeDir
		}
		if fi.Mode() != want {
			t.Errorf("%s mode %v, want %v", p, fi.Mode(), want)
		}
	}

	data, err := os.ReadFile(filepath.Join(dir, m.Name+".db"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if int64(len(data)) != m.Size || hex.EncodeToString(sum[:]) != m.SHA256 {
		t.Errorf("size %d sha %s, manifest %d %s", len(data), hex.EncodeToString(sum[:]), m.Size, m.SHA256)
	}

	got, problems, err := Verify(t.Context(), dir, m.Name, testVerifier)
	if err != nil || len(problems) > 0 {
		t.Fatalf("Verify: %v %v", err, problems)
	}
	if !got.Verified || got.SHA256 != m.SHA256 {
		t.Errorf("Verify manifest %+v", got)
	}
	rm, err := ReadManifest(dir, m.Name)
	if err != nil {
		t.Fatal(err)
	}
	if !rm.Time.Equal(m.Time) || !maps.Equal(rm.Counts, m.Counts) || rm.SHA256 != m.SHA256 || !rm.Verified {
		t.Errorf("ReadManifest %+v, want %+v", rm, m)
	}
	list, err := List(dir)
	if err != nil || len(list) != 1 || list[0].Name != m.Name || !list[0].Verified || list[0].Problem != "" {
		t.Errorf("List %+v %v", list, err)
	}

	// The backup holds the same data: open it as a store.
	bdb, err := bolt.Open(filepath.Join(dir, m.Name+".db"), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = bdb.Close() }()
	err = bdb.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte("notes")).Get([]byte("n000003"))
		if string(v) != string(testValue("notes", "n000003", 200)) {
			return fmt.Errorf("notes n000003 = %q", v)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// openCairnStore opens a store shaped like Cairn's (primary buckets of
// sealed records, written with the buckets package) with n notes whose
// titles are "MARKER <id>".
func openCairnStore(t testing.TB, n int) *bolt.DB {
	t.Helper()
	db := openStore(t, nil, 0)
	err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(buckets.PrimaryBucket("notes"))
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("n%06d", i)
			v, err := buckets.EncodeRecord(&buckets.Record{Rev: uint64(i + 1), Size: 40,
				Doc: map[string]any{"id": id, "title": "MARKER " + id}})
			if err != nil {
				return err
			}
			if err := b.Put([]byte(id), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// buckets.VerifyTx is the default verifier in both directions.
func TestCreate_defaultVerifier(t *testing.T) {
	db := openCairnStore(t, 25)
	dir := t.TempDir()
	opts := testOptions(testNow)
	opts.Verify = nil
	opts.Reason = ""
	opts.Now = nil
	m := create(t, db, dir, opts)
	if m.Reason != ReasonManual || m.Time.IsZero() {
		t.Errorf("defaults not applied: %+v", m)
	}
	if m.Counts["notes"] != 25 {
		t.Errorf("counts %v", m.Counts)
	}
	if _, problems, err := Verify(t.Context(), dir, m.Name, nil); err != nil || len(problems) > 0 {
		t.Fatalf("Verify: %v %v", err, problems)
	}
	if _, problems, err := Verify(t.Context(), dir, m.Name, buckets.VerifyTx); err != nil || len(problems) > 0 {
		t.Fatalf("Verify: %v %v", err, problems)
	}
}

func TestCreate_nameCollision(t *testing.T) {
	db := openStore(t, testCounts, 50)
	dir := t.TempDir()
	a := create(t, db, dir, testOptions(testNow))
	b := create(t, db, dir, testOptions(testNow))
	if a.Name == b.Name || b.Time.Sub(a.Time) != time.Nanosecond {
		t.Errorf("names %s %s", a.Name, b.Name)
	}
	// Debris of the same name also makes the name taken.
	if err := os.WriteFile(filepath.Join(dir, Name(testNow.Add(2))+".db"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := create(t, db, dir, testOptions(testNow))
	if c.Name != Name(testNow.Add(3)) {
		t.Errorf("name %s, want %s", c.Name, Name(testNow.Add(3)))
	}
}

// A backup taken while 4 goroutines commit continuously has the counts of
// its own transaction, matches its manifest and verifies.
func TestCreate_whileWriting(t *testing.T) {
	fileCopies(t, 16<<10) // many chunks, copied while pages are freed and reused
	db := openStore(t, map[string]int{"sessions": 100, "notes": 10}, 300)
	dir := t.TempDir()
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var commits atomic.Int64
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				err := db.Update(func(tx *bolt.Tx) error {
					coll := []string{"sessions", "notes"}[i%2]
					id := fmt.Sprintf("w%d-%06d", w, i)
					b := tx.Bucket([]byte(coll))
					if err := b.Put([]byte(id), testValue(coll, id, 300)); err != nil {
						return err
					}
					if i%3 == 0 { // some deletes, so pages are freed and reused
						c := b.Cursor()
						if k, _ := c.First(); k != nil {
							return b.Delete(k)
						}
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
				commits.Add(1)
			}
		}()
	}
	var ms []Manifest
	for i := 0; i < 3; i++ {
		// Let the writers get going between backups (not a timing
		// assertion: only a wait for progress).
		for start := commits.Load(); commits.Load() < start+20; {
			time.Sleep(time.Millisecond)
		}
		var want map[string]int
		var m Manifest
		err := db.View(func(tx *bolt.Tx) error {
			want, _ = testVerifier(tx)
			var err error
			m, err = Create(t.Context(), tx, dir, testOptions(testNow.Add(time.Duration(i)*time.Minute)))
			return err
		})
		if err != nil {
			t.Fatalf("Create during writes: %v", err)
		}
		if !maps.Equal(m.Counts, want) {
			t.Errorf("manifest counts %v, transaction had %v", m.Counts, want)
		}
		ms = append(ms, m)
	}
	stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("writer: %v", err)
	}
	for _, m := range ms {
		got, problems, err := Verify(t.Context(), dir, m.Name, testVerifier)
		if err != nil || len(problems) > 0 || !got.Verified {
			t.Errorf("Verify %s: %v %v", m.Name, err, problems)
		}
	}
	if err := db.View(func(tx *bolt.Tx) error { return firstCheckError(tx) }); err != nil {
		t.Errorf("source store check: %v", err)
	}
}

func firstCheckError(tx *bolt.Tx) error {
	var first error
	for err := range tx.Check() {
		if first == nil {
			first = err
		}
	}
	return first
}

func TestCreate_invalidOptions(t *testing.T) {
	db := openStore(t, testCounts, 50)
	dir := filepath.Join(t.TempDir(), "b")
	tests := []struct {
		name string
		opts func(o *CreateOptions)
		tx   func(run func(tx *bolt.Tx) error) error
	}{
		{"unknown reason", func(o *CreateOptions) { o.Reason = "whenever" }, db.View},
		{"path-like reason", func(o *CreateOptions) { o.Reason = "../x" }, db.View},
		{"no format version", func(o *CreateOptions) { o.FormatVersion = 0 }, db.View},
		{"writable tx", func(o *CreateOptions) {}, db.Update},
		{"nil tx", func(o *CreateOptions) {}, func(run func(tx *bolt.Tx) error) error { return run(nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions(testNow)
			tt.opts(&opts)
			err := tt.tx(func(tx *bolt.Tx) error {
				_, err := Create(t.Context(), tx, dir, opts)
				return err
			})
			if !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("err %v, want ErrInvalidOptions", err)
			}
			if f := files(t, dir); len(f) > 0 {
				t.Errorf("left files %v", f)
			}
		})
	}
}

// failAfter is a writer that fails like a full disk after n bytes.
type failAfter struct {
	w io.Writer
	n int
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		w, _ := f.w.Write(p[:f.n])
		f.n = 0
		return w, fmt.Errorf("write: %w", syscall.ENOSPC)
	}
	f.n -= len(p)
	return f.w.Write(p)
}

// Every failure returns an error and leaves no file in the directory.
func TestCreate_failures(t *testing.T) {
	db := openStore(t, testCounts, 2000)
	type setup func(t *testing.T, ctx context.Context, dir string, o *CreateOptions) context.Context
	nthCall := func(n int, v Verifier) Verifier {
		var calls atomic.Int32
		return func(tx *bolt.Tx) (map[string]int, []buckets.Problem) {
			if int(calls.Add(1)) == n {
				return v(tx)
			}
			return testVerifier(tx)
		}
	}
	diskFull := func(n int) setup {
		return func(t *testing.T, ctx context.Context, dir string, o *CreateOptions) context.Context {
			o.wrapWriter = func(w io.Writer) io.Writer { return &failAfter{w: w, n: n} }
			return ctx
		}
	}
	// faultOn runs fail at the nth file-system step op (file-to-file
	// copies in chunks of 64 KiB); its error fails the step.
	faultOn := func(op string, nth int32, fail func(cancel context.CancelFunc) error) setup {
		return func(t *testing.T, ctx context.Context, dir string, o *CreateOptions) context.Context {
			fileCopies(t, 64<<10)
			ctx, cancel := context.WithCancel(ctx)
			t.Cleanup(cancel)
			var calls atomic.Int32
			t.Cleanup(fsutil.SetFault(func(step, path string) error {
				if step == op && calls.Add(1) == nth {
					return fail(cancel)
				}
				return nil
			}))
			return ctx
		}
	}
	tests := []struct {
		name string
		set  setup
		want error
	}{
		{"disk full at once", diskFull(0), syscall.ENOSPC},
		{"disk full in meta", diskFull(5000), syscall.ENOSPC},
		{"disk full in data", diskFull(300_000), syscall.ENOSPC},
		{"canceled before", func(t *testing.T, ctx context.Context, dir string, o *CreateOptions) context.Context {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return ctx
		}, context.Canceled},
		{"canceled during copy", func(t *testing.T, ctx context.Context, dir string, o *CreateOptions) context.Context {
			ctx, cancel := context.WithCancel(ctx)
			o.wrapWriter = func(w io.Writer) io.Writer {
				return writerFunc(func(p []byte) (int, error) {
					cancel()
					return w.Write(p)
				})
			}
			return ctx
		}, context.Canceled},
		{"canceled in verifier", func(t *testing.T, ctx context.Context, dir string, o *CreateOptions) context.Context {
			ctx, cancel := context.WithCancel(ctx)
			o.Verify = nthCall(2, func(tx *bolt.Tx) (map[string]int, []buckets.Problem) {
				cancel()
				return testVerifier(tx)
			})
			return ctx
		}, context.Canceled},
		{"source corrupt", func(t *testing.T, ctx context.Context, dir string, o *CreateOptions) context.Context {
			o.Verify = nthCall(1, func(*bolt.Tx) (map[string]int, []buckets.Problem) {
				return nil, []buckets.Problem{{Kind: "checksum", Collection: "notes", ID: "n1", Detail: "bad"}}
			})
			return ctx
		}, ErrVerify},
		{"copy corrupt", func(t *testing.T, ctx context.Context, dir string, o *CreateOptions) context.Context {
			o.Verify = nthCall(2, func(*bolt.Tx) (map[string]int, []buckets.Problem) {
				return nil, []buckets.Problem{{Kind: "checksum", Collection: "notes", ID: "n1", Detail: "bad"}}
			})
			return ctx
		}, ErrVerify},
		{"copy counts differ", func(t *testing.T, ctx context.Context, dir string, o *CreateOptions) context.Context {
			o.Verify = nthCall(2, func(tx *bolt.Tx) (map[string]int, []buckets.Problem) {
				c, _ := testVerifier(tx)
				c["notes"]--
				return c, nil
			})
			return ctx
		}, ErrVerify},
		{"verifier panics", func(t *testing.T, ctx context.Context, dir string, o *CreateOptions) context.Context {
			o.Verify = nthCall(2, func(*bolt.Tx) (map[string]int, []buckets.Problem) { panic("boom") })
			return ctx
		}, ErrVerify},
		{"file-to-file copy fails", faultOn("copy", 3, func(context.CancelFunc) error { return syscall.ENOSPC }), syscall.ENOSPC},
		{"canceled between chunks", faultOn("copy", 2, func(cancel context.CancelFunc) error { cancel(); return nil }), context.Canceled},
		{"copy's sync fails", faultOn("sync", 1, func(context.CancelFunc) error { return syscall.EIO }), syscall.EIO},
		{"copy damaged on the way", func(t *testing.T, ctx context.Context, dir string, o *CreateOptions) context.Context {
			// Flip a bit in every byte written after the meta pages: the
			// hash is of what was written, but the file fails its checks.
			o.wrapWriter = func(w io.Writer) io.Writer {
				seen := 0
				return writerFunc(func(p []byte) (int, error) {
					q := append([]byte(nil), p...)
					for i := range q {
						if seen+i >= 8192 {
							q[i] ^= 0x10
						}
					}
					seen += len(p)
					return w.Write(q)
				})
			}
			return ctx
		}, ErrVerify},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "backups")
			opts := testOptions(testNow)
			opts.CheckCopy = true // the cases that damage the copy need the second pass
			ctx := tt.set(t, t.Context(), dir, &opts)
			err := db.View(func(tx *bolt.Tx) error {
				_, err := Create(ctx, tx, dir, opts)
				return err
			})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if f := files(t, dir); len(f) > 0 {
				t.Errorf("left files %v", f)
			}
			if ms, err := List(dir); err != nil || len(ms) != 0 {
				t.Errorf("List %v %v", ms, err)
			}
		})
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// An unusable backups directory is an error, not a log line.
func TestCreate_unwritableDir(t *testing.T) {
	db := openStore(t, testCounts, 50)
	t.Run("path is a file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "backups")
		if err := os.WriteFile(p, []byte("not a dir"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := createErr(t, db, p, testOptions(testNow)); err == nil {
			t.Fatal("Create into a file succeeded")
		}
		if b, _ := os.ReadFile(p); string(b) != "not a dir" {
			t.Errorf("file changed: %q", b)
		}
	})
	t.Run("parent is a file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := createErr(t, db, filepath.Join(p, "backups"), testOptions(testNow)); err == nil {
			t.Fatal("Create under a file succeeded")
		}
	})
	t.Run("read-only dir", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
		probe := filepath.Join(dir, "probe")
		if err := os.WriteFile(probe, nil, 0o600); err == nil {
			_ = os.Remove(probe)
			t.Skip("permissions do not bite (running as root?); covered by the cases above")
		}
		if err := createErr(t, db, dir, testOptions(testNow)); !errors.Is(err, os.ErrPermission) {
			t.Fatalf("err %v, want permission denied", err)
		}
		if f := files(t, dir); len(f) > 0 {
			t.Errorf("left files %v", f)
		}
	})
}

// A failure at the commit point (here: the manifest written, then its
// directory sync failing) leaves neither file.
func TestCreate_commitFails(t *testing.T) {
	db := openStore(t, testCounts, 50)
	for _, written := range []bool{false, true} {
		t.Run(fmt.Sprintf("manifest written %v", written), func(t *testing.T) {
			dir := t.TempDir()
			commitManifest = func(dir string, m Manifest) error {
				if written {
					if err := writeManifest(dir, m); err != nil {
						return err
					}
				}
				return fmt.Errorf("sync directory: %w", syscall.EIO)
			}
			defer func() { commitManifest = writeManifest }()
			if err := createErr(t, db, dir, testOptions(testNow)); !errors.Is(err, syscall.EIO) {
				t.Fatalf("err %v", err)
			}
			if f := files(t, dir); len(f) > 0 {
				t.Errorf("left files %v", f)
			}
		})
	}
}

// By default Create reads the store once: the verifier runs on the source
// only, the manifest says so, and a copy damaged on its way to the file is
// committed but found by Verify; with CheckCopy the verifier runs on the
// copy too and the manifest says that.
func TestCreate_onePass(t *testing.T) {
	db := openStore(t, testCounts, 200)
	for _, checkCopy := range []bool{false, true} {
		t.Run(fmt.Sprint("CheckCopy=", checkCopy), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "backups")
			var calls atomic.Int32
			opts := testOptions(testNow)
			opts.CheckCopy = checkCopy
			opts.Verify = func(tx *bolt.Tx) (map[string]int, []buckets.Problem) {
				calls.Add(1)
				return testVerifier(tx)
			}
			m := create(t, db, dir, opts)
			want, wantCalls := []string{CheckedSource, CheckedSHA256}, int32(1)
			if checkCopy {
				want, wantCalls = append(want, CheckedCopy), 2
			}
			if !slices.Equal(m.Checked, want) || calls.Load() != wantCalls {
				t.Errorf("checked %v after %d verifier calls, want %v after %d", m.Checked, calls.Load(), want, wantCalls)
			}
			read, err := ReadManifest(dir, m.Name)
			if err != nil || !slices.Equal(read.Checked, want) {
				t.Errorf("stored manifest checked %v, %v", read.Checked, err)
			}
		})
	}
	t.Run("damaged on the way", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "backups")
		opts := testOptions(testNow)
		opts.wrapWriter = func(w io.Writer) io.Writer {
			seen := 0
			return writerFunc(func(p []byte) (int, error) {
				q := append([]byte(nil), p...)
				for i := range q {
					if seen+i >= 8192 {
						q[i] ^= 0x10
					}
				}
				seen += len(p)
				return w.Write(q)
			})
		}
		m := create(t, db, dir, opts)
		_, problems, err := Verify(t.Context(), dir, m.Name, testVerifier)
		if err != nil {
			t.Fatal(err)
		}
		// The SHA-256 is of the bytes in the file, damaged ones too: the
		// checksums and bbolt's structure find the damage.
		if len(problems) == 0 {
			t.Errorf("Verify of a copy damaged on the way found no problem")
		}
	})
	t.Run("damaged after", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "backups")
		m := create(t, db, dir, testOptions(testNow))
		p, _ := Path(dir, m.Name)
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 1)
		at := m.Size - 100 // a data page, not a meta page
		if _, err := f.ReadAt(b, at); err != nil {
			t.Fatal(err)
		}
		b[0] ^= 0x10
		if _, err := f.WriteAt(b, at); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		_, problems, err := Verify(t.Context(), dir, m.Name, testVerifier)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]bool{}
		for _, p := range problems {
			kinds[p.Kind] = true
		}
		if !kinds["sha256"] {
			t.Errorf("Verify of a copy damaged after Create: problems %v, want a sha256 one", problems)
		}
	})
}

// TestCreate_checkPages: with CheckPages, a damaged page graph is a
// "source" VerifyError that leaves nothing in the backups directory, and
// the verifier, whose cursors would loop in it, never runs; a sound graph
// is recorded as checked.
func TestCreate_checkPages(t *testing.T) {
	path, root, ps := pagesFixture(t)
	create := func(t *testing.T, path string) (Manifest, bool, string, error) {
		t.Helper()
		tx := readTx(t, path)
		var verified atomic.Bool
		dir := t.TempDir()
		m, err := Create(context.Background(), tx, dir, CreateOptions{
			CheckPages: true, FormatVersion: 1,
			Verify: func(*bolt.Tx) (map[string]int, []buckets.Problem) {
				verified.Store(true)
				return map[string]int{}, nil
			},
		})
		return m, verified.Load(), dir, err
	}

	m, verified, _, err := create(t, path)
	if err != nil || !verified || !slices.Contains(m.Checked, CheckedPages) {
		t.Fatalf("sound file: %v, verified %v, checked %v", err, verified, m.Checked)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint64(b[int64(root)*ps+pageHeaderSize+8:], root) // the root is its own child
	bad := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, verified, dir, err := create(t, bad)
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Stage != "source" || !strings.Contains(err.Error(), "referenced twice") {
		t.Fatalf("damaged file: %v, want a source VerifyError naming the page referenced twice", err)
	}
	if verified {
		t.Error("the verifier ran on a damaged page graph")
	}
	if des, err := os.ReadDir(dir); err != nil || len(des) != 0 {
		t.Errorf("backups directory after the refusal: %v %v", des, err)
	}
}
