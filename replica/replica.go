package replica

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options configure a Replica. The zero value is valid.
type Options struct {
	// Group names the set of stores that sync with each other (default
	// "default"). It must be the same on every device of the set.
	Group string
	// Device names this store in the group (default: the name recorded
	// in the store, or a random one on the first sync). A store keeps the
	// device name it first synced with; a different one is an error.
	Device string
	// Replicas is the JetStream replication of the streams this Replica
	// creates (default 1; 3 on a 3-node cluster).
	Replicas int
	// Now is the wall clock (default time.Now).
	Now func() time.Time
	// Passphrase, when set, encrypts the group end to end: change
	// messages and attachment contents are sealed with a key derived
	// from it (Argon2id, once per process; XChaCha20-Poly1305 per message
	// with a random nonce), so the server sees only ciphertext. The first
	// device of a group decides whether it is encrypted; a device without
	// the passphrase, or with a wrong one, gets ErrDecrypt and applies
	// nothing, and a device with a passphrase in a group that is not
	// encrypted gets ErrEncryptionMismatch.
	Passphrase string
}

// Result counts what one Sync did.
type Result struct {
	Pushed    int `json:"pushed"`    // messages published
	Pulled    int `json:"pulled"`    // messages from other devices applied
	Conflicts int `json:"conflicts"` // conflicts recorded
	// Missed counts the messages of other devices that the stream no
	// longer held when this device came to read them (purged, or past
	// the stream's limits): their changes are missing here. It counts
	// the gaps in a device's message numbers, and every message before
	// the stream's first when that is past the last one read (own
	// messages included: an upper bound; the group's first encryption
	// record, which precedes every change, is not counted).
	Missed int `json:"missed,omitempty"`
	// StreamReset is set when the group's stream was not the one this
	// store last synced with (the server lost its store, or the stream
	// was deleted and created again): the store read the new stream from
	// its start, and published again every document it holds (Resent
	// counts them), so that nothing it had is lost to the group.
	StreamReset bool `json:"stream_reset,omitempty"`
	Resent      int  `json:"resent,omitempty"`
}

// Replica syncs one store with its group through a NATS connection. It is
// safe for concurrent use; syncs run one at a time.
type Replica struct {
	db     *kv.DB
	nc     *nats.Conn
	js     jetstream.JetStream
	opts   Options
	device string
	stream jetstream.Stream
	blobs  jetstream.ObjectStore
	seal   *sealer // nil: the group is not encrypted
	mu     sync.Mutex
}

func (r *Replica) now() time.Time { return r.opts.Now() }

// validName checks a group or device name.
func validName(what, s string) error {
	ok := len(s) >= 1 && len(s) <= 64
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	if !ok {
		return fmt.Errorf("%w: %s %q must be 1 to 64 characters of [A-Za-z0-9_-]", ErrInvalidName, what, s)
	}
	return nil
}

// CheckNames returns ErrInvalidName when group or device is not a valid
// name (either may be empty: the default), touching neither a store nor
// the network: a command can refuse a bad name before it opens anything.
func CheckNames(group, device string) error {
	if group != "" {
		if err := validName("group", group); err != nil {
			return err
		}
	}
	if device != "" {
		return validName("device", device)
	}
	return nil
}

