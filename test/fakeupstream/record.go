package fakeupstream

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"
)

// Request is one request as it reached the fake upstream. Treat it as
// read-only: Header and Body are shared with other copies.
type Request struct {
	Seq        uint64
	Time       time.Time
	Method     string
	Path       string
	RawQuery   string
	Host       string
	RemoteAddr string
	// Header is as received; net/http moves Host and Transfer-Encoding out of it.
	Header           http.Header
	TransferEncoding []string
	Body             []byte
}

// JSON decodes the body into v.
func (r Request) JSON(v any) error { return json.Unmarshal(r.Body, v) }

// recorder is a lock-free ring of the last len(slots) requests. Each slot
// holds a pointer tagged with its sequence number, so a reader skips slots a
// writer has claimed but not yet filled, or already overwritten.
type recorder struct {
	slots []atomic.Pointer[Request]
	next  atomic.Uint64 // sequence number of the next request
	base  atomic.Uint64 // first sequence number visible since Reset
}

func newRecorder(limit int) *recorder {
	if limit <= 0 {
		return nil
	}
	return &recorder{slots: make([]atomic.Pointer[Request], limit)}
}

func (rc *recorder) add(r *http.Request, body []byte) {
	if rc == nil {
		return
	}
	req := &Request{
		Time:             time.Now(),
		Method:           r.Method,
		Path:             r.URL.Path,
		RawQuery:         r.URL.RawQuery,
		Host:             r.Host,
		RemoteAddr:       r.RemoteAddr,
		Header:           r.Header.Clone(),
		TransferEncoding: r.TransferEncoding,
		Body:             body,
	}
	req.Seq = rc.next.Add(1) - 1
	rc.slots[req.Seq%uint64(len(rc.slots))].Store(req)
}

func (rc *recorder) window() (start, end uint64) {
	end = rc.next.Load()
	start = rc.base.Load()
	if n := uint64(len(rc.slots)); end-start > n {
		start = end - n
	}
	return start, end
}

func (rc *recorder) get(seq uint64) *Request {
	p := rc.slots[seq%uint64(len(rc.slots))].Load()
	if p == nil || p.Seq != seq {
		return nil
	}
	return p
}

func (rc *recorder) list() []Request {
	if rc == nil {
		return nil
	}
	start, end := rc.window()
	out := make([]Request, 0, end-start)
	for seq := start; seq < end; seq++ {
		if p := rc.get(seq); p != nil {
			out = append(out, *p)
		}
	}
	return out
}

func (rc *recorder) last() (Request, bool) {
	if rc == nil {
		return Request{}, false
	}
	start, end := rc.window()
	for seq := end; seq > start; seq-- {
		if p := rc.get(seq - 1); p != nil {
			return *p, true
		}
	}
	return Request{}, false
}

func (rc *recorder) reset() {
	if rc != nil {
		rc.base.Store(rc.next.Load())
	}
}
