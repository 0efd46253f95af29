package tracing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys: the GenAI semantic conventions' and ours.
const (
	OperationName  = attribute.Key("gen_ai.operation.name")
	ProviderName   = attribute.Key("gen_ai.provider.name")
	System         = attribute.Key("gen_ai.system") // the older name of provider.name, still read by many backends
	RequestModel   = attribute.Key("gen_ai.request.model")
	ResponseModel  = attribute.Key("gen_ai.response.model")
	InputTokens    = attribute.Key("gen_ai.usage.input_tokens")
	OutputTokens   = attribute.Key("gen_ai.usage.output_tokens")
	CachedTokens   = attribute.Key("gen_ai.usage.cache_read.input_tokens")
	ReasonTokens   = attribute.Key("gen_ai.usage.reasoning.output_tokens")
	RequestMaxTok  = attribute.Key("gen_ai.request.max_tokens")
	HTTPStatus     = attribute.Key("http.response.status_code")
	ErrorType      = attribute.Key("error.type")
	TokenHash      = attribute.Key("tokenomics.token.hash_prefix")
	CostMicros     = attribute.Key("tokenomics.cost_micros")
	RefusalReason  = attribute.Key("tokenomics.refusal.reason")
	RequestID      = attribute.Key("tokenomics.request_id")
	Attempt        = attribute.Key("tokenomics.attempt")
	RuleName       = attribute.Key("tokenomics.rule")
	RulePlugin     = attribute.Key("tokenomics.plugin")
	RulePhase      = attribute.Key("tokenomics.rule.phase")
	FallbackFrom   = attribute.Key("tokenomics.fallback_from")
	UsageEstimated = attribute.Key("tokenomics.usage.estimated")
)

// Options configure New.
type Options struct {
	Enabled bool
	// Endpoint is the collector's OTLP/HTTP base URL; spans go to
	// <Endpoint>/v1/traces.
	Endpoint string
	// SampleRatio is the share of requests traced (parent-based: a
	// sampled parent keeps its children).
	SampleRatio float64
	ServiceName string
	Version     string
	Headers     map[string]string
	// BatchTimeout is the longest a finished span waits for export.
	// Default 2s.
	BatchTimeout time.Duration
}

// Tracer makes the proxy's spans. A nil *Tracer traces nothing.
type Tracer struct {
	tp *sdktrace.TracerProvider
	tr trace.Tracer
}

// New returns a Tracer exporting to o.Endpoint, or nil when tracing is
// off. Nothing is dialled until the first export.
func New(ctx context.Context, o Options) (*Tracer, error) {
	if !o.Enabled {
		return nil, nil
	}
	if o.BatchTimeout <= 0 {
		o.BatchTimeout = 2 * time.Second
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(strings.TrimRight(o.Endpoint, "/")+"/v1/traces"),
		otlptracehttp.WithHeaders(o.Headers))
	if err != nil {
		return nil, fmt.Errorf("creating the OTLP exporter: %w", err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", o.ServiceName), attribute.String("service.version", o.Version))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(o.BatchTimeout)),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(o.SampleRatio))),
		sdktrace.WithResource(res))
	return &Tracer{tp: tp, tr: tp.Tracer("github.com/tokenomics-dev/tokenomics/core/proxy")}, nil
}

// Shutdown exports what is pending and stops; safe on nil.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.tp.Shutdown(ctx)
}

// Request starts a request's server span, named after the operation until
// Model names the model. The span is nil when the request is not sampled,
// so callers skip attribute work for it.
func (t *Tracer) Request(operation string, start time.Time) (context.Context, trace.Span) {
	ctx, sp := t.tr.Start(context.Background(), operation, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(start), trace.WithAttributes(OperationName.String(operation)))
	if !sp.IsRecording() {
		sp.End()
		return nil, nil
	}
	return ctx, sp
}

// Model names the request span "<operation> <model>", as the GenAI
// conventions do, and sets gen_ai.request.model.
func Model(sp trace.Span, operation, model string) {
	sp.SetName(operation + " " + model)
	sp.SetAttributes(RequestModel.String(model))
}

// Stage starts a child span of the request in ctx.
func (t *Tracer) Stage(ctx context.Context, name string, kind trace.SpanKind) (context.Context, trace.Span) {
	return t.tr.Start(ctx, name, trace.WithSpanKind(kind))
}

// Done ends a stage span, marking it failed with err's reason.
func Done(sp trace.Span, err error) {
	if sp == nil {
		return
	}
	if err != nil {
		sp.SetStatus(codes.Error, err.Error())
	}
	sp.End()
}

// Rules records each rule call as a child span of a rules stage; it is
// the rule host's CallTracer for one check.
type Rules struct {
	t     *Tracer
	ctx   context.Context
	phase string
}

// NewRules returns the rule-call recorder for the rules stage in ctx.
func (t *Tracer) NewRules(ctx context.Context, phase string) *Rules {
	return &Rules{t: t, ctx: ctx, phase: phase}
}

// RuleCall records one finished plugin call.
func (r *Rules) RuleCall(plugin, rule string, start time.Time, d time.Duration, err error) {
	_, sp := r.t.tr.Start(r.ctx, "rule "+rule, trace.WithTimestamp(start), trace.WithAttributes(
		RuleName.String(rule), RulePlugin.String(plugin), RulePhase.String(r.phase)))
	if err != nil {
		sp.SetStatus(codes.Error, err.Error())
	}
	sp.End(trace.WithTimestamp(start.Add(d)))
}
