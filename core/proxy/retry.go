package proxy

import (
	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core/limits"
)

// setRetryHint tells the client's SDK not to retry a refusal that waiting
// cannot cure: an exhausted lifetime budget, or a request larger than a
// rule's whole limit (the limiter says so with a zero RetryAfter). The
// OpenAI and Anthropic SDKs obey x-should-retry before their own policy;
// without it they retry a 429 that can never succeed. Refusals that will
// clear (rate windows, max_parallel) keep their Retry-After instead.
func setRetryHint(h *fasthttp.ResponseHeader, le *limits.LimitError) {
	if neverSucceeds(le) {
		h.Set("X-Should-Retry", "false")
	}
}

func neverSucceeds(le *limits.LimitError) bool {
	return (le.Kind == limits.KindBudget || le.Kind == limits.KindRate) && le.RetryAfter <= 0
}
