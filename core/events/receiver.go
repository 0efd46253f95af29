package events

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"
)

// MaxBodySize bounds a delivery body accepted by NewReceiverHandler.
const MaxBodySize = 1 << 20

// ReceiverOption tunes NewReceiverHandler.
type ReceiverOption func(*receiver)

// WithRejectHook calls fn for every rejected request with the status
// answered and the reason. The error never contains a header value, so it
// is safe to log.
func WithRejectHook(fn func(r *http.Request, status int, err error)) ReceiverOption {
	return func(h *receiver) { h.onReject = fn }
}

// withNow replaces the receiver's clock in tests.
func withNow(now func() time.Time) ReceiverOption {
	return func(h *receiver) { h.now = now }
}

// NewReceiverHandler returns a net/http handler that verifies deliveries with
// v and hands each accepted event to onEvent before answering 202. onEvent
// runs on the request goroutine and should return quickly. Status codes are
// listed in the package doc.
func NewReceiverHandler(v *Verifier, onEvent func(Event), opts ...ReceiverOption) http.Handler {
	h := &receiver{v: v, onEvent: onEvent, now: time.Now}
	for _, o := range opts {
		o(h)
	}
	return h
}

type receiver struct {
	v        *Verifier
	onEvent  func(Event)
	onReject func(*http.Request, int, error)
	now      func() time.Time
}

var errNotPost = errors.New("events: method not allowed")

func (h *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reject(w, r, http.StatusMethodNotAllowed, errNotPost)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.reject(w, r, http.StatusRequestEntityTooLarge, err)
			return
		}
		h.reject(w, r, http.StatusBadRequest, err)
		return
	}
	if _, err := h.v.Verify(r.Header.Get, body, h.now()); err != nil {
		h.reject(w, r, StatusFor(err), err)
		return
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.Type == "" {
		if err == nil {
			err = errors.New("events: event has no type")
		}
		h.reject(w, r, http.StatusBadRequest, err)
		return
	}
	if h.onEvent != nil {
		h.onEvent(ev)
	}
	w.WriteHeader(http.StatusAccepted)
}

func (h *receiver) reject(w http.ResponseWriter, r *http.Request, status int, err error) {
	if h.onReject != nil {
		h.onReject(r, status, err)
	}
	// The reason is fixed text per status: an attacker learns no more than
	// the status already says.
	http.Error(w, http.StatusText(status), status)
}

// StatusFor maps a Verify error to the HTTP status a receiver should answer:
// 401 for missing or wrong credentials and stale timestamps, 409 for
// replays, 400 for malformed input. Receivers outside net/http (the fasthttp
// proxy) use it to answer the same way.
func StatusFor(err error) int {
	switch {
	case err == nil:
		return http.StatusAccepted
	case errors.Is(err, ErrReplay):
		return http.StatusConflict
	case errors.Is(err, ErrMalformed):
		return http.StatusBadRequest
	default: // missing header, bad secret, bad signature, stale
		return http.StatusUnauthorized
	}
}

// Interface guards.
var _ http.Handler = (*receiver)(nil)
