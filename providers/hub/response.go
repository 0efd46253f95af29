package hub

import (
	"strconv"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

// Stop is why generation ended, in the hub's terms.
type Stop uint8

// The stop reasons every format can say.
const (
	StopEnd    Stop = iota // natural end, stop sequence
	StopLength             // output cap (or context window) reached
	StopTool               // the model called tools
	StopFilter             // refused or filtered
)

// Response is the hub form of a complete (non-streamed) answer. Values
// are spans of Body; Parts holds PartText and PartToolCall parts.
type Response struct {
	Body      []byte
	ID, Model providers.Value
	Parts     []Part
	Stop      Stop
	Usage     providers.Usage
}

// Reset empties r for a new body, keeping its slice.
func (r *Response) Reset(body []byte) { *r = Response{Body: body, Parts: r.Parts[:0]} }

// DecodeMessagesResponse reads an Anthropic message. Thinking blocks are
// dropped; an error body gives ErrNotResponse.
func DecodeMessagesResponse(r *Response, body []byte) error {
	r.Reset(body)
	s := providers.NewScanner(body)
	if s.Peek() != providers.KindObject {
		s.Skip()
		return errOrType(&s)
	}
	var typ, content, stop providers.Value
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
			r.ID = s.Value()
		case "model":
			r.Model = s.Value()
		case "content":
			content = s.Value()
		case "stop_reason":
			stop = s.Value()
		}
	}
	if err := s.Finish(); err != nil {
		return err
	}
	if !typ.Equal(body, "message") {
		return ErrNotResponse
	}
	r.Stop = anthropicStop(body, stop)
	if content.Kind == providers.KindArray {
		cs := scanAt(body, content)
		arr := cs.Array()
		var bl block
		for arr.Next() {
			if err := readBlock(&cs, &bl); err != nil {
				return err
			}
			switch {
			case bl.typ.Equal(body, "text") && bl.text.Kind == providers.KindString:
				r.Parts = append(r.Parts, Part{Kind: PartText, Text: lit(bl.text)})
			case bl.typ.Equal(body, "tool_use"):
				r.Parts = append(r.Parts, Part{Kind: PartToolCall, ID: bl.id, Name: bl.name, Args: bl.input})
			}
		}
		if err := cs.Err(); err != nil {
			return err
		}
	}
	var err error
	r.Usage, err = anthropic.ParseResponseUsage(body)
	return err
}

func anthropicStop(body []byte, v providers.Value) Stop {
	switch {
	case v.Equal(body, "max_tokens"), v.Equal(body, "model_context_window_exceeded"):
		return StopLength
	case v.Equal(body, "tool_use"):
		return StopTool
	case v.Equal(body, "refusal"):
		return StopFilter
	}
	return StopEnd // end_turn, stop_sequence, pause_turn, unknown
}

func openaiStop(body []byte, v providers.Value) Stop {
	switch {
	case v.Equal(body, "length"):
		return StopLength
	case v.Equal(body, "tool_calls"), v.Equal(body, "function_call"):
		return StopTool
	case v.Equal(body, "content_filter"):
		return StopFilter
	}
	return StopEnd
}

// DecodeChatResponse reads an OpenAI chat.completion (its first choice).
func DecodeChatResponse(r *Response, body []byte) error {
	r.Reset(body)
	s := providers.NewScanner(body)
	if s.Peek() != providers.KindObject {
		s.Skip()
		return errOrType(&s)
	}
	var choices providers.Value
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "id":
			r.ID = s.Value()
		case "model":
			r.Model = s.Value()
		case "choices":
			choices = s.Value()
		}
	}
	if err := s.Finish(); err != nil {
		return err
	}
	if choices.Kind != providers.KindArray {
		return ErrNotResponse
	}
	cs := scanAt(body, choices)
	arr := cs.Array()
	for arr.Next() {
		if arr.Index() > 0 {
			cs.Skip()
			continue
		}
		choice := cs.Value()
		msg := member(body, choice, "message")
		r.Stop = openaiStop(body, member(body, choice, "finish_reason"))
		if c := member(body, msg, "content"); c.Kind == providers.KindString {
			r.Parts = append(r.Parts, Part{Kind: PartText, Text: lit(c)})
		}
		if c := member(body, msg, "refusal"); c.Kind == providers.KindString {
			r.Parts = append(r.Parts, Part{Kind: PartText, Text: lit(c)})
			r.Stop = StopFilter
		}
		if calls := member(body, msg, "tool_calls"); calls.Kind == providers.KindArray {
			ts := scanAt(body, calls)
			tarr := ts.Array()
			for tarr.Next() {
				call := ts.Value()
				fn := member(body, call, "function")
				r.Parts = append(r.Parts, Part{Kind: PartToolCall, ID: member(body, call, "id"),
					Name: member(body, fn, "name"), Args: member(body, fn, "arguments")})
			}
		}
	}
	if err := cs.Err(); err != nil {
		return err
	}
	var err error
	r.Usage, err = openai.ParseResponseUsage(body)
	return err
}

// appendStringOr writes a string literal, or "" for anything else.
func appendStringOr(dst, body []byte, v providers.Value) []byte {
	if v.Kind == providers.KindString {
		return append(dst, v.Raw(body)...)
	}
	return append(dst, `""`...)
}

