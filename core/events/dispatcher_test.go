package events

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDispatcherDeliversVerifiableEvents(t *testing.T) {
	t.Parallel()
	v, err := NewVerifier(VerifierConfig{Secret: testSecret, SigningKey: testKey})
	require.NoError(t, err)
	got := make(chan Event, 10)
	srv := httptest.NewServer(NewReceiverHandler(v, func(ev Event) { got <- ev }))
	t.Cleanup(srv.Close)

	d := newTestDispatcher(t, nil, DispatcherConfig{Targets: []Target{
		{URL: srv.URL + "/v1/webhook", Secret: testSecret, SigningKey: testKey, Events: []string{"token.*"}},
	}})
	require.NoError(t, d.Start())

	assert.False(t, d.Wants(RequestCompleted))
	d.Emit(mustEvent(t, RequestCompleted)) // filtered out
	want := mustEvent(t, TokenCreated)
	d.Emit(want)

	select {
	case ev := <-got:
		assert.Equal(t, want.ID, ev.ID)
		assert.Equal(t, TokenCreated, ev.Type)
		assert.JSONEq(t, string(want.Data), string(ev.Data))
	case <-time.After(10 * time.Second):
		t.Fatal("event not delivered")
	}
	waitStats(t, d, func(s Stats) bool { return s.Delivered == 1 && s.Pending == 0 })
	assert.Empty(t, got, "filtered event must not arrive")
}

func TestDispatcherFillsIDAndTime(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t)
	d := newTestDispatcher(t, nil, DispatcherConfig{Targets: []Target{{URL: srv.URL}}})
	require.NoError(t, d.Start())
	d.Emit(Event{Type: ServerStart})
	waitStats(t, d, func(s Stats) bool { return s.Delivered == 1 })
	ids := srv.seen()
	require.Len(t, ids, 1)
	assert.Len(t, ids[0], 32)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	h := srv.hdrs[0]
	assert.Equal(t, ids[0], h.Get(HeaderEventID))
	assert.Empty(t, h.Get(HeaderSignature), "no signing key configured")
	assert.Equal(t, "application/json", h.Get("Content-Type"))
}

func TestDispatcherRetries(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		name          string
		script        []reply
		maxAttempts   int
		maxAge        time.Duration
		baseDelay     time.Duration
		wantRequests  int
		wantDelivered uint64
		wantFailed    uint64
		wantWaits     []time.Duration
	}{
		{name: "200 first time", wantRequests: 1, wantDelivered: 1},
		{
			name: "500 then 200", script: []reply{{status: 500}},
			wantRequests: 2, wantDelivered: 1, wantWaits: []time.Duration{500 * ms},
		},
		{
			name: "503 three times backs off exponentially", script: []reply{{status: 503}, {status: 502}, {status: 500}},
			wantRequests: 4, wantDelivered: 1, wantWaits: []time.Duration{500 * ms, time.Second, 2 * time.Second},
		},
		{
			name: "429 honours Retry-After seconds", script: []reply{{status: 429, header: map[string]string{"Retry-After": "7"}}},
			wantRequests: 2, wantDelivered: 1, wantWaits: []time.Duration{7 * time.Second},
		},
		{
			name:         "503 honours Retry-After date",
			script:       []reply{{status: 503, header: map[string]string{"Retry-After": testNow.Add(30 * time.Second).UTC().Format(http.TimeFormat)}}},
			wantRequests: 2, wantDelivered: 1, wantWaits: []time.Duration{30 * time.Second},
		},
		{
			name: "408 is retried", script: []reply{{status: 408}},
			wantRequests: 2, wantDelivered: 1, wantWaits: []time.Duration{500 * ms},
		},
		{
			name: "connection dropped is retried", script: []reply{{hangUp: true}},
			wantRequests: 2, wantDelivered: 1, wantWaits: []time.Duration{500 * ms},
		},
		{name: "400 is final", script: []reply{{status: 400}}, wantRequests: 1, wantFailed: 1},
		{name: "404 is final", script: []reply{{status: 404}}, wantRequests: 1, wantFailed: 1},
		{
			name: "redirect is not followed", script: []reply{{status: 302, header: map[string]string{"Location": "/elsewhere"}}},
			wantRequests: 1, wantFailed: 1,
		},
		{name: "409 means already delivered", script: []reply{{status: 409}}, wantRequests: 1, wantDelivered: 1},
		{
			name: "gives up after max attempts", maxAttempts: 3,
			script:       []reply{{status: 500}, {status: 500}, {status: 500}, {status: 500}},
			wantRequests: 3, wantFailed: 1, wantWaits: []time.Duration{500 * ms, time.Second},
		},
		{
			name: "gives up after max age", maxAge: time.Second, baseDelay: 2 * time.Second,
			script:       []reply{{status: 500}, {status: 500}},
			wantRequests: 1, wantFailed: 1, wantWaits: []time.Duration{2 * time.Second},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newScriptServer(t, tc.script...)
			clk := newFakeClock()
			d := newTestDispatcher(t, nil, DispatcherConfig{
				Targets:     []Target{{URL: srv.URL}},
				MaxAttempts: tc.maxAttempts,
				MaxAge:      tc.maxAge,
				BaseDelay:   tc.baseDelay,
				MaxDelay:    time.Minute,
				clock:       clk,
				jitter:      func(int64) int64 { return 0 },
			})
			require.NoError(t, d.Start())
			d.Emit(mustEvent(t, TokenUpdated))
			waitStats(t, d, func(s Stats) bool { return s.Delivered+s.Failed == 1 && s.Pending == 0 })

			s := d.Stats()
			assert.Equal(t, tc.wantDelivered, s.Delivered)
			assert.Equal(t, tc.wantFailed, s.Failed)
			assert.Equal(t, uint64(len(tc.wantWaits)), s.Retried)
			ids := srv.seen()
			assert.Len(t, ids, tc.wantRequests)
			for _, id := range ids {
				assert.Equal(t, ids[0], id, "every attempt carries the same event id")
			}
			assert.Equal(t, tc.wantWaits, clk.recorded())
		})
	}
}

