package kv_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
)

// An application that opens with nil options gets startup, shutdown and
// hourly backups, none of them a copy of an unchanged store (issue 14,
// item 6). The hourly clock is the test's: each send on tick is one hour.
func TestBackup_automatic(t *testing.T) {
	tick := make(chan time.Time)
	defer kv.SetTicker(func(d time.Duration) (<-chan time.Time, func()) {
		if d != time.Hour {
			t.Errorf("default backup interval %v", d)
		}
		return tick, func() {}
	})()
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Add(int64(time.Second))).UTC() }
	dir := t.TempDir()
	open := func() *kv.DB {
		t.Helper()
		db, err := kv.Open(dir, &kv.Options{Now: now, NoSearch: true})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	reasons := func(db *kv.DB) (out []string) {
		t.Helper()
		ms, err := db.Backups(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i := len(ms) - 1; i >= 0; i-- {
			out = append(out, ms[i].Reason)
		}
		return out
	}
	want := func(db *kv.DB, step string, rs ...string) {
		t.Helper()
		got := reasons(db)
		if len(got) != len(rs) {
			t.Fatalf("%s: backups %v, want %v", step, got, rs)
		}
		for i := range rs {
			if got[i] != rs[i] {
				t.Fatalf("%s: backups %v, want %v", step, got, rs)
			}
		}
	}
	put := func(db *kv.DB, id string) {
		t.Helper()
		if _, err := db.Put(context.Background(), "notes", kv.Document{"id": id, "content": id}); err != nil {
			t.Fatal(err)
		}
	}
	hour := func() { tick <- now() } // returns once the previous hour's backup is done

	db := open()
	want(db, "a new, empty store", nil...)
	put(db, "a")
	hour()
	hour() // idle: skipped
	hour()
	want(db, "one change, three hours", kv.ReasonHourly)
	if err := db.Close(); err != nil { // unchanged: skipped
		t.Fatal(err)
	}
	db = open() // unchanged: skipped
	want(db, "reopened", kv.ReasonHourly)
	put(db, "b")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open()
	want(db, "closed after a change", kv.ReasonHourly, kv.ReasonShutdown)
	put(db, "c")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Changed by another opener that takes no backups (kvtool): the next
	// application start backs up.
	other, err := kv.Open(dir, &kv.Options{Now: now, NoSearch: true, NoAutoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	put(other, "d")
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	db = open()
	want(db, "started after another process wrote", kv.ReasonHourly, kv.ReasonShutdown, kv.ReasonShutdown, kv.ReasonStartup)

	// After a restore to an older backup followed by as many changes, the
	// sequence is the same as the newest backup's but the data is not.
	ms, _ := db.Backups(context.Background())
	oldest := ms[len(ms)-1] // holds "a" only, at sequence 1
	if _, _, err := db.Restore(t.Context(), oldest.Name); err != nil {
		t.Fatal(err)
	}
	put(db, "x")
	put(db, "y")
	put(db, "z")
	hour()
	hour()
	got := reasons(db)
	if got[len(got)-1] != kv.ReasonHourly || got[len(got)-2] != kv.ReasonPreRestore {
		t.Fatalf("after a restore and new changes: backups %v", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	st := db.BackupStatus()
	if st.Failures != 0 || st.LastError != "" {
		t.Fatalf("status %+v", st)
	}
}

// Read-only opens and NoAutoBackup take none.
func TestBackup_automaticOff(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir, &kv.Options{NoAutoBackup: true, NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(context.Background(), "notes", kv.Document{"id": "a"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := kv.Open(dir, &kv.Options{ReadOnly: true, NoSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	ms, err := kv.ListBackups(dir)
	if err != nil || len(ms) != 0 {
		t.Fatalf("backups %v %v", ms, err)
	}
}
