package proxy

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/tokenomics-dev/tokenomics/core"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/rules"
	"github.com/tokenomics-dev/tokenomics/core/tracing"
	"github.com/tokenomics-dev/tokenomics/providers"
)

// The proxy's tracing hooks. Every one starts with a nil check: with
// tracing off (s.tracer nil) or a request not sampled (x.span nil) they
// cost a comparison and never allocate.

// genAIOperation is the GenAI operation name of an endpoint.
func genAIOperation(ep endpoint) string {
	switch ep {
	case epCompletions:
		return "text_completion"
	case epEmbeddings:
		return "embeddings"
	}
	return "chat"
}

// traceStart opens the request's span.
func (x *exchange) traceStart() {
	if x.s.tracer == nil {
		return
	}
	x.tctx, x.span = x.s.tracer.Request(genAIOperation(x.ep), x.start)
}

// stage opens a child span of the request; nil when not traced.
func (x *exchange) stage(name string) trace.Span {
	if x.span == nil {
		return nil
	}
	_, sp := x.s.tracer.Stage(x.tctx, name, trace.SpanKindInternal)
	return sp
}

// traceParsed names the span after the model, once parse read it.
func (x *exchange) traceParsed() {
	if x.span == nil || x.model == "" {
		return
	}
	tracing.Model(x.span, genAIOperation(x.ep), x.model)
	if x.capPer > 0 {
		x.span.SetAttributes(tracing.RequestMaxTok.Int64(x.capPer))
	}
}

// traceAuthed adds the token's hash prefix.
func (x *exchange) traceAuthed() {
	if x.span == nil || x.tok == nil {
		return
	}
	x.span.SetAttributes(tracing.TokenHash.String(events.HashPrefix(x.tok.hash)), tracing.RequestID.String(x.reqID))
}

// rulesContext is the context of a rule check: with the per-rule span
// recorder when traced.
func (x *exchange) rulesContext(sp trace.Span, phase string) context.Context {
	if sp == nil {
		return context.Background()
	}
	ctx := trace.ContextWithSpan(x.tctx, sp)
	return rules.WithCallTracer(ctx, x.s.tracer.NewRules(ctx, phase))
}

// attemptSpan opens the span of upstream attempt i.
func (x *exchange) attemptSpan(a attempt, i int) trace.Span {
	if x.span == nil {
		return nil
	}
	_, sp := x.s.tracer.Stage(x.tctx, "upstream "+a.prov.name, trace.SpanKindClient)
	sp.SetAttributes(tracing.ProviderName.String(a.prov.name), tracing.System.String(a.prov.name),
		tracing.RequestModel.String(a.model), tracing.Attempt.Int(i+1))
	return sp
}

func endAttempt(sp trace.Span, status int, err error) {
	if sp == nil {
		return
	}
	if status > 0 {
		sp.SetAttributes(tracing.HTTPStatus.Int(status))
	}
	if err == nil && status >= 400 {
		sp.SetStatus(codes.Error, "upstream answered "+codeLabel(status))
	}
	tracing.Done(sp, err)
}

// usageAttrs are the GenAI usage attributes of an answer.
func usageAttrs(sp trace.Span, a attempt, status int, u providers.Usage, cost int64) {
	sp.SetAttributes(tracing.ProviderName.String(a.prov.name), tracing.System.String(a.prov.name),
		tracing.ResponseModel.String(a.model), tracing.HTTPStatus.Int(status),
		tracing.InputTokens.Int64(u.PromptTokens), tracing.OutputTokens.Int64(u.CompletionTokens),
		tracing.CachedTokens.Int64(u.CachedTokens), tracing.ReasonTokens.Int64(u.ReasoningTokens),
		tracing.CostMicros.Int64(cost), tracing.UsageEstimated.Bool(!u.Reported))
	if a.fallbackFrom != "" {
		sp.SetAttributes(tracing.FallbackFrom.String(a.fallbackFrom))
	}
}

// traceFinish records a non-streamed answer's usage.
func (x *exchange) traceFinish(a attempt, status int, u providers.Usage) {
	if x.span == nil {
		return
	}
	cost, _ := x.s.costOf(a, u)
	usageAttrs(x.span, a, status, u, cost)
}

// traceEnd closes the request span, with the refusal's reason when the
// proxy refused it. A stream's span was handed to its relay.
func (x *exchange) traceEnd(e *core.Error) {
	if x.span == nil {
		return
	}
	if e != nil {
		x.span.SetAttributes(tracing.RefusalReason.String(e.Code), tracing.HTTPStatus.Int(e.Status),
			tracing.ErrorType.String(e.Code))
		x.span.SetStatus(codes.Error, e.Code)
	}
	x.span.End()
}

// traceHandOver gives the request span to a stream's relay, which ends it
// with a "stream" child when the stream is done.
func (x *exchange) traceHandOver(r *relay) {
	if x.span == nil {
		return
	}
	r.span, r.tctx = x.span, x.tctx
	_, r.streamSpan = x.s.tracer.Stage(x.tctx, "stream", trace.SpanKindInternal)
	x.span = nil
}

// traceClose ends a relay's spans with the stream's usage.
func (r *relay) traceClose(status int, u providers.Usage) {
	if r.span == nil {
		return
	}
	var err error
	if r.upstreamErr != nil {
		err = r.upstreamErr
	}
	r.streamSpan.SetAttributes(attribute.Int("http.response.status_code", status))
	tracing.Done(r.streamSpan, err)
	cost, _ := r.s.costOf(r.a, u)
	usageAttrs(r.span, r.a, status, u, cost)
	if status >= 400 {
		r.span.SetStatus(codes.Error, "stream ended with "+codeLabel(status))
	}
	r.span.End()
}
