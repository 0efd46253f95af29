// Package tracing exports OpenTelemetry traces of the proxy's requests over
// OTLP/HTTP: one server span per request, named "<operation> <model>" as
// the GenAI semantic conventions ask, with a child span per stage (auth,
// limits, rules with one span per rule call, each upstream attempt, the
// stream). Attributes follow the GenAI conventions (gen_ai.operation.name,
// gen_ai.provider.name and the older gen_ai.system, gen_ai.request.model,
// gen_ai.response.model, gen_ai.usage.*) plus tokenomics.* for the token's
// hash prefix, the cost in micro-dollars and a refusal's reason.
//
// Tracing is off unless tracing.enabled is set; then New returns a nil
// *Tracer and every hook in the proxy is a nil check, so the request path
// neither allocates nor waits for it.
package tracing
