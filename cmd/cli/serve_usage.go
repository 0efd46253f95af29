package cli

import (
	"context"
	"net/http"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/core/config"
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
