package legacy_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/legacy"
)

// Scan an old app-data directory, then look at what was recovered and
// what the report says.
func ExampleScan() {
	ds, rep, err := legacy.Scan(context.Background(), "testdata/risks/stale-backup", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, id := range []string{"n1", "n2"} {
		e := ds.Collections["notes"][id]
		fmt.Println(id, e.Doc["content"], "from", e.Source)
	}
	for _, f := range rep.Fallbacks {
		fmt.Println("fallback:", f.Key, "->", f.Used)
	}
	// Output:
	// n1 recent from db/notes.1760600299900.backup.json
	// n2 recent from db/notes.1760600299900.backup.json
	// fallback: notes -> db/notes.1760600299900.backup.json
}

// Walk a directory too large to hold: each entity is handed over once,
// collection by collection, ids ascending, and let go.
func ExampleWalk() {
	ds, rep, err := legacy.Walk(context.Background(), "testdata/eras/era-g", nil, func(coll, id string, e legacy.Entity) error {
		fmt.Println(coll, id, "from", e.Source)
		return nil // or store e.Doc
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Counts["sessions"], "sessions,", len(ds.Blobs), "blobs")
	// Output:
	// tasks k1 from db/tasks.json
	// sessions g1 from db/sessions/g1/metadata.json
	// sessions g2 from db/tx-temp-1760600100500/sessions/g2/metadata.json
	// sessions old1 from db/sessions.json
	// attachments att-doc from db/attachments.json
	// 3 sessions, 2 blobs
}

// Write an export file the old app can import, then read it back.
func ExampleWriteExport() {
	notes := []map[string]any{{"id": "n1", "content": "hello"}}
	var b strings.Builder
	err := legacy.WriteExport(&b, legacy.ExportSource{
		Notes:      legacy.SliceDocs(notes),
		ExportedAt: time.Date(2025, 10, 16, 0, 0, 0, 0, time.UTC),
		Compact:    true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.String())
	x, err := legacy.ReadExport(strings.NewReader(b.String()))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(x.Version, len(x.Collections["notes"]), x.Collections["notes"][0]["content"])

	_, err = legacy.ReadExport(strings.NewReader(`{"version":"1.0.0","exportedAt":"x","sessions":[{"name":"no id"}]}`))
	fmt.Fprintln(os.Stdout, err)
	// Output:
	// {"topics":[],"companies":[],"contacts":[],"notes":[{"content":"hello","id":"n1"}],"tasks":[],"sessions":[],"aiSettings":null,"preferences":null,"exportedAt":"2025-10-16T00:00:00.000Z","version":"1.0.0","appVersion":"0.5.1"}
	// 1.0.0 1 hello
	// legacy: export: sessions[0].id: missing (byte 48)
}

// Migrate an old app's directory into a store, then merge an export file:
// both are all or nothing, and a second run writes nothing new.
func ExampleMigrate() {
	dir, _ := os.MkdirTemp("", "cairn-example")
	defer os.RemoveAll(dir)
	db, err := kv.Open(dir, &kv.Options{NoSearch: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	res, err := legacy.Migrate(context.Background(), db, "testdata/eras/era-g", nil, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("migrated sessions:", res.Counts["sessions"], "backup first:", res.Backup != "")

	imp, err := legacy.ImportFile(context.Background(), db, "testdata/export/export-1.0.0.json", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("imported notes:", imp.Counts["notes"])
	again, _ := legacy.ImportFile(context.Background(), db, "testdata/export/export-1.0.0.json", nil)
	fmt.Println("second import, notes written:", again.Counts["notes"])
	// Output:
	// migrated sessions: 3 backup first: true
	// imported notes: 2
	// second import, notes written: 0
}
