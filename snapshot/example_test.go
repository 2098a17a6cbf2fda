package snapshot_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/snapshot"
)

// Take a verified backup of an open store from a read transaction, verify
// it again, list the backups and rotate them.
func ExampleCreate() {
	store, err := os.MkdirTemp("", "cairn-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(store)
	db, err := bolt.Open(filepath.Join(store, "data.db"), 0o600, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	// An empty store; kv writes collections through buckets.

	ctx := context.Background()
	backups := filepath.Join(store, "backups")
	now := time.Date(2026, 11, 26, 1, 2, 3, 0, time.UTC)
	var m snapshot.Manifest
	err = db.View(func(tx *bolt.Tx) error {
		m, err = snapshot.Create(ctx, tx, backups, snapshot.CreateOptions{
			Reason:        snapshot.ReasonManual,
			FormatVersion: buckets.FormatVersion,
			Now:           func() time.Time { return now },
		})
		return err
	})
	if err != nil {
		log.Fatal(err) // a failed backup is an error, never a log line in Cairn itself
	}
	fmt.Println(m.Name, m.Reason, m.Verified)

	if _, problems, err := snapshot.Verify(ctx, backups, m.Name, nil); err != nil {
		log.Fatal(err)
	} else {
		fmt.Println("problems:", len(problems))
	}
	if err := snapshot.CheckFormat(m, buckets.FormatVersion); err != nil {
		log.Fatal(err)
	}

	list, err := snapshot.List(backups)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("backups:", len(list))
	removed, err := snapshot.Prune(backups, snapshot.DefaultPolicy(), now)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("removed:", len(removed))
	// Output:
	// 20261126T010203.000000000Z manual true
	// problems: 0
	// backups: 1
	// removed: 0
}

// Backup names are generated, and validated wherever one comes in.
func ExamplePath() {
	_, err := snapshot.Path("/store/backups", "../data.db")
	fmt.Println(err)
	p, _ := snapshot.Path("/store/backups", "20261126T010203.000000000Z")
	fmt.Println(p)
	// Output:
	// cairn: invalid backup name: "../data.db"
	// /store/backups/20261126T010203.000000000Z.db
}
