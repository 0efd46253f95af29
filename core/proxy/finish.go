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

// finish records a completed (non-streamed) exchange: usage metrics, the
// log line, request.completed and conversation memory.
func (s *Server) finish(x *exchange, a attempt, status int, u providers.Usage, answer string) {
	s.record(x.tok, x.reqID, a, x.start, status, u, false)
	x.traceFinish(a, status, u)
	if status == 200 && x.tok.memory != nil {
		s.remember(x.tok, a, x.start, x.memoryRequest(), answer, u)
	}
}

// finishStream is finish for a relay, which owns its own copies.
func (s *Server) finishStream(r *relay, status int, u providers.Usage) {
	s.record(r.tok, r.reqID, r.a, r.start, status, u, true)
	if r.memReq != nil && status == 200 {
		s.remember(r.tok, r.a, r.start, r.memReq, string(r.answer), u)
	}
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

func (s *Server) remember(tok *tokenEntry, a attempt, start time.Time, req []memText, answer string, u providers.Usage) {
	s.memory.Append(memory.Entry{FilePath: tok.memory.FilePath, FileName: tok.memory.FileName, TokenHash: tok.hash,
		MaxSizeMB: tok.memory.MaxSizeMB, Compress: tok.memory.CompressOld, Metadata: tok.policy.Metadata,
		Time: start, Model: a.model, Provider: a.prov.name, Request: req, Response: answer,
		Prompt: u.PromptTokens, Output: u.CompletionTokens})
}

// memoryRequest copies the request texts as sent upstream (masked), with
// the policy's prompts first: the copy inputRules took while it had them
// decoded, or else a walk of the body.
func (x *exchange) memoryRequest() []memText {
	if x.memReq != nil {
		return x.memReq
	}
	out := make([]memText, 0, 4)
	for _, p := range x.tok.prompts {
		out = append(out, memText{Role: p.Role, Content: p.Content})
	}
	var refs []providers.TextRef
	if x.ep == epMessages {
		refs, _ = anthropic.RequestTexts(nil, x.body)
	} else {
		refs, _ = openai.RequestTexts(nil, x.body, x.ep.openai())
	}
	for _, r := range refs {
		t, err := providers.DecodeText(nil, x.body, r)
		if err != nil {
			continue
		}
		role := r.Role
		if role == "" {
			role = "user"
		}
		out = append(out, memText{Role: role, Content: string(t)})
	}
	return out
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
// The body is not walked again, and all texts share one string.
func (x *exchange) captureMemoryRequest() {
	masked := x.verdict.Action == rules.Mask
	buf := x.memBuf[:0]
	edits := x.edits
	for i := range x.refs {
		t := x.texts[i].Data
		if masked && hasEdits(&x.verdict, i) && len(edits) > 0 {
			t, edits = edits[0].Text, edits[1:]
		}
		buf = append(buf, t...)
	}
	x.memBuf = buf
	all := string(buf)
	out := make([]memText, 0, len(x.tok.prompts)+len(x.refs))
	for _, p := range x.tok.prompts {
		out = append(out, memText{Role: p.Role, Content: p.Content})
	}
	edits = x.edits
	off := 0
	for i, r := range x.refs {
		n := len(x.texts[i].Data)
		if masked && hasEdits(&x.verdict, i) && len(edits) > 0 {
			n, edits = len(edits[0].Text), edits[1:]
		}
		role := r.Role
		if role == "" {
			role = "user"
		}
		out = append(out, memText{Role: role, Content: all[off : off+n]})
		off += n
	}
	x.memReq = out
}
