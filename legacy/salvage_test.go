package legacy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
)

// flipValue flips a byte in the middle of every copy of marker in the
// closed store dir's data.db (stale copies on free pages included).
func flipValue(t *testing.T, dir, marker string) {
	t.Helper()
	path := filepath.Join(dir, kv.DataFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := bytes.Index(b, []byte(marker)); i >= 0; i = bytes.Index(b, []byte(marker)) {
		b[i+len(marker)/2] ^= 0x01
		n++
	}
	if n == 0 {
		t.Fatal("marker not found in data.db")
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSalvageExport: ExportFrom refuses a store holding a damaged document
// before writing a byte, naming it; SalvageExport writes every readable
// document (a damaged singleton and extras value left out too), returns
// the damaged ones, and its file imports into a new store.
func TestSalvageExport(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 60)
	_, _ = rand.Read(raw)
	marker := hex.EncodeToString(raw)
	err = db.Update(context.Background(), func(tx *kv.Tx) error {
		for _, d := range []struct {
			coll string
			doc  kv.Document
		}{
			{"notes", kv.Document{"id": "lost", "content": "x", "payload": marker + "1"}},
			{"notes", kv.Document{"id": "kept", "content": "still here"}},
			{"sessions", kv.Document{"id": "s1", "name": "n", "screenshots": []any{kv.Document{"p": marker + "2"}}}},
			{"preferences", kv.Document{"theme": marker + "3"}},
		} {
			if _, err := tx.Put(d.coll, d.doc); err != nil {
				return err
			}
		}
		_, err := tx.PutValue("extras", "job", kv.Document{"v": marker + "4"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		flipValue(t, dir, marker+string(rune('0'+i)))
	}
	db, err = kv.Open(dir, &kv.Options{NoSearch: true, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var out bytes.Buffer
	err = legacy.ExportFrom(t.Context(), db, &out, false)
	if !errors.Is(err, kv.ErrCorrupt) || !strings.Contains(err.Error(), `notes "lost"`) {
		t.Fatalf("export of a damaged store: %v", err)
	}
	if out.Len() != 0 {
		t.Fatalf("export of a damaged store wrote %d bytes", out.Len())
	}

	damaged, err := legacy.SalvageExport(t.Context(), db, &out, false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range damaged {
		names = append(names, p.Collection+"/"+p.ID)
	}
	sort.Strings(names)
	if strings.Join(names, " ") != "extras/job notes/lost preferences/preferences sessions/s1" {
		t.Errorf("damaged: %v", names)
	}
	x, err := legacy.ReadExport(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatalf("the salvaged file does not read back: %v", err)
	}
	if n := len(x.Collections["notes"]); n != 1 || x.Collections["notes"][0]["id"] != "kept" {
		t.Errorf("salvaged notes: %v", x.Collections["notes"])
	}
	if len(x.Collections["sessions"]) != 0 || x.Preferences != nil {
		t.Errorf("damaged documents were written: sessions %v, preferences %v", x.Collections["sessions"], x.Preferences)
	}
	dst, err := kv.Open(t.TempDir(), &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := legacy.ImportInto(t.Context(), dst, x, false); err != nil {
		t.Fatal(err)
	}
	if doc, _, err := dst.Get(context.Background(), "notes", "kept"); err != nil || doc["content"] != "still here" {
		t.Errorf("imported salvage: %v, %v", doc, err)
	}
}
