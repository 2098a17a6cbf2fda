package kv

import (
	"errors"
	"runtime/debug"
	"sync"
	"time"

	"github.com/cairnkv/cairn/buckets"
	"github.com/cairnkv/cairn/txn"
	bolt "go.etcd.io/bbolt"
)

// committer groups concurrent writes into shared bbolt transactions, so
// that many writers share one fsync (group commit) without any of them
// returning before its change is durable.
//
// It is leader-based: a writer that finds no commit in progress leads,
// writers that arrive while a commit is running queue up, and when it
// ends the first of them commits the whole queue in one transaction.
//
// A lone writer commits at once. When the previous commit was shared,
// though, its writers are about to come back: each returned when that
// commit ended and is preparing its next write. Committing the first of
// them alone would make the others wait out a whole commit (an fsync)
// behind it, so a leader gathers first: it waits until as many writers
// as last time have queued, or a quarter of the last commit's duration
// (at most maxGather) has passed, whichever comes first. Measured with 8
// writers, without gathering two thirds of the commits held one write.
type committer struct {
	db *DB
	mu struct {
		sync.Mutex
		running bool
		queue   []*request
		last    int           // writes in the last commit
		took    time.Duration // how long the last commit took
		ended   time.Time     // when it ended
		arrived chan struct{} // set while a leader gathers: told of each arrival
		// committing counts the batches being committed; idle (on
		// mu) is signalled when it falls to 0. Not a sync.WaitGroup:
		// drain may run while a new commit starts (the search feeder
		// trims the log without db.mu), which a WaitGroup forbids.
		committing int
		idle       *sync.Cond
	}
}

// maxGather bounds how long a leader waits for writers to join its
// commit. A variable for tests.
var maxGather = 500 * time.Microsecond

type request struct {
	fn   func(w *txn.Writer) error
	err  error
	done chan struct{}
	lead chan struct{}
}

// errRetry marks a request that failed after changing the shared
// transaction: the batch is rolled back and run again without it.
type errRetry struct{ r *request }

func (e errRetry) Error() string { return "cairn: retry batch" }

// errNothing rolls back a batch that changed nothing.
var errNothing = errors.New("cairn: nothing to commit")

// run executes fn in a group-committed write transaction and returns
// fn's error, or the commit's.
func (c *committer) run(fn func(w *txn.Writer) error) error {
	r := &request{fn: fn, done: make(chan struct{}), lead: make(chan struct{}, 1)}
	c.mu.Lock()
	c.mu.queue = append(c.mu.queue, r)
	if c.mu.running {
		if c.mu.arrived != nil {
			select {
			case c.mu.arrived <- struct{}{}:
			default:
			}
		}
		c.mu.Unlock()
		select {
		case <-r.done:
			return r.err
		case <-r.lead:
			c.mu.Lock()
		}
	}
	// Leader: gather, then take the whole queue (which holds r).
	c.mu.running = true
	c.gather()
	batch := c.mu.queue
	c.mu.queue = nil
	c.mu.committing++
	c.mu.Unlock()

	start := time.Now()
	c.commitBatch(batch)
	end := time.Now()

	c.mu.Lock()
	if c.mu.committing--; c.mu.committing == 0 && c.mu.idle != nil {
		c.mu.idle.Broadcast()
	}
	// last falls by one per commit rather than to a small batch's size:
	// one straggler's lone commit should not stop the others gathering.
	c.mu.last, c.mu.took, c.mu.ended = max(len(batch), c.mu.last-1), end.Sub(start), end
	if len(c.mu.queue) > 0 {
		c.mu.queue[0].lead <- struct{}{} // hand over leadership; running stays true
	} else {
		c.mu.running = false
	}
	c.mu.Unlock()
	<-r.done
	return r.err
}

