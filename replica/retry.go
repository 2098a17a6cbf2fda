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

// Transient reports whether err is a failure on the way to the server
// (unreachable, restarting, reconnecting, electing a leader) that a later
// try may not meet, as Run judges it.
func Transient(err error) bool { return transient(err) }

// Retry calls f until it returns nil or an error that is not Transient,
// backing off between tries (100ms, doubling, at most 1s). It gives up,
// returning f's last error, once f has failed for longer than giveUp (0:
// never), or when ctx ends. A command that must end (kvtool sync --once)
// rides out a short disconnect with it: a publish or an upload cut by a
// server restart is tried again once the connection is back.
func Retry(ctx context.Context, giveUp time.Duration, f func() error) error {
	failures := 0
	var since time.Time
	for {
		err := f()
		if err == nil || !transient(err) || ctx.Err() != nil {
			return err
		}
		if since.IsZero() {
			since = time.Now()
		} else if giveUp > 0 && time.Since(since) > giveUp {
			return err
		}
		if werr := backoff(ctx, &failures, time.Second); werr != nil {
			return err
		}
	}
}
