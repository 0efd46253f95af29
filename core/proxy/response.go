package proxy

import (
	"bytes"
	"io"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/core/rules"
	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
	"github.com/tokenomics-dev/tokenomics/providers/hub"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

// respond answers the client from the final upstream response: errors are
// passed on in the client's format, successful bodies go through the output
// rules and usage is settled; streams are handed to a relay.
func (x *exchange) respond(ctx *fasthttp.RequestCtx, a attempt, resp *fasthttp.Response) error {
	status := resp.StatusCode()
	if x.stream && status == fasthttp.StatusOK {
		return x.startStream(ctx, a, resp)
	}
	defer closeResponse(resp)
	body, err := responseBody(resp, x.s.cfg.Server.MaxResponseBytes)
	if err != nil {
		x.owe(a, x.estimate, 0) // billed, though the answer was lost
		return &core.Error{Status: 502, Type: core.TypeUpstream, Code: "upstream_bad_body",
			Message: "Provider " + strconv.Quote(a.prov.name) + " sent a body that could not be read.", Err: err}
	}
	if status != fasthttp.StatusOK {
		x.passError(ctx, a, status, &resp.Header, body)
		return nil
	}
	usage, err := x.usageOf(a, body)
	if err != nil {
		// Billed all the same: the prompt and what the body shows of the answer.
		x.owe(a, x.estimate, providers.EstimateTokens(body))
		return &core.Error{Status: 502, Type: core.TypeUpstream, Code: "upstream_bad_body",
			Message: "Provider " + strconv.Quote(a.prov.name) + " sent a malformed response.", Err: err}
	}
	x.cost.usage = usage
	x.settle(usage.Total(), true)
	out, err := x.outputRules(a, body)
	if err != nil {
		x.s.finish(x, a, 403, usage)
		return err
	}
	if translated(x.ep, a.prov.format) {
		if out, err = x.translateResponse(a, out, time.Now().Unix()); err != nil {
			return err
		}
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/json")
	x.setCapHeader(&ctx.Response.Header)
	ctx.Response.SetBody(out)
	x.memoryAnswer(a, out)
	x.s.finish(x, a, 200, usage)
	return nil
}

// responseBody returns the body, decompressed if the provider compressed it
// (usage has to be read either way), at most limit bytes once decoded.
func responseBody(resp *fasthttp.Response, limit int64) ([]byte, error) {
	if resp.StreamBody { // an error answer to a stream request
		b, err := io.ReadAll(io.LimitReader(resp.BodyStream(), 1<<20))
		_ = resp.CloseBodyStream()
		resp.StreamBody = false
		if err != nil {
			return nil, err
		}
		resp.SetBody(b)
	}
	return decodeBody(resp.Header.ContentEncoding(), resp.Body(), limit)
}

// usageOf reads the provider's usage report; if it has none, the prompt
// estimate and a count of the generated text stand in.
func (x *exchange) usageOf(a attempt, body []byte) (providers.Usage, error) {
	var u providers.Usage
	var err error
	if a.prov.format == providers.Anthropic {
		u, err = anthropic.ParseResponseUsage(body)
	} else {
		u, err = openai.ParseResponseUsage(body)
	}
	if err != nil || u.Reported {
		return u, err
	}
	u.PromptTokens = x.estimate
	if a.prov.format == providers.Anthropic {
		x.refs, _ = anthropic.ResponseTexts(x.refs[:0], body)
	} else {
		x.refs, _ = openai.ResponseTexts(x.refs[:0], body, x.ep.openai())
	}
	for _, r := range x.refs {
		u.CompletionTokens += providers.EstimateLiteral(body[r.Start:r.End])
	}
	return u, nil
}

// outputRules checks and masks a non-streamed answer.
func (x *exchange) outputRules(a attempt, body []byte) ([]byte, error) {
	rs := x.tok.rules
	if rs == nil || !rs.output {
		return body, nil
	}
	var err error
	if a.prov.format == providers.Anthropic {
		x.refs, err = anthropic.ResponseTexts(x.refs[:0], body)
	} else {
		x.refs, err = openai.ResponseTexts(x.refs[:0], body, x.ep.openai())
	}
	if err != nil {
		return nil, &core.Error{Status: 502, Type: core.TypeUpstream, Code: "upstream_bad_body", Message: "The provider's answer could not be read."}
	}
	if err := x.decodeTexts(body); err != nil {
		return nil, err
	}
	// No generated text (a tool call without arguments, empty or null
	// content): the rules have nothing to read, so the plugin call is
	// skipped. The verdict is cleared as a check finding nothing would
	// leave it: it still holds the input phase's.
	if len(x.scratch) == 0 {
		x.verdict.Reset()
		x.captureMemoryAnswer(a)
		return body, nil
	}
	if err := x.s.checkRules(x, rules.Output, "response"); err != nil {
		return nil, err
	}
	switch x.verdict.Action {
	case rules.Block:
		return nil, &core.Error{Status: 403, Type: core.TypePermission, Code: "content_policy_violation",
			Message: "Response blocked: " + blockReason(&x.verdict, x.reqID)}
	case rules.Mask:
		// Its own buffer: x.masked may hold the masked request, which
		// conversation memory still reads.
		masked, err := x.applyMasks(x.outMasked[:0], body)
		if err != nil {
			return nil, &core.Error{Status: 500, Type: core.TypeServer, Code: "mask_failed", Message: "Masking the response failed.", Err: err}
		}
		x.outMasked = masked
		x.captureMemoryAnswer(a)
		return masked, nil
	}
	x.captureMemoryAnswer(a)
	return body, nil
}

// captureMemoryAnswer keeps the answer's texts for conversation memory
// from the output rules' decoding, masked as the client gets them, so
// memoryAnswer need not walk the answer again. A translated answer is
// walked in the client's format instead.
func (x *exchange) captureMemoryAnswer(a attempt) {
	if x.tok.memory == nil || translated(x.ep, a.prov.format) || x.memAnswered {
		return
	}
	x.memAnswered = true
	t := x.memTexts()
	masked := x.verdict.Action == rules.Mask
	edits := x.edits
	for i := range x.refs {
		text := x.texts[i].Data
		if masked && hasEdits(&x.verdict, i) && len(edits) > 0 {
			text, edits = edits[0].Text, edits[1:]
		}
		t.AppendAnswer(text)
	}
}

// passError gives the client the provider's refusal in the client's format.
func (x *exchange) passError(ctx *fasthttp.RequestCtx, a attempt, status int, h *fasthttp.ResponseHeader, body []byte) {
	if upstreamAuthFailed(status) {
		x.upstreamAuthError(ctx, a, status)
		return
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	if ra := h.Peek("Retry-After"); len(ra) > 0 {
		ctx.Response.Header.SetBytesV("Retry-After", ra)
	}
	switch {
	case translated(x.ep, a.prov.format):
		ctx.Response.SetBody(x.checkErrorBody(status, hub.TranslateError(x.ep.wire(), status, body)))
	case len(body) == 0 || !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")):
		e := core.Errorf(status, core.TypeUpstream, "upstream_error", "Provider %q answered with status %d.", a.prov.name, status)
		ctx.Response.SetBody(x.errorJSON(e))
	default:
		ctx.Response.SetBody(x.checkErrorBody(status, body))
	}
	x.s.finish(x, a, status, providers.Usage{})
}

// memoryAnswer makes sure the memory texts hold the answer as the client
// gets it: kept by captureMemoryAnswer, or else a walk of the client's
// body (reusing x.refs, which nothing reads after the answer is out).
func (x *exchange) memoryAnswer(a attempt, clientBody []byte) {
	if x.tok.memory == nil || x.memAnswered {
		return
	}
	x.memAnswered = true
	t := x.memTexts()
	if x.ep == epMessages {
		x.refs, _ = anthropic.ResponseTexts(x.refs[:0], clientBody)
	} else {
		x.refs, _ = openai.ResponseTexts(x.refs[:0], clientBody, x.ep.openai())
	}
	for _, r := range x.refs {
		text, err := providers.DecodeText(x.memBuf[:0], clientBody, r)
		x.memBuf = text
		if err == nil {
			t.AppendAnswer(text)
		}
	}
}
