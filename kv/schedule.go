package kv

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/snapshot"
	bolt "go.etcd.io/bbolt"
)

// BackupStatus reports the scheduled and explicit backups of this DB.
type BackupStatus struct {
	LastName    string    `json:"last_name,omitempty"` // the newest backup taken by this DB
	LastTime    time.Time `json:"last_time,omitempty"`
	LastError   string    `json:"last_error,omitempty"` // the latest failure, cleared by a success
	LastErrorAt time.Time `json:"last_error_at,omitempty"`
	Failures    int       `json:"failures"` // failures since the last success
}

// BackupStatus returns the state of this DB's backups.
func (db *DB) BackupStatus() BackupStatus {
	db.backups.Lock()
	defer db.backups.Unlock()
	return db.backups.status
}

func (db *DB) noteBackup(m Manifest, err error) {
	db.backups.Lock()
	st := &db.backups.status
	if err != nil {
		st.LastError, st.LastErrorAt = err.Error(), db.opts.Now()
		st.Failures++
	} else {
		st.LastName, st.LastTime, st.LastError, st.Failures = m.Name, m.Time, "", 0
	}
	db.backups.Unlock()
	if err != nil {
		db.log.Error("backup failed", "err", err)
	} else {
		db.log.Info("backup taken", "name", m.Name, "reason", m.Reason)
	}
}

// autoBackup takes an automatic backup unless nothing changed since the
// newest verified one, and reports a failure to OnBackupError.
func (db *DB) autoBackup(reason string) error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.leave()
	if db.unchangedSinceBackup() {
		return nil
	}
	m, err := db.backupLocked(context.Background(), reason)
	db.noteBackup(m, err)
	if err != nil && db.opts.OnBackupError != nil {
		db.opts.OnBackupError(err)
	}
	return err
}

// unchangedSinceBackup reports whether the newest verified backup holds
// the store's current change-log sequence and newest change, or nothing
// was ever written: a backup now would copy what is already kept.
func (db *DB) unchangedSinceBackup() bool {
	var seq uint64
	var last time.Time
	_ = guard(func() error { // a damaged log: the backup that follows says so
		return db.bolt.View(func(tx *bolt.Tx) error {
			seq, last = logState(tx)
			return nil
		})
	})
	if seq == 0 {
		return true
	}
	// Not List: it parses every manifest whole, blob lists included (13
	// MB each at 100,000 sessions), on every open.
	m, ok, err := snapshot.NewestVerified(db.backupsDir())
	if err != nil || !ok {
		return false
	}
	return m.Seq == seq && m.LastChange.Equal(last) && m.FormatVersion == buckets.FormatVersion
}

// newTicker makes the periodic backups' clock; tests replace it.
var newTicker = func(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

func (db *DB) startBackupSchedule() {
	db.backups.stop = make(chan struct{})
	db.backups.done = make(chan struct{})
	tick, stop := newTicker(db.opts.BackupInterval)
	go func() {
		defer close(db.backups.done)
		defer stop()
		for {
			select {
			case <-db.backups.stop:
				return
			case <-tick:
				_ = db.autoBackup(ReasonHourly) // reported to OnBackupError and BackupStatus
			}
		}
	}()
}

func (db *DB) stopBackupSchedule() {
	if db.backups.stop != nil {
		close(db.backups.stop)
		<-db.backups.done
		db.backups.stop = nil
	}
}

// cleanDebris removes what an interrupted restore or compaction left
// beside data.db: neither was renamed into place, so both are stale.
func cleanDebris(path string) {
	for _, suffix := range []string{".restore", ".compact", stageSuffix, metaCheckSuffix} {
		_ = os.Remove(path + suffix) // absent is the normal case
		// The temporary files the durable copy and compaction write first.
		dir, base := filepath.Split(path + suffix)
		tmps, _ := filepath.Glob(filepath.Join(dir, "."+base+".tmp-*"))
		for _, t := range tmps {
			_ = os.Remove(t)
		}
	}
}
