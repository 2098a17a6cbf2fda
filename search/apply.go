package search

import (
	"fmt"
	"github.com/cairnkv/cairn/schema"
	"strings"
	"unicode/utf8"
)

// MaxIDBytes is the longest entity id accepted, in bytes.
const MaxIDBytes = 256

// Doc is one stored entity as the primary store holds it.
type Doc struct {
	Collection string
	ID         string
	Rev        uint64
	// Body is the whole JSON document decoded: values are nil, bool, int64,
	// uint64, float64, json.Number, string, []any and map[string]any.
	Body map[string]any
}

// Change returns the Change that indexes d (an upsert), for feeding a whole
// collection to Apply after Reset.
func (d Doc) Change() Change {
	return Change{Collection: d.Collection, ID: d.ID, Rev: d.Rev, Body: d.Body}
}

// Change is one entry of the change log as Apply consumes it: an upsert of
// the whole document, or a deletion.
type Change struct {
	Collection string
	ID         string
	Rev        uint64
	Deleted    bool
	Body       map[string]any // nil when Deleted
	// Decl is the collection's declaration, which says what is searched;
	// nil: the built-in declaration, or a user collection's default.
	Decl *schema.Collection
}

// docID is the Bleve document id: collection, "/", id. Collections never
// contain "/", so splitDocID cuts at the first one.
func docID(collection, id string) string { return collection + "/" + id }

func splitDocID(s string) (collection, id string) {
	c, i, _ := strings.Cut(s, "/")
	return c, i
}

// validCollection reports why a collection name cannot be used, or "".
func validCollection(c string) string {
	switch {
	case c == "":
		return "empty collection"
	case strings.ContainsAny(c, "/\x00"):
		return fmt.Sprintf("collection %q contains '/' or NUL", c)
	case !utf8.ValidString(c):
		return fmt.Sprintf("collection %q is not UTF-8", c)
	}
	return ""
}

// validID reports why an entity id cannot be used, or "".
func validID(id string) string {
	switch {
	case id == "":
		return "empty id"
	case len(id) > MaxIDBytes:
		return fmt.Sprintf("id of %d bytes (max %d)", len(id), MaxIDBytes)
	case strings.IndexByte(id, 0) >= 0:
		return fmt.Sprintf("id %q contains NUL", id)
	case !utf8.ValidString(id):
		return fmt.Sprintf("id %q is not UTF-8", id)
	}
	return ""
}

// Apply indexes or deletes each change, in order, and records lastSeq as
// LastApplied in the same Bleve batch. When Apply returns nil every change
// and lastSeq are durable (Bleve's scorch waits for the batch to be
// persisted and fsynced), or with Options.DeferSync searchable and on their
// way to disk (see Durable).
//
// Changes are applied in Bleve batches of at most Options.BatchSize
// documents or Options.BatchBytes of text; lastSeq goes in the last one.
// A crash between two batches therefore leaves some documents newer than
// LastApplied, which re-applying the change log from LastApplied repairs:
// Apply is idempotent, a document's final state is set by its last change.
//
// lastSeq is recorded as given, even if lower than LastApplied (the caller
// then re-feeds from there). A change with an invalid collection or id
// fails the whole call with ErrInvalidChange before anything is applied.
func (ix *Index) Apply(changes []Change, lastSeq uint64) (err error) {
	return ix.apply(changes, lastSeq, nil)
}

// ApplyRebuild indexes changes as one step of a rebuild that may be
// interrupted (by Close, or a crash) and resumed later, maybe by another
// process: it records LastApplied 0 and cursor, the caller's opaque
// position in the rebuild, in the same Bleve batch as the documents.
// RebuildCursor returns the cursor until an Apply records a sequence (the
// rebuild's end) or Reset clears it.
func (ix *Index) ApplyRebuild(changes []Change, cursor []byte) error {
	if len(cursor) == 0 {
		return fmt.Errorf("%w: empty rebuild cursor", ErrInvalidChange)
	}
	return ix.apply(changes, 0, cursor)
}

// RebuildCursor returns the cursor of the unfinished rebuild the index
// holds (see ApplyRebuild), or nil.
func (ix *Index) RebuildCursor() (cursor []byte, err error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.mu.bi == nil {
		return nil, ErrClosed
	}
	defer guard("rebuild cursor", &err)
	v, err := ix.mu.bi.GetInternal(keyRebuild)
	if err != nil {
		return nil, fmt.Errorf("cairn: read the rebuild cursor: %w", err)
	}
	if ix.last.Load() != 0 {
		return nil, nil // a cursor left beside a recorded sequence is stale
	}
	return append([]byte(nil), v...), nil
}

func (ix *Index) apply(changes []Change, lastSeq uint64, cursor []byte) (err error) {
	for i, c := range changes {
		if why := validCollection(c.Collection); why != "" {
			return fmt.Errorf("%w: change %d: %s", ErrInvalidChange, i, why)
		}
		if why := validID(c.ID); why != "" {
			return fmt.Errorf("%w: change %d (%s): %s", ErrInvalidChange, i, c.Collection, why)
		}
	}

	ix.applyMu.Lock()
	defer ix.applyMu.Unlock()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	bi := ix.mu.bi
	if bi == nil {
		return ErrClosed
	}
	defer guard("apply", &err)

	b := bi.NewBatch()
	docs, bytes := 0, 0
	for i, c := range changes {
		id := docID(c.Collection, c.ID)
		if c.Deleted {
			b.Delete(id)
		} else {
			doc, size := extract(c.Decl, c.Collection, c.Rev, c.Body)
			if err := b.Index(id, doc); err != nil {
				return fmt.Errorf("cairn: apply %s %q: %w", c.Collection, c.ID, err)
			}
			bytes += size
		}
		docs++
		if (docs >= ix.opts.BatchSize || bytes >= ix.opts.BatchBytes) && i < len(changes)-1 {
			if err := bi.Batch(b); err != nil {
				return fmt.Errorf("cairn: apply batch: %w", err)
			}
			b.Reset()
			docs, bytes = 0, 0
		}
	}
	b.SetInternal(keyLastApplied, encodeSeq(lastSeq))
	if cursor != nil {
		b.SetInternal(keyRebuild, cursor)
	} else {
		b.DeleteInternal(keyRebuild)
	}
	if ix.opts.DeferSync {
		ix.onPersisted(b, lastSeq, nil)
	}
	if err := bi.Batch(b); err != nil {
		return fmt.Errorf("cairn: apply batch: %w", err)
	}
	ix.last.Store(lastSeq)
	if ix.opts.DeferSync {
		return nil // the hint follows Bleve's persister (onPersisted)
	}
	ix.durable.Store(lastSeq)
	if err := writeHint(ix.dir, lastSeq); err != nil {
		return fmt.Errorf("cairn: apply: applied, but recording the hint failed (re-apply): %w", err)
	}
	return nil
}
