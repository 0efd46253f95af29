package proxy

import (
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/core/limits"
)

// Output caps above these are refused with 400: no model generates them,
// and accepting them would only feed overflow attacks on the reservation.
const (
	maxCapPerChoice = 1 << 24 // tokens
	maxChoices      = 128     // OpenAI's own ceiling for n
)

// checkCaps refuses absurd output caps and choice counts.
func checkCaps(capPer, choices int64) error {
	if capPer > maxCapPerChoice {
		return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "invalid_value", Param: "max_tokens",
			Message: "The output cap " + strconv.FormatInt(capPer, 10) + " is above the largest the gateway accepts (" +
				strconv.Itoa(maxCapPerChoice) + " tokens)."}
	}
	if choices > maxChoices {
		return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "invalid_value", Param: "n",
			Message: "n (or best_of) " + strconv.FormatInt(choices, 10) + " is above the largest the gateway accepts (" +
				strconv.Itoa(maxChoices) + ")."}
	}
	return nil
}

// setReserve fills the reservation of x.limReq. A text request reserves its
// worst case, the prompt's guaranteed bound plus n × the output cap, so
// that whatever the prompt turns out to cost, the requests in flight
// together can never take a counter past its limit: spent ≤ budget holds
// under any concurrency, not only near the end. The estimate would be
// cheaper to hold but can be beaten by prompts a tokenizer splits finely
// ("!!!!", CJK, emoji), and concurrent ones would overshoot together. Near
// the end the limiter grants what is left as long as it covers the bound
// and one output token per choice, and grant lowers the output cap to fit
// (see core/limits: Request.Floor and Worst). The reservation is held only
// while the request runs; settle charges what the provider counted.
func (x *exchange) setReserve() {
	worst := limits.SatAdd(x.promptMax(), x.outCap)
	x.limReq.Reserve = worst
	x.limReq.Worst = worst
	if x.ep == epEmbeddings {
		x.limReq.Floor = worst // nothing to clamp
	} else {
		x.limReq.Floor = limits.SatAdd(x.promptMax(), x.choices)
	}
	x.capLimit = 0
	x.limReq.LeaseTTL = x.s.cfg.Session.LeaseTTL.D()
	// Until the first renewal, a lease left behind bills the prompt: what
	// the provider charges for a request that never answered.
	x.limReq.Report = x.estimate
}

// promptMax is what the prompt can cost at most: its guaranteed bound (the
// estimate stands in where the bound does not cover an input, see
// docs/BUDGETS.md).
func (x *exchange) promptMax() int64 { return max(x.bound, x.estimate) }

// grant takes the lease and, when the limiter granted less than the worst
// case, clamps the output cap per choice to what the grant leaves after the
// prompt bound.
func (x *exchange) grant(l *limits.Lease) {
	x.lease = l
	x.s.flight.hold(l)
	if x.ep == epEmbeddings || !l.Clamped() {
		return
	}
	g := l.Reserved()
	per := (g - x.promptMax()) / x.choices
	if per >= 1 && per < x.capPer {
		x.capLimit = per
	}
}

// sentCap is the output cap per choice the upstream request carries.
func (x *exchange) sentCap() int64 {
	if x.capLimit > 0 {
		return x.capLimit
	}
	return x.capPer
}

// modelOutputCaps is the most a model generates when a request sets no
// output cap (the providers' published maxima). A request without a cap
// reserves this, so the budget still bounds what it may cost, and reaches
// the provider without a cap unless a budget requires one. The longest
// matching prefix wins; an unknown model reserves
// server.default_max_output_tokens.
var modelOutputCaps = [...]struct {
	prefix string
	max    int64
}{
	{"gpt-5", 128000},
	{"gpt-4.1", 32768},
	{"gpt-4o", 16384},
	{"chatgpt-4o", 16384},
	{"gpt-4-turbo", 4096},
	{"gpt-4", 8192},
	{"gpt-3.5-turbo", 4096},
	{"o1-mini", 65536},
	{"o1-preview", 32768},
	{"o1", 100000},
	{"o3", 100000},
	{"o4-mini", 100000},
	{"claude-opus-4-5", 64000},
	{"claude-opus-4", 32000},
	{"claude-sonnet-4", 64000},
	{"claude-haiku-4", 64000},
	{"claude-3-7-sonnet", 64000},
	{"claude-3-5", 8192},
	{"claude-3", 4096},
}

// modelOutputCap returns the model's published output maximum, or def.
func modelOutputCap(model string, def int64) int64 {
	best, n := def, 0
	for i := range modelOutputCaps {
		c := &modelOutputCaps[i]
		if len(c.prefix) > n && len(model) >= len(c.prefix) && model[:len(c.prefix)] == c.prefix {
			best, n = c.max, len(c.prefix)
		}
	}
	return best
}

// upstreamCapDefault is the output cap the proxy adds to a request that set
// none: nothing for OpenAI-format providers unless the budget clamp
// requires one (the client's request goes as sent); for Anthropic, whose
// API requires max_tokens, the translation's default (the reserved cap,
// lowered by the clamp when one applies).
func (x *exchange) upstreamCapDefault(anthropicAPI bool) int64 {
	if anthropicAPI {
		return x.sentCap()
	}
	return x.capLimit
}

// setCapHeader tells the client that the proxy added or lowered the output
// cap because a budget or token window required it.
func (x *exchange) setCapHeader(h *fasthttp.ResponseHeader) {
	if x.capLimit <= 0 {
		return
	}
	var buf [20]byte
	h.SetBytesV(headerOutputCapped, strconv.AppendInt(buf[:0], x.capLimit, 10))
}

// headerOutputCapped carries the output cap per choice the proxy imposed.
const headerOutputCapped = "X-Tokenomics-Output-Capped"
