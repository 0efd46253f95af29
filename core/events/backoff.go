package events

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// backoff returns the wait after the attempts-th failed attempt (1-based):
// base·2^(attempts-1) capped at max, minus up to half of it at random, so
// retries from many senders spread out but never come sooner than half the
// nominal delay.
func backoff(attempts int, base, max time.Duration, jitter func(int64) int64) time.Duration {
	d := max
	if attempts < 1 {
		attempts = 1
	}
	if shift := attempts - 1; shift < 62 && base <= max>>shift {
		d = base << shift
	}
	if half := int64(d / 2); half > 0 {
		d -= time.Duration(jitter(half + 1))
	}
	return d
}

// retryAfter parses a Retry-After header (seconds or an HTTP date) into a
// wait from now, capped at maxRetryAfter. ok is false when the header is
// absent or unusable.
func retryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(d, maxRetryAfter), true
}
