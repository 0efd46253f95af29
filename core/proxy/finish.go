package proxy

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/limits"
	"github.com/tokenomics-dev/tokenomics/core/memory"
	"github.com/tokenomics-dev/tokenomics/core/rollup"
	"github.com/tokenomics-dev/tokenomics/core/rules"
	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

// memText is one request text for conversation memory.
type memText = memory.Message

// memTexts is an exchange's texts for conversation memory, in a pooled
// buffer (memory.Texts). Its owner is the exchange until finish hands it to
// the memory writer, or startStream to the relay (whose finishStream hands
// it on); releaseExchange and releaseRelay give back one never handed on.
// Whoever hands it on clears its own field in the same statement, so no
// stale copy is left to write into a buffer the writer has recycled (a
// stale one would panic, see memory.Texts).
type memTexts = memory.Texts

// finish records a completed (non-streamed) exchange: usage metrics, the
// log line, request.completed and conversation memory (the answer's texts
// were kept by captureMemoryAnswer or memoryAnswer).
func (s *Server) finish(x *exchange, a attempt, status int, u providers.Usage) {
	s.record(x.tok, x.reqID, a, x.start, status, u, false)
	x.traceFinish(a, status, u)
	if status == 200 && x.tok.memory != nil {
		x.memoryRequest()
		s.remember(x.tok, a, x.start, x.takeMemory(), u)
	}
}

// finishStream is finish for a relay, which owns its own copies.
func (s *Server) finishStream(r *relay, status int, u providers.Usage) {
	s.record(r.tok, r.reqID, r.a, r.start, status, u, true)
	if r.memReq.IsZero() {
		return
	}
	t := r.memReq
	r.memReq = memTexts{}
	if status != 200 {
		t.Release()
		return
	}
	t.AppendAnswer(r.answer)
	s.remember(r.tok, r.a, r.start, t, u)
}

func (s *Server) record(tok *tokenEntry, reqID string, a attempt, start time.Time, status int, u providers.Usage, stream bool) {
	lat := time.Since(start)
	cost, label := s.costOf(a, u)
	s.met.usage(a.prov.name, label, u, cost)
	s.usage.Record(tok.hash, a.model, a.prov.name, start, rollup.Usage{Input: u.PromptTokens, CachedInput: u.CachedTokens,
		Output: u.CompletionTokens, Reasoning: u.ReasoningTokens, CostMicros: cost})
	// Nothing above Debug on the hot path: metrics and request.completed
	// events carry the same facts for operators.
	if s.log.IsDebug() {
		s.log.Debug("request completed", "request_id", reqID, "token", tok.short, "model", a.model, "provider", a.prov.name,
			"status", status, "prompt_tokens", u.PromptTokens, "completion_tokens", u.CompletionTokens,
			"cached_tokens", u.CachedTokens, "reasoning_tokens", u.ReasoningTokens, "usage_reported", u.Reported, "cost_usd_micros", cost,
			"stream", stream, "latency_ms", lat.Milliseconds(), "metadata", tok.policy.Metadata)
	}
	if !s.wants(events.RequestCompleted) {
		return // building the payload allocates: skip it when nobody listens
	}
	s.emit(events.RequestCompleted, events.RequestData{TokenHashPrefix: events.HashPrefix(tok.hash), RequestID: reqID,
		Model: a.model, Provider: a.prov.name, Status: status, InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens,
		LatencyMS: lat.Milliseconds(), Stream: stream, Metadata: tok.policy.Metadata, CostUSDMicros: cost,
		FallbackFrom: a.fallbackFrom, FallbackReason: a.why})
}

// remember hands texts to the memory writer, which owns them from here on
// (written or dropped, it gives them back to the pool).
func (s *Server) remember(tok *tokenEntry, a attempt, start time.Time, texts memTexts, u providers.Usage) {
	s.memory.Append(memory.Entry{FilePath: tok.memory.FilePath, FileName: tok.memory.FileName, TokenHash: tok.hash,
		MaxSizeMB: tok.memory.MaxSizeMB, Compress: tok.memory.CompressOld, Metadata: tok.policy.Metadata,
		Time: start, Model: a.model, Provider: a.prov.name, Texts: texts,
		Prompt: u.PromptTokens, Output: u.CompletionTokens})
}

// memTexts returns the exchange's memory texts, taking a buffer from the
// pool on first use.
func (x *exchange) memTexts() memTexts {
	if x.mem.IsZero() {
		x.mem = memory.NewTexts()
	}
	return x.mem
}

