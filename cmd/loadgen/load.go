package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// ErrBadResponse means a probe request did not get a usable answer.
var ErrBadResponse = errors.New("loadgen: bad response")

// target is what one run sends.
type target struct {
	url    string // full URL of the chat completions endpoint
	auth   string // Authorization header value
	body   []byte
	stream bool
	// proxied runs get their own serve process and CPU profile.
	proxied bool
}

// result is one run's raw measurements.
type result struct {
	lat      []time.Duration // full request (for streams: until the last byte)
	ttfb     []time.Duration // streams only: until the first body byte
	errors   int
	firstErr string
	elapsed  time.Duration
}

// worker is one client's share, merged into a result at the end.
type worker struct {
	lat, ttfb []time.Duration
	errors    int
	firstErr  string
}

func (w *worker) fail(format string, args ...any) {
	w.errors++
	if w.firstErr == "" {
		w.firstErr = fmt.Sprintf(format, args...)
	}
}

// newClient is a keep-alive client with one connection per load client.
func newClient(rawURL string, conns int, stream bool) (*fasthttp.HostClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parsing %q: %w", rawURL, err)
	}
	return &fasthttp.HostClient{
		Addr:                u.Host,
		MaxConns:            conns,
		MaxIdleConnDuration: time.Minute,
		ReadTimeout:         30 * time.Second,
		WriteTimeout:        30 * time.Second,
		StreamResponseBody:  stream,
		MaxConnWaitTimeout:  30 * time.Second,
	}, nil
}

// runLoad keeps clients requests in flight for d and returns every latency.
func runLoad(ctx context.Context, t target, clients int, d time.Duration) (*result, error) {
	hc, err := newClient(t.url, clients, t.stream)
	if err != nil {
		return nil, err
	}
	defer hc.CloseIdleConnections()
	// About 20k requests per second per run is more than this box does, so
	// the first append rarely grows a slice.
	perWorker := int(d.Seconds()*20000)/clients + 16
	workers := make([]worker, clients)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		w.lat = make([]time.Duration, 0, perWorker)
		if t.stream {
			w.ttfb = make([]time.Duration, 0, perWorker)
		}
		wg.Go(func() { w.run(ctx, hc, t, deadline) })
	}
	wg.Wait()
	r := &result{elapsed: time.Since(start)}
	for i := range workers {
		w := &workers[i]
		r.lat = append(r.lat, w.lat...)
		r.ttfb = append(r.ttfb, w.ttfb...)
		r.errors += w.errors
		if r.firstErr == "" {
			r.firstErr = w.firstErr
		}
	}
	return r, nil
}

// run sends requests back to back until the deadline.
func (w *worker) run(ctx context.Context, hc *fasthttp.HostClient, t target, deadline time.Time) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(t.url)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.Header.Set("Authorization", t.auth)
	req.SetBody(t.body)
	buf := make([]byte, 16<<10)
	for ctx.Err() == nil {
		start := time.Now()
		if !start.Before(deadline) {
			return
		}
		if !t.stream {
			w.once(hc, req, resp, start)
			continue
		}
		w.onceStream(hc, req, resp, start, buf)
	}
}

// once measures one non-streamed request.
func (w *worker) once(hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response, start time.Time) {
	err := hc.Do(req, resp)
	lat := time.Since(start)
	switch {
	case err != nil:
		w.fail("transport: %v", err)
		time.Sleep(time.Millisecond) // no hot loop against a dead server
	case resp.StatusCode() != fasthttp.StatusOK:
		w.fail("status %d: %.200s", resp.StatusCode(), resp.Body())
	default:
		w.lat = append(w.lat, lat)
	}
}

// onceStream measures one streamed request: the first body byte and the
// end of the stream, which must be data: [DONE].
func (w *worker) onceStream(hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response, start time.Time, buf []byte) {
	if err := hc.Do(req, resp); err != nil {
		w.fail("transport: %v", err)
		time.Sleep(time.Millisecond)
		return
	}
	defer func() { _ = resp.CloseBodyStream() }()
	status := resp.StatusCode()
	var ttfb time.Duration
	var tail [32]byte
	tailLen := 0
	r := resp.BodyStream()
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if ttfb == 0 {
				ttfb = time.Since(start)
			}
			tailLen = keepTail(&tail, tailLen, buf[:n])
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			w.fail("reading the stream: %v", err)
			return
		}
	}
	lat := time.Since(start)
	switch {
	case status != fasthttp.StatusOK:
		w.fail("status %d: %.200s", status, tail[:tailLen])
	case !bytes.Contains(tail[:tailLen], []byte("[DONE]")):
		w.fail("stream without data: [DONE], ends %q", tail[:tailLen])
	default:
		w.lat = append(w.lat, lat)
		w.ttfb = append(w.ttfb, ttfb)
	}
}

// keepTail keeps the last len(tail) bytes seen across reads.
func keepTail(tail *[32]byte, n int, b []byte) int {
	if len(b) >= len(tail) {
		return copy(tail[:], b[len(b)-len(tail):])
	}
	if n+len(b) > len(tail) {
		drop := n + len(b) - len(tail)
		copy(tail[:], tail[drop:n])
		n -= drop
	}
	return n + copy(tail[n:], b)
}

// probe sends one request and checks the answer, so a misconfiguration
// shows as one clear error rather than a run full of them.
func probe(t target) error {
	hc, err := newClient(t.url, 1, false)
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(t.url)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.Header.Set("Authorization", t.auth)
	req.SetBody(t.body)
	if err := hc.DoTimeout(req, resp, 30*time.Second); err != nil {
		return fmt.Errorf("probing %s: %w", t.url, err)
	}
	body := resp.Body()
	want := []byte(`"choices"`)
	if t.stream {
		want = []byte("[DONE]")
	}
	if resp.StatusCode() != fasthttp.StatusOK || !bytes.Contains(body, want) {
		return fmt.Errorf("probing %s: %w: status %d: %.400s", t.url, ErrBadResponse, resp.StatusCode(), body)
	}
	return nil
}
