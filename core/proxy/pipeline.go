package proxy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/limits"
	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/core/rules"
	"github.com/tokenomics-dev/tokenomics/core/tracing"
	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

// exchange is one request's state on its way through the stages. It lives
// only while the handler runs: pooled, reset on release, never handed to a
// stream writer (which gets its own relay, see stream.go).
type exchange struct {
	s   *Server
	ep  endpoint
	tok *tokenEntry
	// base is the token's own entry; tok is its variant for the route
	// taken when that provider entry has prompts or rules of its own.
	base  *tokenEntry
	start time.Time
	reqID string
	hdr   *fasthttp.RequestHeader // the client's, valid while the handler runs

	model       string // as requested
	stream      bool
	clientUsage bool  // the client asked for stream usage itself
	logprobs    bool  // the answer would repeat its text as tokens (openai.Request.Logprobs)
	audioOut    bool  // the answer may be speech (openai.Request.AudioOut)
	estimate    int64 // prompt estimate, in the provider's tokenizer
	bound       int64 // guaranteed upper bound of the prompt (providers.Bound)
	capPer      int64 // output cap per choice: the request's, or the default the proxy sets
	choices     int64 // choices generated (n, best_of); at least 1
	outCap      int64 // capPer × choices, saturated
	capLimit    int64 // the clamped cap per choice sent upstream; 0 when not clamped
	owed        int64 // usage of earlier attempts that reached the provider
	body        []byte

	res      policy.Resolved
	prov     *provider
	key      string
	lease    *limits.Lease
	limReq   limits.Request
	cost     costHold // the dollar side: price and cost lease (cost.go)
	settled  bool
	limitErr *limits.LimitError // the refusal, for its x-ratelimit-* headers
	inMasked bool               // input rules masked something (memory records the masked text)

	tctx context.Context // the request span's context, when traced (trace.go)
	span trace.Span      // nil unless traced

	hashBuf     [64]byte
	planBuf     [6]attempt
	verdict     rules.Verdict
	findings    findingSet // checkRules' report, reused
	texts       []rules.Text
	refs        []providers.TextRef
	edits       []providers.Edit
	scratch     []byte
	bounds      []int // decodeTexts' text offsets in scratch
	masked      []byte
	outMasked   []byte
	arena       []byte      // applyMasks' masked texts
	memBuf      []byte      // a memory text decoded from a body walk
	mem         memTexts    // conversation memory's texts (finish.go): handed on, or released with the exchange
	memReqDone  bool        // mem holds the request texts
	memAnswered bool        // mem holds the answer (it may be empty)
	groups      []joinGroup // joined message parts (join.go)
	joined      []byte
	out         []byte
	tr          *translation // hub forms, when formats differ (translate.go)
}

var exchangePool = sync.Pool{New: func() any { return &exchange{} }}

func acquireExchange(s *Server, ep endpoint) *exchange {
	x := exchangePool.Get().(*exchange)
	x.s, x.ep, x.start = s, ep, time.Now()
	return x
}

func releaseExchange(x *exchange) {
	x.releaseMemory()
	*x = exchange{
		verdict: x.verdict, findings: x.findings, texts: x.texts[:0], refs: x.refs[:0], edits: x.edits[:0],
		scratch: x.scratch[:0], bounds: x.bounds[:0], masked: x.masked[:0], outMasked: x.outMasked[:0], out: x.out[:0],
		arena: x.arena[:0], memBuf: x.memBuf[:0], groups: x.groups[:0], joined: x.joined[:0], tr: x.tr,
	}
	x.verdict.Reset()
	x.findings.reset()
	exchangePool.Put(x)
}

// serveLLM runs the fixed stage chain for an endpoint that reaches a provider.
func (s *Server) serveLLM(ctx *fasthttp.RequestCtx, ep endpoint) {
	x := acquireExchange(s, ep)
	defer releaseExchange(x)
	s.flight.begin()
	defer s.flight.end()
	x.reqID = s.requestID(ctx)
	x.traceStart()
	err := x.run(ctx)
	if x.lease != nil && !x.settled {
		x.settle(0, false)
	}
	if err != nil {
		write := writeError
		if ep == epMessages {
			write = writeAnthropicError
		}
		ce := write(ctx, err)
		if x.limitErr != nil {
			setRefusalHeaders(&ctx.Response.Header, x.limitErr)
			setRetryHint(&ctx.Response.Header, x.limitErr)
		}
		s.observeRefusal(x, ce)
		x.traceEnd(ce)
		return
	}
	x.traceEnd(nil)
}

