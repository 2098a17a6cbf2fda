package replica

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cairnkv/cairn/kv"
)

// The collections that hold the state of sync inside the store. They are
// never synced themselves.
const (
	stateColl    = "replica_state"
	clocksColl   = "replica_clocks"
	outboxColl   = "replica_outbox"
	conflictColl = "replica_conflicts"
	statePrefix  = kv.LocalPrefix
	stateID      = "state"
)

// state is the device's sync state, one document in replica_state.
type state struct {
	Device string `json:"device"`
	Group  string `json:"group"`
	HLC    uint64 `json:"hlc"`    // the latest clock made or seen
	Pushed uint64 `json:"pushed"` // the last change-log sequence captured
	Pulled uint64 `json:"pulled"` // the last stream sequence applied
	OutN   uint64 `json:"out_n"`  // the number of the last outbox message
	// Inc names this incarnation of the device's message numbers ("":
	// the first). A store whose state went backwards (a backup restored,
	// an import undone) would number its next messages as it did before;
	// sync then sees a message of its own on the stream that this state
	// does not know, and starts a new incarnation (checkRollback), so its
	// message ids never collide with the ones JetStream has seen.
	Inc string `json:"inc,omitempty"`
	// Old maps each incarnation this state left to the last number of it
	// that the state holds: its later messages, published before the
	// rollback, are pulled like another device's.
	Old map[string]uint64 `json:"old,omitempty"`
	// Seen maps <device>/<incarnation> to the last message number
	// applied from it, to find the numbers the stream no longer held.
	Seen map[string]uint64 `json:"seen,omitempty"`
	// Stream names the stream Pulled counts in: its creation time. A
	// stream created again (a server that lost its store, a stream
	// deleted) numbers its messages from 1 again; see checkStream.
	Stream string `json:"stream,omitempty"`
	// Resend is set while the whole store is still to be queued again
	// for a new stream (see queueResend).
	Resend bool `json:"resend,omitempty"`
	// Encrypted is set once the store has synced in an encrypted group:
	// it never syncs without a passphrase again, even when the group's
	// encryption record is gone (a purge, a server that lost its store),
	// where a first device would decide the group is not encrypted.
	Encrypted bool `json:"encrypted,omitempty"`
}

// sawNumber records that message m was applied and returns how many of
// its device's numbers before it were never seen (gone from the stream).
// A device first met counts no gap: its earlier messages may have been
// applied before Seen was recorded, and a new incarnation starts past 1.
func (st *state) sawNumber(m *message) int {
	key := m.Device + "/" + m.Inc
	last, ok := st.Seen[key]
	if st.Seen == nil {
		st.Seen = map[string]uint64{}
	}
	if m.N > last {
		st.Seen[key] = m.N
	}
	if ok && m.N > last+1 {
		return int(m.N - last - 1)
	}
	return 0
}

// knows reports whether message number n of incarnation inc of this
// device is reflected in this state (captured here, not only published by
// a state the store has gone back from).
func (st *state) knows(inc string, n uint64) bool {
	if inc == st.Inc {
		return n <= st.OutN
	}
	last, ok := st.Old[inc]
	return ok && n <= last
}

// field is what replica_clocks records about one top-level field.
type field struct {
	C    Clock  `json:"c"`
	Hash string `json:"h,omitempty"` // of the value, "" when Gone
	Gone bool   `json:"gone,omitempty"`
}

// clocks is the record of one document in replica_clocks.
type clocks struct {
	Coll   string           `json:"coll"`
	ID     string           `json:"id"`
	Fields map[string]field `json:"fields"`
	Del    *Clock           `json:"del,omitempty"` // the tombstone, while deleted
	// Epoch names the incarnation of the document: the tombstone it was
	// created again after (nil: the first). See apply.
	Epoch *Clock `json:"epoch,omitempty"`
	// found is true when the record was read from replica_clocks: the
	// document was seen (created, or deleted) by sync, even with no
	// field besides its id.
	found bool
}

