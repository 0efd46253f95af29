package hub

import (
	"strconv"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// chatEncoder writes chat.completion.chunk frames ("data: {...}\n\n"):
// a role chunk at the start, content and tool call chunks, a finish chunk,
// the usage chunk (choices empty) when the client asked for it, [DONE].
type chatEncoder struct {
	model        string
	created      int64
	includeUsage bool
	prefix       []byte // chunk opening up to "choices":[
	started      bool
	finished     bool
}

func (e *chatEncoder) reset(model string, created int64, includeUsage bool) {
	*e = chatEncoder{model: model, created: created, includeUsage: includeUsage, prefix: e.prefix[:0]}
}

func (e *chatEncoder) start(data []byte, id, model providers.Value) {
	e.started = true
	e.prefix = append(e.prefix[:0], `{"id":`...)
	e.prefix = appendStringOr(e.prefix, data, id)
	e.prefix = append(e.prefix, `,"object":"chat.completion.chunk","created":`...)
	e.prefix = strconv.AppendInt(e.prefix, e.created, 10)
	e.prefix = append(e.prefix, `,"model":`...)
	e.prefix = appendModelName(e.prefix, e.model, data, model)
	e.prefix = append(e.prefix, `,"choices":[`...)
}

// ensureStarted writes the role chunk if the start never came.
func (e *chatEncoder) ensureStarted(dst []byte) []byte {
	if e.started {
		return dst
	}
	e.start(nil, providers.Value{}, providers.Value{})
	return e.roleChunk(dst)
}

func (e *chatEncoder) roleChunk(dst []byte) []byte {
	dst = e.open(dst)
	dst = append(dst, `"delta":{"role":"assistant","content":""}`...)
	return e.end(dst, "")
}

func (e *chatEncoder) open(dst []byte) []byte {
	dst = append(dst, "data: "...)
	dst = append(dst, e.prefix...)
	return append(dst, `{"index":0,`...)
}

// end closes a chunk with its finish_reason ("" for null).
func (e *chatEncoder) end(dst []byte, reason string) []byte {
	dst = append(dst, `,"logprobs":null,"finish_reason":`...)
	if reason == "" {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '"')
		dst = append(dst, reason...)
		dst = append(dst, '"')
	}
	return append(dst, "}]}\n\n"...)
}

func (e *chatEncoder) event(dst, data []byte, ev *Event, st usager) []byte {
	if ev.Kind == EvStart {
		if e.started {
			return dst
		}
		e.start(data, ev.ID, ev.Model)
		return e.roleChunk(dst)
	}
	if ev.Kind == EvError {
		dst = append(dst, "data: "...)
		dst = appendOpenAIError(dst, ev.ErrStatus, data, ev.ErrType, ev.Text)
		return append(dst, "\n\n"...)
	}
	dst = e.ensureStarted(dst)
	switch ev.Kind {
	case EvText:
		dst = e.open(dst)
		dst = append(dst, `"delta":{"content":`...)
		dst = append(dst, ev.Text.Raw(data)...)
		dst = append(dst, '}')
		dst = e.end(dst, "")
	case EvToolStart:
		dst = e.open(dst)
		dst = append(dst, `"delta":{"tool_calls":[{"index":`...)
		dst = strconv.AppendInt(dst, int64(ev.Index), 10)
		dst = append(dst, `,"id":`...)
		dst = appendStringOr(dst, data, ev.ID)
		dst = append(dst, `,"type":"function","function":{"name":`...)
		dst = appendStringOr(dst, data, ev.Name)
		dst = append(dst, `,"arguments":""}}]}`...)
		dst = e.end(dst, "")
	case EvToolArgs:
		dst = e.open(dst)
		dst = append(dst, `"delta":{"tool_calls":[{"index":`...)
		dst = strconv.AppendInt(dst, int64(ev.Index), 10)
		dst = append(dst, `,"function":{"arguments":`...)
		dst = append(dst, ev.Text.Raw(data)...)
		dst = append(dst, "}}]}"...)
		dst = e.end(dst, "")
	case EvFinish:
		dst = e.finish(dst, chatFinish(ev.Stop))
	}
	return dst
}

func (e *chatEncoder) finish(dst []byte, reason string) []byte {
	if e.finished {
		return dst
	}
	e.finished = true
	dst = e.open(dst)
	dst = append(dst, `"delta":{}`...)
	return e.end(dst, reason)
}

func (e *chatEncoder) close(dst []byte, u providers.Usage) []byte {
	dst = e.ensureStarted(dst)
	dst = e.finish(dst, "stop")
	if e.includeUsage {
		dst = append(dst, "data: "...)
		dst = append(dst, e.prefix...)
		dst = append(dst, `],"usage":`...)
		dst = appendChatUsage(dst, u)
		dst = append(dst, "}\n\n"...)
	}
	return append(dst, "data: [DONE]\n\n"...)
}
