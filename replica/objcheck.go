package replica

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// objectComplete reports whether the object store bucket holds every
// chunk of the object info describes.
//
// nats.go's ObjectStore.Put publishes an object's meta message before it
// knows whether its chunks were stored, and purges the chunks when one of
// them was not acknowledged: an upload interrupted by a cluster node going
// down or a dropped connection can leave a name that GetInfo finds but
// whose chunks are gone, and reading it waits for chunks that never come.
// So a name is taken as uploaded only when its chunks are all there.
func objectComplete(ctx context.Context, js jetstream.JetStream, bucket string, info *jetstream.ObjectInfo) (bool, error) {
	if info.Chunks == 0 {
		return true, nil
	}
	st, err := js.Stream(ctx, "OBJ_"+bucket)
	if err != nil {
		return false, fmt.Errorf("object store %s: %w", bucket, err)
	}
	subj := fmt.Sprintf("$O.%s.C.%s", bucket, info.NUID)
	si, err := st.Info(ctx, jetstream.WithSubjectFilter(subj))
	if err != nil {
		return false, fmt.Errorf("object store %s: %w", bucket, err)
	}
	return si.State.Subjects[subj] == uint64(info.Chunks), nil
}

// putMessageBody puts the body of a message too large for the stream
// under name, unless the object store holds it whole already: a retry
// after its stub's publish went unacknowledged (the stub may be on the
// stream, and a device reading the body) must not replace it, since a
// replacing Put that is interrupted leaves the name without its chunks.
func (r *Replica) putMessageBody(ctx context.Context, name string, b []byte) error {
	if info, err := r.blobs.GetInfo(ctx, name); err == nil {
		if ok, err := objectComplete(ctx, r.js, r.streamName()+"_blobs", info); ok || err != nil {
			return err
		}
	}
	_, err := r.blobs.PutBytes(ctx, name, b)
	return err
}

// getMessageBody reads the body of a message too large for the stream,
// failing at once with ErrBlobIncomplete when the object store lacks some
// of its chunks (reading would wait for them until ctx ends).
func (r *Replica) getMessageBody(ctx context.Context, name string) ([]byte, error) {
	info, err := r.blobs.GetInfo(ctx, name)
	if err != nil {
		return nil, err
	}
	if ok, err := objectComplete(ctx, r.js, r.streamName()+"_blobs", info); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("%w: the object store lacks some of its %d chunks (an interrupted upload; its sender puts it again)", ErrBlobIncomplete, info.Chunks)
	}
	return r.blobs.GetBytes(ctx, name)
}