func (x *exchange) run(ctx *fasthttp.RequestCtx) error {
	if !ctx.IsPost() {
		return errMethod
	}
	x.hdr = &ctx.Request.Header
	sp := x.stage("auth")
	err := x.authenticate(ctx)
	tracing.Done(sp, err)
	if err != nil {
		return err
	}
	x.traceAuthed()
	if err := x.parse(ctx.PostBody()); err != nil {
		return err
	}
	x.traceParsed()
	if err := x.route(); err != nil {
		return err
	}
	if err := x.rulesLoaded(); err != nil {
		return err
	}
	sp = x.stage("limits")
	err = x.acquire(ctx)
	tracing.Done(sp, err)
	if err != nil {
		return err
	}
	if err := x.inputRules(ctx); err != nil {
		return err
	}
	return x.forward(ctx)
}

// authenticate finds the token's entry; unknown, revoked and expired tokens
// get the same 401 shape with a distinct code.
func (x *exchange) authenticate(ctx *fasthttp.RequestCtx) error {
	tok := clientToken(&ctx.Request.Header)
	if len(tok) == 0 {
		return errUnauthorized
	}
	hash := x.s.hasher.AppendHash(x.hashBuf[:0], tok)
	e := x.s.tokens.get(hash)
	if e == nil {
		return errUnauthorized
	}
	x.tok = e
	if e.err != nil {
		return &core.Error{Status: 500, Type: core.TypeServer, Code: "policy_unloadable",
			Message: "This token's policy could not be loaded by the proxy; ask your administrator.", Err: e.err}
	}
	if e.expiredAt(x.start) {
		if e.expired.CompareAndSwap(false, true) {
			x.s.emit(events.TokenExpired, events.TokenData{TokenHashPrefix: events.HashPrefix(e.hash)})
		}
		return errExpired
	}
	return nil
}

// parse reads what the gateway acts on from the client body.
func (x *exchange) parse(body []byte) error {
	x.body = body
	var err error
	x.choices = 1
	switch x.ep {
	case epMessages:
		var r anthropic.Request
		r, err = anthropic.ParseRequest(body)
		x.model, x.stream, x.capPer, x.estimate, x.bound = r.Model, r.Stream, r.MaxTokens, r.PromptEstimate, r.PromptBound
	default:
		var r openai.Request
		r, err = openai.ParseRequest(body, x.ep.openai())
		x.model, x.stream, x.capPer, x.estimate, x.bound = r.Model, r.Stream, r.MaxTokens, r.PromptEstimate, r.PromptBound
		x.choices = max(r.N, 1)
		x.clientUsage = r.IncludeUsage
		x.logprobs, x.audioOut = r.Logprobs, r.AudioOut
	}
	if err != nil {
		return parseError(err)
	}
	if err := checkCaps(x.capPer, x.choices); err != nil {
		return err
	}
	if x.model == "" {
		return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "missing_model", Param: "model",
			Message: "The request names no model."}
	}
	return nil
}

// route resolves the policy for the model and picks the provider and key.
func (x *exchange) route() error {
	res, prov, key, err := x.s.resolve(x.tok, x.model)
	if err != nil {
		return err
	}
	x.res, x.prov, x.key = res, prov, key
	x.base = x.tok
	x.tok = x.tok.forRoute(res) // the provider entry's own prompts and rules
	if err := checkCompat(x.ep, prov); err != nil {
		return err
	}
	if (x.logprobs || x.audioOut) && x.tok.rules != nil && x.tok.rules.output {
		// Token logprobs spell the answer out again, one token at a
		// time, and speech says it aloud: output rules read neither.
		if x.audioOut {
			return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "audio_with_output_rules", Param: "modalities",
				Message: "This token's policy checks answers, so they cannot be spoken (audio output); send the request without audio."}
		}
		return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "logprobs_with_output_rules", Param: "logprobs",
			Message: "This token's policy checks answers, so logprobs (and top_logprobs) cannot be returned; send the request without them."}
	}
	// The reservation covers what the provider will count: the client's
	// texts and the policy prompts the proxy prepends, in its tokenizer.
	prompts := x.tok.promptEstimate
	if x.prov.format == providers.Anthropic {
		prompts = providers.AdjustEstimate(prompts, providers.Anthropic)
		if x.ep != epMessages { // anthropic.ParseRequest already adjusted
			x.estimate = providers.AdjustEstimate(x.estimate, providers.Anthropic)
		}
	}
	x.estimate += prompts
	x.bound = limits.SatAdd(x.bound, x.tok.promptBound)
	if x.capPer == 0 && x.ep != epEmbeddings {
		x.capPer = x.defaultOutputCap() // reserved; sent only where required
	}
	x.outCap = limits.SatMul(x.capPer, x.choices)
	return nil
}

// checkCompat refuses endpoints a provider's format has no counterpart
// for; chat, responses and messages translate both ways (translate.go).
func checkCompat(ep endpoint, p *provider) error {
	if p.format == providers.Anthropic && ep.wire() == 0 {
		return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "unsupported_endpoint",
			Message: fmt.Sprintf("Provider %q speaks the Anthropic format; use /v1/chat/completions, /v1/responses or /v1/messages.", p.name)}
	}
	return nil
}

