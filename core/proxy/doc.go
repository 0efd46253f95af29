// Package proxy is the data plane: a fasthttp server that authenticates
// tkn_ tokens, resolves their policy for the requested model, enforces rate
// limits, max_parallel and budgets, runs the content rules, forwards to the
// provider (translating formats where needed, retrying and falling back),
// relays bodies and SSE streams chunk by chunk, and settles usage.
//
// The stage order is fixed in code (see pipeline.go), never configured:
//
//	recover + request id → authenticate → resolve policy → rate limits and
//	max_parallel → budget reservation → input rules → provider (translate,
//	auth, retry/fallback, timeout) → body or stream back through output
//	rules → settle usage → events, metrics, logs.
//
// Hot-path discipline follows fasthttp: nothing keeps a *fasthttp.RequestCtx
// or slices of it past the handler; the stream writer owns what it touches.
package proxy
