package fakeupstream

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

var (
	// ErrStarted is returned by Start on a server that was already started.
	ErrStarted = errors.New("fakeupstream: server already started")
	// ErrUnknownPath is returned by Predict for a path the fake does not serve.
	ErrUnknownPath = errors.New("fakeupstream: unknown path")
)

// format is the error dialect of a request: OpenAI's or Anthropic's.
type format uint8

const (
	fmtOpenAI format = iota
	fmtAnthropic
)

// Messages for the key checks, close to the real providers' wording. They
// never echo the key received.
const (
	msgOpenAINoKey     = "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
	msgOpenAIBadKey    = "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."
	msgAnthropicNoKey  = "x-api-key header is required"
	msgAnthropicBadKey = "invalid x-api-key"
	msgAnthropicNoVer  = "anthropic-version: header is required"
)

// openAIError gives the error type, code (empty: null) and default message
// OpenAI uses for a status.
func openAIError(status int) (typ, code, msg string) {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error", "", "Invalid request."
	case http.StatusUnauthorized:
		return "invalid_request_error", "invalid_api_key", msgOpenAIBadKey
	case http.StatusForbidden:
		return "invalid_request_error", "", "You are not allowed to sample from this model."
	case http.StatusNotFound:
		return "invalid_request_error", "", "The requested resource does not exist."
	case http.StatusMethodNotAllowed:
		return "invalid_request_error", "", "Method not allowed."
	case http.StatusRequestEntityTooLarge:
		return "invalid_request_error", "", "Request body too large."
	case http.StatusTooManyRequests:
		return "requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."
	case http.StatusInternalServerError:
		return "server_error", "", "The server had an error while processing your request. Sorry about that!"
	case http.StatusServiceUnavailable:
		return "server_error", "", "The server is overloaded or not ready yet."
	}
	if status >= 500 {
		return "server_error", "", "The upstream server failed."
	}
	return "invalid_request_error", "", http.StatusText(status) + "."
}

// anthropicError gives Anthropic's error type and default message for a status.
func anthropicError(status int) (typ, msg string) {
	switch status {
	case http.StatusBadRequest, http.StatusMethodNotAllowed:
		return "invalid_request_error", "Invalid request."
	case http.StatusUnauthorized:
		return "authentication_error", msgAnthropicBadKey
	case http.StatusForbidden:
		return "permission_error", "Your API key does not have permission to use the specified resource."
	case http.StatusNotFound:
		return "not_found_error", "The requested resource could not be found."
	case http.StatusRequestEntityTooLarge:
		return "request_too_large", "Request exceeds the maximum allowed number of bytes."
	case http.StatusTooManyRequests:
		return "rate_limit_error", "Number of requests has exceeded your rate limit."
	case 529:
		return "overloaded_error", "Overloaded"
	}
	if status >= 500 {
		return "api_error", "Internal server error"
	}
	return "invalid_request_error", http.StatusText(status) + "."
}

func errorBody(f format, status int, msg string) []byte {
	var b []byte
	if f == fmtAnthropic {
		typ, def := anthropicError(status)
		if msg == "" {
			msg = def
		}
		b = append(b, `{"type":"error","error":{"type":`...)
		b = appendStr(b, typ)
		b = append(b, `,"message":`...)
		b = appendStr(b, msg)
		return append(b, `}}`...)
	}
	typ, code, def := openAIError(status)
	if msg == "" {
		msg = def
	}
	if status == http.StatusUnauthorized && msg == msgOpenAINoKey {
		code = ""
	}
	b = append(b, `{"error":{"message":`...)
	b = appendStr(b, msg)
	b = append(b, `,"type":`...)
	b = appendStr(b, typ)
	b = append(b, `,"param":null,"code":`...)
	if code == "" {
		b = append(b, "null"...)
	} else {
		b = appendStr(b, code)
	}
	return append(b, `}}`...)
}

// cachedErrorStatuses get their default bodies built once in New.
var cachedErrorStatuses = []int{400, 401, 403, 404, 405, 413, 429, 500, 502, 503, 504, 529}

func buildErrorCache() [2]map[int][]byte {
	var c [2]map[int][]byte
	for f := range c {
		c[f] = make(map[int][]byte, len(cachedErrorStatuses))
		for _, st := range cachedErrorStatuses {
			c[f][st] = errorBody(format(f), st, "")
		}
	}
	return c
}

// writeError answers with status in the provider's error shape. An empty msg
// takes the default message; body, when set, is sent verbatim instead.
func (s *Server) writeError(w http.ResponseWriter, f format, status int, msg, retryAfter string, body []byte) {
	if body == nil {
		if msg == "" {
			body = s.errBodies[f][status]
		}
		if body == nil {
			body = errorBody(f, status, msg)
		}
	}
	h := w.Header()
	h["Content-Type"] = ctJSON
	if status == http.StatusTooManyRequests && retryAfter == "" {
		retryAfter = "1"
	}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	if status == http.StatusTooManyRequests {
		setRateLimitHeaders(h, f, retryAfter)
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// setRateLimitHeaders mimics the headers OpenAI and Anthropic send with a 429:
// an exhausted request budget that resets when Retry-After says.
func setRateLimitHeaders(h http.Header, f format, retryAfter string) {
	secs, err := strconv.Atoi(strings.TrimSpace(retryAfter))
	if err != nil || secs < 0 {
		secs = 1
	}
	if f == fmtAnthropic {
		reset := time.Now().Add(time.Duration(secs) * time.Second).UTC().Format(time.RFC3339)
		h.Set("anthropic-ratelimit-requests-limit", "50")
		h.Set("anthropic-ratelimit-requests-remaining", "0")
		h.Set("anthropic-ratelimit-requests-reset", reset)
		h.Set("anthropic-ratelimit-tokens-limit", "40000")
		h.Set("anthropic-ratelimit-tokens-remaining", "0")
		h.Set("anthropic-ratelimit-tokens-reset", reset)
		return
	}
	reset := strconv.Itoa(secs) + "s"
	h.Set("x-ratelimit-limit-requests", "60")
	h.Set("x-ratelimit-remaining-requests", "0")
	h.Set("x-ratelimit-reset-requests", reset)
	h.Set("x-ratelimit-limit-tokens", "150000")
	h.Set("x-ratelimit-remaining-tokens", "0")
	h.Set("x-ratelimit-reset-tokens", reset)
}
