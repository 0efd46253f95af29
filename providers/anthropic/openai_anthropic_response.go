package anthropic

import (
	"strconv"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// finishReason maps an Anthropic stop_reason to OpenAI's finish_reason.
func finishReason(body []byte, v providers.Value) string {
	switch {
	case v.Equal(body, "max_tokens"), v.Equal(body, "model_context_window_exceeded"):
		return "length"
	case v.Equal(body, "tool_use"):
		return "tool_calls"
	case v.Equal(body, "refusal"):
		return "content_filter"
	}
	return "stop" // end_turn, stop_sequence, pause_turn, unknown
}

// ToOpenAIChat translates a non-streamed Anthropic Messages response into
// an OpenAI chat.completion, appended to dst. model names the model in the
// output ("" keeps the response's); created is the Unix time to report.
//
// Text blocks are joined into message.content (null when there are none);
// tool_use blocks become tool_calls whose arguments are the input object as
// a JSON string; thinking blocks are dropped (chat completions has no field
// for them). stop_reason maps end_turn and stop_sequence to stop,
// max_tokens to length, tool_use to tool_calls, refusal to content_filter.
// usage.prompt_tokens is input + cache reads + cache writes, with the reads
// as prompt_tokens_details.cached_tokens. An error body gives ErrNotMessage;
// translate it with ErrorToOpenAI.
func ToOpenAIChat(dst, resp []byte, model string, created int64) ([]byte, error) {
	s := providers.NewScanner(resp)
	if s.Peek() != providers.KindObject {
		s.Skip()
		return dst, errOrType(&s)
	}
	var typ, id, respModel, content, stop providers.Value
	var u rawUsage
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "type":
			typ = s.Value()
		case "id":
			id = s.Value()
		case "model":
			respModel = s.Value()
		case "content":
			content = s.Value()
		case "stop_reason":
			stop = s.Value()
		case "usage":
			if err := readUsage(&s, &u); err != nil {
				return dst, err
			}
		}
	}
	if err := s.Finish(); err != nil {
		return dst, err
	}
	if !typ.Equal(resp, "message") {
		return dst, ErrNotMessage
	}
	dst = append(dst, `{"id":`...)
	if id.Kind == providers.KindString {
		dst = append(dst, id.Raw(resp)...)
	} else {
		dst = append(dst, `""`...)
	}
	dst = append(dst, `,"object":"chat.completion","created":`...)
	dst = strconv.AppendInt(dst, created, 10)
	dst = append(dst, `,"model":`...)
	dst = appendModel(dst, model, resp, respModel)
	dst = append(dst, `,"choices":[{"index":0,"message":{"role":"assistant","content":`...)
	var err error
	if dst, err = appendContent(dst, resp, content); err != nil {
		return dst, err
	}
	dst = append(dst, `},"logprobs":null,"finish_reason":"`...)
	dst = append(dst, finishReason(resp, stop)...)
	dst = append(dst, `"}],"usage":`...)
	dst = appendOpenAIUsage(dst, u.usage())
	return append(dst, '}'), nil
}

func appendModel(dst []byte, model string, body []byte, v providers.Value) []byte {
	if model != "" || v.Kind != providers.KindString {
		return providers.AppendStringText(dst, model)
	}
	return append(dst, v.Raw(body)...)
}

