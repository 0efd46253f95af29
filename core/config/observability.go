package config

import (
	"fmt"
	"strings"
	"time"
)

// Observability defaults.
const (
	DefaultUsageInterval      = Duration(30 * time.Second)
	DefaultUsageRetention     = Duration(90 * day)
	DefaultEventRetention     = Duration(30 * day)
	DefaultCentralWebhookPath = "/webhook"
	DefaultTracingEndpoint    = "http://127.0.0.1:4318"
	DefaultTracingService     = "tokenomics"
)

// UsageConfig is the fleet's usage rollups: proxies send them to
// remote.url, central keeps them.
type UsageConfig struct {
	// Disabled stops a proxy sending rollups to remote.url (they are still
	// kept locally for `tokenomics usage` offline).
	Disabled bool `yaml:"disabled"`
	// Interval is how often a proxy sends its rollups. Default 30s.
	Interval Duration `yaml:"interval"`
	// Retention is how long rollups are kept, by central and in a proxy's
	// own file. Default 90d.
	Retention Duration `yaml:"retention"`
}

// EventReceiver is central's inbox for the events proxies send to it
// (their events.webhooks pointing at central's /webhook).
type EventReceiver struct {
	// Path is served on central's API listener. Default "/webhook".
	Path string `yaml:"path"`
	// Secret and SigningKey verify deliveries as a proxy's push receiver
	// does. When both are empty, central accepts deliveries signed with
	// the secret and signing_key of any of its own events.webhooks (the
	// fleet's shared credentials); with none of those either, the inbox
	// is off (404).
	Secret     string `yaml:"secret"`
	SigningKey string `yaml:"signing_key"`
	// Retention is how long received events are kept. Default 30d.
	Retention Duration `yaml:"retention"`
	// MaxSkew is the oldest signature timestamp accepted. Default 5m.
	MaxSkew Duration `yaml:"max_skew"`
}

// TracingConfig is OpenTelemetry tracing, exported with OTLP over HTTP.
// Off by default.
type TracingConfig struct {
	Enabled bool `yaml:"enabled"`
	// Endpoint is the OTLP/HTTP collector's base URL; spans go to
	// <endpoint>/v1/traces. Default http://127.0.0.1:4318.
	Endpoint string `yaml:"endpoint"`
	// SampleRatio is the share of requests traced, 0 to 1. Default 1.
	SampleRatio *float64 `yaml:"sample_ratio"`
	// ServiceName is the service.name resource attribute. Default
	// "tokenomics".
	ServiceName string `yaml:"service_name"`
	// Headers are sent with every export (an authorization header, say).
	Headers map[string]string `yaml:"headers"`
}

// Ratio is the sampling ratio with its default applied.
func (t *TracingConfig) Ratio() float64 {
	if t.SampleRatio == nil {
		return 1
	}
	return *t.SampleRatio
}

func (c *Config) setObservabilityDefaults() {
	setInt(&c.Usage.Interval, DefaultUsageInterval)
	setInt(&c.Usage.Retention, DefaultUsageRetention)
	r := &c.Events.Receiver
	setString(&r.Path, DefaultCentralWebhookPath)
	setInt(&r.Retention, DefaultEventRetention)
	setInt(&r.MaxSkew, DefaultWebhookMaxSkew)
	setString(&c.Tracing.Endpoint, DefaultTracingEndpoint)
	setString(&c.Tracing.ServiceName, DefaultTracingService)
}

func (c *Config) validateObservability(p *problems) {
	positive(p, "usage.interval", c.Usage.Interval)
	positive(p, "usage.retention", c.Usage.Retention)
	r := &c.Events.Receiver
	if !strings.HasPrefix(r.Path, "/") || strings.HasPrefix(r.Path, "/api/") {
		p.add("events.receiver.path", "must start with / and lie outside /api/; got %q", r.Path)
	}
	positive(p, "events.receiver.retention", r.Retention)
	positive(p, "events.receiver.max_skew", r.MaxSkew)
	t := &c.Tracing
	if ratio := t.Ratio(); ratio < 0 || ratio > 1 {
		p.add("tracing.sample_ratio", "must be between 0 and 1; got %s", fmt.Sprint(ratio))
	}
	if t.Enabled {
		checkURL(p, "tracing.endpoint", t.Endpoint, true)
	}
}
