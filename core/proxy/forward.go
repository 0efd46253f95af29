package proxy

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

// attempt is one upstream try: a model routed through the policy.
type attempt struct {
	model string
	res   policy.Resolved
	prov  *provider
	key   string
	// fallbackFrom and why are set on the attempt that answered when it is
	// not the requested model: the client sees it in headers, operators in
	// the log and the request.completed event.
	fallbackFrom string
	why          string
}

// Retry timing. Backoff is exponential with full jitter; an upstream
// Retry-After is honoured up to maxRetryAfter, beyond which retrying the
// same model is pointless and the fallbacks are tried instead.
const (
	backoffBase   = 200 * time.Millisecond
	backoffCap    = 5 * time.Second
	maxRetryAfter = 30 * time.Second
)

// errFallbackOtherRules skips a fallback routed to a provider entry whose
// prompts or rules differ from those the request was checked with.
var errFallbackOtherRules = errors.New("proxy: the fallback's provider entry has other prompts or rules")

// plan lists the attempts: the requested model up to 1+max_retries times,
// then each fallback once. A fallback the token may not use, or that no
// provider serves, is skipped: it is routed and authorized like a request.
func (x *exchange) plan() []attempt {
	first := attempt{model: x.model, res: x.res, prov: x.prov, key: x.key}
	out := x.planBuf[:0] // usually big enough: no allocation per request
	r := x.tok.policy.Retry
	if r == nil {
		return append(out, first)
	}
	for i := 0; i <= r.MaxRetries; i++ {
		out = append(out, first)
	}
	for _, fb := range r.Fallbacks {
		res, prov, key, err := x.s.resolve(x.tok, fb)
		if err == nil && x.base != nil && x.base.forRoute(res) != x.tok {
			// The request was checked with, and carries, the prompts and
			// rules of the route it took; a fallback whose provider entry
			// has other ones would get a body its own rules never read.
			err = errFallbackOtherRules
		}
		if err != nil || checkCompat(x.ep, prov) != nil {
			if x.s.log.IsDebug() {
				x.s.log.Debug("fallback skipped", "request_id", x.reqID, "model", fb, "error", err)
			}
			continue
		}
		out = append(out, attempt{model: fb, res: res, prov: prov, key: key})
	}
	return out
}

func (x *exchange) retryable(status int) bool {
	r := x.tok.policy.Retry
	if r == nil {
		return false
	}
	for _, c := range r.RetryOn {
		if c == status {
			return true
		}
	}
	return false
}

// forward sends the request upstream, retrying and falling back as the
// policy says, and answers the client. Nothing is retried once a byte of a
// response has gone to the client: streams are handed to the relay only
// after a 200.
func (x *exchange) forward(ctx *fasthttp.RequestCtx) error {
	plan := x.plan()
	var wait time.Duration
	var lastErr error
	var failure string               // why the previous attempt did not answer
	for i := 0; i < len(plan); i++ { // by index: skipModel may shorten plan
		a := plan[i]
		if i > 0 {
			if a.model != plan[i-1].model {
				wait = 0 // a different model owes nothing to the last one's Retry-After
			}
			time.Sleep(max(wait, backoff(i)))
			if err := x.rebudget(a); err != nil {
				lastErr = err
				continue
			}
		}
		resp := fasthttp.AcquireResponse()
		asp := x.attemptSpan(a, i)
		status, err := x.send(a, resp)
		endAttempt(asp, status, err)
		last := i == len(plan)-1
		x.s.met.attempt(a.prov.name, status, err)
		if err != nil {
			fasthttp.ReleaseResponse(resp)
			if ce := (*core.Error)(nil); errors.As(err, &ce) && ce.Code == "unsupported_translation" {
				return ce // the client's request, not the provider, is at fault: no retry
			}
			if reachedUpstream(err) {
				// The provider got the request and bills the prompt it read:
				// charge the estimate, since no usage report will come.
				x.owe(a, x.estimate, 0)
			}
			lastErr = upstreamError(a.prov.name, err)
			code := 502
			if errors.Is(err, fasthttp.ErrTimeout) {
				code = 504
			}
			x.logAttempt(a, i, code, err)
			if !last && x.retryable(code) {
				wait = 0
				failure = a.model + ": provider " + a.prov.name + " unreachable (" + strconv.Itoa(code) + ")"
				continue
			}
			return lastErr
		}
		if status >= 400 && !last && x.retryable(status) {
			wait = retryAfter(&resp.Header)
			if wait > maxRetryAfter {
				// Waiting that long is pointless: drop this model's other
				// tries; with nothing left, the client gets this answer.
				plan = skipModel(plan, i, a.model)
				wait = 0
			}
			if i < len(plan)-1 {
				x.logAttempt(a, i, status, nil)
				closeResponse(resp)
				failure = a.model + ": upstream answered " + strconv.Itoa(status)
				continue
			}
		}
		x.logAttempt(a, i, status, nil)
		if i > 0 {
			a = x.announce(ctx, a, i, failure)
		}
		return x.respond(ctx, a, resp)
	}
	if lastErr == nil {
		lastErr = errInternal
	}
	return lastErr
}

