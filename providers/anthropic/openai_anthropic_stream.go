package anthropic

import (
	"strconv"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// StreamTranslator turns an Anthropic Messages event stream into an OpenAI
// chat.completion.chunk stream. Feed it each event's data in order with
// Translate; it writes complete SSE frames ("data: {...}\n\n") to the
// caller's buffer:
//   - message_start: a chunk with the assistant role and empty content;
//   - text deltas: content chunks (the text literal is copied as is);
//   - tool_use blocks: a tool call chunk with index, id, name and empty
//     arguments, then argument fragments from input_json_delta;
//   - message_delta: a chunk with the mapped finish_reason;
//   - message_stop: the usage chunk (choices empty) when includeUsage,
//     then "data: [DONE]";
//   - error: an OpenAI-shaped {"error":{...}} frame.
//
// Thinking, signature and ping events write nothing. Usage accounting is
// that of StreamState. Call Close when the upstream ends, to finish a
// stream cut short. Not safe for concurrent use.
type StreamTranslator struct {
	st           StreamState
	model        string
	created      int64
	includeUsage bool
	prefix       []byte // chunk opening up to "choices":[
	toolIndex    []int  // content block index → tool call index, -1 if none
	tools        int
	started      bool
	finished     bool // finish_reason chunk written
	closed       bool // [DONE] written
}

// Reset prepares the translator for a new stream, keeping its buffers; the
// arguments are those of NewStreamTranslator.
func (t *StreamTranslator) Reset(model string, created int64, includeUsage bool, promptEstimate int64) {
	*t = StreamTranslator{
		st:           StreamState{prompt: promptEstimate},
		model:        model,
		created:      created,
		includeUsage: includeUsage,
		prefix:       t.prefix[:0],
		toolIndex:    t.toolIndex[:0],
	}
}

// NewStreamTranslator returns a translator. model names the model in the
// chunks ("" takes message_start's), created is their Unix time,
// includeUsage whether the client asked for stream_options.include_usage,
// and promptEstimate the prompt count used if the stream reports none.
func NewStreamTranslator(model string, created int64, includeUsage bool, promptEstimate int64) *StreamTranslator {
	return &StreamTranslator{
		st:           StreamState{prompt: promptEstimate},
		model:        model,
		created:      created,
		includeUsage: includeUsage,
	}
}

// Usage returns the usage seen so far (see StreamState.Usage).
func (t *StreamTranslator) Usage() providers.Usage { return t.st.Usage() }

// Done reports whether the translated stream has been closed.
func (t *StreamTranslator) Done() bool { return t.closed }

// Translate reads one Anthropic event's data and appends the OpenAI frames
// it becomes to dst. A malformed event returns an error and writes
// nothing.
func (t *StreamTranslator) Translate(dst, data []byte) ([]byte, error) {
	var ev event
	if err := parseEvent(data, &ev); err != nil {
		return dst, err
	}
	t.st.apply(nil, data, &ev, false)
	if t.closed {
		return dst, nil
	}
	switch ev.typ {
	case evMessageStart:
		t.start(data, &ev)
		dst = t.open(dst)
		dst = append(dst, `"delta":{"role":"assistant","content":""}`...)
		dst = t.end(dst, "")
	case evBlockStart:
		dst = t.ensureStarted(dst)
		t.setTool(ev.index, -1)
		switch {
		case ev.blockType.Equal(data, "tool_use"):
			k := t.tools
			t.tools++
			t.setTool(ev.index, k)
			dst = t.open(dst)
			dst = append(dst, `"delta":{"tool_calls":[{"index":`...)
			dst = strconv.AppendInt(dst, int64(k), 10)
			dst = append(dst, `,"id":`...)
			dst = appendStringOr(dst, data, ev.id)
			dst = append(dst, `,"type":"function","function":{"name":`...)
			dst = appendStringOr(dst, data, ev.name)
			dst = append(dst, `,"arguments":""}}]}`...)
			dst = t.end(dst, "")
		case ev.textKind(data) == providers.TextDelta:
			dst = t.content(dst, data, ev.text)
		}
	case evBlockDelta:
		dst = t.ensureStarted(dst)
		if ev.text.End-ev.text.Start <= 2 {
			break // an empty fragment: nothing to send
		}
		switch ev.textKind(data) {
		case providers.TextDelta:
			dst = t.content(dst, data, ev.text)
		case providers.TextToolArgs:
			k := t.tool(ev.index)
			if k < 0 {
				break
			}
			dst = t.open(dst)
			dst = append(dst, `"delta":{"tool_calls":[{"index":`...)
			dst = strconv.AppendInt(dst, int64(k), 10)
			dst = append(dst, `,"function":{"arguments":`...)
			dst = append(dst, ev.text.Raw(data)...)
			dst = append(dst, "}}]}"...)
			dst = t.end(dst, "")
		}
	case evMessageDelta:
		dst = t.ensureStarted(dst)
		dst = t.finish(dst, finishReason(data, ev.stopReason))
	case evMessageStop:
		dst = t.Close(dst)
	case evError:
		dst = append(dst, "data: "...)
		dst = appendOpenAIError(dst, 0, data, ev.errType, ev.errMessage)
		dst = append(dst, "\n\n"...)
		t.closed = true
	}
	return dst, nil
}

// Close finishes the OpenAI stream if it is still open: a finish_reason
// chunk if none was sent ("stop"), the usage chunk when asked for, and
// [DONE]. It is idempotent.
func (t *StreamTranslator) Close(dst []byte) []byte {
	if t.closed {
		return dst
	}
	dst = t.ensureStarted(dst)
	if !t.finished {
		dst = t.finish(dst, "stop")
	}
	if t.includeUsage {
		dst = append(dst, "data: "...)
		dst = append(dst, t.prefix...)
		dst = append(dst, `],"usage":`...)
		dst = appendOpenAIUsage(dst, t.st.Usage())
		dst = append(dst, "}\n\n"...)
	}
	t.closed = true
	return append(dst, "data: [DONE]\n\n"...)
}

// start builds the chunk prefix from message_start.
func (t *StreamTranslator) start(data []byte, ev *event) {
	t.started = true
	t.prefix = append(t.prefix[:0], `{"id":`...)
	if ev.id.Kind == providers.KindString {
		t.prefix = append(t.prefix, ev.id.Raw(data)...)
	} else {
		t.prefix = append(t.prefix, `""`...)
	}
	t.prefix = append(t.prefix, `,"object":"chat.completion.chunk","created":`...)
	t.prefix = strconv.AppendInt(t.prefix, t.created, 10)
	t.prefix = append(t.prefix, `,"model":`...)
	t.prefix = appendModel(t.prefix, t.model, data, ev.model)
	t.prefix = append(t.prefix, `,"choices":[`...)
}

// ensureStarted writes the role chunk if message_start never came.
func (t *StreamTranslator) ensureStarted(dst []byte) []byte {
	if t.started {
		return dst
	}
	t.start(nil, &event{})
	dst = t.open(dst)
	dst = append(dst, `"delta":{"role":"assistant","content":""}`...)
	return t.end(dst, "")
}

func (t *StreamTranslator) open(dst []byte) []byte {
	dst = append(dst, "data: "...)
	dst = append(dst, t.prefix...)
	return append(dst, `{"index":0,`...)
}

// end closes a chunk with its finish_reason ("" for null).
func (t *StreamTranslator) end(dst []byte, reason string) []byte {
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

func (t *StreamTranslator) content(dst, data []byte, text providers.Value) []byte {
	dst = t.open(dst)
	dst = append(dst, `"delta":{"content":`...)
	dst = append(dst, text.Raw(data)...)
	dst = append(dst, '}')
	return t.end(dst, "")
}

func (t *StreamTranslator) finish(dst []byte, reason string) []byte {
	if t.finished {
		return dst
	}
	t.finished = true
	dst = t.open(dst)
	dst = append(dst, `"delta":{}`...)
	return t.end(dst, reason)
}

func (t *StreamTranslator) setTool(block, k int) {
	if block < 0 || block > 1<<16 {
		return
	}
	for len(t.toolIndex) <= block {
		t.toolIndex = append(t.toolIndex, -1)
	}
	t.toolIndex[block] = k
}

func (t *StreamTranslator) tool(block int) int {
	if block < 0 || block >= len(t.toolIndex) {
		return -1
	}
	return t.toolIndex[block]
}
