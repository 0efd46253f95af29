package events

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	base, cap := DefaultBaseDelay, DefaultMaxDelay
	tests := []struct {
		name     string
		attempts int
		nominal  time.Duration
	}{
		{name: "first", attempts: 1, nominal: 500 * time.Millisecond},
		{name: "second", attempts: 2, nominal: time.Second},
		{name: "fifth", attempts: 5, nominal: 8 * time.Second},
		{name: "capped", attempts: 11, nominal: 5 * time.Minute},
		{name: "huge attempt count", attempts: 1000, nominal: 5 * time.Minute},
		{name: "zero treated as first", attempts: 0, nominal: 500 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			noJitter := func(int64) int64 { return 0 }
			assert.Equal(t, tc.nominal, backoff(tc.attempts, base, cap, noJitter))
			fullJitter := func(n int64) int64 { return n - 1 }
			assert.Equal(t, tc.nominal-tc.nominal/2, backoff(tc.attempts, base, cap, fullJitter))
			for range 100 {
				d := backoff(tc.attempts, base, cap, rand.Int64N)
				assert.GreaterOrEqual(t, d, tc.nominal/2)
				assert.LessOrEqual(t, d, tc.nominal)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		header string
		want   time.Duration
		ok     bool
	}{
		{name: "absent", header: "", ok: false},
		{name: "seconds", header: "7", want: 7 * time.Second, ok: true},
		{name: "zero", header: "0", want: 0, ok: true},
		{name: "negative", header: "-3", ok: false},
		{name: "capped", header: "999999999999", want: time.Hour, ok: true},
		{name: "http date", header: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second, ok: true},
		{name: "date in the past", header: now.Add(-time.Minute).Format(http.TimeFormat), want: 0, ok: true},
		{name: "garbage", header: "soon", ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := retryAfter(tc.header, now)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		want   outcome
	}{
		{name: "200", status: 200, want: outcomeDelivered},
		{name: "202", status: 202, want: outcomeDelivered},
		{name: "204", status: 204, want: outcomeDelivered},
		{name: "409 duplicate", status: 409, want: outcomeDelivered},
		{name: "302", status: 302, want: outcomeRejected},
		{name: "400", status: 400, want: outcomeRejected},
		{name: "401", status: 401, want: outcomeRejected},
		{name: "404", status: 404, want: outcomeRejected},
		{name: "413", status: 413, want: outcomeRejected},
		{name: "408", status: 408, want: outcomeRetry},
		{name: "429", status: 429, want: outcomeRetry},
		{name: "500", status: 500, want: outcomeRetry},
		{name: "502", status: 502, want: outcomeRetry},
		{name: "503", status: 503, want: outcomeRetry},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, classify(tc.status).outcome)
		})
	}
}

func TestRedaction(t *testing.T) {
	t.Parallel()
	const secretURL = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
	assert.Equal(t, "https://hooks.slack.com", redactURL(secretURL))
	assert.Equal(t, "http://localhost:9090", redactURL("http://user:pw@localhost:9090/x"), "userinfo dropped")
	assert.Equal(t, "invalid-url", redactURL("::"))

	err := redactErr(&url.Error{Op: "Post", URL: secretURL, Err: &net.OpError{Op: "dial", Err: errors.New("refused")}})
	assert.NotContains(t, err.Error(), "XXXXSECRET")
	assert.Contains(t, err.Error(), "refused")
}
