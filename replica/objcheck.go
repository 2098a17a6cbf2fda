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
