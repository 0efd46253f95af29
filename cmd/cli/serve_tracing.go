package cli

import (
	"context"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/tracing"
)

// startTracing builds the OTLP tracer when tracing.enabled; nil otherwise.
// Its shutdown exports the spans still pending.
func startTracing(ctx context.Context, cfg *config.Config, c *components, log hclog.Logger) (*tracing.Tracer, error) {
	t := cfg.Tracing
	tr, err := tracing.New(ctx, tracing.Options{Enabled: t.Enabled, Endpoint: t.Endpoint, SampleRatio: t.Ratio(),
		ServiceName: t.ServiceName, Version: currentBuild().Version, Headers: t.Headers})
	if err != nil || tr == nil {
		return nil, err
	}
	c.add(tr.Shutdown)
	log.Info("tracing requests", "endpoint", redactedURL(t.Endpoint), "sample_ratio", t.Ratio())
	return tr, nil
}
