package replica

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cairnkv/cairn/kv"
	"github.com/nats-io/nats.go/jetstream"
)

// uploadBlob puts the content of the attachment m announces into the blob
// store under its SHA-256, unless it is there already.
func (r *Replica) uploadBlob(ctx context.Context, m *message) error {
	name := r.blobObject(m.Blob)
	if info, err := r.blobs.GetInfo(ctx, name); err == nil {
		// There, unless an interrupted upload left it without all its
		// chunks (objectComplete): then it is put again.
		if ok, err := objectComplete(ctx, r.js, r.streamName()+"_blobs", info); ok || err != nil {
			return err
		}
	} else if !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("replica: blob %s: %w", m.Blob, err)
	}
	rc, doc, err := r.db.OpenAttachment(ctx, m.ID)
	if errors.Is(err, kv.ErrNotFound) {
		return nil // deleted since: a later message says so
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	if h, _ := doc["hash"].(string); h != m.Blob {
		return nil // changed since: the later message carries the new content
	}
	h := sha256.New()
	var src io.Reader = io.TeeReader(rc, h)
	if r.seal != nil {
		pr, pw := io.Pipe()
		go func(plain io.Reader) { pw.CloseWithError(r.seal.sealBlob(pw, plain)) }(src)
		defer pr.Close()
		src = pr
	}
	info, err := r.blobs.Put(ctx, jetstream.ObjectMeta{Name: name}, src)
	if err != nil {
		return fmt.Errorf("replica: upload blob %s: %w", m.Blob, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != m.Blob {
		_ = r.blobs.Delete(ctx, info.Name) // never leave wrong content under a hash; the upload error is the news
		return fmt.Errorf("%w: attachment %s: local content hashes to %s, not %s", ErrBlobMismatch, m.ID, got, m.Blob)
	}
	return nil
}

// tempBlob is an attachment content downloaded and verified, waiting in a
// temporary file for the transaction that references it.
type tempBlob struct {
	hash string
	f    *os.File
}

// downloadBlob fetches the content hash names and verifies it; nil when the
// object store does not hold it.
func (r *Replica) downloadBlob(ctx context.Context, hash string) (*tempBlob, error) {
	if info, err := r.blobs.GetInfo(ctx, r.blobObject(hash)); err == nil {
		// Reading an object with chunks missing would wait for them
		// until ctx ends: say so at once.
		if ok, err := objectComplete(ctx, r.js, r.streamName()+"_blobs", info); err != nil {
			return nil, fmt.Errorf("replica: blob %s: %w", hash, err)
		} else if !ok {
			return nil, fmt.Errorf("%w: blob %s: the object store lacks some of its %d chunks (an interrupted upload; the next upload of this content repairs it)", ErrBlobIncomplete, hash, info.Chunks)
		}
	}
	obj, err := r.blobs.Get(ctx, r.blobObject(hash))
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		// Its sender deleted or replaced the attachment before uploading
		// the content; a later message from it says so.
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("replica: blob %s: %w", hash, err)
	}
	defer obj.Close()
	f, err := os.CreateTemp("", "cairn-blob-*")
	if err != nil {
		return nil, err
	}
	_ = os.Remove(f.Name()) // unlinked: it goes away with the handle
	h := sha256.New()
	if r.seal != nil {
		err = r.seal.openBlob(io.MultiWriter(f, h), obj)
	} else {
		_, err = io.Copy(io.MultiWriter(f, h), obj)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("replica: blob %s: %w", hash, err), f.Close())
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != hash {
		return nil, errors.Join(fmt.Errorf("%w: blob %s arrived as %s", ErrBlobMismatch, hash, got), f.Close())
	}
	return &tempBlob{hash: hash, f: f}, nil
}

// store writes the content into the store's blob store inside tx.
func (b *tempBlob) store(ctx context.Context, tx *kv.Tx) error {
	if _, err := b.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	h, _, err := tx.StoreContent(ctx, b.f)
	if err != nil {
		return err
	}
	if h != b.hash {
		return fmt.Errorf("%w: blob %s stored as %s", ErrBlobMismatch, b.hash, h)
	}
	return nil
}

func closeBlobs(m map[string]*tempBlob) {
	for _, b := range m {
		_ = b.f.Close() // an unlinked temporary file: nothing to lose
	}
}
