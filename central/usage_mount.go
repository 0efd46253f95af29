package central

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/metrics"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

// observability is central's share of the fleet view: usage rollups and
// the event inbox, their metrics and their retention.
type observability struct {
	batches  *metrics.CounterVec
	rows     *metrics.Counter
	received *metrics.CounterVec
	rejected *metrics.CounterVec
	pruned   *metrics.CounterVec
}

func newObservability(r *metrics.Registry) *observability {
	return &observability{
		batches:  r.NewCounter("tokenomics_usage_batches_received_total", "Usage batches received from proxies, by outcome (stored, duplicate).", "outcome"),
		rows:     r.NewCounter("tokenomics_usage_rows_received_total", "Usage rows stored from proxies' batches.").With(),
		received: r.NewCounter("tokenomics_events_received_total", "Events proxies delivered to central's inbox, by type.", "type"),
		rejected: r.NewCounter("tokenomics_events_rejected_total", "Event deliveries central refused, by HTTP status.", "status"),
		pruned:   r.NewCounter("tokenomics_retention_pruned_total", "Usage rows and events dropped after their retention.", "kind"),
	}
}

func (o *observability) usageBatch(fresh bool, rows int) {
	if fresh {
		o.batches.With("stored").Inc()
		o.rows.Add(int64(rows))
		return
	}
	o.batches.With("duplicate").Inc()
}

// eventReceived counts a stored delivery by type. The type is the sender's
// word, so a type this build does not know shares the label "other": each
// distinct label is a Prometheus series kept for the life of the process.
func (o *observability) eventReceived(typ string) {
	if !events.Known(typ) {
		typ = "other"
	}
	o.received.With(typ).Inc()
}
func (o *observability) eventRejected(status int) { o.rejected.With(strconv.Itoa(status)).Inc() }

// mountObservability adds the usage and event routes the options enable.
func (s *Server) mountObservability(mux *http.ServeMux, auth tokenapi.Authenticator) {
	s.obs = newObservability(s.o.Metrics)
	if s.o.Usage != nil {
		mux.Handle("/api/v1/usage", requireAuth(auth, s.usageRoutes()))
	}
	if s.o.Events != nil {
		mux.Handle("GET /api/v1/events", requireAuth(auth, http.HandlerFunc(s.listEvents)))
		if len(s.o.EventVerifiers) > 0 {
			path := s.o.EventPath
			if path == "" {
				path = "/webhook"
			}
			s.guard.inbox = path
			mux.Handle(path, &inbox{s: s, verifiers: s.o.EventVerifiers})
		}
	}
}

// Prune drops usage rows older than UsageRetention and events older than
// EventRetention (a zero retention keeps everything).
func (s *Server) Prune(ctx context.Context, now time.Time) {
	if s.o.Usage != nil && s.o.UsageRetention > 0 {
		n, err := s.o.Usage.Prune(ctx, now.Add(-s.o.UsageRetention))
		if err != nil {
			s.log.Warn("pruning usage failed", "error", err)
		}
		s.obs.pruned.With("usage_rows").Add(int64(n))
	}
	if s.o.Events != nil && s.o.EventRetention > 0 {
		n, err := s.o.Events.Prune(ctx, now.Add(-s.o.EventRetention))
		if err != nil {
			s.log.Warn("pruning events failed", "error", err)
		}
		s.obs.pruned.With("events").Add(int64(n))
	}
}

// RunRetention prunes at start and then every interval until ctx ends.
func (s *Server) RunRetention(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.Prune(ctx, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
