package cli

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/proxy"
)

// startMetrics opens server.metrics_addr, when set, and serves /metrics
// and the detailed /ready there (the public ports then keep them closed).
func startMetrics(cfg *config.Config, srv *proxy.Server, c *components, log hclog.Logger) error {
	addr := cfg.Server.MetricsAddr
	if addr == "" {
		return nil
	}
	ln, err := listenTCP(addr)
	if err != nil {
		return fmt.Errorf("listening on server.metrics_addr %s: %w", addr, err)
	}
	c.add(func(context.Context) error { return ln.Close() })
	go func() { _ = srv.ServeAdmin(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "scheme", "http", "serves", "/metrics /ready")
	return nil
}
