package search

import (
	"fmt"
	"time"
)

// persistNap is how long Bleve's persister pauses between two persists
// with Options.DeferSync; Durable waits at most about that long.
const persistNap = 500 * time.Millisecond

// Options tune an Index. A nil *Options or a zero field means the documented
// default.
type Options struct {
	// BatchSize is the most documents put in one Bleve batch by Apply.
	// Default 1000.
	BatchSize int

	// BatchBytes is the most extracted text (bytes) put in one Bleve batch
	// by Apply; a batch is cut when either bound is reached. Default 32 MiB.
	BatchBytes int

	// DeferSync makes Apply return once its batch is searchable, before
	// Bleve has written and fsynced it (scorch's "unsafe_batch"): Bleve
	// persists in the background, and DurableApplied tells how far it got.
	// Use it only when the changes can be fed again after a crash, as a
	// store's change log can: LastApplied after reopening is then the last
	// persisted sequence, which may be older than the last Apply. Durable
	// waits for everything applied so far; Close calls it, and
	// CloseUnpersisted drops what is pending instead. A new index is
	// created in the safe mode (its mapping is on disk before Open
	// returns) and only then reopened with DeferSync.
	DeferSync bool

	// LockTimeout is how long Open waits for the index's lock, which one
	// process holds at a time (a search, or a rebuild, in another
	// process), before it returns ErrBusy. Default one second.
	LockTimeout time.Duration
}

// defaultOptions returns a fresh Options holding every default.
func defaultOptions() Options {
	return Options{BatchSize: 1000, BatchBytes: 32 << 20, LockTimeout: lockTimeout}
}

// withDefaults validates o and fills its zero fields.
func (o *Options) withDefaults() (Options, error) {
	d := defaultOptions()
	if o == nil {
		return d, nil
	}
	r := *o
	if r.LockTimeout < 0 {
		return r, fmt.Errorf("cairn: negative LockTimeout in options (%v)", r.LockTimeout)
	}
	if r.LockTimeout == 0 {
		r.LockTimeout = lockTimeout
	}
	if r.BatchSize < 0 || r.BatchBytes < 0 {
		return r, fmt.Errorf("cairn: negative batch bound in options (BatchSize %d, BatchBytes %d)", r.BatchSize, r.BatchBytes)
	}
	if r.BatchSize == 0 {
		r.BatchSize = d.BatchSize
	}
	if r.BatchBytes == 0 {
		r.BatchBytes = d.BatchBytes
	}
	return r, nil
}

// config is the configuration Bleve opens or creates the index with.
func (o Options) config() map[string]any {
	c := map[string]any{
		"bolt_timeout":           o.LockTimeout.String(),
		"eventCallbackName":      guardCallback,
		"scorchMergePlanOptions": mergeOptionsConfig(),
	}
	if o.DeferSync {
		c["unsafe_batch"] = true
		// Persist at most every persistNap: the batches in between are
		// merged in memory and written with one round of fsyncs, which
		// otherwise compete with the store's commits for the disk.
		c["scorchPersisterOptions"] = map[string]any{"persisterNapTimeMSec": int(persistNap / time.Millisecond)}
	}
	return c
}
