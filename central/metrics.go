package central

import (
	"net/http"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/metrics"
)

// centralMetrics are the sync figures central exports at /metrics. They are
// refreshed from the store and the notifier when scraped.
type centralMetrics struct {
	reg       *metrics.Registry
	revision  *metrics.GaugeVec
	pending   *metrics.GaugeVec
	lag       *metrics.GaugeVec
	failures  *metrics.GaugeVec
	lastError *metrics.GaugeVec
	delivered *metrics.GaugeVec
}

func newCentralMetrics(reg *metrics.Registry) *centralMetrics {
	return &centralMetrics{
		reg:       reg,
		revision:  reg.NewGauge("tokenomics_central_revision", "Revision of the central token store."),
		pending:   reg.NewGauge("tokenomics_push_pending", "Pushes waiting for a webhook target (at most one per feed: pending pushes coalesce).", "target"),
		lag:       reg.NewGauge("tokenomics_push_lag_revisions", "Token revisions a webhook target has not been told about yet.", "target"),
		failures:  reg.NewGauge("tokenomics_push_failures", "Consecutive failed pushes to a webhook target.", "target"),
		lastError: reg.NewGauge("tokenomics_push_last_error", "1 when the last push to a webhook target failed.", "target"),
		delivered: reg.NewGauge("tokenomics_push_delivered", "Pushes a webhook target accepted since the central server started.", "target"),
	}
}

func (s *Server) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	m := s.met
	m.revision.With().Set(float64(s.o.DB.Revision()))
	if s.o.PushStats != nil {
		for _, t := range s.o.PushStats() {
			m.pending.With(t.Name).Set(float64(t.Pending))
			m.lag.With(t.Name).Set(float64(lag(t)))
			m.failures.With(t.Name).Set(float64(t.Failures))
			m.lastError.With(t.Name).Set(boolGauge(t.LastError != ""))
			m.delivered.With(t.Name).Set(float64(t.Delivered))
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	if err := m.reg.WriteText(w); err != nil {
		s.log.Warn("writing metrics", "error", err)
	}
}

// lag is how many token revisions were noted but not yet delivered.
func lag(t events.TargetStats) uint64 {
	want, sent := t.Wanted["token"], t.Sent["token"]
	if want > sent {
		return want - sent
	}
	return 0
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
