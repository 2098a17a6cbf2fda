package kv_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/kv"
	bolt "go.etcd.io/bbolt"
)

// setFormat writes the format version byte of the store at dir.
func setFormat(t *testing.T, dir string, v byte) {
	t.Helper()
	b, err := bolt.Open(dir+"/"+kv.DataFile, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Update(func(tx *bolt.Tx) error { return tx.Bucket(buckets.SysBucket).Put([]byte("format"), []byte{v}) }); err != nil {
		t.Fatal(err)
	}
}

func getFormat(t *testing.T, dir string) byte {
	t.Helper()
	b, err := bolt.Open(dir+"/"+kv.DataFile, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var v []byte
	_ = b.View(func(tx *bolt.Tx) error {
		v = append(v, tx.Bucket(buckets.SysBucket).Get([]byte("format"))...)
		return nil
	})
	if len(v) != 1 {
		t.Fatalf("format version %x", v)
	}
	return v[0]
}

// TestOpen_formatVersion: a store of version 1 (issue 15 changed which
// numbers are written as literals) is read as it is, and marked version 2
// on its first writable open; a newer version is refused.
func TestOpen_formatVersion(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "n", "x": 0.5}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if v := getFormat(t, dir); v != 2 {
		t.Fatalf("new store has format %d", v)
	}
	setFormat(t, dir, 1)
	db, err = kv.Open(dir, &kv.Options{NoSearch: true, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if doc, _, err := db.Get(context.Background(), "notes", "n"); err != nil || doc["x"] != 0.5 {
		t.Fatalf("read of a version 1 store: %v %v", doc, err)
	}
	db.Close()
	if v := getFormat(t, dir); v != 1 {
		t.Fatalf("a read-only open changed the format to %d", v)
	}
	db, err = kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if v := getFormat(t, dir); v != 2 {
		t.Fatalf("a writable open left format %d", v)
	}
	setFormat(t, dir, 3)
	if _, err := kv.Open(dir, &kv.Options{NoSearch: true, ReadOnly: true}); !errors.Is(err, kv.ErrNewerFormat) {
		t.Fatalf("format 3: %v", err)
	}
}
