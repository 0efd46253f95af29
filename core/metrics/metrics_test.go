package metrics

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExposition(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	req := r.NewCounter("tkn_requests_total", "Requests by endpoint and status.", "endpoint", "code")
	req.With("chat", "200").Add(3)
	req.With("chat", "429").Inc()
	req.With("embed\"x", "200").Inc()
	g := r.NewGauge("tkn_inflight", "In-flight requests.")
	g.With().Set(2)
	h := r.NewHistogram("tkn_latency_seconds", "Latency.", []float64{0.1, 1}, "endpoint")
	h.With("chat").Observe(0.05)
	h.With("chat").Observe(0.5)
	h.With("chat").Observe(5)

	var b strings.Builder
	require.NoError(t, r.WriteText(&b))
	want := []string{
		"# TYPE tkn_requests_total counter",
		`tkn_requests_total{endpoint="chat",code="200"} 3`,
		`tkn_requests_total{endpoint="chat",code="429"} 1`,
		`tkn_requests_total{endpoint="embed\"x",code="200"} 1`,
		"tkn_inflight 2",
		`tkn_latency_seconds_bucket{endpoint="chat",le="0.1"} 1`,
		`tkn_latency_seconds_bucket{endpoint="chat",le="1"} 2`,
		`tkn_latency_seconds_bucket{endpoint="chat",le="+Inf"} 3`,
		`tkn_latency_seconds_sum{endpoint="chat"} 5.55`,
		`tkn_latency_seconds_count{endpoint="chat"} 3`,
	}
	for _, w := range want {
		assert.Contains(t, b.String(), w+"\n")
	}
}

func TestRegistrationPanics(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	r.NewCounter("a", "a")
	assert.Panics(t, func() { r.NewCounter("a", "again") })
	assert.Panics(t, func() { r.NewCounter("b", "b", "1", "2", "3", "4", "5") })
	c := r.NewCounter("c", "c", "x")
	assert.Panics(t, func() { c.With("1", "2") })
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	c := r.NewCounter("n", "n", "k")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				c.With("same").Inc()
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 8000, c.With("same").Value())
}

func TestWithDoesNotAllocate(t *testing.T) {
	r := NewRegistry()
	c := r.NewCounter("x", "x", "a", "b")
	c.With("p", "q")
	allocs := testing.AllocsPerRun(100, func() { c.With("p", "q").Inc() })
	assert.Zero(t, allocs)
}
