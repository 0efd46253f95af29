package events

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"
)

// fakeClock makes every wait return at once and moves its time forward by
// the wait, recording it.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: testNow} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch, func() {}
}

func (c *fakeClock) recorded() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// reply is one scripted answer of a scriptServer.
type reply struct {
	status int
	header map[string]string
	hangUp bool // close the connection without answering
}

// scriptServer answers with its script in order, then 200, and records the
// event ids it saw.
type scriptServer struct {
	*httptest.Server
	mu     sync.Mutex
	script []reply
	ids    []string
	hdrs   []http.Header
}

func newScriptServer(t *testing.T, script ...reply) *scriptServer {
	t.Helper()
	s := &scriptServer{script: script}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *scriptServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev Event
	_ = json.Unmarshal(body, &ev)
	s.mu.Lock()
	s.ids = append(s.ids, ev.ID)
	s.hdrs = append(s.hdrs, r.Header.Clone())
	rp := reply{status: http.StatusOK}
	if len(s.script) > 0 {
		rp, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	if rp.hangUp {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	for k, v := range rp.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rp.status)
}

func (s *scriptServer) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ids...)
}

// gateServer blocks every request until release is called.
type gateServer struct {
	*httptest.Server
	gate    chan struct{}
	once    sync.Once
	mu      sync.Mutex
	arrived int
	ids     []string
}

func newGateServer(t *testing.T) *gateServer {
	t.Helper()
	g := &gateServer{gate: make(chan struct{})}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev Event
		_ = json.Unmarshal(body, &ev)
		g.mu.Lock()
		g.arrived++
		g.mu.Unlock()
		select {
		case <-g.gate:
		case <-r.Context().Done():
			return
		}
		g.mu.Lock()
		g.ids = append(g.ids, ev.ID)
		g.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	// Cleanups run last-in first-out: open the gate before Close waits
	// for the handlers.
	t.Cleanup(g.Close)
	t.Cleanup(g.release)
	return g
}

func (g *gateServer) release() { g.once.Do(func() { close(g.gate) }) }

func (g *gateServer) counts() (arrived int, ids []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.arrived, append([]string(nil), g.ids...)
}

func newTestDispatcher(t *testing.T, logger hclog.Logger, cfg DispatcherConfig) *Dispatcher {
	t.Helper()
	d, err := NewDispatcher(logger, cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = d.Close(ctx)
	})
	return d
}

func waitStats(t *testing.T, d *Dispatcher, cond func(Stats) bool) {
	t.Helper()
	require.Eventually(t, func() bool { return cond(d.Stats()) }, 10*time.Second, 5*time.Millisecond,
		"stats never matched: %+v", d.Stats())
}

func mustEvent(t testing.TB, typ string) Event {
	t.Helper()
	ev, err := New(typ, SourceCentral, 1, TokenData{TokenHashPrefix: "abcd1234"})
	require.NoError(t, err)
	return ev
}

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