// appendModelName writes model, or the response's when model is "".
func appendModelName(dst []byte, model string, body []byte, v providers.Value) []byte {
	if model != "" || v.Kind != providers.KindString {
		return providers.AppendStringText(dst, model)
	}
	return append(dst, v.Raw(body)...)
}

func chatFinish(s Stop) string {
	switch s {
	case StopLength:
		return "length"
	case StopTool:
		return "tool_calls"
	case StopFilter:
		return "content_filter"
	}
	return "stop"
}

func anthropicStopReason(s Stop) string {
	switch s {
	case StopLength:
		return "max_tokens"
	case StopTool:
		return "tool_use"
	case StopFilter:
		return "refusal"
	}
	return "end_turn"
}

// EncodeChatResponse writes r as an OpenAI chat.completion. model names
// the model ("" keeps the response's); created is the Unix time.
func EncodeChatResponse(dst []byte, r *Response, model string, created int64) []byte {
	b := r.Body
	dst = append(dst, `{"id":`...)
	dst = appendStringOr(dst, b, r.ID)
	dst = append(dst, `,"object":"chat.completion","created":`...)
	dst = strconv.AppendInt(dst, created, 10)
	dst = append(dst, `,"model":`...)
	dst = appendModelName(dst, model, b, r.Model)
	dst = append(dst, `,"choices":[{"index":0,"message":{"role":"assistant","content":`...)
	texts, calls := 0, 0
	for i := range r.Parts {
		if r.Parts[i].Kind == PartText {
			texts++
		} else {
			calls++
		}
	}
	if texts == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '"')
		for i := range r.Parts {
			if r.Parts[i].Kind == PartText {
				dst = r.Parts[i].Text.appendInner(dst, b)
			}
		}
		dst = append(dst, '"')
	}
	if calls > 0 {
		dst = append(dst, `,"tool_calls":[`...)
		n := 0
		for i := range r.Parts {
			p := &r.Parts[i]
			if p.Kind != PartToolCall {
				continue
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst = append(dst, `{"id":`...)
			dst = appendStringOr(dst, b, p.ID)
			dst = append(dst, `,"type":"function","function":{"name":`...)
			dst = appendStringOr(dst, b, p.Name)
			dst = append(dst, `,"arguments":`...)
			dst = appendArgsString(dst, b, p.Args)
			dst = append(dst, "}}"...)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `},"logprobs":null,"finish_reason":"`...)
	dst = append(dst, chatFinish(r.Stop)...)
	dst = append(dst, `"}],"usage":`...)
	dst = appendChatUsage(dst, r.Usage)
	return append(dst, '}')
}

// appendChatUsage writes an OpenAI chat usage object.
func appendChatUsage(dst []byte, u providers.Usage) []byte {
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

// EncodeMessagesResponse writes r as an Anthropic message. Usage
// input_tokens excludes the cached part, as Anthropic counts it.
func EncodeMessagesResponse(dst []byte, r *Response, model string) ([]byte, error) {
	b := r.Body
	dst = append(dst, `{"id":`...)
	dst = appendStringOr(dst, b, r.ID)
	dst = append(dst, `,"type":"message","role":"assistant","model":`...)
	dst = appendModelName(dst, model, b, r.Model)
	dst = append(dst, `,"content":[`...)
	for i := range r.Parts {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendBlock(dst, b, &r.Parts[i]); err != nil {
			return dst, err
		}
	}
	dst = append(dst, `],"stop_reason":"`...)
	dst = append(dst, anthropicStopReason(r.Stop)...)
	dst = append(dst, `","stop_sequence":null,"usage":`...)
	dst = appendAnthropicUsage(dst, r.Usage)
	return append(dst, '}'), nil
}

func appendAnthropicUsage(dst []byte, u providers.Usage) []byte {
	dst = append(dst, `{"input_tokens":`...)
	dst = strconv.AppendInt(dst, max(u.PromptTokens-u.CachedTokens, 0), 10)
	dst = append(dst, `,"cache_creation_input_tokens":0,"cache_read_input_tokens":`...)
	dst = strconv.AppendInt(dst, u.CachedTokens, 10)
	dst = append(dst, `,"output_tokens":`...)
	dst = strconv.AppendInt(dst, u.CompletionTokens, 10)
	return append(dst, '}')
}

// EncodeResponsesResponse writes r as an OpenAI Responses object: one
// message item with the text, one function_call item per tool call;
// status "incomplete" (reason max_output_tokens) when the cap cut it.
func EncodeResponsesResponse(dst []byte, r *Response, model string, created int64) []byte {
	var st responsesState
	st.reset(model, created)
	st.setID(r.Body, r.ID)
	if model == "" && r.Model.Kind == providers.KindString {
		st.model = append(st.model[:0], r.Model.Raw(r.Body)...)
	}
	var msg *respItem
	for i := range r.Parts {
		p := &r.Parts[i]
		if p.Kind == PartText {
			if msg == nil {
				msg = st.newItem(false, -1)
			}
			msg.text = p.Text.appendInner(msg.text, r.Body)
			continue
		}
		msg = nil
		it := st.newItem(true, i)
		it.callID = appendStringOr(it.callID, r.Body, p.ID)
		it.name = appendStringOr(it.name, r.Body, p.Name)
		args := appendArgsString(nil, r.Body, p.Args)
		it.text = append(it.text, args[1:len(args)-1]...)
	}
	st.stop, st.usage = r.Stop, r.Usage
	return st.appendObject(dst, true)
}