// appendContent writes the joined text (or null) and the tool_calls of a
// content block array.
func appendContent(dst, body []byte, content providers.Value) ([]byte, error) {
	if content.Kind != providers.KindArray {
		return append(dst, "null"...), nil
	}
	// First pass: text. Literal insides are valid JSON string content, so
	// joining them needs no decoding.
	s := providers.NewScanner(body)
	s.Seek(content.Start)
	mark := len(dst)
	dst = append(dst, '"')
	texts, tools := 0, 0
	arr := s.Array()
	for arr.Next() {
		typ, text, _, _, _ := blockFields(&s)
		if typ.Equal(body, "text") && text.Kind == providers.KindString {
			dst = append(dst, body[text.Start+1:text.End-1]...)
			texts++
		}
		if typ.Equal(body, "tool_use") {
			tools++
		}
	}
	if err := s.Err(); err != nil {
		return dst[:mark], err
	}
	if texts == 0 {
		dst = append(dst[:mark], "null"...)
	} else {
		dst = append(dst, '"')
	}
	if tools == 0 {
		return dst, nil
	}
	dst = append(dst, `,"tool_calls":[`...)
	s.Seek(content.Start)
	n := 0
	arr = s.Array()
	for arr.Next() {
		typ, _, id, name, input := blockFields(&s)
		if !typ.Equal(body, "tool_use") {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = append(dst, `{"id":`...)
		dst = appendStringOr(dst, body, id)
		dst = append(dst, `,"type":"function","function":{"name":`...)
		dst = appendStringOr(dst, body, name)
		dst = append(dst, `,"arguments":`...)
		if input.Kind == providers.KindObject {
			dst = providers.AppendString(dst, input.Raw(body))
		} else {
			dst = append(dst, `"{}"`...)
		}
		dst = append(dst, "}}"...)
	}
	return append(dst, ']'), s.Err()
}

func appendStringOr(dst, body []byte, v providers.Value) []byte {
	if v.Kind == providers.KindString {
		return append(dst, v.Raw(body)...)
	}
	return append(dst, `""`...)
}

// blockFields reads a response content block.
func blockFields(s *providers.Scanner) (typ, text, id, name, input providers.Value) {
	if s.Peek() != providers.KindObject {
		s.Skip()
		return
	}
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "type":
			typ = s.Value()
		case "text":
			text = s.Value()
		case "id":
			id = s.Value()
		case "name":
			name = s.Value()
		case "input":
			input = s.Value()
		}
	}
	return
}

// appendOpenAIUsage writes an OpenAI chat usage object.
func appendOpenAIUsage(dst []byte, u providers.Usage) []byte {
	dst = append(dst, `{"prompt_tokens":`...)
	dst = strconv.AppendInt(dst, u.PromptTokens, 10)
	dst = append(dst, `,"completion_tokens":`...)
	dst = strconv.AppendInt(dst, u.CompletionTokens, 10)
	dst = append(dst, `,"total_tokens":`...)
	dst = strconv.AppendInt(dst, u.Total(), 10)
	dst = append(dst, `,"prompt_tokens_details":{"cached_tokens":`...)
	dst = strconv.AppendInt(dst, u.CachedTokens, 10)
	return append(dst, "}}"...)
}

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

// errorKind returns the OpenAI type and code for an Anthropic error type,
// or derives them from the HTTP status when the type is unknown.
func errorKind(body []byte, v providers.Value, status int) (typ, code string) {
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
	case status >= 500 || status == 0:
		return "server_error", ""
	}
	return "invalid_request_error", ""
}

// ErrorToOpenAI translates an Anthropic error body ({"type":"error",
// "error":{"type","message"}}) into the OpenAI error shape
// {"error":{"message","type","param","code"}}, for the same HTTP status
// (clients choose their exception by status; Anthropic's 529 is a 5xx to
// them too). A body that cannot be read gives a message naming the status.
// The returned slice is newly allocated.
func ErrorToOpenAI(status int, body []byte) []byte {
	var ev event
	var errType, msg providers.Value
	if parseEvent(body, &ev) == nil {
		errType, msg = ev.errType, ev.errMessage
	}
	return appendOpenAIError(nil, status, body, errType, msg)
}

func appendOpenAIError(dst []byte, status int, body []byte, errType, msg providers.Value) []byte {
	typ, code := errorKind(body, errType, status)
	dst = append(dst, `{"error":{"message":`...)
	if msg.Kind == providers.KindString {
		dst = append(dst, msg.Raw(body)...)
	} else {
		dst = append(dst, `"upstream error (status `...)
		dst = strconv.AppendInt(dst, int64(status), 10)
		dst = append(dst, `)"`...)
	}
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
