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
	cost      *metrics.CounterVec // micro-dollars by provider and model
	byModel   *metrics.CounterVec // tokens by provider, model and kind
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
		cost: r.NewCounter("tokenomics_cost_usd_micros_total",
			"Spend in micro-dollars (USD × 1e6) at the price table's rates, by provider and model; model is \"other\" for models without a price.", "provider", "model"),
		byModel: r.NewCounter("tokenomics_tokens_total",
			"Tokens settled by provider, model and kind (prompt, cached, cache_write, completion, reasoning; cached and cache_write are part of prompt, reasoning of completion).",
			"provider", "model", "kind"),
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

// usage counts a settled answer; model is the price table's spelling of
// the model, or "other", so clients cannot grow the label set.
func (m *proxyMetrics) usage(provider, model string, u providers.Usage, cost int64) {
	m.tokensIn.With(provider).Add(u.PromptTokens)
	m.tokensOut.With(provider).Add(u.CompletionTokens)
	m.cost.With(provider, model).Add(cost)
	for _, k := range [...]struct {
		kind string
		n    int64
	}{{"prompt", u.PromptTokens}, {"cached", u.CachedTokens}, {"cache_write", u.CacheWriteTokens},
		{"completion", u.CompletionTokens}, {"reasoning", u.ReasoningTokens}} {
		if k.n > 0 {
			m.byModel.With(provider, model, k.kind).Add(k.n)
		}
	}
	if !u.Reported && u.Total() > 0 {
		m.estimated.With(provider).Inc()
	}
}

func (m *proxyMetrics) refusal(code string) { m.refusals.With(code).Inc() }

func (m *proxyMetrics) ruleAction(action string) { m.rules.With(action).Inc() }
