package proxy

import (
	"errors"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/tokenomics-dev/tokenomics/core"
)

var (
	errUnauthorized = &core.Error{Status: fasthttp.StatusUnauthorized, Type: core.TypeAuthentication, Code: "invalid_api_key",
		Message: "Missing or invalid token. Send your tkn_ token as 'Authorization: Bearer tkn_...' or 'x-api-key'."}
	errExpired = &core.Error{Status: fasthttp.StatusUnauthorized, Type: core.TypeAuthentication, Code: "token_expired",
		Message: "This token has expired. Ask your administrator for a new one."}
	errBodyTooLarge = &core.Error{Status: fasthttp.StatusRequestEntityTooLarge, Type: core.TypeInvalidRequest, Code: "request_too_large",
		Message: "Request body exceeds the proxy's size limit."}
	errNotFound = &core.Error{Status: fasthttp.StatusNotFound, Type: core.TypeNotFound, Code: "unknown_url",
		Message: "Unknown endpoint."}
	errMethod = &core.Error{Status: fasthttp.StatusMethodNotAllowed, Type: core.TypeInvalidRequest, Code: "method_not_allowed",
		Message: "Method not allowed for this endpoint."}
	errInternal = &core.Error{Status: fasthttp.StatusInternalServerError, Type: core.TypeServer, Code: "internal_error",
		Message: "The proxy failed to handle this request."}
)

// writeError answers with the OpenAI error shape. Any error that is not a
// *core.Error becomes a 500 whose message does not leak the cause.
func writeError(ctx *fasthttp.RequestCtx, err error) *core.Error {
	var ce *core.Error
	if !errors.As(err, &ce) {
		ce = errInternal
	}
	ctx.Response.Reset()
	ctx.SetStatusCode(ce.Status)
	ctx.SetContentType("application/json")
	if ce.RetryAfter > 0 {
		secs := int64((ce.RetryAfter + 999_999_999) / 1_000_000_000)
		ctx.Response.Header.Set("Retry-After", strconv.FormatInt(secs, 10))
		// The exact wait as well, as OpenAI and Anthropic send it and their
		// SDKs prefer it: the Vercel AI SDK follows a wait only below 60 s,
		// and a one-per-minute window called twice in a row asks for just
		// under a minute, which whole seconds round up to 60.
		ms := int64((ce.RetryAfter + 999_999) / 1_000_000)
		ctx.Response.Header.Set("Retry-After-Ms", strconv.FormatInt(ms, 10))
	}
	ctx.Response.SetBodyRaw(ce.AppendJSON(nil)) // error path: one allocation is fine
	return ce
}

// writeAnthropicError answers a /v1/messages client in Anthropic's error
// shape {"type":"error","error":{"type","message"}}, which its SDKs parse.
func writeAnthropicError(ctx *fasthttp.RequestCtx, err error) *core.Error {
	ce := writeError(ctx, err)
	ctx.Response.SetBodyRaw(appendAnthropicError(nil, anthropicErrorType(ce), ce.Message, ce.Code))
	return ce
}

// writeErrorFor answers in the shape the request's path calls for:
// Anthropic's on Anthropic paths (see anthropicPath), OpenAI's elsewhere.
// It is for answers given before an endpoint is known (404, 413, panics).
func writeErrorFor(ctx *fasthttp.RequestCtx, err error) *core.Error {
	if anthropicPath(ctx.Path()) {
		return writeAnthropicError(ctx, err)
	}
	return writeError(ctx, err)
}

// anthropicPath reports whether path is the messages API, by either of its
// spellings ("/v1/messages" and the "/messages" alias), or lies under it
// (e.g. "/v1/messages/count_tokens"): an Anthropic SDK parses those answers.
func anthropicPath(path []byte) bool {
	for _, p := range [...]string{"/v1/messages", "/messages"} {
		if len(path) >= len(p) && string(path[:len(p)]) == p && (len(path) == len(p) || path[len(p)] == '/') {
			return true
		}
	}
	return false
}

// appendAnthropicError appends {"type":"error","error":{"type","message"}},
// with our machine-readable code beside Anthropic's fields when set.
func appendAnthropicError(dst []byte, typ, msg, code string) []byte {
	dst = append(dst, `{"type":"error","error":{"type":`...)
	dst = core.AppendJSONString(dst, typ)
	dst = append(dst, `,"message":`...)
	dst = core.AppendJSONString(dst, msg)
	if code != "" {
		dst = append(dst, `,"code":`...)
		dst = core.AppendJSONString(dst, code)
	}
	return append(dst, "}}"...)
}

func anthropicErrorType(e *core.Error) string {
	switch e.Status {
	case 400, 405:
		return "invalid_request_error"
	case 413:
		return "request_too_large" // Anthropic's own type for an oversized body
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 429:
		return "rate_limit_error"
	case 503, 529:
		return "overloaded_error"
	}
	return "api_error"
}
