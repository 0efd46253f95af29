package proxy

import (
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core/limits"
)

func TestSetRetryHint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		le   limits.LimitError
		want string
	}{
		{"lifetime budget exhausted", limits.LimitError{Kind: limits.KindBudget, Rule: "max_tokens"}, "false"},
		{"request over a window's whole limit", limits.LimitError{Kind: limits.KindRate, Rule: "tokens/1m"}, "false"},
		{"rate window full", limits.LimitError{Kind: limits.KindRate, Rule: "requests/1m", RetryAfter: 30 * time.Second}, ""},
		{"budget that frees later", limits.LimitError{Kind: limits.KindBudget, Rule: "max_tokens", RetryAfter: time.Second}, ""},
		{"max_parallel", limits.LimitError{Kind: limits.KindParallel, RetryAfter: time.Second}, ""},
		{"counters unavailable", limits.LimitError{Kind: limits.KindUnavailable}, ""},
	} {
		var h fasthttp.ResponseHeader
		setRetryHint(&h, &tc.le)
		if got := string(h.Peek("X-Should-Retry")); got != tc.want {
			t.Errorf("%s: x-should-retry %q, want %q", tc.name, got, tc.want)
		}
	}
}
