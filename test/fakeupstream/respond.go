package fakeupstream

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Shared header values: assigning these slices avoids an allocation per
// header. Nothing may modify them.
var (
	ctJSON  = []string{"application/json"}
	ctSSE   = []string{"text/event-stream; charset=utf-8"}
	noCache = []string{"no-cache"}
	gzipEnc = []string{"gzip"}
)

var gzipPool = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

// abort ends the response by dropping the connection, the way net/http
// documents for a handler that must stop mid-body: the client sees a cut, not
// a complete answer. net/http recovers this panic without logging.
func abort() { panic(http.ErrAbortHandler) }

// sleep waits d, or aborts if the client leaves or the server closes first.
func (s *Server) sleep(r *http.Request, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		abort()
	case <-s.done:
		abort()
	}
}

// hang never answers: it returns only by aborting, once the client gives up
// or the server closes.
func (s *Server) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.done:
	}
	abort()
}

// writeJSON sends a complete 200 JSON body with the plan's faults applied:
// slow (wait first), malformed (first half of the JSON), gzip, truncate
// (declares the full length, sends half, drops the connection).
func (x *exchange) writeJSON(body []byte) {
	d := &x.p.dir
	if d.slow > 0 {
		x.s.sleep(x.r, d.slow)
	}
	if d.malformed {
		body = body[:len(body)/2]
	}
	h := x.w.Header()
	h["Content-Type"] = ctJSON
	x.setRequestID(h)
	if d.gzip {
		var zb bytes.Buffer
		gz := gzipPool.Get().(*gzip.Writer)
		gz.Reset(&zb)
		_, _ = gz.Write(body)
		_ = gz.Close()
		gz.Reset(io.Discard)
		gzipPool.Put(gz)
		body = zb.Bytes()
		h["Content-Encoding"] = gzipEnc
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	x.w.WriteHeader(http.StatusOK)
	if d.truncate {
		_, _ = x.w.Write(body[:len(body)/2])
		_ = http.NewResponseController(x.w).Flush()
		abort()
	}
	_, _ = x.w.Write(body)
}

func (x *exchange) setRequestID(h http.Header) {
	b := make([]byte, 0, 24)
	b = append(b, "req_fake"...)
	b = appendUint(b, x.n)
	if x.c.api == apiMessages {
		h["Request-Id"] = []string{string(b)}
	} else {
		h["X-Request-Id"] = []string{string(b)}
	}
}

// streamer writes server-sent events with the plan's faults applied.
type streamer struct {
	x         *exchange
	rc        *http.ResponseController
	out       io.Writer
	gz        *gzip.Writer
	timer     *time.Timer
	malformed bool // cut the JSON of the next frame in half
	aborted   bool
	buf       []byte
	bufp      *[]byte
}

func (x *exchange) startStream() *streamer {
	st := &streamer{x: x, rc: http.NewResponseController(x.w), out: x.w, malformed: x.p.dir.malformed}
	h := x.w.Header()
	h["Content-Type"] = ctSSE
	h["Cache-Control"] = noCache
	x.setRequestID(h)
	if x.p.dir.gzip {
		st.gz = gzipPool.Get().(*gzip.Writer)
		st.gz.Reset(x.w)
		st.out = st.gz
		h["Content-Encoding"] = gzipEnc
	}
	x.w.WriteHeader(http.StatusOK)
	st.bufp = getBuf()
	st.buf = *st.bufp
	return st
}

// begin returns the frame buffer, emptied.
func (st *streamer) begin() []byte { return st.buf[:0] }

// emit sends one frame built from begin(), waiting first under [[fake:slow]].
// An error means the client is gone; the writer just returns.
func (st *streamer) emit(frame []byte) error {
	st.buf = frame
	if d := st.x.p.dir.slow; d > 0 {
		if st.timer == nil {
			st.timer = time.NewTimer(d)
		} else {
			st.timer.Reset(d)
		}
		select {
		case <-st.timer.C:
		case <-st.x.r.Context().Done():
			return st.x.r.Context().Err()
		case <-st.x.s.done:
			return http.ErrServerClosed
		}
	}
	if st.malformed {
		st.malformed = false
		frame = cutFrame(frame)
	}
	if _, err := st.out.Write(frame); err != nil {
		return err
	}
	if st.gz != nil {
		if err := st.gz.Flush(); err != nil {
			return err
		}
	}
	return st.rc.Flush()
}

// cutFrame keeps the first half of a frame's JSON data, then ends the frame.
func cutFrame(frame []byte) []byte {
	i := bytes.Index(frame, []byte("data: "))
	if i < 0 {
		return frame
	}
	start, end := i+len("data: "), len(frame)-2
	out := append([]byte(nil), frame[:start+(end-start)/2]...)
	return append(out, '\n', '\n')
}

// abort sends what was written so far and drops the connection.
func (st *streamer) abort() {
	st.aborted = true
	if st.gz != nil {
		_ = st.gz.Flush()
	}
	_ = st.rc.Flush()
	abort()
}

// close finishes the body and returns pooled resources. Deferred by every
// stream writer, so it also runs when abort unwinds.
func (st *streamer) close() {
	if st.timer != nil {
		st.timer.Stop()
	}
	if st.gz != nil {
		if !st.aborted {
			_ = st.gz.Close() // the gzip trailer ends a complete body only
		}
		st.gz.Reset(io.Discard)
		gzipPool.Put(st.gz)
		st.gz = nil
	}
	*st.bufp = st.buf
	putBuf(st.bufp)
}

// cutLimit is how many content deltas a truncated stream sends before it is
// cut: half of them, rounded up (none when there are none). -1: no cut.
func (x *exchange) cutLimit(deltas int) int {
	if !x.p.dir.truncate {
		return -1
	}
	return (deltas + 1) / 2
}

func appendData(b []byte) []byte { return append(b, "data: "...) }

func appendEvent(b []byte, name string) []byte {
	b = append(b, "event: "...)
	b = append(b, name...)
	return append(b, "\ndata: "...)
}

func endFrame(b []byte) []byte { return append(b, '\n', '\n') }