// skipModel drops the remaining attempts of model after position i.
func skipModel(plan []attempt, i int, model string) []attempt {
	out := plan[: i+1 : i+1]
	for _, a := range plan[i+1:] {
		if a.model != model {
			out = append(out, a)
		}
	}
	return out
}

// rebudget moves the reservation when a fallback is charged to another
// provider entry's budget.
func (x *exchange) rebudget(a attempt) error {
	// Without a lease (an earlier fallback was refused its reservation) the
	// attempt must reserve again even on the same budget: it would
	// otherwise go out unchecked and be settled as nothing.
	if x.lease != nil && a.res.BudgetKey == x.res.BudgetKey && !x.costMoves(a) {
		return nil
	}
	x.settle(0, false)
	x.res, x.prov, x.key = a.res, a.prov, a.key
	x.limReq = x.tok.limitRequest(a.res.BudgetKey)
	// The client's request was counted in the request windows already;
	// the fallback only moves its tokens.
	x.limReq.Windows = x.tok.lim.tokenWindows
	x.setReserve()
	if err := x.rebudgetCost(a); err != nil {
		x.lease = nil
		return err
	}
	lease, err := x.s.limiter.Acquire(context.Background(), &x.limReq)
	if err != nil {
		x.lease = nil
		x.s.releaseCost(&x.cost)
		return x.s.limitError(x, err)
	}
	x.settled = false
	x.grant(lease)
	x.clampCost()
	return nil
}

func backoff(try int) time.Duration {
	d := backoffBase << min(try-1, 10)
	d = min(d, backoffCap)
	return time.Duration(rand.Int64N(int64(d) + 1))
}

// retryAfter reads Retry-After (seconds) or, like OpenAI, retry-after-ms.
func retryAfter(h *fasthttp.ResponseHeader) time.Duration {
	if ms := h.Peek("Retry-After-Ms"); len(ms) > 0 {
		if n, err := strconv.ParseFloat(string(ms), 64); err == nil && n >= 0 {
			return time.Duration(n * float64(time.Millisecond))
		}
	}
	if s := h.Peek("Retry-After"); len(s) > 0 {
		if n, err := strconv.ParseFloat(string(s), 64); err == nil && n >= 0 {
			return time.Duration(n * float64(time.Second))
		}
		if t, err := fasthttp.ParseHTTPDate(s); err == nil {
			return time.Until(t)
		}
	}
	return 0
}

// notSent marks a send error raised before any byte left the proxy.
type notSent struct{ err error }

func (e notSent) Error() string { return e.err.Error() }
func (e notSent) Unwrap() error { return e.err }

// reachedUpstream tells whether a failed send may have been billed: only a
// request that never left (no connection, body not built) is certainly not.
// A timeout counts as reached: fasthttp cannot say whether it hit while
// dialing, and charging a prompt the provider did not read errs on the side
// of the budget.
func reachedUpstream(err error) bool {
	var ns notSent
	var op *net.OpError
	switch {
	case errors.As(err, &ns), errors.Is(err, fasthttp.ErrDialTimeout), errors.Is(err, fasthttp.ErrNoFreeConns):
		return false
	case errors.As(err, &op) && op.Op == "dial":
		return false
	}
	return true
}

func upstreamError(provider string, err error) *core.Error {
	if errors.Is(err, fasthttp.ErrTimeout) {
		return &core.Error{Status: 504, Type: core.TypeUpstream, Code: "upstream_timeout",
			Message: "Provider " + strconv.Quote(provider) + " did not answer in time.", Err: err}
	}
	return &core.Error{Status: 502, Type: core.TypeUpstream, Code: "upstream_unreachable",
		Message: "Provider " + strconv.Quote(provider) + " could not be reached.", Err: err}
}