// takeMemory hands the exchange's memory texts on: the caller owns them.
func (x *exchange) takeMemory() memTexts {
	t := x.memTexts()
	x.mem, x.memReqDone, x.memAnswered = memTexts{}, false, false
	return t
}

// releaseMemory gives back memory texts no one took (a refused or failed
// exchange); run by releaseExchange.
func (x *exchange) releaseMemory() {
	x.mem.Release()
	x.mem = memTexts{}
}

// memoryRequest makes sure the memory texts hold the request texts as sent
// upstream (masked), with the policy's prompts first: the copy inputRules
// took while it had them decoded (captureMemoryRequest), or else a walk of
// the body. The walk reuses x.refs: it runs when the exchange has no other
// use for them (finish, startStream).
func (x *exchange) memoryRequest() {
	if x.memReqDone {
		return
	}
	x.memReqDone = true
	t := x.memTexts()
	for _, p := range x.tok.prompts {
		t.AddRequestString(p.Role, p.Content)
	}
	if x.ep == epMessages {
		x.refs, _ = anthropic.RequestTexts(x.refs[:0], x.body)
	} else {
		x.refs, _ = openai.RequestTexts(x.refs[:0], x.body, x.ep.openai())
	}
	for _, r := range x.refs {
		text, err := providers.DecodeText(x.memBuf[:0], x.body, r)
		if err != nil {
			continue
		}
		x.memBuf = text
		role := r.Role
		if role == "" {
			role = "user"
		}
		t.AddRequest(role, text)
	}
}

// observeRefusal counts a refusal the proxy made itself.
func (s *Server) observeRefusal(x *exchange, e *core.Error) {
	if x.tok == nil {
		s.met.refusal(e.Code)
		s.usage.Refuse("", x.model, "", x.start, e.Code)
		return
	}
	s.met.refusal(e.Code)
	s.usage.Refuse(x.tok.hash, x.model, x.provName(), x.start, e.Code)
	if s.log.IsDebug() {
		s.log.Debug("request refused", "request_id", x.reqID, "token", x.tok.short, "model", x.model, "status", e.Status, "code", e.Code, "error", e.Err)
	}
}

// limitError turns a limiter refusal into the client's 429 (or 503 when the
// shared counters are unreachable and fail_mode is closed) and an event.
func (s *Server) limitError(x *exchange, err error) error {
	var le *limits.LimitError
	if !errors.As(err, &le) {
		return &core.Error{Status: 503, Type: core.TypeServer, Code: "limits_unavailable", Message: "Usage limits could not be checked.", Err: err}
	}
	x.limitErr = le
	prefix := events.HashPrefix(x.tok.hash)
	md := x.tok.policy.Metadata
	switch le.Kind {
	case limits.KindBudget:
		s.log.Info("budget exceeded", "request_id", x.reqID, "token", x.tok.short, "rule", le.Rule, "limit", le.Limit, "remaining", le.Remaining, "metadata", md)
		s.emit(events.BudgetExceeded, events.LimitData{TokenHashPrefix: prefix, Model: x.model, Limit: le.Limit, Used: le.Limit - le.Remaining, Metadata: md})
		return &core.Error{Status: 429, Type: "insufficient_quota", Code: "budget_exceeded", Err: err, Message: budgetMessage(x, le)}
	case limits.KindRate:
		s.log.Info("rate limited", "request_id", x.reqID, "token", x.tok.short, "rule", le.Rule, "retry_after", le.RetryAfter, "metadata", md)
		s.emit(events.RateExceeded, events.LimitData{TokenHashPrefix: prefix, Model: x.model, Limit: le.Limit, Used: le.Limit - le.Remaining, Window: le.Rule, Metadata: md})
		return &core.Error{Status: 429, Type: core.TypeRateLimit, Code: "rate_limit_exceeded", RetryAfter: le.RetryAfter, Err: err,
			Message: "Rate limit reached for this token (" + le.Rule + "). Retry after " + le.RetryAfter.Round(time.Second).String() + "."}
	case limits.KindParallel:
		s.emit(events.RateExceeded, events.LimitData{TokenHashPrefix: prefix, Model: x.model, Limit: le.Limit, Window: "max_parallel", Metadata: md})
		return &core.Error{Status: 429, Type: core.TypeRateLimit, Code: "too_many_parallel_requests", RetryAfter: le.RetryAfter, Err: err,
			Message: "Too many requests in flight for this token (max_parallel " + strconv.FormatInt(le.Limit, 10) + ")."}
	}
	return &core.Error{Status: 503, Type: core.TypeServer, Code: "limits_unavailable", Err: err,
		Message: "Usage limits could not be checked (shared counter store unreachable); try again shortly."}
}

