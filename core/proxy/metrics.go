package proxy

import (
	"strconv"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/metrics"
	"github.com/tokenomics-dev/tokenomics/providers"
)

// proxyMetrics are the proxy's Prometheus series.
type proxyMetrics struct {
	requests  *metrics.CounterVec
	latency   *metrics.HistogramVec
	attempts  *metrics.CounterVec
	tokensIn  *metrics.CounterVec
	tokensOut *metrics.CounterVec
	estimated *metrics.CounterVec
	refusals  *metrics.CounterVec
	rules     *metrics.CounterVec
	tokens    *metrics.GaugeVec
}

func newProxyMetrics(r *metrics.Registry) *proxyMetrics {
	return &proxyMetrics{
		requests:  r.NewCounter("tokenomics_requests_total", "Requests by endpoint and HTTP status.", "endpoint", "code"),
		latency:   r.NewHistogram("tokenomics_request_duration_seconds", "Time to the handler's return (streams: to the first byte).", metrics.DefBuckets, "endpoint"),
		attempts:  r.NewCounter("tokenomics_upstream_attempts_total", "Upstream attempts by provider and outcome (status, or error).", "provider", "outcome"),
		tokensIn:  r.NewCounter("tokenomics_prompt_tokens_total", "Prompt tokens settled, by provider.", "provider"),
		tokensOut: r.NewCounter("tokenomics_completion_tokens_total", "Completion tokens settled, by provider.", "provider"),
		estimated: r.NewCounter("tokenomics_estimated_usage_total", "Requests settled on estimated usage (no provider report).", "provider"),
		refusals:  r.NewCounter("tokenomics_refusals_total", "Requests the proxy refused, by reason code.", "code"),
		rules:     r.NewCounter("tokenomics_rule_actions_total", "Content rule outcomes by action.", "action"),
		tokens:    r.NewGauge("tokenomics_tokens", "Tokens the proxy serves."),
	}
}

var statusText [600]string

func init() {
	for i := range statusText {
		statusText[i] = strconv.Itoa(i)
	}
}

func codeLabel(code int) string {
	if code >= 0 && code < len(statusText) {
		return statusText[code]
	}
	return "other"
}

func (m *proxyMetrics) request(endpoint string, code int, d time.Duration) {
	m.requests.With(endpoint, codeLabel(code)).Inc()
	m.latency.With(endpoint).Observe(d.Seconds())
}

func (m *proxyMetrics) attempt(provider string, status int, err error) {
	outcome := codeLabel(status)
	if err != nil {
		outcome = "error"
	}
	m.attempts.With(provider, outcome).Inc()
}

func (m *proxyMetrics) usage(provider string, u providers.Usage) {
	m.tokensIn.With(provider).Add(u.PromptTokens)
	m.tokensOut.With(provider).Add(u.CompletionTokens)
	if !u.Reported && u.Total() > 0 {
		m.estimated.With(provider).Inc()
	}
}

func (m *proxyMetrics) refusal(code string) { m.refusals.With(code).Inc() }

func (m *proxyMetrics) ruleAction(action string) { m.rules.With(action).Inc() }