// acquire checks rate limits and max_parallel and reserves the budget, all
// at once: a refused request consumes nothing.
func (x *exchange) acquire(ctx *fasthttp.RequestCtx) error {
	x.limReq = x.tok.limitRequest(x.res.BudgetKey)
	x.setReserve()
	if err := x.priceRoute(x.model, x.prov); err != nil {
		return err
	}
	if err := x.acquireCost(x.res.CostKey); err != nil {
		return err
	}
	lease, err := x.s.limiter.Acquire(context.Background(), &x.limReq)
	if err != nil {
		x.s.releaseCost(&x.cost)
		return x.s.limitError(x, err)
	}
	x.grant(lease)
	x.clampCost()
	setRateHeaders(&ctx.Response.Header, lease.Rate())
	return nil
}

// settle charges what the request used, plus what earlier attempts that
// reached a provider owe, against every counter it reserved.
func (x *exchange) settle(used int64, _ bool) {
	if x.lease == nil || x.settled {
		return
	}
	x.settled = true
	x.s.settleCost(&x.cost, x.cost.usage, x.reqID, x.tok.short, false)
	x.s.flight.release(x.lease)
	used = limits.SatAdd(used, x.owed)
	x.owed = 0
	if err := x.s.limiter.Settle(context.Background(), x.lease, used); err != nil {
		x.s.log.Warn("settling usage failed", "request_id", x.reqID, "token", x.tok.short, "tokens", used, "error", err)
	}
}

// inputRules runs the token's input rules on every text of the request;
// masks are applied to the body sent upstream.
func (x *exchange) inputRules(ctx *fasthttp.RequestCtx) error {
	rs := x.tok.rules
	if rs == nil || !rs.input {
		return nil
	}
	var err error
	if x.ep == epMessages {
		x.refs, err = anthropic.RequestTexts(x.refs[:0], x.body)
	} else {
		x.refs, err = openai.RequestTexts(x.refs[:0], x.body, x.ep.openai())
	}
	if err != nil {
		return parseError(err)
	}
	if len(x.refs) > providers.MaxTexts {
		return parseError(providers.ErrTooLarge)
	}
	if err := x.decodeTexts(x.body); err != nil {
		return err
	}
	x.joinParts()
	err = x.s.checkRules(x, rules.Input, "request")
	x.splitJoined()
	if err != nil {
		return err
	}
	switch x.verdict.Action {
	case rules.Block:
		return &core.Error{Status: 403, Type: core.TypePermission, Code: "content_policy_violation",
			Message: "Request blocked: " + blockReason(&x.verdict, x.reqID)}
	case rules.Mask:
		masked, err := x.applyMasks(x.masked[:0], x.body)
		if err != nil {
			return &core.Error{Status: 500, Type: core.TypeServer, Code: "mask_failed", Message: "Masking the request failed.", Err: err}
		}
		if err := x.s.maskedFits(x, masked); err != nil {
			return err
		}
		x.masked, x.body, x.inMasked = masked, masked, true
	}
	if x.tok.memory != nil {
		x.captureMemoryRequest()
	}
	return nil
}

// decodeTexts turns x.refs into rule texts, decoded into x.scratch.
func (x *exchange) decodeTexts(body []byte) error {
	x.scratch = x.scratch[:0]
	x.texts = x.texts[:0]
	bounds := x.bounds[:0]
	for _, r := range x.refs {
		var err error
		start := len(x.scratch)
		x.scratch, err = providers.DecodeText(x.scratch, body, r)
		if errors.Is(err, providers.ErrUncheckable) {
			return parseError(err) // a text document that does not decode
		}
		if err != nil {
			return &core.Error{Status: 400, Type: core.TypeInvalidRequest, Code: "invalid_json", Message: "A text in the request could not be decoded."}
		}
		bounds = append(bounds, start, len(x.scratch))
	}
	x.bounds = bounds
	// Slices of x.scratch are taken after it stops growing.
	for i, r := range x.refs {
		x.texts = append(x.texts, rules.Text{Data: x.scratch[bounds[2*i]:bounds[2*i+1]], Role: r.Role, Kind: r.Kind})
	}
	return nil
}

// applyMasks splices the verdict's edits back into the JSON body.
func (x *exchange) applyMasks(dst, body []byte) ([]byte, error) {
	x.edits = x.edits[:0]
	arena := x.arena[:0]
	for i := range x.texts {
		if !hasEdits(&x.verdict, i) {
			continue
		}
		start := len(arena)
		arena = x.verdict.Apply(i, x.texts[i].Data, arena)
		x.edits = append(x.edits, providers.Edit{Ref: x.refs[i], Text: arena[start:len(arena):len(arena)]})
	}
	// Edits taken before the arena grew keep the old array: still valid.
	x.arena = arena
	return providers.Splice(dst, body, x.edits)
}

func hasEdits(v *rules.Verdict, text int) bool {
	for _, e := range v.Edits {
		if e.Text == text {
			return true
		}
	}
	return false
}

var errNoFit = errors.New("proxy: fallback does not fit the limits")
