package replica

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// transient reports whether a sync failed on the way to the server (it is
// unreachable, restarting, reconnecting or electing a leader) rather than
// on something a retry cannot change (a bad message, a content that does
// not match its hash, the store): Run retries the former.
func transient(err error) bool {
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, ErrBadMessage), errors.Is(err, ErrBlobMismatch), errors.Is(err, ErrInvalidName):
		return false
	case errors.As(err, &apiErr), // the server answered, without a leader or a quorum
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrNoResponders),
		errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, nats.ErrDisconnected),
		errors.Is(err, nats.ErrConnectionReconnecting),
		errors.Is(err, jetstream.ErrNoHeartbeat),
		errors.Is(err, jetstream.ErrJetStreamNotEnabled),
		errors.Is(err, ErrBlobIncomplete):
		return true
	}
	return false
}

// backoff waits before the next try after *failures consecutive failed
// syncs: 100ms, doubling, at most limit.
func backoff(ctx context.Context, failures *int, limit time.Duration) error {
	*failures++
	wait := min(limit, 100*time.Millisecond<<min(*failures-1, 8))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(wait):
		return nil
	}
}
