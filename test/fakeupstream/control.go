package fakeupstream

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// scriptWire is the body of POST /_fake/script.
type scriptWire struct {
	// Model applies to entries that name none.
	Model     string         `json:"model"`
	Responses []scriptedWire `json:"responses"`
}

type scriptedWire struct {
	Scripted
	// Delay is a Go duration string ("200ms").
	Delay string `json:"delay"`
}

// requestWire is one element of GET /_fake/requests.
type requestWire struct {
	Seq      uint64      `json:"seq"`
	Time     time.Time   `json:"time"`
	Method   string      `json:"method"`
	Path     string      `json:"path"`
	RawQuery string      `json:"query,omitempty"`
	Header   http.Header `json:"header"`
	Body     string      `json:"body"`
}

// serveControl answers the test-control API under /_fake/:
//
//	POST /_fake/script    queue scripted responses (see Scripted)
//	POST /_fake/reset     forget requests and scripted responses
//	GET  /_fake/requests  the recorded requests, oldest first
//	GET  /_fake/health    200 "ok"
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	switch r.Method + " " + r.URL.Path {
	case "POST /_fake/script":
		n, err := s.scriptFromJSON(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeControlJSON(w, map[string]int{"queued": n, "pending": s.Pending()})
	case "POST /_fake/reset":
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	case "GET /_fake/requests":
		reqs := s.Requests()
		out := make([]requestWire, len(reqs))
		for i, rq := range reqs {
			out[i] = requestWire{Seq: rq.Seq, Time: rq.Time, Method: rq.Method, Path: rq.Path,
				RawQuery: rq.RawQuery, Header: rq.Header, Body: string(rq.Body)}
		}
		writeControlJSON(w, out)
	case "GET /_fake/health":
		_, _ = w.Write([]byte("ok\n"))
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) scriptFromJSON(r *http.Request) (int, error) {
	var in scriptWire
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return 0, fmt.Errorf("decoding script: %w", err)
	}
	entries := make([]Scripted, len(in.Responses))
	for i, e := range in.Responses {
		entries[i] = e.Scripted
		if entries[i].Model == "" {
			entries[i].Model = in.Model
		}
		if e.Delay != "" {
			d, err := time.ParseDuration(e.Delay)
			if err != nil {
				return 0, fmt.Errorf("response %d: delay %q: %w", i, e.Delay, ErrScript)
			}
			entries[i].Delay = d
		}
	}
	if err := s.Script(entries...); err != nil {
		return 0, err
	}
	return len(entries), nil
}

func writeControlJSON(w http.ResponseWriter, v any) {
	w.Header()["Content-Type"] = ctJSON
	_ = json.NewEncoder(w).Encode(v)
}