// New prepares db to sync through nc: it creates the group's stream and
// blob store if needed and, once the group's encryption matches this
// device's, records the device name and group in the store (a refused New
// records nothing).
func New(ctx context.Context, db *kv.DB, nc *nats.Conn, opts *Options) (*Replica, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.Group == "" {
		o.Group = "default"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if err := validName("group", o.Group); err != nil {
		return nil, err
	}
	if o.Device != "" {
		if err := validName("device", o.Device); err != nil {
			return nil, err
		}
	}
	r := &Replica{db: db, nc: nc, opts: o}
	var err error
	if r.js, err = jetstream.New(nc); err != nil {
		return nil, err
	}
	if err := r.createStreams(ctx); err != nil {
		return nil, err
	}
	// A device name given to a store without sync state must be new to
	// the stream: reusing one would restart its message numbers (which
	// JetStream drops as duplicates) and its clocks.
	taken := false
	if o.Device != "" {
		if _, err := r.stream.GetLastMsgForSubject(ctx, r.subjectPrefix()+o.Device); err == nil {
			taken = true
		} else if !errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil, fmt.Errorf("replica: stream %s: %w", r.streamName(), err)
		}
	}
	// The device name: the one recorded, else the one given, else random.
	// It is checked first, and recorded only once the group has accepted
	// this device (its encryption matches): a refused sync leaves the
	// store free to sync in another group, or as another device.
	bind := func(tx *kv.Tx) (st *state, isNew bool, err error) {
		if st, err = loadState(tx); err != nil {
			return nil, false, err
		}
		switch {
		case st.Device != "" && o.Device != "" && st.Device != o.Device:
			return nil, false, fmt.Errorf("%w: this store syncs as device %q, not %q", ErrInvalidName, st.Device, o.Device)
		case st.Device != "" && st.Group != o.Group:
			return nil, false, fmt.Errorf("%w: this store syncs in group %q, not %q", ErrInvalidName, st.Group, o.Group)
		case st.Device != "":
			return st, false, nil
		case o.Device != "":
			if taken {
				return nil, false, fmt.Errorf("%w: device %q already has changes on stream %s, and this store has no sync state (a new store, or one restored from an export): sync it as a new device (another --device, or none for a random one)", ErrInvalidName, o.Device, r.streamName())
			}
			st.Device = o.Device
		default:
			var b [6]byte
			_, _ = rand.Read(b[:])
			st.Device = "d-" + hex.EncodeToString(b[:])
		}
		st.Group = o.Group
		return st, true, nil
	}
	if err := db.View(ctx, func(tx *kv.Tx) error {
		_, _, err := bind(tx)
		return err
	}); err != nil {
		return nil, err
	}
	if err := r.setupEncryption(ctx); err != nil {
		return nil, err
	}
	err = db.Update(ctx, func(tx *kv.Tx) error {
		st, isNew, err := bind(tx)
		if err != nil {
			return err
		}
		r.device = st.Device
		if !isNew && (r.seal == nil || st.Encrypted) {
			return nil
		}
		st.Encrypted = st.Encrypted || r.seal != nil
		return putJSON(tx, stateColl, stateID, st)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Device returns the device name this store syncs as.
func (r *Replica) Device() string { return r.device }

func (r *Replica) streamName() string    { return "CAIRN_" + r.opts.Group }
func (r *Replica) subjectPrefix() string { return "cairn." + r.opts.Group + ".ch." }

// Sync pushes the local changes, pulls the other devices' and pushes
// again what pulling captured, and returns when both directions are
// caught up with what the stream held when it started.
func (r *Replica) Sync(ctx context.Context) (Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var res Result
	if err := r.checkStream(ctx, &res); err != nil {
		return res, err
	}
	if err := r.checkRollback(ctx); err != nil {
		return res, err
	}
	n, err := r.push(ctx, &res)
	res.Pushed += n
	if err != nil {
		return res, err
	}
	pulled, conflicts, err := r.pull(ctx, &res.Missed)
	res.Pulled, res.Conflicts = pulled, conflicts
	if err != nil {
		return res, err
	}
	n, err = r.push(ctx, &res)
	res.Pushed += n
	return res, err
}

// checkRollback starts a new incarnation of the device's message numbers
// when the last message the device has on the stream is one this state
// does not know: the store went back to an earlier state (a backup
// restored, an import undone), and the numbers it would give its next
// messages were used already (JetStream would drop those as duplicates).
// The messages this state does not know are then pulled like another
// device's (see pull).
func (r *Replica) checkRollback(ctx context.Context) error {
	last, err := r.stream.GetLastMsgForSubject(ctx, r.subjectPrefix()+r.device)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("replica: stream %s: %w", r.streamName(), err)
	}
	inc, n, ok := parseMsgID(r.device, last.Header.Get(jetstream.MsgIDHeader))
	if !ok {
		return nil
	}
	return r.db.Update(ctx, func(tx *kv.Tx) error {
		st, err := loadState(tx)
		if err != nil || st.knows(inc, n) {
			return err
		}
		if st.Old == nil {
			st.Old = map[string]uint64{}
		}
		st.Old[st.Inc] = st.OutN
		var b [8]byte
		_, _ = rand.Read(b[:])
		st.Inc = hex.EncodeToString(b[:])
		return putJSON(tx, stateColl, stateID, st)
	})
}

// Run syncs until ctx ends: at once, then whenever a local commit or a
// message from another device arrives (and at least every interval, 0:
// 30s). Each sync's result goes to report, if not nil. A sync that failed
// on the way to the server (unreachable, restarting, electing a leader:
// see transient) is retried, backing off up to interval; Run returns
// ctx's error, or the first other sync error.
func (r *Replica) Run(ctx context.Context, interval time.Duration, report func(Result)) error {
	if interval <= 0 {
		interval = 30 * time.Second
	}
	wake := make(chan struct{}, 1)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	sub, err := r.nc.Subscribe(r.subjectPrefix()+">", func(m *nats.Msg) {
		if m.Subject != r.subjectPrefix()+r.device {
			poke()
		}
	})
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
	last, err := r.db.LastSeq(ctx)
	if err != nil {
		return err
	}
	feedCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for ch, err := range r.db.Changes(feedCtx, last) {
			if err != nil {
				return
			}
			if synced(ch.Collection) {
				poke()
			}
		}
	}()
	t := time.NewTicker(interval)
	defer t.Stop()
	failures := 0
	for {
		res, err := r.Sync(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !transient(err) {
				return err
			}
			if err := backoff(ctx, &failures, interval); err != nil {
				return err
			}
			continue
		}
		failures = 0
		if report != nil {
			report(res)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-t.C:
		}
	}
}

// pushBatch is how many change-log entries one capture transaction reads.
const pushBatch = 500

// push captures local changes into the outbox, queues the whole store
// again when the stream was found new (see checkStream), and publishes the
// outbox.
func (r *Replica) push(ctx context.Context, res *Result) (int, error) {
	for {
		more, err := r.captureBatch(ctx)
		if err != nil {
			return 0, err
		}
		if !more {
			break
		}
	}
	n, err := r.queueResend(ctx)
	res.Resent += n
	if err != nil {
		return 0, err
	}
	return r.publishOutbox(ctx)
}

type docRef struct{ coll, id string }

// captureBatch captures the documents of up to pushBatch change-log
// entries after the last captured one. more is true when there may be
// more.
func (r *Replica) captureBatch(ctx context.Context) (more bool, err error) {
	var after uint64
	if err := r.db.View(ctx, func(tx *kv.Tx) error {
		st, err := loadState(tx)
		after = st.Pushed
		return err
	}); err != nil {
		return false, err
	}
	var refs []docRef
	seen := map[docRef]bool{}
	edited := map[docRef]int64{} // the wall time of each document's last change
	var upTo uint64
	n := 0
	for ch, err := range r.db.ChangesSoFar(ctx, after) {
		if errors.Is(err, kv.ErrChangesTrimmed) {
			return false, r.captureAll(ctx)
		}
		if err != nil {
			return false, err
		}
		upTo = ch.Seq
		n++
		ref := docRef{ch.Collection, ch.ID}
		if synced(ch.Collection) && !seen[ref] {
			seen[ref] = true
			refs = append(refs, ref)
		}
		edited[ref] = max(edited[ref], ch.Time.UnixMilli())
		if n >= pushBatch {
			break
		}
	}
	if n == 0 {
		return false, nil
	}
	err = r.db.Update(ctx, func(tx *kv.Tx) error {
		st, err := loadState(tx)
		if err != nil {
			return err
		}
		if st.Pushed != after {
			return nil // another capture went first
		}
		clean, err := stateMark(tx, st, upTo)
		if err != nil {
			return err
		}
		for _, ref := range refs {
			if _, err := r.capture(tx, st, ref.coll, ref.id, edited[ref]); err != nil {
				return err
			}
		}
		if clean {
			// Nothing was committed after upTo: the clocks and outbox
			// written here are all there is to capture.
			return saveStateCaptured(tx, st)
		}
		st.Pushed = upTo
		return putJSON(tx, stateColl, stateID, st)
	})
	return n >= pushBatch, err
}

// captureAll compares every document of the store with its clocks: the
// way to push when the change log no longer reaches back to the last push.
func (r *Replica) captureAll(ctx context.Context) error {
	last, err := r.db.LastSeq(ctx)
	if err != nil {
		return err
	}
	var colls []string
	if err := r.db.View(ctx, func(tx *kv.Tx) error {
		for _, c := range tx.Collections() {
			if synced(c) {
				colls = append(colls, c)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for _, coll := range colls {
		var ids []string
		if err := r.db.View(ctx, func(tx *kv.Tx) error {
			return tx.Each(coll, func(id string, _ any) error {
				ids = append(ids, id)
				return nil
			})
		}); err != nil {
			return err
		}
		for len(ids) > 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := min(len(ids), pushBatch)
			chunk := ids[:n]
			ids = ids[n:]
			if err := r.db.Update(ctx, func(tx *kv.Tx) error {
				st, err := loadState(tx)
				if err != nil {
					return err
				}
				for _, id := range chunk {
					if _, err := r.capture(tx, st, coll, id, 0); err != nil {
						return err
					}
				}
				return putJSON(tx, stateColl, stateID, st)
			}); err != nil {
				return err
			}
		}
	}
	// Deletes the trimmed log held: every recorded document now absent.
	var gone []docRef
	if err := r.db.View(ctx, func(tx *kv.Tx) error {
		return tx.Each(clocksColl, func(_ string, doc any) error {
			var rec clocks
			if s, ok := doc.(map[string]any)["j"].(string); ok && json.Unmarshal([]byte(s), &rec) == nil && rec.Del == nil {
				if d, err := readDoc(tx, rec.Coll, rec.ID); err == nil && d == nil {
					gone = append(gone, docRef{rec.Coll, rec.ID})
				}
			}
			return nil
		})
	}); err != nil {
		return err
	}
	return r.db.Update(ctx, func(tx *kv.Tx) error {
		st, err := loadState(tx)
		if err != nil {
			return err
		}
		for _, ref := range gone {
			if _, err := r.capture(tx, st, ref.coll, ref.id, 0); err != nil {
				return err
			}
		}
		st.Pushed = last
		return putJSON(tx, stateColl, stateID, st)
	})
}

// publishOutbox publishes every queued message, uploading the attachment
// contents they need first, and removes them once JetStream acknowledged
// them.
func (r *Replica) publishOutbox(ctx context.Context) (int, error) {
	total := 0
	for {
		var ids []string
		var msgs []*message
		err := r.db.View(ctx, func(tx *kv.Tx) error {
			return tx.Each(outboxColl, func(id string, doc any) error {
				if len(ids) >= pushBatch {
					return kv.ErrStop
				}
				s, _ := doc.(map[string]any)["j"].(string)
				m := &message{}
				if err := json.Unmarshal([]byte(s), m); err != nil {
					return fmt.Errorf("replica: outbox %s: %w", id, err)
				}
				ids, msgs = append(ids, id), append(msgs, m)
				return nil
			})
		})
		if err != nil && !errors.Is(err, kv.ErrStop) {
			return total, err
		}
		if len(msgs) == 0 {
			return total, nil
		}
		acks := make([]jetstream.PubAckFuture, 0, len(msgs))
		for _, m := range msgs {
			if m.Blob != "" {
				if err := r.uploadBlob(ctx, m); err != nil {
					return total, err
				}
			}
			b, err := json.Marshal(m)
			if err != nil {
				return total, err
			}
			subject := r.subjectPrefix() + m.Device
			if int64(len(b)) > r.nc.MaxPayload()-4096 {
				// Too large for one message: the body goes to the blob
				// store, a stub naming it to the stream.
				ref := "msg-" + m.msgID()
				if b, err = r.sealMsg(b, ref); err != nil {
					return total, err
				}
				if err := r.putMessageBody(ctx, ref, b); err != nil {
					return total, fmt.Errorf("replica: upload message %s: %w", ref, err)
				}
				if b, err = json.Marshal(&message{Device: m.Device, Inc: m.Inc, N: m.N, Coll: m.Coll, ID: m.ID, Ref: ref}); err != nil {
					return total, err
				}
			}
			if b, err = r.sealMsg(b, subject); err != nil {
				return total, err
			}
			f, err := r.js.PublishAsync(subject, b, jetstream.WithMsgID(m.msgID()))
			if err != nil {
				return total, err
			}
			acks = append(acks, f)
		}
		for _, f := range acks {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				return total, fmt.Errorf("replica: publish: %w", err)
			case <-ctx.Done():
				return total, ctx.Err()
			}
		}
		if err := r.db.Update(ctx, func(tx *kv.Tx) error {
			for _, id := range ids {
				if _, err := tx.Delete(outboxColl, id); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return total, err
		}
		total += len(msgs)
	}
}

// pullBatch is how many stream messages one apply transaction takes.
const pullBatch = 256

// pull applies every message of the other devices the stream held when it
// started, in batches of one transaction each.
func (r *Replica) pull(ctx context.Context, missed *int) (pulled, conflicts int, err error) {
	info, err := r.stream.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("replica: stream info: %w", err)
	}
	end := info.State.LastSeq
	var from uint64
	var known *state // what this state knows of its own messages
	if err := r.db.View(ctx, func(tx *kv.Tx) error {
		st, err := loadState(tx)
		from, known = st.Pulled, st
		return err
	}); err != nil {
		return 0, 0, err
	}
	own := r.subjectPrefix() + r.device
	if first := info.State.FirstSeq; first > from+1 {
		// The messages after the last one applied, up to the stream's
		// first, were removed before this device read them.
		gone := int(first - 1 - from)
		if from == 0 {
			// Sequence 1 was the group's encryption record (New records
			// it before anything is pushed), not a change.
			gone--
		}
		*missed += gone
		from = first - 1
		if err := r.db.Update(ctx, func(tx *kv.Tx) error {
			st, err := loadState(tx)
			if err != nil || st.Pulled >= from {
				return err
			}
			// Which devices' numbers went is unknown, and counted here:
			// the gaps in them start anew.
			st.Pulled, st.Seen = from, nil
			return putJSON(tx, stateColl, stateID, st)
		}); err != nil {
			return 0, 0, err
		}
	}
	if from >= end {
		return 0, 0, nil
	}
	cons, err := r.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   from + 1,
		// An ordered consumer recreates itself after a server or a
		// cluster node goes away, inside Fetch, which has no context:
		// by default it retries forever, and a Sync given a deadline
		// hung (TestSync_clusterNodeDown, a stream leader shut down
		// mid-sync). Two attempts, then Fetch fails and Sync returns
		// the error; the next Sync starts from what was committed.
		MaxResetAttempts: 2,
	})
	if err != nil {
		return 0, 0, fmt.Errorf("replica: consumer: %w", err)
	}
	for from < end {
		// Ask for no more than the stream holds up to end: a fetch for
		// more would wait out its timeout.
		batch, err := cons.Fetch(int(min(uint64(pullBatch), end-from)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return pulled, conflicts, fmt.Errorf("replica: fetch: %w", err)
		}
		type item struct {
			seq uint64
			m   *message
		}
		var items []item
		var last uint64
		for msg := range batch.Messages() {
			md, err := msg.Metadata()
			if err != nil {
				return pulled, conflicts, err
			}
			seq := md.Sequence.Stream
			last = seq
			if !strings.HasPrefix(msg.Subject(), r.subjectPrefix()) {
				continue // the group's encryption record
			}
			if msg.Subject() == own {
				// Our own, unless published by a state the store went
				// back from (see checkRollback).
				inc, n, ok := parseMsgID(r.device, msg.Headers().Get(jetstream.MsgIDHeader))
				if !ok || known.knows(inc, n) {
					continue
				}
			}
			b, err := r.openMsg(msg.Data(), msg.Subject())
			if err != nil {
				return pulled, conflicts, fmt.Errorf("stream %s sequence %d: %w", r.streamName(), seq, err)
			}
			m, err := decodeMessage(b)
			if err == nil && m.Ref != "" {
				m, err = r.fetchMessage(ctx, m)
			}
			if errors.Is(err, ErrBlobIncomplete) {
				// Not a bad message: its body's upload is being repaired.
				return pulled, conflicts, fmt.Errorf("replica: stream %s sequence %d: %w", r.streamName(), seq, err)
			}
			if err != nil {
				return pulled, conflicts, fmt.Errorf("%w: stream %s sequence %d: %w", ErrBadMessage, r.streamName(), seq, err)
			}
			if err := r.checkMessage(m, msg.Subject()); err != nil {
				return pulled, conflicts, fmt.Errorf("%w: stream %s sequence %d: %w", ErrBadMessage, r.streamName(), seq, err)
			}
			if err := checkClocks(m, r.now()); err != nil {
				return pulled, conflicts, fmt.Errorf("replica: stream %s sequence %d: %w", r.streamName(), seq, err)
			}
			items = append(items, item{seq, m})
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return pulled, conflicts, fmt.Errorf("replica: fetch: %w", err)
		}
		if last == 0 {
			if err := ctx.Err(); err != nil {
				return pulled, conflicts, err
			}
			continue
		}
		// Attachment contents first, outside the transaction.
		blobs := map[string]*tempBlob{}
		for _, it := range items {
			if it.m.Blob != "" && blobs[it.m.Blob] == nil && !r.db.HasContent(ctx, it.m.Blob) {
				tb, err := r.downloadBlob(ctx, it.m.Blob)
				if err != nil {
					closeBlobs(blobs)
					return pulled, conflicts, err
				}
				if tb != nil {
					blobs[it.m.Blob] = tb
				}
			}
		}
		var n, c, gaps int
		err = r.db.Update(ctx, func(tx *kv.Tx) error {
			n, c, gaps = 0, 0, 0
			st, err := loadState(tx)
			if err != nil {
				return err
			}
			// When everything before this transaction was captured, what
			// it writes needs no capture either: the clocks it saves are
			// those of the values it writes (the next push would only
			// compare every pulled document with them, and find nothing).
			clean, err := stateMark(tx, st, st.Pushed)
			if err != nil {
				return err
			}
			for _, it := range items {
				if it.seq <= st.Pulled {
					continue // applied already
				}
				if tb := blobs[it.m.Blob]; tb != nil {
					if err := tb.store(ctx, tx); err != nil {
						return err
					}
				}
				gaps += st.sawNumber(it.m)
				k, err := r.apply(tx, st, it.m)
				if err != nil {
					return fmt.Errorf("replica: apply %s/%s from %s (stream sequence %d): %w", it.m.Coll, it.m.ID, it.m.Device, it.seq, err)
				}
				n++
				c += k
			}
			if last > st.Pulled {
				st.Pulled = last
			}
			if clean {
				return saveStateCaptured(tx, st)
			}
			return putJSON(tx, stateColl, stateID, st)
		})
		closeBlobs(blobs)
		if err != nil {
			return pulled, conflicts, err
		}
		pulled += n
		conflicts += c
		*missed += gaps
		from = last
	}
	return pulled, conflicts, nil
}

func decodeMessage(b []byte) (*message, error) {
	m := &message{}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(m); err != nil {
		return nil, err
	}
	return m, nil
}

// fetchMessage reads the body of a message too large for the stream from
// the blob store, and checks that it is the one the stub names.
func (r *Replica) fetchMessage(ctx context.Context, stub *message) (*message, error) {
	b, err := r.getMessageBody(ctx, stub.Ref)
	if err != nil {
		return nil, fmt.Errorf("message body %s: %w", stub.Ref, err)
	}
	if b, err = r.openMsg(b, stub.Ref); err != nil {
		return nil, fmt.Errorf("message body %s: %w", stub.Ref, err)
	}
	m, err := decodeMessage(b)
	if err != nil {
		return nil, fmt.Errorf("message body %s: %w", stub.Ref, err)
	}
	if m.Device != stub.Device || m.Inc != stub.Inc || m.N != stub.N || m.Coll != stub.Coll || m.ID != stub.ID || m.Ref != "" {
		return nil, fmt.Errorf("message body %s is not the message its stub names", stub.Ref)
	}
	return m, nil
}

// checkMessage rejects a message that names no document or claims another
// device than its subject.
func (r *Replica) checkMessage(m *message, subject string) error {
	if subject != r.subjectPrefix()+m.Device {
		return fmt.Errorf("device %q published on %s", m.Device, subject)
	}
	if _, err := kv.LookupCollection(m.Coll); err != nil || !synced(m.Coll) {
		return fmt.Errorf("collection %q: not a synced collection", m.Coll)
	}
	if m.ID == "" {
		return fmt.Errorf("%s: no document id", m.Coll)
	}
	if m.Del == nil && m.Fields == nil && !m.Create {
		return fmt.Errorf("%s/%s: neither fields, a creation nor a delete", m.Coll, m.ID)
	}
	return nil
}

// Conflicts lists the conflicts recorded on this device, oldest first.
func Conflicts(ctx context.Context, db *kv.DB) ([]Conflict, error) {
	var out []Conflict
	err := db.View(ctx, func(tx *kv.Tx) error {
		return tx.Each(conflictColl, func(id string, doc any) error {
			s, _ := doc.(map[string]any)["j"].(string)
			var c Conflict
			if err := json.Unmarshal([]byte(s), &c); err != nil {
				return fmt.Errorf("replica: conflict %s: %w", id, err)
			}
			out = append(out, c)
			return nil
		})
	})
	if out == nil {
		out = []Conflict{}
	}
	return out, err
}
