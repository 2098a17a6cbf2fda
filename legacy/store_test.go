package legacy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/docmodel"
	"github.com/cairnkv/cairn/internal/fsutil"
	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
)

func openStore(t *testing.T) *kv.DB {
	t.Helper()
	db, err := kv.Open(t.TempDir(), &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rep, err := db.Check(context.Background())
		if err != nil {
			t.Error(err)
		} else {
			for _, p := range rep.Problems {
				t.Errorf("check: %s", p)
			}
		}
		_ = db.Close()
	})
	return db
}

// wantNothingWritten migrates dir again (a dry run if dry) and fails if
// that would write anything.
func wantNothingWritten(t *testing.T, db *kv.DB, dir string, dry bool, what string) {
	t.Helper()
	res, err := legacy.Migrate(t.Context(), db, dir, nil, dry)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for coll, n := range res.Counts {
		if n != 0 {
			t.Errorf("%s: writes %d %s", what, n, coll)
		}
	}
}

// TestMigrate_everyFixture migrates every era and risk fixture: the store
// checks clean, a backup was taken first, every attachment's bytes hash to
// the hash it records, and a second run writes nothing.
func TestMigrate_everyFixture(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/eras/*")
	risks, _ := filepath.Glob("testdata/risks/*")
	for _, dir := range append(dirs, risks...) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			db := openStore(t)
			res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			if res.Backup == "" {
				t.Fatal("no backup taken before the migration")
			}
			total := 0
			for _, n := range res.Counts {
				total += n
			}
			if total == 0 {
				t.Fatalf("nothing imported from %s", dir)
			}
			err = db.View(context.Background(), func(tx *kv.Tx) error {
				return tx.Each("attachments", func(id string, doc any) error {
					m := doc.(map[string]any)
					h, _ := m["hash"].(string)
					if h == "" {
						return nil
					}
					r, _, err := db.OpenAttachment(context.Background(), id)
					if err != nil {
						t.Errorf("attachment %s: %v", id, err)
						return nil
					}
					defer r.Close()
					sum := sha256.New()
					if _, err := io.Copy(sum, r); err != nil {
						t.Errorf("attachment %s: %v", id, err)
					}
					if got := hex.EncodeToString(sum.Sum(nil)); got != h {
						t.Errorf("attachment %s: bytes hash to %s, document says %s", id, got, h)
					}
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			wantNothingWritten(t, db, dir, false, "a second run")
			wantNothingWritten(t, db, dir, true, "a dry run after the migration")
		})
	}
}

// TestExport_storeRoundTrip: export → import into an empty store →
// export gives the same documents.
func TestExport_storeRoundTrip(t *testing.T) {
	src := openStore(t)
	if _, err := legacy.Migrate(t.Context(), src, "testdata/eras/era-g", nil, false); err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	if err := legacy.ExportFrom(t.Context(), src, &first, false); err != nil {
		t.Fatal(err)
	}
	x, err := legacy.ReadExport(bytes.NewReader(first.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	dst, err := kv.Open(t.TempDir(), &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := legacy.ImportInto(t.Context(), dst, x, false); err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	if err := legacy.ExportFrom(t.Context(), dst, &second, false); err != nil {
		t.Fatal(err)
	}
	a, _ := legacy.ReadExport(bytes.NewReader(first.Bytes()))
	b, _ := legacy.ReadExport(bytes.NewReader(second.Bytes()))
	a.ExportedAt, b.ExportedAt = "", ""
	if !docmodel.SameValue(mustNorm(t, a.Collections), mustNorm(t, b.Collections)) || !docmodel.SameValue(mustNorm(t, a.Settings), mustNorm(t, b.Settings)) ||
		!docmodel.SameValue(mustNorm(t, a.Extras), mustNorm(t, b.Extras)) {
		t.Fatal("export → import → export changed the documents")
	}
}

func mustNorm(t *testing.T, v any) any {
	t.Helper()
	n, err := docmodel.Normalize(v)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMigrate_allOrNothing fails a migration late, while it stores
// attachment contents after every entity batch was written: the store must
// be exactly as before (data.db byte for byte), with no staged copy left.
// A dry run must count what the real run then writes.
func TestMigrate_allOrNothing(t *testing.T) {
	dir := "testdata/eras/era-g"
	db := openStore(t)
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "mine", "content": "written before the migration"}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	failed := ""
	restore := fsutil.SetFault(func(op, path string) error {
		if failed == "" && strings.Contains(filepath.ToSlash(path), "/"+kv.BlobsDir+"/") {
			failed = op + " " + path
			return fsutil.ErrInjected
		}
		return nil
	})
	_, err = legacy.Migrate(t.Context(), db, dir, nil, false)
	restore()
	if !errors.Is(err, fsutil.ErrInjected) {
		t.Fatalf("migration with a failing blob store (%s): %v", failed, err)
	}
	after, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("a failed migration changed data.db")
	}
	if _, err := os.Stat(db.Path() + ".stage"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("staged copy left behind: %v", err)
	}
	dry, err := legacy.Migrate(t.Context(), db, dir, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dry.Counts, res.Counts) || len(res.Counts) == 0 {
		t.Fatalf("dry run counted %v, the migration wrote %v", dry.Counts, res.Counts)
	}
	if _, _, err := db.Get(context.Background(), "notes", "mine"); err != nil {
		t.Fatalf("the user's own note: %v", err)
	}
}

// TestImportFile: the export fixture imports (a dry run counts what the
// real run writes), a second import writes nothing, and what it holds
// besides entities lands in the singletons and extras.
func TestImportFile(t *testing.T) {
	const file = "testdata/export/export-1.0.0.json"
	db := openStore(t)
	dry, err := legacy.ImportFile(t.Context(), db, file, &legacy.ImportOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	var stages []string
	var validated map[string]int
	res, err := legacy.ImportFile(t.Context(), db, file, &legacy.ImportOptions{Progress: func(stage string, done, total int) {
		if len(stages) == 0 || stages[len(stages)-1] != stage {
			stages = append(stages, stage)
		}
	}, Validated: func(counts map[string]int) error {
		validated = counts
		stages = append(stages, "validated")
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Backup == "" || !reflect.DeepEqual(dry.Counts, res.Counts) {
		t.Fatalf("dry run %v, import %v (backup %q)", dry.Counts, res.Counts, res.Backup)
	}
	want := map[string]int{"topics": 1, "companies": 1, "contacts": 1, "notes": 2, "tasks": 1, "sessions": 1, "attachments": 1,
		"settings": 1, "aiSettings": 1, "preferences": 1, "extras": 2}
	if !reflect.DeepEqual(res.Counts, want) {
		t.Fatalf("counts %v, want %v", res.Counts, want)
	}
	if !reflect.DeepEqual(stages, []string{"validate", "validated", "import"}) {
		t.Fatalf("progress stages %v", stages)
	}
	if want := map[string]int{"topics": 1, "companies": 1, "contacts": 1, "notes": 2, "tasks": 1, "sessions": 1, "attachments": 1}; !reflect.DeepEqual(validated, want) {
		t.Fatalf("validated counts %v, want %v", validated, want)
	}
	if doc, _, err := db.Get(context.Background(), "contacts", "ct1"); err != nil || doc["futureField"] == nil {
		t.Fatalf("contact ct1: %v %v (an unknown field must survive)", doc, err)
	}
	again, err := legacy.ImportFile(t.Context(), db, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	for coll, n := range again.Counts {
		if n != 0 {
			t.Errorf("second import wrote %d %s", n, coll)
		}
	}
}

// TestImportFile_allOrNothing: an import whose last document is over the
// store's size limit is refused before anything is written (no backup
// either); one that fails at its very last step (the rename of the staged
// copy), or whose file changes between the validating read and the
// writing one, leaves data.db byte for byte as it was.
func TestImportFile_allOrNothing(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "export.json")
	var b strings.Builder
	b.WriteString(`{"version":"1.0.0","exportedAt":"2025-10-16T08:00:00.000Z","notes":[`)
	for i := range 1000 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"n%04d","content":"note %d"}`, i, i)
	}
	b.WriteString(`],"sessions":[{"id":"big","description":"` + strings.Repeat("x", 64<<10) + `"}]}`)
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := kv.Open(filepath.Join(dir, "store"), &kv.Options{NoSearch: true, MaxDocumentBytes: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "mine", "content": "before"}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	unchanged := func(what string) {
		t.Helper()
		after, err := os.ReadFile(db.Path())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, after) {
			t.Fatalf("%s changed data.db", what)
		}
		if _, err := os.Stat(db.Path() + ".stage"); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s left a staged copy: %v", what, err)
		}
	}
	backups, _ := db.Backups(context.Background())
	if _, err := legacy.ImportFile(t.Context(), db, file, nil); !errors.Is(err, kv.ErrTooLarge) || !strings.Contains(err.Error(), "sessions[0]") {
		t.Fatalf("import with an oversized last document: %v", err)
	}
	unchanged("an import refused in validation")
	if again, _ := db.Backups(context.Background()); len(again) != len(backups) {
		t.Fatal("an import refused in validation took a backup")
	}

	small := strings.Replace(b.String(), strings.Repeat("x", 64<<10), "small", 1)
	if err := os.WriteFile(file, []byte(small), 0o600); err != nil {
		t.Fatal(err)
	}
	// The last step: renaming the staged copy over data.db fails.
	restore := fsutil.SetFault(func(op, path string) error {
		if op == "rename" && filepath.Base(path) == kv.DataFile {
			return fsutil.ErrInjected
		}
		return nil
	})
	_, err = legacy.ImportFile(t.Context(), db, file, nil)
	restore()
	if !errors.Is(err, fsutil.ErrInjected) {
		t.Fatalf("import whose final rename fails: %v", err)
	}
	unchanged("an import failing at its last step")

	touched := false
	_, err = legacy.ImportFile(t.Context(), db, file, &legacy.ImportOptions{Progress: func(stage string, done, total int) {
		if stage == "validate" && done == total && !touched { // between the two reads
			touched = true
			if err := os.WriteFile(file, []byte(strings.Replace(small, "note 999", "note 9!9", 1)), 0o600); err != nil {
				t.Error(err)
			}
		}
	}})
	if err == nil || !strings.Contains(err.Error(), "changed") {
		t.Fatalf("import of a file changed between its reads: %v", err)
	}
	unchanged("an import of a changing file")
}

// TestMigrate_oversized: an entity larger than the store's document limit
// (the old app's monolithic sessions could be) is not lost: the migration
// completes, reports it, and keeps its JSON whole as an attachment.
func TestMigrate_oversized(t *testing.T) {
	db, err := kv.Open(t.TempDir(), &kv.Options{NoSearch: true, MaxDocumentBytes: 300})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := "testdata/eras/era-g"
	ds, _, err := legacy.Scan(t.Context(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for coll, m := range ds.Collections {
		for id, e := range m {
			if db.Validate(coll, e.Doc) == nil {
				continue
			}
			kept++
			var found string
			for _, p := range res.Problems {
				if strings.Contains(p, fmt.Sprintf("%s %q not imported as a document", coll, id)) {
					found = p
				}
			}
			if found == "" {
				t.Fatalf("%s %s is over the limit but not reported: %v", coll, id, res.Problems)
			}
			aid := found[strings.LastIndex(found, "attach get ")+len("attach get ") : len(found)-1]
			r, _, err := db.OpenAttachment(context.Background(), aid)
			if err != nil {
				t.Fatalf("%s %s: attachment %s: %v", coll, id, aid, err)
			}
			b, err := io.ReadAll(r)
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil || got["id"] != id {
				t.Fatalf("%s %s: the kept JSON is not the document: %v %.80s", coll, id, err, b)
			}
		}
	}
	if kept == 0 {
		t.Fatal("no entity of the fixture is over the limit: the test proves nothing")
	}
	rep, err := db.Check(t.Context())
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("check: %v %v", err, rep.Problems)
	}
}

// TestMigrate_damagedBlob: bytes that no longer hash to their recorded
// hash are not lost. With one copy, they are kept as they are and the
// attachment is marked contentDamaged (check then passes); of a truncated
// copy, the readable part is kept; with a damaged copy and an intact one,
// the intact one is used; bytes no file holds leave the attachment marked
// contentMissing (its hash kept as legacyHash) and listed.
func TestMigrate_damagedBlob(t *testing.T) {
	const hash = "5d009e73e23d6262b8c84f4313077831d783a62c5a50aae09b9172132127fdd4"
	dedup := filepath.Join("attachments", "5d", hash+".dat")
	damage := func(b64 []byte) []byte {
		d := append([]byte(nil), b64...)
		i := len(d) / 2
		if d[i] == 'A' {
			d[i] = 'B'
		} else {
			d[i] = 'A'
		}
		return d
	}
	t.Run("truncated", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "app")
		if err := os.CopyFS(dir, os.DirFS("testdata/eras/era-g")); err != nil {
			t.Fatal(err)
		}
		good, err := os.ReadFile(filepath.Join(dir, dedup))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dedup), good[:len(good)/2+1], 0o644); err != nil {
			t.Fatal(err)
		}
		db := openStore(t)
		res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		doc, _, err := db.Get(context.Background(), "attachments", "att-doc")
		if err != nil {
			t.Fatal(err)
		}
		if doc["contentDamaged"] != true || doc["legacyHash"] != hash || !db.HasContent(context.Background(), fmt.Sprint(doc["hash"])) {
			t.Fatalf("the readable half was not kept: %v (problems %v)", doc, res.Problems)
		}
	})
	t.Run("missing", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "app")
		if err := os.CopyFS(dir, os.DirFS("testdata/eras/era-g")); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(dir, dedup)); err != nil {
			t.Fatal(err)
		}
		db := openStore(t) // a reference to absent bytes would fail this check
		res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		doc, _, err := db.Get(context.Background(), "attachments", "att-doc")
		if err != nil {
			t.Fatal(err)
		}
		if doc["hash"] != nil || doc["legacyHash"] != hash || doc["contentMissing"] != true || !slices.Contains(res.WithoutContent, "att-doc") {
			t.Fatalf("missing bytes not marked: %v, without content %v", doc, res.WithoutContent)
		}
	})
	for _, intactSecond := range []bool{false, true} {
		t.Run(fmt.Sprint("intact second copy ", intactSecond), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "app")
			if err := os.CopyFS(dir, os.DirFS("testdata/eras/era-g")); err != nil {
				t.Fatal(err)
			}
			good, err := os.ReadFile(filepath.Join(dir, dedup))
			if err != nil {
				t.Fatal(err)
			}
			if intactSecond {
				// The content-addressed store holds a damaged copy, read first.
				env, err := legacy.EncodeEnvelope(string(damage(good)), legacy.EncodingGzip, 1760600000000, false)
				if err != nil {
					t.Fatal(err)
				}
				cas := filepath.Join(dir, "db", "attachments-ca", "5d", hash)
				if err := os.MkdirAll(cas, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(cas, "data.json"), env, 0o644); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(filepath.Join(dir, dedup), damage(good), 0o644); err != nil {
				t.Fatal(err)
			}
			db := openStore(t) // checks clean at the end
			res, err := legacy.Migrate(t.Context(), db, dir, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			doc, _, err := db.Get(context.Background(), "attachments", "att-doc")
			if err != nil {
				t.Fatal(err)
			}
			if intactSecond {
				if doc["hash"] != hash || doc["contentDamaged"] != nil {
					t.Fatalf("the intact copy was not used: %v (problems %v)", doc, res.Problems)
				}
				return
			}
			if doc["hash"] == hash || doc["legacyHash"] != hash || doc["contentDamaged"] != true {
				t.Fatalf("damaged bytes not kept and marked: %v", doc)
			}
			if !db.HasContent(context.Background(), doc["hash"].(string)) {
				t.Fatal("the damaged bytes are not in the store")
			}
			found := false
			for _, p := range res.Problems {
				found = found || strings.Contains(p, "kept as they are")
			}
			if !found {
				t.Fatalf("not reported: %v", res.Problems)
			}
		})
	}
}

// TestMigrate_damagedFixtures damages copies of every fixture at random
// (bit flips, truncations, garbage: 1 to 4 files each) and migrates them:
// every migration must succeed, leave a store that checks clean, and
// import nothing new when run again. (A throwaway version of this ran 684
// damaged copies through kvtool migrate with the same outcome.)
func TestMigrate_damagedFixtures(t *testing.T) {
	eras, _ := filepath.Glob("testdata/eras/*")
	risks, _ := filepath.Glob("testdata/risks/*")
	rng := rand.New(rand.NewPCG(11, 12))
	variants := 3
	if testing.Short() {
		variants = 1
	}
	for _, fx := range append(eras, risks...) {
		for v := range variants {
			dir := filepath.Join(t.TempDir(), "app")
			if err := os.CopyFS(dir, os.DirFS(fx)); err != nil {
				t.Fatal(err)
			}
			var files []string
			_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					files = append(files, p)
				}
				return nil
			})
			var damaged []string
			for n := 1 + rng.IntN(4); n > 0 && len(files) > 0; n-- {
				p := files[rng.IntN(len(files))]
				b, err := os.ReadFile(p)
				if err != nil || len(b) == 0 {
					continue
				}
				switch rng.IntN(3) {
				case 0:
					for k := 1 + rng.IntN(5); k > 0; k-- {
						b[rng.IntN(len(b))] ^= 1 << rng.IntN(8)
					}
				case 1:
					b = b[:rng.IntN(len(b))]
				default:
					b = make([]byte, rng.IntN(50))
					for i := range b {
						b[i] = byte(rng.IntN(256))
					}
				}
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
				rel, _ := filepath.Rel(dir, p)
				damaged = append(damaged, rel)
			}
			name := fmt.Sprintf("%s#%d %v", filepath.Base(fx), v, damaged)
			db := openStore(t) // checks clean at the end
			if _, err := legacy.Migrate(t.Context(), db, dir, nil, false); err != nil {
				if errors.Is(err, legacy.ErrNoData) {
					continue // every legacy file was destroyed
				}
				t.Fatalf("%s: %v", name, err)
			}
			wantNothingWritten(t, db, dir, false, name+": the second run")
		}
	}
}

// TestMigrate_oversizedDryRun: after a migration that kept oversized
// documents as attachments, a dry run would write nothing.
func TestMigrate_oversizedDryRun(t *testing.T) {
	db, err := kv.Open(t.TempDir(), &kv.Options{NoSearch: true, MaxDocumentBytes: 300})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := legacy.Migrate(t.Context(), db, "testdata/eras/era-g", nil, false); err != nil {
		t.Fatal(err)
	}
	wantNothingWritten(t, db, "testdata/eras/era-g", true, "a dry run after the migration")
}
