package hub

import (
	"strconv"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// errorKinds maps Anthropic error types to OpenAI's error type and code.
var errorKinds = []struct{ anthropic, typ, code string }{
	{"invalid_request_error", "invalid_request_error", ""},
	{"authentication_error", "authentication_error", "invalid_api_key"},
	{"permission_error", "permission_error", "permission_denied"},
	{"not_found_error", "invalid_request_error", "not_found"},
	{"request_too_large", "invalid_request_error", "request_too_large"},
	{"rate_limit_error", "rate_limit_error", "rate_limit_exceeded"},
	{"billing_error", "insufficient_quota", "insufficient_quota"},
	{"api_error", "server_error", ""},
	{"overloaded_error", "server_error", "overloaded"},
	{"timeout_error", "server_error", "timeout"},
}

// openaiErrorKind returns the OpenAI type and code for an Anthropic error
// type, or derives them from the HTTP status when the type is unknown.
func openaiErrorKind(body []byte, v providers.Value, status int) (typ, code string) {
	for _, k := range errorKinds {
		if v.Equal(body, k.anthropic) {
			return k.typ, k.code
		}
	}
	switch {
	case status == 401:
		return "authentication_error", "invalid_api_key"
	case status == 403:
		return "permission_error", "permission_denied"
	case status == 429:
		return "rate_limit_error", "rate_limit_exceeded"
	case status == 404:
		return "invalid_request_error", "not_found"
	case status >= 500 || status == 0:
		return "server_error", ""
	}
	return "invalid_request_error", ""
}

// anthropicErrorType returns the Anthropic error type for an OpenAI error
// type, or derives it from the HTTP status.
func anthropicErrorType(body []byte, v providers.Value, status int) string {
	for _, k := range errorKinds {
		if v.Equal(body, k.typ) && k.code == "" || v.Equal(body, k.anthropic) {
			return k.anthropic
		}
	}
	switch {
	case v.Equal(body, "rate_limit_error"), status == 429:
		return "rate_limit_error"
	case v.Equal(body, "authentication_error"), status == 401:
		return "authentication_error"
	case v.Equal(body, "permission_error"), status == 403:
		return "permission_error"
	case v.Equal(body, "insufficient_quota"):
		return "billing_error"
	case status == 404:
		return "not_found_error"
	case status == 413:
		return "request_too_large"
	case status == 529:
		return "overloaded_error"
	case status >= 500 || status == 0 || v.Equal(body, "server_error"):
		return "api_error"
	}
	return "invalid_request_error"
}

func appendOpenAIError(dst []byte, status int, body []byte, errType, msg providers.Value) []byte {
	typ, code := openaiErrorKind(body, errType, status)
	dst = append(dst, `{"error":{"message":`...)
	dst = appendMessage(dst, status, body, msg)
	dst = append(dst, `,"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","param":null,"code":`...)
	if code == "" {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '"')
		dst = append(dst, code...)
		dst = append(dst, '"')
	}
	return append(dst, "}}"...)
}

func appendAnthropicError(dst []byte, status int, body []byte, errType, msg providers.Value) []byte {
	dst = append(dst, `{"type":"error","error":{"type":"`...)
	dst = append(dst, anthropicErrorType(body, errType, status)...)
	dst = append(dst, `","message":`...)
	dst = appendMessage(dst, status, body, msg)
	return append(dst, "}}"...)
}

func appendMessage(dst []byte, status int, body []byte, msg providers.Value) []byte {
	if msg.Kind == providers.KindString {
		return append(dst, msg.Raw(body)...)
	}
	dst = append(dst, `"upstream error (status `...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	return append(dst, `)"`...)
}

// errorFields reads the type and message of an error body in either
// family's shape: {"error":{"type","message"}} (OpenAI, and Anthropic's
// inside {"type":"error",...}).
func errorFields(body []byte) (typ, msg providers.Value) {
	s := providers.NewScanner(body)
	if s.Peek() != providers.KindObject {
		return typ, msg
	}
	e := providers.Value{}
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		if string(s.Key(k)) == "error" {
			e = s.Value()
		}
	}
	if s.Finish() != nil || e.Kind != providers.KindObject {
		return typ, msg
	}
	return member(body, e, "type"), member(body, e, "message")
}

// TranslateError rewrites a provider's error body for a client of format
// to, keeping the HTTP status: OpenAI's {"error":{"message","type","param",
// "code"}} for Chat and Responses clients, Anthropic's {"type":"error",
// "error":{"type","message"}} for Messages clients. A body that cannot be
// read gives a message naming the status. The result is newly allocated.
func TranslateError(to Wire, status int, body []byte) []byte {
	typ, msg := errorFields(body)
	if to == Messages {
		return appendAnthropicError(nil, status, body, typ, msg)
	}
	return appendOpenAIError(nil, status, body, typ, msg)
}
