package replica

import (
	"context"

	"errors"
	"fmt"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/nats-io/nats.go/jetstream"
)

// createStreams creates the group's stream and blob store, or updates
// them when they exist.
func (r *Replica) createStreams(ctx context.Context) error {
	var err error
	r.stream, err = r.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       r.streamName(),
		Subjects:   []string{r.subjectPrefix() + ">", r.metaSubject()},
		Storage:    jetstream.FileStorage,
		Replicas:   r.opts.Replicas,
		Duplicates: 10 * time.Minute,
	})
	if err != nil {
		return fmt.Errorf("replica: stream %s: %w", r.streamName(), err)
	}
	r.blobs, err = r.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: r.streamName() + "_blobs", Storage: jetstream.FileStorage, Replicas: r.opts.Replicas,
	})
	if err != nil {
		return fmt.Errorf("replica: object store %s_blobs: %w", r.streamName(), err)
	}
	return nil
}

// checkStream makes sure the group's stream is the one this store's read
// position counts in. A stream created again (a server restarted without
// its store, a stream deleted and re-created) numbers its messages from 1
// again: read from the old position, it would hide every message up to
// it, and nothing published before would reach a new device. The stream
// is named by its creation time, recorded in the state (a state from
// before that was recorded knows a new stream by a read position past the
// stream's last message). On a new stream the store reads it from its
// start and queues every document it holds again, with the clocks it
// recorded (queueResend); res says so. A stream that is gone is created
// again, with the group's encryption record.
func (r *Replica) checkStream(ctx context.Context, res *Result) error {
	info, err := r.stream.Info(ctx)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if err := r.createStreams(ctx); err != nil {
			return err
		}
		info, err = r.stream.Info(ctx)
	}
	if err != nil {
		return fmt.Errorf("replica: stream info: %w", err)
	}
	id := info.Created.UTC().Format(time.RFC3339Nano)
	st, err := r.readState(ctx)
	if err != nil {
		return err
	}
	if st.Stream == id {
		return nil
	}
	reset := st.Stream != "" || st.Pulled > info.State.LastSeq
	if reset {
		// The encryption record went with the old stream: record it
		// again (or read the one another device recorded) before
		// anything is published.
		if err := r.setupEncryption(ctx); err != nil {
			return err
		}
	}
	if err := r.db.Update(ctx, func(tx *kv.Tx) error {
		st, err := loadState(tx)
		if err != nil {
			return err
		}
		st.Stream = id
		st.Encrypted = st.Encrypted || r.seal != nil
		if reset {
			st.Pulled, st.Seen, st.Resend = 0, nil, true
		}
		return putJSON(tx, stateColl, stateID, st)
	}); err != nil {
		return err
	}
	res.StreamReset = res.StreamReset || reset
	return nil
}

// queueResend queues, when the state asks for it, one message for every
// document sync has recorded: its current fields with the clocks they
// have (a tombstone for a deleted one), so that a new stream holds the
// whole store again. A field a receiver holds with another clock merges
// by clock; what the sender had seen before is not known, so a local
// value it overwrites is kept as a conflict, and one that is later wins
// without one (message.Resent). It returns how many documents it queued.
func (r *Replica) queueResend(ctx context.Context) (int, error) {
	var keys []string
	if err := r.db.View(ctx, func(tx *kv.Tx) error {
		st, err := loadState(tx)
		if err != nil || !st.Resend {
			return err
		}
		return tx.Each(clocksColl, func(id string, _ any) error {
			keys = append(keys, id)
			return nil
		})
	}); err != nil {
		return 0, err
	}
	total := 0
	for first := true; first || len(keys) > 0; first = false {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		chunk := keys[:min(len(keys), pushBatch)]
		keys = keys[len(chunk):]
		n := 0
		if err := r.db.Update(ctx, func(tx *kv.Tx) error {
			n = 0
			st, err := loadState(tx)
			if err != nil || !st.Resend {
				return err
			}
			for _, key := range chunk {
				var rec clocks
				found, err := getJSON(tx, clocksColl, key, &rec)
				if err != nil {
					return err
				}
				if !found {
					continue
				}
				// A local edit not captured yet gets its clocks first.
				if _, err := r.capture(tx, st, rec.Coll, rec.ID, 0); err != nil {
					return err
				}
				ok, err := r.queueDoc(tx, st, rec.Coll, rec.ID)
				if err != nil {
					return err
				}
				if ok {
					n++
				}
			}
			st.Resend = len(keys) > 0
			return putJSON(tx, stateColl, stateID, st)
		}); err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// queueDoc queues the whole recorded state of one document (see
// queueResend); ok is false when there is nothing to queue.
func (r *Replica) queueDoc(tx *kv.Tx, st *state, coll, id string) (ok bool, err error) {
	rec, err := loadClocks(tx, coll, id)
	if err != nil || !rec.found {
		return false, err
	}
	m := &message{Device: st.Device, Inc: st.Inc, Coll: coll, ID: id, Epoch: rec.Epoch, Resent: true}
	if rec.Del != nil {
		m.Del = rec.Del
		for f, lf := range rec.Fields {
			if !lf.Gone {
				if m.Seen == nil {
					m.Seen = map[string]Clock{}
				}
				m.Seen[f] = lf.C
			}
		}
	} else {
		doc, err := readDoc(tx, coll, id)
		if err != nil || doc == nil {
			return false, err
		}
		m.Create = true
		for f, lf := range rec.Fields {
			if m.Fields == nil {
				m.Fields = map[string]fieldMsg{}
			}
			if lf.Gone {
				m.Fields[f] = fieldMsg{Gone: true, C: lf.C, Base: lf.C}
				continue
			}
			m.Fields[f] = fieldMsg{V: doc[f], C: lf.C, Base: lf.C}
		}
		if coll == "attachments" {
			m.Blob, _ = doc["hash"].(string)
		}
	}
	st.OutN++
	m.N = st.OutN
	return true, putJSON(tx, outboxColl, outboxID(m.N), m)
}

// readState reads the store's sync state in a read transaction of its own.
func (r *Replica) readState(ctx context.Context) (*state, error) {
	var st *state
	err := r.db.View(ctx, func(tx *kv.Tx) (err error) {
		st, err = loadState(tx)
		return err
	})
	return st, err
}
