package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/core/limits"
	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
)

// hdrTokenCount says how a count_tokens answer was made: "native" (the
// provider counted) or "estimate" (the proxy's offline estimator did).
const hdrTokenCount = "X-Tokenomics-Token-Count"

// countFields are the generation-only members Anthropic's count_tokens
// refuses ("Extra inputs are not permitted"). The proxy refuses them
// itself, for every model, so a client gets the same answer whether the
// count is native or estimated.
var countFields = [...]string{"max_tokens", "stream"}

// serveCountTokens answers POST /v1/messages/count_tokens (and its
// /messages alias) with {"input_tokens": N}. The token authenticates and
// its model allow-list applies as for /v1/messages; input rules run, since
// a native count sends the text to the provider. A model an Anthropic-format
// provider serves is counted by that provider; any other model, or a
// provider without the endpoint (404), gets the proxy's estimate, the same
// one its budget reservations use. A count generates nothing: it is not
// charged to budgets. A native count still sends the client's text to the
// provider under the operator's key, so it is admitted like a request by
// the token's request windows and max_parallel (admitCount); an estimate
// never leaves the proxy and is free.
func (s *Server) serveCountTokens(ctx *fasthttp.RequestCtx) {
	start := time.Now()
	x := acquireExchange(s, epMessages)
	defer releaseExchange(x)
	s.flight.begin()
	defer s.flight.end()
	x.reqID = s.requestID(ctx)
	err := x.countTokens(ctx)
	x.releaseCount()
	if err != nil {
		ce := writeAnthropicError(ctx, err)
		if x.limitErr != nil {
			setRefusalHeaders(&ctx.Response.Header, x.limitErr)
			setRetryHint(&ctx.Response.Header, x.limitErr)
		}
		s.observeRefusal(x, ce)
	}
	s.met.request("count_tokens", ctx.Response.StatusCode(), time.Since(start))
}

func (x *exchange) countTokens(ctx *fasthttp.RequestCtx) error {
	if !ctx.IsPost() {
		return errMethod
	}
	x.hdr = &ctx.Request.Header
	if err := x.authenticate(ctx); err != nil {
		return err
	}
	body := ctx.PostBody()
	r, err := anthropic.ParseRequest(body) // the same checks as /v1/messages
	if err != nil {
		return parseError(err)
	}
	turns, err := countShape(body)
	if err != nil {
		return err
	}
	if r.Model == "" {
		return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "missing_model", Param: "model",
			Message: "model: Field required"}
	}
	x.model, x.body = r.Model, body
	res, prov, key, err := x.s.resolve(x.tok, x.model)
	if err != nil {
		return err
	}
	x.res, x.prov, x.key = res, prov, key
	x.tok = x.tok.forRoute(res)
	if err := x.rulesLoaded(); err != nil {
		return err
	}
	if err := x.inputRules(ctx); err != nil {
		return err
	}
	if prov.format == providers.Anthropic {
		if err := x.admitCount(ctx); err != nil {
			return err
		}
		return x.nativeCount(ctx)
	}
	n, err := x.estimateCount(turns)
	if err != nil {
		return err
	}
	writeCount(ctx, n, "estimate")
	return nil
}

// admitCount takes a request slot in the token's request windows and
// max_parallel for a count that goes to the provider: without it, a token
// whose window is spent could still push any number of prompts upstream
// and use up the operator's provider rate limits. Budgets and token
// windows are left out (Reserve 0, no budgets): a count is charged no
// tokens or dollars.
func (x *exchange) admitCount(ctx *fasthttp.RequestCtx) error {
	lim := &x.tok.lim
	if len(lim.reqWindows) == 0 && lim.maxParallel == 0 {
		return nil
	}
	x.limReq = limits.Request{Subject: x.tok.hash, Windows: lim.reqWindows, MaxParallel: lim.maxParallel,
		LeaseTTL: 2 * time.Minute}
	lease, err := x.s.limiter.Acquire(context.Background(), &x.limReq)
	if err != nil {
		return x.s.limitError(x, err)
	}
	x.lease = lease
	x.s.flight.hold(lease)
	setRateHeaders(&ctx.Response.Header, lease.Rate())
	return nil
}

// releaseCount frees the parallel slot admitCount took; the request window
// keeps the count, and nothing is charged.
func (x *exchange) releaseCount() {
	if x.lease == nil || x.settled {
		return
	}
	x.settled = true
	x.s.flight.release(x.lease)
	if err := x.s.limiter.Settle(context.Background(), x.lease, 0); err != nil {
		x.s.log.Warn("releasing a token count's slot failed", "request_id", x.reqID, "token", x.tok.short, "error", err)
	}
}