// fieldMsg is one field of a message.
type fieldMsg struct {
	V    any   `json:"v,omitempty"`
	Gone bool  `json:"gone,omitempty"`
	C    Clock `json:"c"`
	Base Clock `json:"base"` // the clock the sender's value replaced
}

// message is one change of one document on the stream.
type message struct {
	Device string              `json:"device"`
	N      uint64              `json:"n"`
	Coll   string              `json:"coll"`
	ID     string              `json:"id"`
	Fields map[string]fieldMsg `json:"fields,omitempty"`
	Del    *Clock              `json:"del,omitempty"`   // a delete
	Epoch  *Clock              `json:"epoch,omitempty"` // the incarnation the change belongs to
	Blob   string              `json:"blob,omitempty"`  // the attachment content it needs
	// Seen is, in a delete, the clock of each field the deleting device
	// had: an edit it had not seen (a later clock) is kept as a conflict
	// on every device, not only on the one that deleted.
	Seen map[string]Clock `json:"seen,omitempty"`
	// Create is set when the message creates the document (its first
	// incarnation on the sender, or a new one): a document with no field
	// besides its id is a message with no fields.
	Create bool `json:"create,omitempty"`
	// Inc is the incarnation of the device's numbers N belongs to (see
	// state.Inc).
	Inc string `json:"inc,omitempty"`
	// Ref names the object (in the blob store) holding the whole message
	// when it is too large for one NATS message; the stub on the stream
	// then carries only Device, N, Coll, ID and Ref.
	Ref string `json:"ref,omitempty"`
	// Resent marks a document's whole state published again for a new
	// stream (queueResend): its fields carry the clocks they had, not
	// the ones they replaced.
	Resent bool `json:"resent,omitempty"`
}