// gather waits, with c.mu held on entry and on return, for the writers of
// a shared last commit to queue again (see committer).
func (c *committer) gather() {
	wait := c.gatherFor(time.Now())
	if wait <= 0 {
		return
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	c.mu.arrived = make(chan struct{}, 1)
	defer func() { c.mu.arrived = nil }()
	for len(c.mu.queue) < c.mu.last {
		arrived := c.mu.arrived
		c.mu.Unlock()
		select {
		case <-arrived:
			c.mu.Lock()
		case <-deadline.C:
			c.mu.Lock()
			return
		}
	}
}

// gatherFor says how long a leader taking over at now should wait for
// writers to join it, with c.mu held: not at all after a commit of one
// write, when as many writers as last time have queued already, or when
// the last commit ended longer ago than it took (its writers did
// something else since).
func (c *committer) gatherFor(now time.Time) time.Duration {
	if c.mu.last < 2 || len(c.mu.queue) >= c.mu.last || now.Sub(c.mu.ended) > c.mu.took {
		return 0
	}
	return min(c.mu.took/4, maxGather)
}

// commitBatch runs the requests in one transaction. A request that fails
// without touching the transaction just gets its error; one that fails
// after writing forces a rollback and a rerun of the others without it.
func (c *committer) commitBatch(batch []*request) {
	db := c.db
	for len(batch) > 0 {
		var changes []buckets.Change
		var zeroed []string
		// Guarded as a whole: on a damaged file bbolt's commit (which
		// reads the pages it splits and rebalances) can fault or panic;
		// that is an error for the batch, after bbolt's own deferred
		// rollback, never a crashed or stuck process.
		err := guard(func() error {
			return db.bolt.Update(func(tx *bolt.Tx) error {
				changes, zeroed = nil, nil
				dirty := false
				for _, r := range batch {
					r.err = nil
					w := txn.New(tx, db.schema(), db.opts.Now)
					w.MaxSize = uint64(db.opts.MaxDocumentBytes)
					if err := safeCall(r.fn, w); err != nil {
						if w.Dirty() {
							r.err = err
							return errRetry{r}
						}
						r.err = err
						continue
					}
					changes = append(changes, w.Changes()...)
					zeroed = append(zeroed, w.Zeroed()...)
					dirty = dirty || w.Dirty()
				}
				if !dirty {
					return errNothing // roll back: committing nothing would still rewrite a meta page
				}
				return nil
			})
		})
		if err == errNothing {
			err = nil
		}
		var retry errRetry
		if errors.As(err, &retry) {
			close(retry.r.done)
			rest := batch[:0:0]
			for _, r := range batch {
				if r != retry.r {
					rest = append(rest, r)
				}
			}
			batch = rest
			continue
		}
		for _, r := range batch {
			if err != nil && r.err == nil {
				r.err = err
			}
		}
		if err == nil {
			db.afterCommit(changes, zeroed)
		}
		for _, r := range batch {
			close(r.done)
		}
		return
	}
}

// safeCall runs fn, turning a panic into an error so one bad callback
// cannot leave the other writers of its batch waiting forever.
func safeCall(fn func(w *txn.Writer) error, w *txn.Writer) (err error) {
	old := debug.SetPanicOnFault(true) // a damaged page faults instead of crashing
	defer debug.SetPanicOnFault(old)
	defer func() {
		if p := recover(); p != nil {
			if ge, ok := p.(*buckets.GateError); ok {
				err = ge.Err // a damaged bucket, refused before it was read
			} else if raisedByStore() {
				// bbolt or Cairn reading a damaged page, not the
				// caller's code: damage (exit 3), as a read's is.
				err = &faultError{p}
			} else {
				err = &panicError{v: p, op: "write"}
			}
			w.Poison()
		}
	}()
	return fn(w)
}

// panicError is a panic of the caller's function of Update ("write") or
// View ("read"), returned as an error.
type panicError struct {
	v  any
	op string
}

func (p *panicError) Error() string {
	op := p.op
	if op == "" {
		op = "write"
	}
	return "cairn: " + op + " function panicked: " + anyString(p.v)
}

// drain waits for the commits in progress, if any.
func (c *committer) drain() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.idle == nil {
		c.mu.idle = sync.NewCond(&c.mu.Mutex)
	}
	for c.mu.committing > 0 {
		c.mu.idle.Wait()
	}
}

// afterCommit runs once a transaction is durable: it tells derived data
// (cache, search) what changed and deletes unreferenced blobs.
func (db *DB) afterCommit(changes []buckets.Change, zeroed []string) {
	for _, ch := range changes {
		db.cache.drop(ch.Collection, ch.ID)
	}
	if len(changes) > 0 {
		db.wakeFeed()
		if x := db.searchIndexer(); x != nil {
			x.Notify(changes[len(changes)-1].Seq)
		}
	}
	db.deleteLater(zeroed)
}

// txnWriter is the write-path writer the committer hands to functions.
type txnWriter = txn.Writer
