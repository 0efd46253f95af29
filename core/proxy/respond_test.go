package proxy

import (
	"testing"

	"github.com/tokenomics-dev/tokenomics/core"
)

func TestAnthropicPath(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]bool{
		"/v1/messages":              true,
		"/messages":                 true,
		"/v1/messages/count_tokens": true,
		"/messages/count_tokens":    true,
		"/v1/messages/":             true,
		"/v1/messagesx":             false,
		"/messagesx":                false,
		"/v1/message":               false,
		"/v1/chat/completions":      false,
		"/x/messages":               false,
		"":                          false,
	} {
		if got := anthropicPath([]byte(path)); got != want {
			t.Errorf("anthropicPath(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestAnthropicErrorType(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]string{
		400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
		404: "not_found_error", 405: "invalid_request_error", 413: "request_too_large",
		429: "rate_limit_error", 500: "api_error", 502: "api_error", 503: "overloaded_error", 529: "overloaded_error",
	} {
		if got := anthropicErrorType(&core.Error{Status: status}); got != want {
			t.Errorf("status %d: %q, want %q", status, got, want)
		}
	}
}