// UnmarshalJSON decodes a field of a message with its value in the
// document model (kv.ParseJSON): numbers stay exactly as written, as the
// store keeps them, where encoding/json would round them to float64.
func (f *fieldMsg) UnmarshalJSON(b []byte) error {
	type plain fieldMsg
	var raw struct {
		plain
		V json.RawMessage `json:"v,omitempty"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*f = fieldMsg(raw.plain)
	v, err := modelValue(raw.V)
	f.V = v
	return err
}

// modelValue decodes a JSON value into the document model (nil for none).
func modelValue(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	return kv.ParseJSON(raw)
}

// msgID is the message's Nats-Msg-Id: <device>-<n>, or
// <device>-<inc>-<n> after a rollback (see state.Inc).
func (m *message) msgID() string {
	if m.Inc == "" {
		return fmt.Sprintf("%s-%d", m.Device, m.N)
	}
	return fmt.Sprintf("%s-%s-%d", m.Device, m.Inc, m.N)
}

// parseMsgID is the inverse of msgID for device's messages; ok is false
// for an id that is not one.
func parseMsgID(device, id string) (inc string, n uint64, ok bool) {
	rest, found := strings.CutPrefix(id, device+"-")
	if !found {
		return "", 0, false
	}
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		inc, rest = rest[:i], rest[i+1:]
		if inc == "" || strings.Contains(inc, "-") {
			return "", 0, false
		}
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	return inc, n, err == nil
}

// Conflict is a value that lost a concurrent edit, as recorded in
// replica_conflicts.
type Conflict struct {
	Key        string `json:"id"`
	Collection string `json:"collection"`
	ID         string `json:"doc_id"`
	Field      string `json:"field"`
	Kept       any    `json:"kept,omitempty"`
	KeptClock  Clock  `json:"kept_clock"`
	Lost       any    `json:"lost,omitempty"`
	LostGone   bool   `json:"lost_gone,omitempty"` // the losing edit removed the field
	LostClock  Clock  `json:"lost_clock"`
	Deleted    bool   `json:"deleted,omitempty"` // the winner was a delete
	RecordedBy string `json:"recorded_by"`
}

// UnmarshalJSON decodes a conflict record with its values in the
// document model, as fieldMsg's UnmarshalJSON does.
func (c *Conflict) UnmarshalJSON(b []byte) error {
	type plain Conflict
	var raw struct {
		plain
		Kept json.RawMessage `json:"kept,omitempty"`
		Lost json.RawMessage `json:"lost,omitempty"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*c = Conflict(raw.plain)
	var err error
	if c.Kept, err = modelValue(raw.Kept); err != nil {
		return err
	}
	c.Lost, err = modelValue(raw.Lost)
	return err
}

// docKey is the id of a document's record in replica_clocks.
func docKey(coll, id string) string {
	k := coll + ":" + id
	if len(k) <= 200 {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return coll + ":sha256:" + hex.EncodeToString(sum[:])
}

// getJSON reads the JSON that a state document keeps in its "j" field into
// v; found is false when there is no such document.
func getJSON(tx *kv.Tx, coll, id string, v any) (found bool, err error) {
	doc, _, err := tx.Get(coll, id)
	if errors.Is(err, kv.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s, ok := doc["j"].(string)
	if !ok {
		return false, fmt.Errorf("replica: %s/%s has no state (field j)", coll, id)
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return false, fmt.Errorf("replica: %s/%s: %w", coll, id, err)
	}
	return true, nil
}

func putJSON(tx *kv.Tx, coll, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = tx.Put(coll, kv.Document{"id": id, "j": string(b)})
	return err
}

// saveState writes st and returns the change-log sequence of the write.
func saveState(tx *kv.Tx, st *state) (uint64, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return 0, err
	}
	return tx.Put(stateColl, kv.Document{"id": stateID, "j": string(b)})
}

// stateMark begins a transaction that may leave the change log fully
// captured: it writes st and reports whether that write directly follows
// sequence upTo (no change after upTo but this write, so nothing
// uncaptured precedes what the transaction does).
func stateMark(tx *kv.Tx, st *state, upTo uint64) (clean bool, err error) {
	seq, err := saveState(tx, st)
	return seq == upTo+1, err
}

// saveStateCaptured ends such a transaction: every change it made is
// already reflected in the clocks, so the capture cursor moves past them
// all (past this final write of st too: the sequences of one transaction
// are consecutive).
func saveStateCaptured(tx *kv.Tx, st *state) error {
	seq, err := saveState(tx, st)
	if err != nil {
		return err
	}
	st.Pushed = seq + 1
	_, err = saveState(tx, st)
	return err
}

func loadState(tx *kv.Tx) (*state, error) {
	var st state
	if _, err := getJSON(tx, stateColl, stateID, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

func loadClocks(tx *kv.Tx, coll, id string) (*clocks, error) {
	rec := &clocks{}
	found, err := getJSON(tx, clocksColl, docKey(coll, id), rec)
	if err != nil {
		return nil, err
	}
	if !found || rec.Fields == nil {
		rec.Fields = map[string]field{}
	}
	rec.Coll, rec.ID, rec.found = coll, id, found
	return rec, nil
}

func saveClocks(tx *kv.Tx, rec *clocks) error {
	return putJSON(tx, clocksColl, docKey(rec.Coll, rec.ID), rec)
}

// IsStateCollection reports whether the collection named holds the
// bookkeeping of sync (replica_state, replica_clocks, replica_outbox,
// replica_conflicts, and any later replica_* name) rather than the user's
// documents; listings leave such collections out unless asked.
func IsStateCollection(name string) bool { return strings.HasPrefix(name, statePrefix) }

// synced reports whether collection coll is replicated.
func synced(coll string) bool { return !strings.HasPrefix(coll, statePrefix) }

// hashValue is the content hash of a field value: SHA-256 of its JSON
// (encoding/json sorts object keys, so equal values hash equal).
func hashValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf("%#v", v))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
