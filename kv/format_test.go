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
// numbers are written as literals) is read as it is, and marked the current version
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
	if v := getFormat(t, dir); v != buckets.FormatVersion {
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
	if v := getFormat(t, dir); v != buckets.FormatVersion {
		t.Fatalf("a writable open left format %d", v)
	}
	setFormat(t, dir, buckets.FormatVersion+1)
	if _, err := kv.Open(dir, &kv.Options{NoSearch: true, ReadOnly: true}); !errors.Is(err, kv.ErrNewerFormat) {
		t.Fatalf("format %d: %v", buckets.FormatVersion+1, err)
	}
}

// TestChanges_version2Entries: a store whose change log holds entries of
// format version 2 (four elements, no fields) is read as it is: the feed
// yields them with Fields nil, beside new entries with their fields.
func TestChanges_version2Entries(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "n", "x": 1.0}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	b, err := bolt.Open(dir+"/"+kv.DataFile, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		old, err := buckets.EncodeValue([]any{"notes", "n", buckets.OpPut, int64(5)})
		if err != nil {
			return err
		}
		if err := tx.Bucket(buckets.SysBucket).Put([]byte("format"), []byte{2}); err != nil {
			return err
		}
		return tx.Bucket(buckets.LogBucket).Put(buckets.LogKey(1), old)
	})
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	db, err = kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Patch(context.Background(), "notes", "n", kv.Document{"x": 2.0}); err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for ch, err := range db.ChangesSoFar(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ch.Fields)
	}
	if len(got) != 2 || got[0] != nil || len(got[1]) != 1 || got[1][0] != "x" {
		t.Fatalf("fields %#v, want nil then [x]", got)
	}
	if rep, err := db.Check(context.Background()); err != nil || !rep.OK {
		t.Fatalf("check: %v %+v", err, rep)
	}
}
