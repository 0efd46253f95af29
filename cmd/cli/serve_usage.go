package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/metrics"
	"github.com/tokenomics-dev/tokenomics/core/rollup"
	"github.com/tokenomics-dev/tokenomics/core/store"
)

// startUsage runs the proxy's usage rollups: kept in its own file for
// `tokenomics usage` offline and, with remote.url, sent to central.
func startUsage(cfg *config.Config, db *store.DB, reg *metrics.Registry, c *components, log hclog.Logger) (*rollup.Shipper, error) {
	inst, err := instanceID(cfg.Storage.DBPath)
	if err != nil {
		return nil, err
	}
	o := rollup.ShipperOptions{DB: db.Bolt(), Instance: inst, Interval: cfg.Usage.Interval.D(),
		Retention: cfg.Usage.Retention.D(), Logger: log, Metrics: reg}
	if cfg.Remote.URL != "" && !cfg.Usage.Disabled {
		tr, err := remoteTransport(cfg, log)
		if err != nil {
			return nil, err
		}
		o.URLs = cfg.Remote.URLs()
		o.APIKey = firstNonEmpty(os.Getenv(remoteKeyEnv), cfg.RemoteAPIKey())
		o.Client = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	sh, err := rollup.NewShipper(o)
	if err != nil {
		return nil, err
	}
	sh.Start()
	c.add(func(ctx context.Context) error { return sh.Close(ctx) })
	return sh, nil
}

// usageAdmin answers `usage --local` through the local admin endpoint
// while the proxy holds its file: GET /api/v1/usage?by=D&since=T, as
// central answers it, from the proxy's own rollups (what the aggregator
// holds is written first, so the report includes the last requests).
func usageAdmin(sh *rollup.Shipper) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		rep, err := func() (usageReport, error) {
			by := firstNonEmpty(q.Get("by"), rollup.ByModel)
			if !validDimension(by) {
				return usageReport{}, fmt.Errorf("by: must be one of %s", strings.Join(rollup.Dimensions, ", "))
			}
			since, err := time.Parse(time.RFC3339, q.Get("since"))
			if err != nil {
				return usageReport{}, fmt.Errorf("since: an RFC 3339 time is required")
			}
			rep := usageReport{By: by, Since: since.UTC()}
			if err := sh.Flush(); err != nil {
				return rep, errUsageStore
			}
			rows, err := sh.Local().Query(r.Context(), since)
			if err != nil {
				return rep, errUsageStore
			}
			rep.Rows, err = rollup.Report(rows, by, events.HashPrefixLen)
			return rep, err
		}()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case errors.Is(err, errUsageStore):
			w.WriteHeader(http.StatusInternalServerError)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "storage_error", "message": "the usage rollups could not be read"}})
		case err != nil:
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "invalid_request", "message": err.Error()}})
		default:
			_ = json.NewEncoder(w).Encode(rep)
		}
	})
}

var errUsageStore = errors.New("cli: the usage rollups could not be read")
