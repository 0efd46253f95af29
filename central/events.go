package central

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokenomics-dev/tokenomics/central/clientaddr"
	"github.com/tokenomics-dev/tokenomics/core/events"
)

// Central's event inbox. Proxies deliver their events (rule.*, budget.*,
// request.completed...) with the signed webhooks they send anywhere else;
// an events.webhooks entry pointing at central's /webhook brings them
// here. Deliveries are verified as a proxy verifies central's pushes:
// secret header and HMAC-SHA256 over timestamp.body, timestamps within
// max_skew, replayed ids refused (409, which senders count as delivered).
//
//	POST /webhook                       a signed delivery → 202
//	GET  /api/v1/events?after=N&since=T&type=P&limit=L
//	                                    {"events":[StoredEvent],"last":seq}; type may repeat
//	                                    and takes events.webhooks patterns ("rule.*")

// maxEventList bounds one listing.
const maxEventList = 1000

// inbox verifies deliveries against each credential set it was given:
// central's own receiver secret, or the fleet's shared webhook
// credentials.
type inbox struct {
	s         *Server
	verifiers []*events.Verifier
}

func (in *inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, events.MaxBodySize))
	if err != nil {
		in.reject(w, r, http.StatusRequestEntityTooLarge, err)
		return
	}
	now := time.Now()
	// The first error that got past the credentials (stale, replay) says
	// more than "wrong key" from the other verifiers.
	var verr error
	ok := false
	for _, v := range in.verifiers {
		_, err := v.Verify(r.Header.Get, body, now)
		if err == nil {
			ok = true
			break
		}
		if verr == nil || errors.Is(err, events.ErrReplay) || errors.Is(err, events.ErrStale) {
			verr = err
		}
	}
	if !ok {
		in.reject(w, r, events.StatusFor(verr), verr)
		return
	}
	var ev events.Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.Type == "" {
		in.reject(w, r, http.StatusBadRequest, errors.New("the event has no type"))
		return
	}
	if _, err := in.s.o.Events.Append(r.Context(), ev, now); err != nil {
		in.s.log.Error("storing a received event failed", "event_id", ev.ID, "type", ev.Type, "error", err)
		writeError(w, http.StatusInternalServerError, "storage_error", "the event could not be stored")
		return
	}
	in.s.obs.eventReceived(ev.Type)
	w.WriteHeader(http.StatusAccepted)
}

func (in *inbox) reject(w http.ResponseWriter, r *http.Request, status int, err error) {
	in.s.obs.eventRejected(status)
	// Verify's errors never hold a header value: safe to log.
	in.s.log.Warn("event delivery refused", "source", in.s.o.ClientAddr.Client(r), "peer", clientaddr.Peer(r), "status", status, "error", err)
	writeError(w, status, "event_refused", http.StatusText(status))
}

// listEvents answers GET /api/v1/events.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	eq := EventQuery{Limit: maxEventList, Types: q["type"]}
	for _, p := range eq.Types {
		if err := events.ValidPattern(p); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_type", err.Error())
			return
		}
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_after", "after must be an event sequence number")
			return
		}
		eq.After = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "invalid_limit", "limit must be a positive number")
			return
		}
		eq.Limit = min(n, maxEventList)
	}
	if v := strings.TrimSpace(q.Get("since")); v != "" {
		t, err := ParseSince(v, time.Now())
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_since", err.Error())
			return
		}
		eq.Since = t
	}
	list, err := s.o.Events.List(r.Context(), eq)
	if err != nil {
		s.log.Error("reading events failed", "error", err)
		writeError(w, http.StatusInternalServerError, "storage_error", "events could not be read")
		return
	}
	last := eq.After
	if n := len(list); n > 0 {
		last = list[n-1].Seq
	}
	if list == nil {
		list = []StoredEvent{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": list, "last": last})
}
