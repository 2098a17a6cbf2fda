package replica_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/cairnkv/cairn/kv"
	"github.com/cairnkv/cairn/replica"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// breakObject leaves name in the object store as an interrupted
// ObjectStore.Put can (found in TestSync_clusterNodeDown): its meta
// message there, its chunks purged.
func breakObject(t *testing.T, nc *nats.Conn, bucket, name string, content []byte) {
	t.Helper()
	ctx := context.Background()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := js.ObjectStore(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	info, err := obs.GetInfo(ctx, name)
	var nuid string
	if err == nil {
		nuid = info.NUID
	} else {
		put, err := obs.PutBytes(ctx, name, content)
		if err != nil {
			t.Fatal(err)
		}
		nuid = put.NUID
	}
	st, err := js.Stream(ctx, "OBJ_"+bucket)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSubject(fmt.Sprintf("$O.%s.C.%s", bucket, nuid))); err != nil {
		t.Fatal(err)
	}
}

// TestSync_blobLeftIncompleteIsUploadedAgain: an attachment content whose
// name an interrupted upload left in the object store without its chunks
// is uploaded again, instead of being announced as there (the other
// device then waited for the missing chunks until its sync timed out).
func TestSync_blobLeftIncompleteIsUploadedAgain(t *testing.T) {
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "a")
	b := openDevice(t, s.ClientURL(), "b")
	content := bytes.Repeat([]byte("interrupted upload "), 30000) // several chunks
	sum := sha256.Sum256(content)
	hash := hex.EncodeToString(sum[:])
	breakObject(t, a.nc, "CAIRN_default_blobs", hash, content)
	if _, err := a.db.AddAttachment(context.Background(), bytes.NewReader(content), kv.Document{"id": "att1", "mimeType": "image/png"}); err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.sync(t)
	rc, _, err := b.db.OpenAttachment(context.Background(), "att1")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, err := io.ReadAll(rc); err != nil || !bytes.Equal(got, content) {
		t.Fatalf("b's attachment: %d bytes, %v", len(got), err)
	}
}

// TestSync_blobIncompleteOnDownload: a content the object store lacks
// chunks of fails the sync with ErrBlobIncomplete, naming the content,
// and leaves the pull cursor where it was; once the content is whole
// again, the next sync applies the attachment.
func TestSync_blobIncompleteOnDownload(t *testing.T) {
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "a")
	b := openDevice(t, s.ClientURL(), "b")
	content := bytes.Repeat([]byte("lost chunks "), 30000)
	doc, err := a.db.AddAttachment(context.Background(), bytes.NewReader(content), kv.Document{"id": "att1", "mimeType": "image/png"})
	if err != nil {
		t.Fatal(err)
	}
	hash := doc["hash"].(string)
	a.sync(t)
	breakObject(t, a.nc, "CAIRN_default_blobs", hash, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = b.r.Sync(ctx)
	if !errors.Is(err, replica.ErrBlobIncomplete) || !bytes.Contains([]byte(err.Error()), []byte(hash)) {
		t.Fatalf("sync over an incomplete blob: %v, want ErrBlobIncomplete naming %s", err, hash)
	}
	if _, _, err := b.db.Get(context.Background(), "attachments", "att1"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("the attachment was applied without its content: %v", err)
	}
	// Another device adds the same content: its upload repairs the object.
	c := openDevice(t, s.ClientURL(), "c")
	if _, err := c.db.AddAttachment(context.Background(), bytes.NewReader(content), kv.Document{"id": "att2", "mimeType": "image/png"}); err != nil {
		t.Fatal(err)
	}
	c.sync(t)
	b.sync(t)
	for _, id := range []string{"att1", "att2"} {
		rc, _, err := b.db.OpenAttachment(context.Background(), id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("b's %s: %d bytes, %v", id, len(got), err)
		}
	}
}

// TestSync_largeMessageBodyIncomplete: the body of a message too large for
// the stream (kept in the object store) left without its chunks is put
// again by its sender, and a device that meets it incomplete fails its
// sync at once with ErrBlobIncomplete instead of waiting for the chunks
// until the sync times out.
func TestSync_largeMessageBodyIncomplete(t *testing.T) {
	s := startServer(t, "", -1)
	a := openDevice(t, s.ClientURL(), "a")
	b := openDevice(t, s.ClientURL(), "b")
	body := string(bytes.Repeat([]byte("0123456789abcdef"), 1<<17)) // 2 MiB
	// An earlier, interrupted attempt left the body's name broken.
	breakObject(t, a.nc, "CAIRN_default_blobs", "msg-a-1", []byte("partial"))
	a.put(t, "notes", kv.Document{"id": "big", "title": "big", "body": body})
	a.sync(t)
	if res := b.sync(t); res.Pulled != 1 {
		t.Fatalf("pulled %d", res.Pulled)
	}
	if got := b.get(t, "notes", "big")["body"]; got != body {
		t.Fatalf("the large body arrived as %d bytes", len(fmt.Sprint(got)))
	}
	// The next body breaks after its stub is on the stream.
	a.patch(t, "notes", "big", kv.Document{"body": body + "!"})
	a.sync(t)
	breakObject(t, a.nc, "CAIRN_default_blobs", "msg-a-2", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := b.r.Sync(ctx); !errors.Is(err, replica.ErrBlobIncomplete) || !bytes.Contains([]byte(err.Error()), []byte("msg-a-2")) {
		t.Fatalf("sync over an incomplete message body: %v, want ErrBlobIncomplete naming msg-a-2", err)
	}
	if got := b.get(t, "notes", "big")["body"]; got != body {
		t.Fatal("the failed sync changed the note")
	}
}