// send builds the upstream request for attempt a and sends it. For streams
// the response body is left unread for the relay.
func (x *exchange) send(a attempt, resp *fasthttp.Response) (int, error) {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	body, err := x.upstreamBody(a)
	if err != nil {
		return 0, notSent{err}
	}
	x.out = body
	req.Header.SetMethod(fasthttp.MethodPost)
	uri := req.URI()
	uri.SetScheme(a.prov.scheme)
	uri.SetHost(a.prov.host)
	pathEp := x.ep
	if translated(x.ep, a.prov.format) {
		pathEp = epChat // the provider's own generation endpoint
	}
	uri.SetPath(a.prov.path(pathEp))
	if a.prov.query != "" {
		uri.SetQueryString(a.prov.query)
	}
	req.Header.SetContentType("application/json")
	if x.stream {
		req.Header.Set("Accept", "text/event-stream")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	copyClientHeaders(x.hdr, req)
	for k, v := range a.prov.cfg.Headers {
		req.Header.Set(k, v)
	}
	a.prov.setAuth(req, a.key)
	req.SetBodyRaw(body)
	resp.StreamBody = x.stream
	timeout := a.res.Timeout
	if timeout <= 0 {
		timeout = a.prov.cfg.TimeoutDuration()
	}
	hc := x.s.clients.get(a.prov, timeout)
	if x.stream || timeout <= 0 {
		err = hc.Do(req, resp)
	} else {
		err = hc.DoTimeout(req, resp, timeout)
	}
	return resp.StatusCode(), err
}

// upstreamBody rewrites (or translates) the client body for attempt a:
// policy prompts prepended, the fallback model, an output cap only where a
// budget clamp requires one (or Anthropic's API requires max_tokens), caps
// lowered to the budget clamp, and usage
// requested on OpenAI-format streams.
func (x *exchange) upstreamBody(a attempt) ([]byte, error) {
	prompts := x.tok.prompts
	model := ""
	if a.model != x.model {
		model = a.model
	}
	dst := x.out[:0]
	switch {
	case translated(x.ep, a.prov.format):
		return x.translateRequest(dst, a, model)
	case x.ep == epMessages:
		return anthropic.RewriteRequest(dst, x.body, anthropic.Rewrite{Model: model, Prepend: prompts, DefaultMaxTokens: x.upstreamCapDefault(true), MaxTokensLimit: x.capLimit})
	default:
		rw := openai.Rewrite{Model: model, Prepend: prompts, IncludeUsage: x.stream, DefaultMaxTokens: x.upstreamCapDefault(false), MaxTokensLimit: x.capLimit}
		if a.prov.cfg.Name != "openai" {
			rw.MaxTokensField = "max_tokens" // compatible hosts know the older field
		}
		return openai.RewriteRequest(dst, x.body, x.ep.openai(), rw)
	}
}

// forwardedHeaders are the client headers a provider may need; everything
// else, the client's credentials and hop-by-hop headers above all, stays
// behind.
var forwardedHeaders = []string{"Anthropic-Version", "Anthropic-Beta", "Openai-Beta", "User-Agent"}

func copyClientHeaders(from *fasthttp.RequestHeader, to *fasthttp.Request) {
	if from == nil {
		return
	}
	for _, h := range forwardedHeaders {
		if v := from.Peek(h); len(v) > 0 {
			to.Header.SetBytesV(h, v)
		}
	}
}

// Headers of an answer that took more than one attempt: the model that
// answered and, when it is a fallback, the model that was asked for. A
// client (or the person reading its logs) can tell a gpt-4o-mini answer to
// a gpt-4o request from the real thing.
const (
	hdrModel        = "X-Tokenomics-Model"
	hdrFallbackFrom = "X-Tokenomics-Fallback-From"
	hdrAttempts     = "X-Tokenomics-Attempts"
)

// announce marks an answer that came after a retry or from a fallback
// model, in the response headers and the log; only retries pay for it.
func (x *exchange) announce(ctx *fasthttp.RequestCtx, a attempt, i int, failure string) attempt {
	h := &ctx.Response.Header
	h.Set(hdrModel, a.model)
	h.Set(hdrAttempts, strconv.Itoa(i+1))
	if a.model == x.model {
		return a
	}
	a.fallbackFrom, a.why = x.model, failure
	h.Set(hdrFallbackFrom, x.model)
	x.s.log.Warn("answered by a fallback model", "request_id", x.reqID, "token", x.tok.short,
		"requested", x.model, "model", a.model, "provider", a.prov.name, "attempts", i+1, "reason", failure)
	return a
}

func (x *exchange) logAttempt(a attempt, i, status int, err error) {
	if err == nil && status < 400 && i == 0 {
		return
	}
	x.s.log.Info("upstream attempt", "request_id", x.reqID, "token", x.tok.short, "provider", a.prov.name,
		"model", a.model, "attempt", i+1, "status", status, "error", errString(err))
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func closeResponse(resp *fasthttp.Response) {
	if resp.StreamBody {
		_ = resp.CloseBodyStream()
	}
	fasthttp.ReleaseResponse(resp)
}
