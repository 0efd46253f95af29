package central

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/rollup"
)

// maxUsageBody bounds one usage batch (rollup.MaxBatchRows rows fit).
const maxUsageBody = 16 << 20

// usageRoutes serves the fleet's usage rollups:
//
//	POST /api/v1/usage                  rollup.Batch → 200 {"id","stored"}; stored is false
//	                                    for a batch id already held (a retry), which is not
//	                                    counted again
//	GET  /api/v1/usage?by=D&since=T     {"by","since","rows":[rollup.ReportRow]}; D is token,
//	                                    model, provider or day (default model), T an RFC 3339
//	                                    time or a duration back from now (default 24h)
func (s *Server) usageRoutes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			s.postUsage(w, r)
		case http.MethodGet:
			s.getUsage(w, r)
		default:
			w.Header().Set("Allow", "GET, POST")
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use GET or POST")
		}
	})
}

func (s *Server) postUsage(w http.ResponseWriter, r *http.Request) {
	var b rollup.Batch
	if err := decodeStrict(http.MaxBytesReader(w, r.Body, maxUsageBody), &b); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", "the usage batch is too large")
			return
		}
		writeError(w, http.StatusBadRequest, "invalid_usage", err.Error())
		return
	}
	if err := b.Check(); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_usage", err.Error())
		return
	}
	fresh, err := s.o.Usage.Add(r.Context(), &b)
	if err != nil {
		s.log.Error("storing a usage batch failed", "batch", b.ID, "error", err)
		writeError(w, http.StatusInternalServerError, "storage_error", "the usage batch could not be stored")
		return
	}
	s.obs.usageBatch(fresh, len(b.Rows))
	if s.log.IsDebug() {
		s.log.Debug("usage batch", "batch", b.ID, "rows", len(b.Rows), "stored", fresh)
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": b.ID, "stored": fresh})
}

func (s *Server) getUsage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	by := q.Get("by")
	if by == "" {
		by = rollup.ByModel
	}
	since, err := ParseSince(q.Get("since"), time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_since", err.Error())
		return
	}
	rows, err := s.o.Usage.Query(r.Context(), since)
	if err != nil {
		s.log.Error("reading usage failed", "error", err)
		writeError(w, http.StatusInternalServerError, "storage_error", "usage could not be read")
		return
	}
	report, err := rollup.Report(rows, by, events.HashPrefixLen)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_by", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"by": by, "since": since.UTC(), "rows": report})
}

// ParseSince reads a report's start: an RFC 3339 time, a date
// (2006-01-02, UTC) or a duration back from now ("24h", "7d"); "" is 24h.
func ParseSince(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return now.Add(-24 * time.Hour), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if d, ok := strings.CutSuffix(v, "d"); ok {
		if t, err := time.ParseDuration(d + "h"); err == nil && t >= 0 {
			return now.Add(-24 * t), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, errors.New("since must be an RFC 3339 time, a date (2006-01-02) or a duration such as 24h or 7d")
}