// countShape refuses a count request carrying a member only a generation
// takes, as Anthropic does, and returns the number of turns the estimate
// charges the per-message overhead for (the messages, and the system
// prompt when there is one).
func countShape(body []byte) (int, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return 0, parseError(err)
	}
	for _, f := range countFields {
		if _, ok := top[f]; ok {
			return 0, &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "invalid_request", Param: f,
				Message: f + ": Extra inputs are not permitted"}
		}
	}
	var msgs []json.RawMessage
	if err := json.Unmarshal(top["messages"], &msgs); err != nil || len(msgs) == 0 {
		return 0, &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "invalid_request", Param: "messages",
			Message: "messages: Field required"}
	}
	turns := len(msgs)
	if sys := bytes.TrimSpace(top["system"]); len(sys) > 0 && !bytes.Equal(sys, []byte("null")) {
		turns++
	}
	return turns, nil
}

// estimateCount is the proxy's estimate of the prompt in the provider's
// tokenizer: the texts of the (masked) request, the per-message overheads
// and the policy prompts the proxy would prepend.
func (x *exchange) estimateCount(turns int) (int64, error) {
	var err error
	x.refs, err = anthropic.RequestTexts(x.refs[:0], x.body)
	if err != nil {
		return 0, parseError(err)
	}
	if err := x.decodeTexts(x.body); err != nil {
		return 0, err
	}
	var text int64
	for _, t := range x.texts {
		text += providers.EstimateTokens(t.Data)
	}
	n := providers.EstimateRequest(text, turns) + x.tok.promptEstimate
	return providers.AdjustEstimate(n, x.prov.format), nil
}

// nativeCount asks the provider. Its refusals reach the client as it sent
// them (a 404 may be an unknown model, so it is never papered over with an
// estimate), except a rejected key, which is the operator's to fix (502).
func (x *exchange) nativeCount(ctx *fasthttp.RequestCtx) error {
	p := x.prov
	body, err := anthropic.RewriteRequest(x.out[:0], x.body, anthropic.Rewrite{Prepend: x.tok.prompts})
	if err != nil {
		return parseError(err)
	}
	x.out = body
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(fasthttp.MethodPost)
	uri := req.URI()
	uri.SetScheme(p.scheme)
	uri.SetHost(p.host)
	uri.SetPath(p.basePath + p.chatPath("/v1/messages") + "/count_tokens")
	if p.query != "" {
		uri.SetQueryString(p.query)
	}
	req.Header.SetContentType("application/json")
	req.Header.Set("Accept", "application/json")
	copyClientHeaders(x.hdr, req)
	for k, v := range p.cfg.Headers {
		req.Header.Set(k, v)
	}
	p.setAuth(req, x.key)
	req.SetBodyRaw(body)
	timeout := x.res.Timeout
	if timeout <= 0 {
		timeout = p.cfg.TimeoutDuration()
	}
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	err = x.s.clients.get(p, timeout).DoTimeout(req, resp, timeout)
	x.s.met.attempt(p.name, resp.StatusCode(), err)
	if err != nil {
		return upstreamError(p.name, err)
	}
	status := resp.StatusCode()
	switch {
	case upstreamAuthFailed(status):
		e := upstreamAuthErr(p.name, p.cfg.AuthScheme, x.keyEnv(attempt{res: x.res, prov: p}), status)
		x.s.log.Warn("provider rejected the configured API key", "request_id", x.reqID, "provider", p.name,
			"key_env", x.keyEnv(attempt{res: x.res, prov: p}), "upstream_status", status)
		return e
	case status != fasthttp.StatusOK:
		// The provider's refusal, in its (Anthropic) shape, checked by the
		// output rules like any error body.
		ctx.SetStatusCode(status)
		ctx.SetContentType("application/json")
		if ra := resp.Header.Peek("Retry-After"); len(ra) > 0 {
			ctx.Response.Header.SetBytesV("Retry-After", ra)
		}
		ctx.Response.SetBody(x.checkErrorBody(status, resp.Body()))
		return nil
	}
	var got struct {
		InputTokens *int64 `json:"input_tokens"`
	}
	if err := json.Unmarshal(resp.Body(), &got); err != nil || got.InputTokens == nil || *got.InputTokens < 0 {
		return &core.Error{Status: 502, Type: core.TypeUpstream, Code: "bad_upstream_response",
			Message: "Provider " + strconv.Quote(p.name) + " answered the token count with an unreadable body."}
	}
	writeCount(ctx, *got.InputTokens, "native")
	return nil
}

// writeCount answers {"input_tokens": n}: only the count, whatever else the
// provider sent.
func writeCount(ctx *fasthttp.RequestCtx, n int64, how string) {
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set(hdrTokenCount, how)
	b := append(make([]byte, 0, 40), `{"input_tokens":`...)
	b = strconv.AppendInt(b, n, 10)
	ctx.Response.SetBodyRaw(append(b, '}'))
}