// setRateHeaders sets the x-ratelimit-* headers OpenAI clients know.
func setRateHeaders(h *fasthttp.ResponseHeader, ri limits.RateInfo) {
	var buf [24]byte
	if r := ri.Requests; r.Limit() > 0 {
		h.SetBytesV("X-Ratelimit-Limit-Requests", strconv.AppendInt(buf[:0], r.Limit(), 10))
		h.SetBytesV("X-Ratelimit-Remaining-Requests", strconv.AppendInt(buf[:0], r.Remaining, 10))
		h.SetBytesV("X-Ratelimit-Reset-Requests", appendResetSecs(buf[:0], r.Reset))
	}
	if t := ri.Tokens; t.Limit() > 0 {
		h.SetBytesV("X-Ratelimit-Limit-Tokens", strconv.AppendInt(buf[:0], t.Limit(), 10))
		h.SetBytesV("X-Ratelimit-Remaining-Tokens", strconv.AppendInt(buf[:0], t.Remaining, 10))
		h.SetBytesV("X-Ratelimit-Reset-Tokens", appendResetSecs(buf[:0], t.Reset))
	}
}

func appendResetSecs(dst []byte, t time.Time) []byte {
	d := time.Until(t)
	if d < 0 {
		d = 0
	}
	dst = strconv.AppendInt(dst, int64((d+time.Second-1)/time.Second), 10)
	return append(dst, 's')
}

// setRefusalHeaders tells a refused client which rule it hit and when it
// resets, in the x-ratelimit-* names OpenAI clients read.
func setRefusalHeaders(h *fasthttp.ResponseHeader, le *limits.LimitError) {
	kind := "Tokens"
	switch {
	case le.Kind == limits.KindParallel:
		return
	case strings.HasPrefix(le.Rule, "requests"):
		kind = "Requests"
	}
	var buf [24]byte
	h.SetBytesV("X-Ratelimit-Limit-"+kind, strconv.AppendInt(buf[:0], le.Limit, 10))
	h.SetBytesV("X-Ratelimit-Remaining-"+kind, strconv.AppendInt(buf[:0], max(le.Remaining, 0), 10))
	if !le.Reset.IsZero() {
		h.SetBytesV("X-Ratelimit-Reset-"+kind, appendResetSecs(buf[:0], le.Reset))
	}
}

// budgetMessage states both numbers: what the budget has left and what the
// request needs at least, its prompt's guaranteed bound (the output would
// have been clamped to fit anything above that).
func budgetMessage(x *exchange, le *limits.LimitError) string {
	need := x.limReq.Floor
	what := " tokens left, and this request's prompt alone may need up to " + strconv.FormatInt(x.promptMax(), 10) + " tokens"
	if x.ep != epEmbeddings {
		what += " plus at least " + strconv.FormatInt(x.choices, 10) + " output token"
		if x.choices > 1 {
			what += "s"
		}
	}
	if need <= 0 {
		need = x.limReq.Reserve
		what = " tokens left, and this request needs up to " + strconv.FormatInt(need, 10)
	}
	return "Token budget exhausted: " + le.Rule + " has " + strconv.FormatInt(le.Remaining, 10) + " of " +
		strconv.FormatInt(le.Limit, 10) + what + "."
}

// provName is the provider the request was routed to, "" before routing.
func (x *exchange) provName() string {
	if x.prov == nil {
		return ""
	}
	return x.prov.name
}

// captureMemoryRequest keeps, for conversation memory, the request texts
// inputRules decoded, as sent upstream: a text the rules masked as
// applyMasks rewrote it (its edits, in text order), the others as read.
// The body is not walked again; the texts are copied into the memory
// buffer, which the writer recycles.
func (x *exchange) captureMemoryRequest() {
	if x.memReqDone {
		return
	}
	x.memReqDone = true
	t := x.memTexts()
	for _, p := range x.tok.prompts {
		t.AddRequestString(p.Role, p.Content)
	}
	masked := x.verdict.Action == rules.Mask
	edits := x.edits
	for i, r := range x.refs {
		text := x.texts[i].Data
		if masked && hasEdits(&x.verdict, i) && len(edits) > 0 {
			text, edits = edits[0].Text, edits[1:]
		}
		role := r.Role
		if role == "" {
			role = "user"
		}
		t.AddRequest(role, text)
	}
}
