package limits

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// unreachablePrefixes are server replies that mean "not now" rather than
// "wrong": a loading, failing-over or busy server.
var unreachablePrefixes = []string{"LOADING", "CLUSTERDOWN", "MASTERDOWN", "TRYAGAIN", "READONLY", "BUSY"}

// unreachable reports whether err means Redis could not answer (network,
// timeout, closed client, server not ready), as opposed to an error in the
// script or its arguments, which failing over would only hide.
func unreachable(err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, redis.ErrClosed),
		errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	for _, p := range unreachablePrefixes {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}