func TestDispatcherEmitNeverBlocks(t *testing.T) {
	t.Parallel()
	hung := newGateServer(t)
	d := newTestDispatcher(t, nil, DispatcherConfig{
		Targets:   []Target{{URL: hung.URL, Timeout: time.Hour}},
		QueueSize: 4,
	})
	require.NoError(t, d.Start())

	const n = 10_000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range n {
			d.Emit(Event{Type: RequestCompleted})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Emit blocked behind a hung target")
	}
	waitStats(t, d, func(s Stats) bool { return s.Dropped > 0 })
	// Bounded: one in flight, at most QueueSize in the target queue and
	// QueueSize in the ingress queue, plus the batch fanout holds between
	// the two (Pending counts it: those events are not done either).
	assert.LessOrEqual(t, d.Stats().Pending, uint64(1+4+4+fanoutBatch))
}

func TestDispatcherMemoryQueueDropsOldest(t *testing.T) {
	t.Parallel()
	hung := newGateServer(t)
	d := newTestDispatcher(t, nil, DispatcherConfig{
		Targets:   []Target{{URL: hung.URL, Timeout: time.Hour}},
		QueueSize: 2,
	})
	require.NoError(t, d.Start())

	const n = 20
	var last string
	for range n {
		ev := mustEvent(t, RuleViolation)
		last = ev.ID
		d.Emit(ev)
	}
	waitStats(t, d, func(s Stats) bool { return s.Dropped > 0 && s.Pending+s.Dropped == n })
	hung.release()
	waitStats(t, d, func(s Stats) bool { return s.Pending == 0 })

	s := d.Stats()
	assert.Equal(t, uint64(n), s.Delivered+s.Dropped, "every event is either delivered or counted as dropped")
	_, ids := hung.counts()
	assert.Contains(t, ids, last, "the newest event survives")
}

func TestDispatcherTargetIsolation(t *testing.T) {
	t.Parallel()
	hung := newGateServer(t)
	fast := newScriptServer(t)
	d := newTestDispatcher(t, nil, DispatcherConfig{Targets: []Target{
		{URL: hung.URL, Timeout: time.Hour},
		{URL: fast.URL},
	}})
	require.NoError(t, d.Start())
	for range 5 {
		d.Emit(mustEvent(t, BudgetExceeded))
	}
	require.Eventually(t, func() bool { return len(fast.seen()) == 5 }, 10*time.Second, 5*time.Millisecond)
	arrived, ids := hung.counts()
	assert.Equal(t, 1, arrived, "the hung target holds its first delivery")
	assert.Empty(t, ids)
}

func TestDispatcherConcurrentWorkers(t *testing.T) {
	t.Parallel()
	hung := newGateServer(t)
	d := newTestDispatcher(t, nil, DispatcherConfig{
		Targets:          []Target{{URL: hung.URL, Timeout: time.Hour}},
		WorkersPerTarget: 3,
	})
	require.NoError(t, d.Start())
	for range 5 {
		d.Emit(mustEvent(t, RateExceeded))
	}
	require.Eventually(t, func() bool { a, _ := hung.counts(); return a == 3 }, 10*time.Second, 5*time.Millisecond)
	hung.release()
	waitStats(t, d, func(s Stats) bool { return s.Delivered == 5 })
}

