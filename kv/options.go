package kv

import (
	"fmt"
	"log/slog"
	"time"
)

// Options configure Open. A nil *Options, or a zero field, means the
// documented default.
type Options struct {
	// Timeout is how long Open waits for the file lock held by another
	// process before failing with ErrLocked, and how long opening the
	// search index waits for another process that holds it (a search, or
	// a rebuild) before search fails. Default 5s.
	Timeout time.Duration
	// ReadOnly opens an existing store without writing anything to it. It
	// fails with ErrNoStore if there is none.
	ReadOnly bool
	// CacheBytes bounds the LRU cache of decoded documents (validated
	// against the stored record on every hit, dropped on commit) in bytes
	// of Go heap: each entry counts the estimated heap size of its decoded
	// document, not its encoded size. A document enters it the second
	// time it is decoded (or when prefetched), so that reading many
	// documents once fills nothing. Default 64 MiB; negative disables it.
	CacheBytes int64
	// MustExist makes a writable Open fail with ErrNoStore instead of
	// creating a store that does not exist.
	MustExist bool
	// MaxDocumentBytes bounds one document's size as JSON (parts
	// included); a larger write fails with ErrTooLarge and changes nothing.
	// Default 64 MiB.
	MaxDocumentBytes int64
	// Progress, if set, is told about long work during Open (index
	// backfills): a stage name, done and total.
	Progress func(stage string, done, total int)
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
	// NoSearch leaves the full-text index closed: no indexing, and Search
	// fails. For tools and benchmarks that do not need it.
	NoSearch bool
	// EagerSearch opens the full-text index and brings it up to date in
	// the background as soon as the store opens (kvtool does, so that every
	// command leaves derived data current). By default it is opened on the
	// first commit, search or check, so a store opened only to list or read
	// pays nothing for it.
	EagerSearch bool
	// NoAutoBackup turns automatic backups off. By default a writable
	// store takes a verified backup when it opens (ReasonStartup), when it
	// closes (ReasonShutdown) and every BackupInterval while it is open
	// (ReasonHourly), each skipped when nothing changed since the newest
	// verified backup (same change-log sequence and newest change) or
	// nothing was ever written, so an idle store does not pile up
	// identical copies. A failed automatic backup does not fail Open: it is
	// reported to OnBackupError and by BackupStatus; Close returns it.
	// kvtool sets NoAutoBackup and backs up before each risky operation.
	NoAutoBackup bool
	// BackupInterval is the period of automatic backups while the store
	// is open. Default 1h; negative: none (startup and shutdown backups
	// still run unless NoAutoBackup).
	BackupInterval time.Duration
	// BackupPolicy is the rotation applied after each backup (zero fields:
	// keep the newest 10, one a day for 7 days, one a week for 4 weeks).
	BackupPolicy BackupPolicy
	// OnBackupError, if set, is called when an automatic backup fails
	// (from the periodic backup's goroutine, or from Open or Close);
	// BackupStatus reports it too.
	OnBackupError func(error)
	// ChangeLogRetention is how long applied change-log entries are kept
	// before they are trimmed. Default 24h.
	ChangeLogRetention time.Duration
	// Logger receives the store's own log lines (automatic backups, search
	// index rebuilds and failures of background work, each with the store
	// directory) and Bleve's (see search.SetLogger: Bleve's logger is one
	// per process, so the last Open with a Logger wins). Default nil:
	// silent. Errors that matter are returned, never only logged.
	Logger *slog.Logger
	// Indexes are declared at Open (see DB.DeclareIndex), each built from
	// the documents already there if the store does not have it yet, so an
	// application states its indexes once, next to its other options. A
	// store opened ReadOnly uses the indexes it holds and ignores these.
	// An index the store holds and Indexes omits is kept (DropIndex drops).
	Indexes []IndexSpec
}

// DefaultOptions returns a fresh Options holding every default.
func DefaultOptions() *Options {
	return &Options{
		Timeout:            5 * time.Second,
		MaxDocumentBytes:   64 << 20,
		CacheBytes:         64 << 20,
		Now:                time.Now,
		ChangeLogRetention: 24 * time.Hour,
		BackupInterval:     time.Hour,
		Logger:             slog.New(slog.DiscardHandler),
	}
}

func (o *Options) withDefaults() (*Options, error) {
	d := DefaultOptions()
	if o == nil {
		return d, nil
	}
	out := *o
	if out.Timeout < 0 {
		return nil, fmt.Errorf("cairn: Options.Timeout is negative (%v)", out.Timeout)
	}
	if out.Timeout == 0 {
		out.Timeout = d.Timeout
	}
	if out.MaxDocumentBytes < 0 {
		return nil, fmt.Errorf("cairn: Options.MaxDocumentBytes is negative (%d)", out.MaxDocumentBytes)
	}
	if out.MaxDocumentBytes == 0 {
		out.MaxDocumentBytes = d.MaxDocumentBytes
	}
	if out.Now == nil {
		out.Now = d.Now
	}
	if out.CacheBytes == 0 {
		out.CacheBytes = d.CacheBytes
	}
	if out.ChangeLogRetention < 0 {
		return nil, fmt.Errorf("cairn: Options.ChangeLogRetention is negative (%v)", out.ChangeLogRetention)
	}
	if out.BackupInterval == 0 {
		out.BackupInterval = d.BackupInterval
	}
	if out.ChangeLogRetention == 0 {
		out.ChangeLogRetention = d.ChangeLogRetention
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return &out, nil
}
