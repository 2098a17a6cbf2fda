package kv

import (
	"context"
	"os"
	"path/filepath"
	"time"
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
}

func (db *DB) startBackupSchedule() {
	db.backups.stop = make(chan struct{})
	db.backups.done = make(chan struct{})
	go func() {
		defer close(db.backups.done)
		t := time.NewTicker(db.opts.BackupInterval)
		defer t.Stop()
		for {
			select {
			case <-db.backups.stop:
				return
			case <-t.C:
				if _, err := db.Backup(context.Background(), ReasonHourly); err != nil && err != ErrClosed && db.opts.OnBackupError != nil {
					db.opts.OnBackupError(err)
				}
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
	for _, suffix := range []string{".restore", ".compact", stageSuffix} {
		_ = os.Remove(path + suffix) // absent is the normal case
		// The temporary files the durable copy and compaction write first.
		dir, base := filepath.Split(path + suffix)
		tmps, _ := filepath.Glob(filepath.Join(dir, "."+base+".tmp-*"))
		for _, t := range tmps {
			_ = os.Remove(t)
		}
	}
}
