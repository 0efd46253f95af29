package syncer

import (
	"time"

	"github.com/tokenomics-dev/tokenomics/core/metrics"
)

// syncMetrics are the proxy's sync gauges, set after every pull.
type syncMetrics struct {
	revision  *metrics.Gauge
	central   *metrics.Gauge
	lag       *metrics.Gauge
	failures  *metrics.Gauge
	lastError *metrics.Gauge
	persist   *metrics.Gauge
	errors    *metrics.Counter
	lastOK    *metrics.Gauge // sync lag in time: alert on time() minus it
}

func newSyncMetrics(reg *metrics.Registry) *syncMetrics {
	return &syncMetrics{
		revision:  reg.NewGauge("tokenomics_sync_revision", "Token revision this proxy holds.").With(),
		central:   reg.NewGauge("tokenomics_sync_central_revision", "Newest central token revision this proxy has heard of.").With(),
		lag:       reg.NewGauge("tokenomics_sync_lag_revisions", "Central token revisions this proxy has not persisted yet.").With(),
		failures:  reg.NewGauge("tokenomics_sync_failures", "Consecutive failed syncs with the central server.").With(),
		lastError: reg.NewGauge("tokenomics_sync_last_error", "1 when the last sync with the central server failed.").With(),
		persist:   reg.NewGauge("tokenomics_sync_persist_failing", "1 while synced tokens cannot be written to the proxy's file.").With(),
		errors:    reg.NewCounter("tokenomics_sync_errors_total", "Failed syncs with the central server.").With(),
		lastOK:    reg.NewGauge("tokenomics_sync_last_success_timestamp_seconds", "Unix time of the last successful sync with the central server (0 before the first).").With(),
	}
}

// observe updates the gauges after a pull. Runs under syncMu.
func (s *Syncer) observe() {
	if s.met == nil {
		return
	}
	local, central := s.o.Store.Revision(), s.central.Load()
	s.met.revision.Set(float64(local))
	s.met.central.Set(float64(central))
	s.met.lag.Set(float64(central - min(local, central)))
	s.met.failures.Set(float64(s.fails.Load()))
	if s.lastErr.Load() != nil {
		s.met.lastError.Set(1)
		s.met.errors.Inc()
	} else {
		s.met.lastError.Set(0)
		s.met.lastOK.Set(float64(time.Now().Unix()))
	}
	if s.persistErr.Load() != nil {
		s.met.persist.Set(1)
	} else {
		s.met.persist.Set(0)
	}
}