func TestDispatcherCloseDeadline(t *testing.T) {
	t.Parallel()
	hung := newGateServer(t)
	d, err := NewDispatcher(nil, DispatcherConfig{Targets: []Target{{URL: hung.URL, Timeout: time.Hour}}})
	require.NoError(t, err)
	require.NoError(t, d.Start())
	d.Emit(mustEvent(t, TokenDeleted))
	require.Eventually(t, func() bool { a, _ := hung.counts(); return a == 1 }, 10*time.Second, 5*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = d.Close(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	s := d.Stats()
	assert.Equal(t, uint64(1), s.Dropped, "the interrupted memory-only delivery is lost and counted")
	assert.Zero(t, s.Pending)

	require.NoError(t, d.Close(context.Background()), "second Close is a no-op")
	d.Emit(mustEvent(t, TokenDeleted))
	assert.Equal(t, uint64(2), d.Stats().Dropped, "Emit after Close is counted")
	require.ErrorIs(t, d.Start(), ErrClosed)
}

func TestDispatcherCloseFlushesDueDeliveries(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t)
	d, err := NewDispatcher(nil, DispatcherConfig{Targets: []Target{{URL: srv.URL}}})
	require.NoError(t, err)
	require.NoError(t, d.Start())
	for range 20 {
		d.Emit(mustEvent(t, RuleLogged))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, d.Close(ctx))
	s := d.Stats()
	assert.Equal(t, uint64(20), s.Delivered)
	assert.Zero(t, s.Dropped)
}

func TestDispatcherLogsNoSecrets(t *testing.T) {
	t.Parallel()
	const pathSecret = "T000-B000-PATHSECRET"
	srv := newScriptServer(t, reply{status: 400}, reply{hangUp: true}, reply{hangUp: true})
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	var buf syncBuffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Trace})
	d := newTestDispatcher(t, logger, DispatcherConfig{
		Targets: []Target{
			{URL: srv.URL + "/services/" + pathSecret, Secret: testSecret, SigningKey: testKey},
			{URL: deadURL + "/services/" + pathSecret, Secret: testSecret, SigningKey: testKey},
		},
		MaxAttempts: 2,
		BaseDelay:   time.Millisecond,
		MaxDelay:    time.Millisecond,
	})
	require.NoError(t, d.Start())
	d.Emit(mustEvent(t, TokenExpired))
	waitStats(t, d, func(s Stats) bool { return s.Failed == 2 })

	out := buf.String()
	assert.Contains(t, out, "dropping undeliverable event")
	assert.Contains(t, out, "retrying")
	for _, secret := range []string{pathSecret, testSecret, testKey} {
		assert.NotContains(t, out, secret)
	}
}

func TestDispatcherConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     DispatcherConfig
		wantErr error
	}{
		{name: "seed central entry", cfg: DispatcherConfig{Targets: []Target{{
			URL: "https://proxy.internal:8443/v1/webhook", Secret: "s", SigningKey: "k",
			Events: []string{"token.*"}, Timeout: 10 * time.Second,
		}}}},
		{name: "no targets", cfg: DispatcherConfig{}},
		{name: "bad scheme", cfg: DispatcherConfig{Targets: []Target{{URL: "ftp://x/"}}}, wantErr: ErrBadConfig},
		{name: "no host", cfg: DispatcherConfig{Targets: []Target{{URL: "http:///x"}}}, wantErr: ErrBadConfig},
		{name: "unparsable", cfg: DispatcherConfig{Targets: []Target{{URL: "http://[::1"}}}, wantErr: ErrBadConfig},
		{name: "duplicate", cfg: DispatcherConfig{Targets: []Target{{URL: "http://a/"}, {URL: "http://a/"}}}, wantErr: ErrBadConfig},
		{name: "bad filter", cfg: DispatcherConfig{Targets: []Target{{URL: "http://a/", Events: []string{"token*"}}}}, wantErr: ErrBadPattern},
		{name: "negative timeout", cfg: DispatcherConfig{Targets: []Target{{URL: "http://a/", Timeout: -1}}}, wantErr: ErrBadConfig},
		{name: "base above max", cfg: DispatcherConfig{BaseDelay: time.Hour, MaxDelay: time.Minute}, wantErr: ErrBadConfig},
		{name: "negative queue", cfg: DispatcherConfig{QueueSize: -1}, wantErr: ErrBadConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			cfg.SetDefaults()
			err := cfg.Validate()
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
			assert.NotContains(t, fmt.Sprint(err), "[::1", "URLs are not echoed")
		})
	}
}
