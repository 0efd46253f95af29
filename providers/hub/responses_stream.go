package hub

import (
	"strconv"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// respItem is one output item of a Responses answer: a message (text
// holds its text, escaped for a JSON literal) or a function call (args).
type respItem struct {
	call         bool
	tool         int    // the hub tool index of a call
	id           []byte // item id, without quotes
	callID, name []byte // literals, quotes included
	text         []byte // message text or call arguments, escaped, no quotes
	done         bool
}

// responsesState builds a Responses answer: the response object of a
// non-streamed answer, or the semantic events of a stream
// (response.created, response.in_progress, output_item.added,
// content_part.added, output_text.delta, function_call_arguments.delta,
// their .done events, output_item.done, then response.completed, or
// response.incomplete when the output cap cut the answer). Every event
// carries type and an increasing sequence_number; there is no [DONE].
type responsesState struct {
	model   []byte // model literal
	ownID   []byte // the response id, without quotes
	created int64
	items   []respItem
	seq     int
	started bool
	stop    Stop
	usage   providers.Usage
}

func (st *responsesState) reset(model string, created int64) {
	*st = responsesState{model: st.model[:0], ownID: st.ownID[:0], created: created, items: st.items[:0]}
	if model != "" {
		st.model = providers.AppendStringText(st.model, model)
	}
}

// setID derives the response id from the provider's message id.
func (st *responsesState) setID(body []byte, id providers.Value) {
	st.ownID = append(st.ownID[:0], "resp_"...)
	if id.Kind == providers.KindString {
		st.ownID = append(st.ownID, body[id.Start+1:id.End-1]...)
	} else {
		st.ownID = strconv.AppendInt(st.ownID, st.created, 36)
	}
}

// newItem appends an item, reusing the buffers of an earlier stream.
func (st *responsesState) newItem(call bool, tool int) *respItem {
	n := len(st.items)
	if n < cap(st.items) {
		st.items = st.items[:n+1]
	} else {
		st.items = append(st.items, respItem{})
	}
	it := &st.items[n]
	*it = respItem{call: call, tool: tool, id: it.id[:0], callID: it.callID[:0], name: it.name[:0], text: it.text[:0]}
	if call {
		it.id = append(it.id, "fc_"...)
	} else {
		it.id = append(it.id, "msg_"...)
	}
	it.id = append(it.id, st.ownID[min(len(st.ownID), 5):]...)
	it.id = append(it.id, '_')
	it.id = strconv.AppendInt(it.id, int64(n), 10)
	return it
}

func (st *responsesState) status() string {
	if st.stop == StopLength {
		return "incomplete"
	}
	return "completed"
}

// appendObject writes the response object; final carries the output and
// usage, otherwise it is the in_progress object of response.created.
func (st *responsesState) appendObject(dst []byte, final bool) []byte {
	status := "in_progress"
	if final {
		status = st.status()
	}
	dst = append(dst, `{"id":"`...)
	dst = append(dst, st.ownID...)
	dst = append(dst, `","object":"response","created_at":`...)
	dst = strconv.AppendInt(dst, st.created, 10)
	dst = append(dst, `,"status":"`...)
	dst = append(dst, status...)
	dst = append(dst, `","background":false,"error":null,"incomplete_details":`...)
	if final && st.stop == StopLength {
		dst = append(dst, `{"reason":"max_output_tokens"}`...)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"instructions":null,"max_output_tokens":null,"model":`...)
	if len(st.model) > 0 {
		dst = append(dst, st.model...)
	} else {
		dst = append(dst, `""`...)
	}
	dst = append(dst, `,"output":[`...)
	if final {
		for i := range st.items {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = st.appendItem(dst, &st.items[i], true)
		}
	}
	dst = append(dst, `],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":false,"temperature":null,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":null,"truncation":"disabled","usage":`...)
	if final {
		dst = appendResponsesUsage(dst, st.usage)
	} else {
		dst = append(dst, "null"...)
	}
	return append(dst, `,"user":null,"metadata":{}}`...)
}

func appendResponsesUsage(dst []byte, u providers.Usage) []byte {
	dst = append(dst, `{"input_tokens":`...)
	dst = strconv.AppendInt(dst, u.PromptTokens, 10)
	dst = append(dst, `,"input_tokens_details":{"cached_tokens":`...)
	dst = strconv.AppendInt(dst, u.CachedTokens, 10)
	dst = append(dst, `},"output_tokens":`...)
	dst = strconv.AppendInt(dst, u.CompletionTokens, 10)
	dst = append(dst, `,"output_tokens_details":{"reasoning_tokens":`...)
	dst = strconv.AppendInt(dst, u.ReasoningTokens, 10)
	dst = append(dst, `},"total_tokens":`...)
	dst = strconv.AppendInt(dst, u.Total(), 10)
	return append(dst, '}')
}

// appendItem writes an output item, finished (with its content) or just
// added (empty).
func (st *responsesState) appendItem(dst []byte, it *respItem, done bool) []byte {
	status := "in_progress"
	if done {
		status = "completed"
		if st.stop == StopLength {
			status = "incomplete"
		}
	}
	dst = append(dst, `{"id":"`...)
	dst = append(dst, it.id...)
	if it.call {
		dst = append(dst, `","type":"function_call","status":"`...)
		dst = append(dst, status...)
		dst = append(dst, `","arguments":"`...)
		if done {
			dst = append(dst, it.text...)
		}
		dst = append(dst, `","call_id":`...)
		dst = append(dst, it.callID...)
		dst = append(dst, `,"name":`...)
		dst = append(dst, it.name...)
		return append(dst, '}')
	}
	dst = append(dst, `","type":"message","status":"`...)
	dst = append(dst, status...)
	dst = append(dst, `","role":"assistant","content":[`...)
	if done {
		dst = appendOutputText(dst, it.text)
	}
	return append(dst, "]}"...)
}

func appendOutputText(dst, text []byte) []byte {
	dst = append(dst, `{"type":"output_text","annotations":[],"logprobs":[],"text":"`...)
	dst = append(dst, text...)
	return append(dst, `"}`...)
}

// begin opens an event frame of the given type.
func (st *responsesState) begin(dst []byte, typ string) []byte {
	dst = appendNamed(dst, typ)
	dst = append(dst, `{"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","sequence_number":`...)
	dst = strconv.AppendInt(dst, int64(st.seq), 10)
	st.seq++
	return dst
}

func (st *responsesState) itemRef(dst []byte, i int) []byte {
	dst = append(dst, `,"item_id":"`...)
	dst = append(dst, st.items[i].id...)
	dst = append(dst, `","output_index":`...)
	return strconv.AppendInt(dst, int64(i), 10)
}

func (st *responsesState) start(dst, data []byte, id, model providers.Value) []byte {
	st.started = true
	st.setID(data, id)
	if len(st.model) == 0 && model.Kind == providers.KindString {
		st.model = append(st.model, model.Raw(data)...)
	}
	for _, typ := range [2]string{"response.created", "response.in_progress"} {
		dst = st.begin(dst, typ)
		dst = append(dst, `,"response":`...)
		dst = st.appendObject(dst, false)
		dst = append(dst, "}\n\n"...)
	}
	return dst
}

// closeItem finishes the last item if it is open.
func (st *responsesState) closeItem(dst []byte) []byte {
	n := len(st.items)
	if n == 0 || st.items[n-1].done {
		return dst
	}
	i := n - 1
	it := &st.items[i]
	it.done = true
	if it.call {
		dst = st.begin(dst, "response.function_call_arguments.done")
		dst = st.itemRef(dst, i)
		dst = append(dst, `,"arguments":"`...)
		dst = append(dst, it.text...)
		dst = append(dst, "\"}\n\n"...)
	} else {
		dst = st.begin(dst, "response.output_text.done")
		dst = st.itemRef(dst, i)
		dst = append(dst, `,"content_index":0,"text":"`...)
		dst = append(dst, it.text...)
		dst = append(dst, `","logprobs":[]}`+"\n\n"...)
		dst = st.begin(dst, "response.content_part.done")
		dst = st.itemRef(dst, i)
		dst = append(dst, `,"content_index":0,"part":`...)
		dst = appendOutputText(dst, it.text)
		dst = append(dst, "}\n\n"...)
	}
	dst = st.begin(dst, "response.output_item.done")
	dst = append(dst, `,"output_index":`...)
	dst = strconv.AppendInt(dst, int64(i), 10)
	dst = append(dst, `,"item":`...)
	dst = st.appendItem(dst, it, true)
	return append(dst, "}\n\n"...)
}

func (st *responsesState) addItem(dst []byte, it *respItem) []byte {
	i := len(st.items) - 1
	dst = st.begin(dst, "response.output_item.added")
	dst = append(dst, `,"output_index":`...)
	dst = strconv.AppendInt(dst, int64(i), 10)
	dst = append(dst, `,"item":`...)
	dst = st.appendItem(dst, it, false)
	return append(dst, "}\n\n"...)
}

func (st *responsesState) event(dst, data []byte, ev *Event, _ usager) []byte {
	if ev.Kind == EvStart {
		if st.started {
			return dst
		}
		return st.start(dst, data, ev.ID, ev.Model)
	}
	if ev.Kind == EvError {
		typ, code := openaiErrorKind(data, ev.ErrType, ev.ErrStatus)
		dst = st.begin(dst, "error")
		dst = append(dst, `,"code":`...)
		if code == "" {
			code = typ
		}
		dst = providers.AppendStringText(dst, code)
		dst = append(dst, `,"message":`...)
		dst = appendMessage(dst, ev.ErrStatus, data, ev.Text)
		return append(dst, `,"param":null}`+"\n\n"...)
	}
	if !st.started {
		dst = st.start(dst, nil, providers.Value{}, providers.Value{})
	}
	n := len(st.items)
	switch ev.Kind {
	case EvText:
		if n == 0 || st.items[n-1].call || st.items[n-1].done {
			dst = st.closeItem(dst)
			it := st.newItem(false, -1)
			dst = st.addItem(dst, it)
			dst = st.begin(dst, "response.content_part.added")
			dst = st.itemRef(dst, len(st.items)-1)
			dst = append(dst, `,"content_index":0,"part":`...)
			dst = appendOutputText(dst, nil)
			dst = append(dst, "}\n\n"...)
			n = len(st.items)
		}
		lit := ev.Text.Raw(data)
		st.items[n-1].text = append(st.items[n-1].text, lit[1:len(lit)-1]...)
		dst = st.begin(dst, "response.output_text.delta")
		dst = st.itemRef(dst, n-1)
		dst = append(dst, `,"content_index":0,"delta":`...)
		dst = append(dst, lit...)
		dst = append(dst, `,"logprobs":[]}`+"\n\n"...)
	case EvToolStart:
		dst = st.closeItem(dst)
		it := st.newItem(true, ev.Index)
		it.callID = appendStringOr(it.callID, data, ev.ID)
		it.name = appendStringOr(it.name, data, ev.Name)
		dst = st.addItem(dst, it)
	case EvToolArgs:
		if n == 0 || !st.items[n-1].call || st.items[n-1].tool != ev.Index || st.items[n-1].done {
			break
		}
		lit := ev.Text.Raw(data)
		st.items[n-1].text = append(st.items[n-1].text, lit[1:len(lit)-1]...)
		dst = st.begin(dst, "response.function_call_arguments.delta")
		dst = st.itemRef(dst, n-1)
		dst = append(dst, `,"delta":`...)
		dst = append(dst, lit...)
		dst = append(dst, "}\n\n"...)
	case EvFinish:
		st.stop = ev.Stop
	}
	return dst
}

func (st *responsesState) close(dst []byte, u providers.Usage) []byte {
	if !st.started {
		dst = st.start(dst, nil, providers.Value{}, providers.Value{})
	}
	dst = st.closeItem(dst)
	st.usage = u
	name := "response.completed"
	if st.stop == StopLength {
		name = "response.incomplete"
	}
	dst = st.begin(dst, name)
	dst = append(dst, `,"response":`...)
	dst = st.appendObject(dst, true)
	return append(dst, "}\n\n"...)
}
