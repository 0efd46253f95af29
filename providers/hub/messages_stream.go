package hub

import (
	"strconv"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// messagesEncoder writes Anthropic Messages stream events: message_start,
// a content block per text run or tool call (content_block_start, deltas,
// content_block_stop), then message_delta with the stop reason and usage,
// and message_stop.
type messagesEncoder struct {
	model   string
	id      []byte // message id literal
	started bool
	block   int  // index of the next content block
	open    bool // a block is open
	tool    int  // tool index of the open block, -1 for text
	stop    Stop
}

func (e *messagesEncoder) reset(model string) {
	*e = messagesEncoder{model: model, id: e.id[:0], tool: -1}
}

func appendNamed(dst []byte, name string) []byte {
	dst = append(dst, "event: "...)
	dst = append(dst, name...)
	return append(dst, "\ndata: "...)
}

func (e *messagesEncoder) start(dst, data []byte, id, model providers.Value, u providers.Usage) []byte {
	e.started = true
	dst = appendNamed(dst, "message_start")
	dst = append(dst, `{"type":"message_start","message":{"id":`...)
	if id.Kind == providers.KindString {
		dst = append(dst, id.Raw(data)...)
	} else {
		dst = append(dst, `"msg_tokenomics"`...)
	}
	dst = append(dst, `,"type":"message","role":"assistant","model":`...)
	dst = appendModelName(dst, e.model, data, model)
	dst = append(dst, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	// The prompt count is final only at the end (OpenAI reports it last):
	// message_delta repeats input_tokens with the reported value.
	dst = appendAnthropicUsage(dst, providers.Usage{PromptTokens: u.PromptTokens, CachedTokens: u.CachedTokens})
	return append(dst, "}}\n\n"...)
}

func (e *messagesEncoder) closeBlock(dst []byte) []byte {
	if !e.open {
		return dst
	}
	e.open = false
	dst = appendNamed(dst, "content_block_stop")
	dst = append(dst, `{"type":"content_block_stop","index":`...)
	dst = strconv.AppendInt(dst, int64(e.block), 10)
	e.block++
	return append(dst, "}\n\n"...)
}

func (e *messagesEncoder) openBlock(dst []byte, tool int) []byte {
	dst = e.closeBlock(dst)
	e.open, e.tool = true, tool
	dst = appendNamed(dst, "content_block_start")
	dst = append(dst, `{"type":"content_block_start","index":`...)
	return strconv.AppendInt(dst, int64(e.block), 10)
}

func (e *messagesEncoder) delta(dst []byte) []byte {
	dst = appendNamed(dst, "content_block_delta")
	dst = append(dst, `{"type":"content_block_delta","index":`...)
	dst = strconv.AppendInt(dst, int64(e.block), 10)
	return append(dst, `,"delta":{"type":"`...)
}

func (e *messagesEncoder) event(dst, data []byte, ev *Event, st usager) []byte {
	if ev.Kind == EvStart {
		if e.started {
			return dst
		}
		return e.start(dst, data, ev.ID, ev.Model, st.Usage())
	}
	if ev.Kind == EvError {
		dst = appendNamed(dst, "error")
		dst = appendAnthropicError(dst, ev.ErrStatus, data, ev.ErrType, ev.Text)
		return append(dst, "\n\n"...)
	}
	if !e.started {
		dst = e.start(dst, nil, providers.Value{}, providers.Value{}, st.Usage())
	}
	switch ev.Kind {
	case EvText:
		if !e.open || e.tool >= 0 {
			dst = e.openBlock(dst, -1)
			dst = append(dst, `,"content_block":{"type":"text","text":""}}`+"\n\n"...)
		}
		dst = e.delta(dst)
		dst = append(dst, `text_delta","text":`...)
		dst = append(dst, ev.Text.Raw(data)...)
		dst = append(dst, "}}\n\n"...)
	case EvToolStart:
		dst = e.openBlock(dst, ev.Index)
		dst = append(dst, `,"content_block":{"type":"tool_use","id":`...)
		dst = appendStringOr(dst, data, ev.ID)
		dst = append(dst, `,"name":`...)
		dst = appendStringOr(dst, data, ev.Name)
		dst = append(dst, `,"input":{}}}`+"\n\n"...)
	case EvToolArgs:
		if !e.open || e.tool != ev.Index {
			break // arguments of a call whose block is closed: nowhere to put them
		}
		dst = e.delta(dst)
		dst = append(dst, `input_json_delta","partial_json":`...)
		dst = append(dst, ev.Text.Raw(data)...)
		dst = append(dst, "}}\n\n"...)
	case EvFinish:
		e.stop = ev.Stop
	}
	return dst
}

func (e *messagesEncoder) close(dst []byte, u providers.Usage) []byte {
	if !e.started {
		dst = e.start(dst, nil, providers.Value{}, providers.Value{}, u)
	}
	dst = e.closeBlock(dst)
	dst = appendNamed(dst, "message_delta")
	dst = append(dst, `{"type":"message_delta","delta":{"stop_reason":"`...)
	dst = append(dst, anthropicStopReason(e.stop)...)
	dst = append(dst, `","stop_sequence":null},"usage":`...)
	dst = appendAnthropicUsage(dst, u)
	dst = append(dst, "}\n\n"...)
	dst = appendNamed(dst, "message_stop")
	return append(dst, `{"type":"message_stop"}`+"\n\n"...)
}
