package proxy

import (
	"bytes"
	"sync"
	"sync/atomic"

	"github.com/valyala/fasthttp"
)

// chunkedAnthropic remembers which requests of unknown length (chunked
// bodies) were sent to an Anthropic path, from the moment fasthttp has read
// their header until the handler or the error handler runs. fasthttp
// resets the request when such a body outgrows the limit, so the error
// handler could not otherwise tell that its 413 must be in Anthropic's
// shape. Entries are keyed by the connection's request header, which
// fasthttp hands to both callbacks; the map holds only requests whose body
// is being read, and the handler's check is one atomic load when it is
// empty.
type chunkedAnthropic struct {
	n  atomic.Int64
	mu sync.Mutex
	m  map[*fasthttp.RequestHeader]struct{}
}

// maxChunkedPending bounds the map should a connection die between header
// and body without either callback running: the oldest guesses are dropped
// wholesale, and those requests, if they ever failed, would get the OpenAI
// shape.
const maxChunkedPending = 4096

// headerReceived is fasthttp's HeaderReceived hook; it changes no limit.
func (s *Server) headerReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if h.ContentLength() >= 0 { // known length: the 413 comes before the reset
		return fasthttp.RequestConfig{}
	}
	uri := h.RequestURI()
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	if !anthropicPath(uri) {
		return fasthttp.RequestConfig{}
	}
	c := &s.chunked
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxChunkedPending {
		c.m = map[*fasthttp.RequestHeader]struct{}{}
	}
	c.m[h] = struct{}{}
	c.n.Store(int64(len(c.m)))
	c.mu.Unlock()
	return fasthttp.RequestConfig{}
}

// take reports whether h was a chunked request to an Anthropic path, and
// forgets it.
func (c *chunkedAnthropic) take(h *fasthttp.RequestHeader) bool {
	if c.n.Load() == 0 {
		return false
	}
	c.mu.Lock()
	_, ok := c.m[h]
	delete(c.m, h)
	c.n.Store(int64(len(c.m)))
	c.mu.Unlock()
	return ok
}
